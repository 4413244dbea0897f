"""Claims stated here (sample 7, group W):

- T1b's witness ``ray_far_member`` is the far end of the ray v_id - s k/|k| (s = 1e6 |v|): its
  norm is about 1e6 |v| and its cosine with v is at the infimum of the cosine range.
- ``lstsq_tolerance(cls, M)`` = 1e3 max(max(M, d) eps s_1 / s_r, d eps), s_r the smallest
  retained singular value (rank r < d with distinct singular values).
- ``_channel_jvp`` gives |J u| per column u whatever the block size: several blocks with a
  ragged last block agree with the dense Jacobian.
- ``LocalProblem.n_rows("trait")`` = N |A| (one row per prompt and strength).
- ``as_gaussian_mask`` accepts 0/1 integer entries as a boolean mask and refuses other integers.
- ``shift_change(run, v, c)`` = |B(v + c 1) - B(v)| / |B(v) - B(0)|, the shift being +c (not -c).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import theory.local as local_mod
from theory.jacobian import LocalProblem, dense_jacobian, local_spectrum
from theory.linear import EPS, _numeric_class
from theory.linear_checks import check_t1b
from theory.linear_evidence import lstsq_tolerance
from theory.local import _channel_jvp
from theory.mixing import as_gaussian_mask
from theory.norm_symmetry import shift_change
from theory.validation import InputError


def test_t1b_ray_far_member_is_the_far_end_of_the_ray():
    """The far ray member has norm ~ 1e6 |v| and cosine with v at the infimum of the range."""
    rng = np.random.default_rng(70)
    L = rng.standard_normal((2, 4))
    v = rng.standard_normal(4)
    cert = check_t1b(L, v)
    far = np.asarray(cert.witness["ray_far_member"])
    nv = np.linalg.norm(v)
    assert np.linalg.norm(far) > 0.9e6 * nv
    np.testing.assert_allclose(L @ far, L @ v, atol=1e-6 * np.linalg.norm(far))


def test_lstsq_tolerance_uses_the_smallest_retained_singular_value():
    """lstsq_tolerance = 1e3 max(max(M, d) eps s_1 / s_r, d eps), r = rank < d."""
    rng = np.random.default_rng(71)
    L = rng.standard_normal((30, 5)) @ np.diag([1.0, 0.3, 0.05, 0.0, 0.0])  # rank 3
    cls = _numeric_class(L, rng.standard_normal(5), None)
    s = np.linalg.svd(L, compute_uv=False)
    assert cls.rank == 3
    for rows in (1, 5, 30):
        expected = 1e3 * max(max(rows, 5) * EPS * s[0] / s[2], 5 * EPS)
        assert lstsq_tolerance(cls, rows) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("channel", ["logits", "probs"])
def test_channel_jvp_with_ragged_blocks_matches_the_dense_jacobian(channel, monkeypatch):
    """Blocks of 3 directions over 5 columns (a ragged last block of 2) give |J u| per column."""
    rng = np.random.default_rng(72)
    d = 4
    problem = LocalProblem(jnp.tanh, rng.standard_normal((1, 2, d)), rng.standard_normal((d, 3)))
    v = rng.standard_normal(d)
    spec = local_spectrum(problem, v, channel)
    per = problem.n_prompts * problem.length * problem.vocab
    monkeypatch.setattr(local_mod, "_JVP_BLOCK_FLOATS", 3 * per)
    U = rng.standard_normal((d, 5))
    got = _channel_jvp(problem, spec, U)
    want = np.linalg.norm(dense_jacobian(problem, v, channel) @ U, axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_trait_channel_has_one_row_per_prompt_and_strength():
    """n_rows('trait') = N |A|; logits and probs have N |A| T V."""
    rng = np.random.default_rng(73)
    N, T, d, V = 3, 2, 4, 5
    problem = LocalProblem(
        lambda x: x, rng.standard_normal((N, T, d)), rng.standard_normal((d, V)), alphas=(1.0, 2.0)
    )
    assert problem.n_rows("trait") == N * 2
    assert problem.n_rows("logits") == N * 2 * T * V


def test_gaussian_mask_accepts_zero_one_integers_only():
    """0/1 integer entries are a boolean mask; other integers are refused."""
    np.testing.assert_array_equal(as_gaussian_mask([0, 1, 1, 0]), [False, True, True, False])
    with pytest.raises(InputError):
        as_gaussian_mask([0, 2])


def test_shift_change_shifts_by_plus_c():
    """shift_change = |B(v + c 1) - B(v)| / |B(v) - B(0)| for an asymmetric map."""

    def run(x):
        return x**2

    v = np.array([1.0, 2.0, -0.5])
    c = 5.0
    expected = np.linalg.norm(run(v + c) - run(v)) / np.linalg.norm(run(v) - run(0 * v))
    assert shift_change(run, v, c) == pytest.approx(expected, rel=1e-12)


def test_lstsq_tolerance_of_rank_zero_is_the_floor():
    """For L = 0 (rank 0, no condition number) the tolerance is its floor 1e3 d eps."""
    cls = _numeric_class(np.zeros((6, 4)), np.ones(4), None)
    assert cls.rank == 0
    assert lstsq_tolerance(cls, 6) == pytest.approx(1e3 * 4 * EPS, rel=1e-12)
