"""Claims of T1's point gate, the T3 forward-mode re-run, RMSNorm and the exact NSP(k) by LPs,
each stated so that a wrong operator or constant breaks it:

- ``lstsq_tolerance(cls, M)`` = 1e3 max(max(M, d) eps s_1 / s_r, d eps), M the rows of L, and T1's
  gate "point = least-squares solution" clears iff |point - lstsq| / |v| <= lstsq_tolerance(cls, M)
  with M = L.shape[0] (a tall L: M > d, so the rows set the tolerance);
- ``_channel_jvp`` gives |J u| for each column u, a single column included (every channel, against
  the dense Jacobian);
- ``rmsnorm`` is h / sqrt(mean(h^2) + eps) with the documented default eps = 1e-5 (and
  ``layernorm`` likewise);
- NSP(k) by LPs solves C(p, k) 2^(k-1) LPs: exactly that budget passes (and agrees with the
  circuit method), one less is refused with an InputError naming the count.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from theory.jacobian import LocalProblem, dense_jacobian, local_spectrum
from theory.linear import EPS, _numeric_class
from theory.linear_evidence import lstsq_tolerance, t1_evidence
from theory.local import _channel_jvp
from theory.norm_symmetry import layernorm, rmsnorm
from theory.sparse import null_space_property
from theory.validation import InputError

from .test_jacobian_engine import small_downstream

# ---------------------------------------------------------------------------------------------
# T1: the point gate, at the tolerance set by the rows of L


def _tall(seed: int, m: int = 40, d: int = 4):
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((m, d)) @ np.diag([1.0, 0.5, 0.1, 0.0])  # rank 3, tall
    v = rng.standard_normal(d)
    return L, v, _numeric_class(L, v, None)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstsq_tolerance_is_the_documented_forward_error_bound(seed):
    """lstsq_tolerance(cls, rows) = 1e3 max(max(rows, d) eps s_1 / s_r, d eps)."""
    L, v, cls = _tall(seed)
    m, d = L.shape
    s = np.linalg.svd(L, compute_uv=False)
    assert cls.rank == 3
    for rows in (1, d, m):
        expected = 1e3 * max(max(rows, d) * EPS * s[0] / s[2], d * EPS)
        assert lstsq_tolerance(cls, rows) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("factor", [0.3, 3.0])
def test_t1_point_gate_clears_iff_gap_within_the_tolerance_of_m_rows(seed, factor):
    """A point off the least-squares solution min |x| s.t. L^T L x = L^T L v by a relative gap g:
    the gate clears (margin >= 1) iff g <= lstsq_tolerance(cls, M), M = 40 rows > d = 4, so a gap
    of 0.3 times that tolerance (which is 3 times the tolerance d rows would give) clears and a
    gap of 3 times it fails; point_gap is |point - lstsq| / |v|."""
    L, v, cls = _tall(seed)
    m, d = L.shape
    tol_m = lstsq_tolerance(cls, m)
    assert tol_m >= 9.9 * lstsq_tolerance(cls, d)  # the rows, not d, set the tolerance
    reference = np.linalg.pinv(L, rcond=1e-10) @ (L @ v)  # minimum-norm least squares
    rng = np.random.default_rng(10 + seed)
    u = rng.standard_normal(d)
    gap = factor * tol_m
    point = reference + gap * float(np.linalg.norm(v)) * u / np.linalg.norm(u)
    off = dataclasses.replace(cls, point=point)
    ev = t1_evidence(L, v, off, lambda w: L @ w, np.random.default_rng(seed))
    assert ev.point_gap == pytest.approx(gap, rel=1e-3)
    margin = ev.claims["point = least-squares solution"]
    assert margin == pytest.approx(tol_m / ev.point_gap, rel=1e-12)
    assert (margin >= 1) is (factor < 1)
    # the unperturbed class passes its own gate
    exact = t1_evidence(L, v, cls, lambda w: L @ w, np.random.default_rng(seed))
    assert exact.claims["point = least-squares solution"] >= 1


# ---------------------------------------------------------------------------------------------
# T3: |J u| by forward mode, one direction at a time or many


def _problem(seed: int = 0) -> LocalProblem:
    N, T, d, V = 2, 3, 5, 4
    rng = np.random.default_rng(seed)
    params = {
        "w1": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "w2": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "w3": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "g": jnp.asarray(1.0 + 0.2 * rng.standard_normal(d)),
        "centre": jnp.asarray(0.0),
    }
    fn = jax.tree_util.Partial(small_downstream, params)
    ids = rng.permutation(V)
    return LocalProblem(
        fn,
        rng.standard_normal((N, T, d)),
        rng.standard_normal((d, V)),
        alphas=(1.0, -0.5),
        plus=ids[:1],
        minus=ids[1:2],
    )


@pytest.mark.parametrize("channel", ["logits", "probs", "trait"])
def test_channel_jvp_is_the_norm_of_the_dense_jacobian_image_for_any_number_of_columns(channel):
    """_channel_jvp(problem, spec, U) = (|J u|)_u for each column u of U (J the dense Jacobian of
    the channel, summed over the strengths): for one column, for several, and zero columns give
    an empty result."""
    problem = _problem(1)
    rng = np.random.default_rng(2)
    v = rng.standard_normal(problem.d)
    spec = local_spectrum(problem, v, channel)
    dense = dense_jacobian(problem, v, channel)
    s_max = float(np.linalg.svd(dense, compute_uv=False)[0])
    assert s_max > 0
    U = rng.standard_normal((problem.d, 3))
    expected = np.linalg.norm(dense @ U, axis=0)
    assert np.all(expected > 1e-3 * s_max)
    for cols in (slice(0, 1), slice(1, 2), slice(0, 3)):
        got = _channel_jvp(problem, spec, U[:, cols])
        np.testing.assert_allclose(got, expected[cols], rtol=1e-8, atol=1e-12 * s_max)
    assert _channel_jvp(problem, spec, U[:, :0]).shape == (0,)


# ---------------------------------------------------------------------------------------------
# RMSNorm / LayerNorm: the closed forms and their documented default eps = 1e-5


def _rms(h, eps):
    return h / np.sqrt(np.mean(h * h, axis=-1, keepdims=True) + eps)


def _ln(h, eps):
    c = h - np.mean(h, axis=-1, keepdims=True)
    return c / np.sqrt(np.mean(c * c, axis=-1, keepdims=True) + eps)


@pytest.mark.parametrize("norm, closed", [(rmsnorm, _rms), (layernorm, _ln)])
def test_norms_default_eps_is_one_e_minus_five(norm, closed):
    """rmsnorm (h / sqrt(mean h^2 + eps)) and layernorm left without eps equal the closed form at
    eps = 1e-5, and differ from eps = 2e-5 on activations small enough for eps to matter."""
    rng = np.random.default_rng(3)
    h = 3e-3 * rng.standard_normal((4, 7))  # mean h^2 ~ 1e-5: eps is not negligible
    default = norm(h)
    np.testing.assert_allclose(default, norm(h, eps=1e-5), rtol=0, atol=0)
    np.testing.assert_allclose(default, closed(h, 1e-5), rtol=1e-13, atol=0)
    assert not np.allclose(default, closed(h, 2e-5), rtol=1e-3, atol=0)


# ---------------------------------------------------------------------------------------------
# NSP(k) by LPs: the budget C(p, k) 2^(k-1)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_nsp_lp_budget_is_binomial_times_sign_patterns(k):
    """method "lp" solves one LP per |S| = k and sign pattern with s_0 = +1: C(p, k) 2^(k-1) LPs.
    max_lps equal to that count runs (every LP evaluated, the verdict and worst ratio those of the
    circuit method); one less is refused before any work, naming the count."""
    rng = np.random.default_rng(20 + k)
    p = 6
    A = rng.standard_normal((3, p))
    n_lps = math.comb(p, k) * 2 ** (k - 1)
    cert = null_space_property(A, k, method="lp", decision_tol=1e-6, max_lps=n_lps)
    assert cert.details["evaluated"] == n_lps
    ref = null_space_property(A, k, method="circuits", decision_tol=1e-6)
    assert cert.verdict is ref.verdict
    assert cert.details["worst_ratio"] == pytest.approx(ref.details["worst_ratio"], rel=1e-6)
    with pytest.raises(InputError, match=rf"= {n_lps} LPs exceed max_lps = {n_lps - 1}"):
        null_space_property(A, k, method="lp", max_lps=n_lps - 1)
