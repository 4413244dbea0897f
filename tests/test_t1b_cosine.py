"""T1b: cosines between v and members of [v] fill (-|k|/|v|, 1]; the infimum is approached along
v_id - s k/|k| (strictly decreasing in s) and never attained; the special cases v_id = 0, k = 0."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.linear import cosine_range, equivalence_class, ray_member
from theory.linear_checks import check_t1b

from .strategies import ranked_matrices, split_vectors


def _cos(a, b):
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


@given(st.data())
def test_sampled_members_lie_in_the_interval(data):
    M = data.draw(ranked_matrices(min_rank=1, full_rank=False))
    v = data.draw(split_vectors(M, row=True, ker=True))
    lo, hi, attained = cosine_range(M.L, v)
    k = M.kernel @ (M.kernel.T @ v)
    assert (
        np.isclose(lo, -np.linalg.norm(k) / np.linalg.norm(v), rtol=1e-12)
        and hi == 1.0
        and not attained
    )
    cls = equivalence_class(M.L, v)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for scale in (0.1, 1.0, 100.0, 1e4):
        w = cls.member(rng.standard_normal(cls.dim) * scale * np.linalg.norm(v))
        c = _cos(w, v)
        assert lo < c <= hi + 1e-12


@given(st.data())
def test_cosine_falls_strictly_along_the_ray_and_tends_to_the_infimum(data):
    M = data.draw(ranked_matrices(min_rank=1, full_rank=False))
    v = data.draw(split_vectors(M, row=True, ker=True))
    lo, _, _ = cosine_range(M.L, v)
    cls = equivalence_class(M.L, v)
    s = np.linalg.norm(v) * np.geomspace(1e-3, 1e3, 40)
    cos = np.array([_cos(ray_member(cls, x), v) for x in s])
    assert np.all(np.diff(cos) < 0)
    assert np.all(cos > lo)
    far = _cos(ray_member(cls, 1e7 * np.linalg.norm(v)), v)
    assert 0 <= far - lo <= 1e-6


@given(st.data())
def test_v_in_the_kernel_gives_minus_one_attained(data):
    M = data.draw(ranked_matrices(full_rank=False))
    v = data.draw(split_vectors(M, row=False, ker=True))
    assert cosine_range(M.L, v) == (-1.0, 1.0, True)
    assert equivalence_class(M.L, v).contains(-v)


@given(st.data())
def test_v_in_the_row_space_gives_positive_cosines(data):
    M = data.draw(ranked_matrices(min_rank=1))
    v = data.draw(split_vectors(M, row=True, ker=False))
    lo, hi, attained = cosine_range(M.L, v)
    if M.rank == M.d:
        assert (lo, hi, attained) == (1.0, 1.0, True)
    else:
        assert (lo, hi, attained) == (0.0, 1.0, False)
        cls = equivalence_class(M.L, v)
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        w = cls.member(rng.standard_normal(cls.dim) * 50)
        assert np.isclose(_cos(w, v), np.linalg.norm(v) / np.linalg.norm(w), rtol=1e-10)


def test_zero_vector_is_rejected():
    with pytest.raises(ValueError, match="v must be nonzero"):
        cosine_range(np.eye(2), np.zeros(2))


@given(st.data())
def test_check_t1b_holds(data):
    M = data.draw(ranked_matrices(min_rank=1))
    v = data.draw(split_vectors(M, row=True))
    cert = check_t1b(M.L, v)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1
    assert cert.cosine_range == cosine_range(M.L, v)


def test_check_t1b_flags_ray_members_the_behaviour_tells_apart():
    """The ray members are re-run through the behaviour: one that reads ker L makes them differ
    from v, and the verdict is violated."""
    L = np.array([[1.0, 0.0, 0.0]])
    v = np.array([1.0, 1.0, 0.0])
    assert check_t1b(L, v).verdict is Verdict.HOLDS
    cert = check_t1b(L, v, behaviour=lambda w: np.array([w[0], w[1]]))
    assert cert.verdict is Verdict.VIOLATED and "ray members steer like v" in cert.reason
