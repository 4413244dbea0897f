"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 6, N):

- ``match_rows`` maximises the summed row-normalised |p_{perm[j], j}| / max_l |p_{perm[j], l}|
  (brute force over all permutations on rows of very different scales);
- ``basis_pursuit`` returns frozen evidence: its code cannot be overwritten (its reported l1 is
  |code|_1);
- basis pursuit of the zero code (empty support, no A_S): holds, 0 is returned, no rank;
- basis pursuit, holds: the margin is the min of RECOVERY_TOL / error, the rank margin of A_S,
  DUAL_TOL / e and (1 - decision_tol) / t, and ``ambiguous`` is A_S's grey-band spectrum;
- basis pursuit, violated needs t > 1 + decision_tol strictly: t exactly 1 + decision_tol is
  undecided, just above it is violated;
- T9: ``ones_image_per_layer`` is the image |R_j T_j 1| / sqrt(d) of the unit all-ones direction,
  and ``layernorm-mean`` is named when that image is under the rank tolerance.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from theory.amari import match_rows
from theory.bp_recovery import (
    DUAL_TOL,
    RECOVERY_TOL,
    basis_pursuit,
    bp_recovery_certificate,
)
from theory.certificate import Verdict
from theory.cross_layer import check_t9, layer_factors
from theory.local_problem import LocalProblem
from theory.rank import decide_rank

# ---------------------------------------------------------------------------------------------
# match_rows: the row-normalised assignment


def _normalised_score(P, perm):
    A = np.abs(P)
    return sum(A[perm[j], j] / A[perm[j]].max() for j in range(A.shape[1]))


@pytest.mark.parametrize("seed", range(6))
def test_match_rows_maximises_the_row_normalised_score(seed):
    """Rows scaled by 10^[-3, 3]: the normalised objective is scale-free per row, so the best
    permutation (brute force over 4! = 24) is the one match_rows returns, and scaling any row
    leaves it unchanged."""
    rng = np.random.default_rng(600 + seed)
    n = 4
    P = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-3, 3, size=(n, 1))
    best = max(itertools.permutations(range(n)), key=lambda q: _normalised_score(P, q))
    perm = match_rows(P)
    assert sorted(perm.tolist()) == list(range(n))
    assert _normalised_score(P, perm) == pytest.approx(_normalised_score(P, best), rel=1e-12)
    rescaled = P * 10.0 ** rng.uniform(-3, 3, size=(n, 1))
    assert match_rows(rescaled).tolist() == perm.tolist()


def test_match_rows_ignores_row_scale_on_a_two_by_two():
    """Row 1 is 100 times row 0's scale. Normalised, the rows are (1, 0.5) and (1, 0.9): the
    identity scores 1 + 0.9 = 1.9, the swap 0.5 + 1 = 1.5, so the identity wins (weighting by the
    row scale instead would pick the swap)."""
    P = np.array([[1.0, 0.5], [100.0, 90.0]])
    assert match_rows(P).tolist() == [0, 1]


# ---------------------------------------------------------------------------------------------
# basis pursuit


def test_basis_pursuit_code_is_read_only():
    rng = np.random.default_rng(61)
    A = rng.standard_normal((4, 7))
    a = np.zeros(7)
    a[[1, 5]] = [1.5, -0.5]
    bp = basis_pursuit(A, A @ a)
    assert not bp.code.flags.writeable
    with pytest.raises(ValueError):
        bp.code[0] = 1.0
    assert bp.l1 == pytest.approx(float(np.abs(bp.code).sum()), rel=1e-15)


def test_bp_zero_code_holds_without_a_support():
    """a = 0: y = 0, whose unique l1 minimiser is 0; with no A_S there is no rank, no grey band."""
    rng = np.random.default_rng(62)
    A = rng.standard_normal((3, 5))
    cert = bp_recovery_certificate(A, np.zeros(5))
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["k"] == 0
    np.testing.assert_array_equal(cert.witness["recovered"], np.zeros(5))
    assert cert.rank is None and cert.ambiguous is None


def _reference_holds_margin(A, a, code, w, decision_tol):
    S = np.flatnonzero(a)
    Sc = np.setdiff1d(np.arange(A.shape[1]), S)
    err = float(np.linalg.norm(code - a) / np.linalg.norm(a))
    t = float(np.max(np.abs(A[:, Sc].T @ w)))
    e = float(np.max(np.abs(A[:, S].T @ w - np.sign(a[S]))))
    rank_margin = decide_rank(A[:, S]).margin
    ratio = lambda thr, ev: math.inf if ev == 0 else thr / ev  # noqa: E731
    return min(ratio(RECOVERY_TOL, err), rank_margin, ratio(DUAL_TOL, e), ratio(1 - 1e-7, t))


def test_bp_holds_margin_includes_the_rank_margin_of_a_s():
    """A = I, a = e_0, w = e_0: the LP returns a exactly, e = 0 and t = 0, so the only finite
    margin is the rank margin of the single column A_S = e_0 (s_1 / sqrt(tau s_1), tau = 4 eps)."""
    A = np.eye(4)
    a = np.array([1.0, 0.0, 0.0, 0.0])
    cert = bp_recovery_certificate(A, a, dual_vector=a)
    assert cert.verdict is Verdict.HOLDS
    expected = 1.0 / math.sqrt(4 * np.finfo(np.float64).eps)
    assert decide_rank(A[:, [0]]).margin == pytest.approx(expected, rel=1e-12)
    assert cert.margin == pytest.approx(
        min(expected, _reference_holds_margin(A, a, cert.witness["recovered"], a, 1e-7)),
        rel=1e-12,
    )
    assert cert.margin <= expected * (1 + 1e-12)
    assert cert.rank == 1
    assert cert.ambiguous is not None and cert.ambiguous.shape == (0,)


@pytest.mark.parametrize("seed", range(3))
def test_bp_holds_certificate_on_random_sparse_codes(seed):
    """Gaussian A (12 x 30), 2-sparse a: basis pursuit recovers a, the certificate holds with the
    documented min of four margins, A_S's rank and its (empty) grey-band spectrum."""
    rng = np.random.default_rng(630 + seed)
    A = rng.standard_normal((12, 30))
    a = np.zeros(30)
    S = rng.choice(30, size=2, replace=False)
    a[S] = rng.choice([-1.0, 1.0], size=2) * rng.uniform(0.5, 2.0, size=2)
    cert = bp_recovery_certificate(A, a)
    assert cert.verdict is Verdict.HOLDS
    dec = decide_rank(A[:, np.sort(S)])
    assert cert.rank == dec.rank == 2
    assert cert.ambiguous is not None
    np.testing.assert_array_equal(cert.ambiguous, dec.ambiguous)
    ref = _reference_holds_margin(
        A, a, cert.witness["recovered"], cert.witness["dual_vector"], 1e-7
    )
    assert cert.margin == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("tol", [0.5, 0.25, 0.125])
def test_bp_violated_needs_dual_sup_norm_strictly_above_one_plus_tol(tol):
    """A = [1, c] (one row), a = e_0: the constraint A_S^T w = 1 forces w = 1, so t = c. The LP
    returns (0, 1/c) with |x|_1 = 1/c < 1 = |a|_1. At c = 1 + tol exactly (a float) the dual sits
    on the edge: undecided; at c = 1 + 2 tol it clears it: violated with margin >= 1."""
    a = np.array([1.0, 0.0])
    for c, verdict in ((1.0 + tol, Verdict.UNDECIDED), (1.0 + 2 * tol, Verdict.VIOLATED)):
        cert = bp_recovery_certificate(np.array([[1.0, c]]), a, decision_tol=tol, dual_vector=[1.0])
        assert cert.details["dual_sup_norm"] == c
        assert cert.details["relative_error"] > RECOVERY_TOL
        assert cert.details["l1_returned"] < 1.0
        assert cert.verdict is verdict
        if verdict is Verdict.VIOLATED:
            assert cert.margin >= 1.0


# ---------------------------------------------------------------------------------------------
# T9: the all-ones direction


def _problem_with_null(n, rng, V=3):
    """Identity downstream, readout columns orthogonal to the unit vector n: J n = 0."""
    d = n.size
    w_u = rng.standard_normal((d, V))
    w_u -= np.outer(n, n @ w_u)
    return LocalProblem(lambda x: x, rng.standard_normal((1, 2, d)), w_u, alphas=(1.0,))


def test_t9_ones_image_is_that_of_the_unit_all_ones_direction():
    rng = np.random.default_rng(64)
    d = 5
    problems = [
        LocalProblem(lambda x: x, rng.standard_normal((1, 2, d)), rng.standard_normal((d, 3)))
        for _ in range(2)
    ]
    v = rng.standard_normal(d)
    cert = check_t9(problems, v, "logits")
    blocks, _ = layer_factors(problems, v, "logits")
    expected = [float(np.linalg.norm(b @ np.ones(d))) / math.sqrt(d) for b in blocks]
    np.testing.assert_allclose(cert.details["ones_image_per_layer"], expected, rtol=1e-12)


def test_t9_names_layernorm_mean_when_the_unit_ones_image_is_under_tau():
    """Both layers kill n = unit(1 + 1e-5 z): the stack has rank d - 1 and the unit all-ones
    direction has image ~1e-5, far from 0 but under tau = 2 x its largest image: the symmetry is
    named (the unit direction is in the null space at the rank's tolerance). With tau at half the
    image it is not."""
    rng = np.random.default_rng(65)
    d = 5
    n = np.ones(d) + 1e-5 * rng.standard_normal(d)
    n /= np.linalg.norm(n)
    problems = [_problem_with_null(n, rng) for _ in range(2)]
    v = rng.standard_normal(d)
    blocks, _ = layer_factors(problems, v, "logits")
    image = max(float(np.linalg.norm(b @ np.ones(d))) / math.sqrt(d) for b in blocks)
    assert 1e-9 < image < 1e-3
    named = check_t9(problems, v, "logits", tol=2.0 * image)
    assert named.verdict is Verdict.VIOLATED and named.dim == 1
    assert named.symmetries == ("layernorm-mean",)
    unnamed = check_t9(problems, v, "logits", tol=0.5 * image)
    assert unnamed.verdict is Verdict.VIOLATED and unnamed.dim == 1
    assert unnamed.symmetries == ()
