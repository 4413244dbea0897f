"""Claims of NSP(k) by circuits, the T2c member and the T7(b) split, each stated so that a wrong
operator or constant breaks it:

- NSP(k) by circuits, undecided on a grey-band subset T of s = m + 1 columns: ``ambiguous`` is the
  spectrum of A_T (columns normalised), s values with the one structural zero of an m x s matrix;
- T2c, when 1_V is in the range of W: the built member's part along W^+ 1_V is |v| (1 when v = 0),
  so the logits move by the constant |v| / |W^+ 1_V| and the softmax is unchanged (holds);
- ``split_null_vector`` splits a support T, a set: a subset with a repeated index is refused with
  an InputError, and a valid split gives two codes of sizes ceil(|T|/2), floor(|T|/2) with
  a - a' = n_T.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.softmax_shift import check_t2c
from theory.spark_twins import split_null_vector
from theory.sparse import null_space_property
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# NSP(k) by circuits: the spectrum reported for a grey-band subset of m + 1 columns


def test_nsp_circuits_grey_band_on_m_plus_one_columns_reports_its_spectrum():
    """A = [e1, e1, (cos eps, sin eps), e2] (m = 2, rank 2, so subsets up to s = 3 columns are
    examined) with an absolute tolerance tau between the pair {0, 2}'s smallest singular value
    (sin eps / sqrt(1 + cos eps) ~ eps / sqrt 2) and the triple {0, 1, 2}'s (~ eps sqrt(2/3)):
    every pair is decided (rank 1 or clearly 2), the triple's second singular value lies in
    (tau, sqrt(tau s_1)), so the verdict is undecided on columns (0, 1, 2) and ``ambiguous`` is
    their 3 singular values: the 2 of A_T and the structural zero of a 2 x 3 matrix (the square
    roots of the 3 eigenvalues of the Gram matrix A_T^T A_T)."""
    eps = 1e-3
    A = np.array([[1.0, 1.0, math.cos(eps), 0.0], [0.0, 0.0, math.sin(eps), 1.0]])
    T = A[:, :3]
    pair = np.linalg.svd(A[:, [0, 2]], compute_uv=False)[-1]
    triple = np.linalg.svd(T, compute_uv=False)
    tau = 0.5 * (pair + triple[-1])
    assert pair < tau < triple[-1] < math.sqrt(tau * triple[0])
    cert = null_space_property(A, 1, method="circuits", tol=tau)
    assert cert.verdict is Verdict.UNDECIDED
    assert "(0, 1, 2)" in cert.reason
    expected = np.concatenate([triple, [0.0]])  # A_T^T A_T is 3 x 3 of rank <= 2
    gram = np.linalg.eigvalsh(T.T @ T)[::-1]
    np.testing.assert_allclose(expected**2, gram, rtol=0, atol=1e-14)
    assert np.asarray(cert.ambiguous).shape == (3,)
    np.testing.assert_allclose(cert.ambiguous, expected, rtol=0, atol=1e-12)
    # The spectrum is that of the normalised columns: scaling a column changes nothing.
    scaled = null_space_property(A * np.array([2.0, 0.5, 3.0, 1.0]), 1, tol=tau)
    assert scaled.verdict is Verdict.UNDECIDED
    np.testing.assert_allclose(scaled.ambiguous, expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# T2c: the member built when 1_V is in the range of W


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("zero_v", [False, True])
def test_t2c_member_moves_logits_by_norm_v_over_norm_pinv_ones(seed, zero_v):
    """W (V = 3) x (d = 5) Gaussian has full row rank, so 1_V = W W^+ 1_V is in its range. The
    member w built by check_t2c has part |v| (1 when v = 0) along e = W^+ 1 / |W^+ 1| and the rest
    of w - v in ker W, so W (w - v) = (|v| / |W^+ 1|) 1_V: the reported logit shift is that
    constant, the softmax is unchanged, and T2c holds."""
    rng = np.random.default_rng(100 + seed)
    W = rng.standard_normal((3, 5))
    v = np.zeros(5) if zero_v else rng.standard_normal(5)
    H = rng.standard_normal((4, 5))
    cert = check_t2c(W, v, H, seed=seed)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["ones_in_range_W"] is True
    u = np.linalg.pinv(W) @ np.ones(3)
    e = u / np.linalg.norm(u)
    target = float(np.linalg.norm(v)) or 1.0
    step = cert.witness["member"] - v
    assert float(step @ e) == pytest.approx(target, rel=1e-10)
    np.testing.assert_allclose(W @ step, np.full(3, target / np.linalg.norm(u)), rtol=1e-10)
    assert cert.details["logit_shift"] == pytest.approx(target / np.linalg.norm(u), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# T7(b): split_null_vector


@pytest.mark.parametrize("subset", [(0, 0), (1, 2, 1), (3, 3, 3)])
def test_split_null_vector_refuses_a_repeated_index(subset):
    """The support T is a set: a subset with a repeated index is refused (float and exact)."""
    n = np.array([1.0, -2.0, 3.0, -4.0])
    with pytest.raises(InputError, match="repeat"):
        split_null_vector(n, subset, 2)
    with pytest.raises(InputError, match="repeat"):
        split_null_vector((1, -2, 3, -4), subset, 2)


@pytest.mark.parametrize("subset", [(0,), (2, 0), (3, 1, 0), (0, 1, 2, 3)])
def test_split_null_vector_splits_support_into_two_codes(subset):
    """a = n_S1 (S1 the first ceil(|T|/2) indices of T), a' = -n_S2 (the rest): a - a' = n_T,
    |supp a| = ceil(|T|/2), |supp a'| = floor(|T|/2), disjoint."""
    n = np.array([1.0, -2.0, 3.0, -4.0])
    a, b = split_null_vector(n, subset, 2)
    t = len(subset)
    half = (t + 1) // 2
    nT = np.where(np.isin(np.arange(4), subset), n, 0.0)
    np.testing.assert_array_equal(a - b, nT)
    assert set(np.flatnonzero(a)) == set(subset[:half])
    assert set(np.flatnonzero(b)) == set(subset[half:])


# ---------------------------------------------------------------------------------------------
# NSP(k) by circuits: the documented default budget of 2^16 subsets


def test_nsp_circuits_default_budget_is_two_to_the_sixteen_subsets():
    """The docstring's default ``max_subsets`` is 2^16: an 8 x 17 A of rank 8 needs
    sum_{s <= 9} C(17, s) = 89,845 > 2^16 SVDs, so the default refuses it (before any work) with
    an InputError that names the budget, exactly as ``max_subsets=2**16`` passed explicitly does."""
    need = sum(math.comb(17, s) for s in range(10))
    assert 2**16 < need <= 2**17
    A = np.random.default_rng(3).standard_normal((8, 17))
    with pytest.raises(InputError, match="max_subsets") as default:
        null_space_property(A, 1)
    with pytest.raises(InputError, match="max_subsets") as explicit:
        null_space_property(A, 1, max_subsets=2**16)
    assert str(default.value) == str(explicit.value)
