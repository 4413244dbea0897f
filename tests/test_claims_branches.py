"""Claims on branches of ``theory/`` that no other test reaches (edge cases of the definitions),
each checked against the mathematics or a documented contract:

- the dual certificate of a = 0 is w = 0, t* = 0 and injective: 0 is the unique l1 minimiser;
- the dual certificate of a full-support code on a full-column-rank A has t* = 0 (max over no
  columns) and w solving A^T w = sign(a): a is the only feasible point, hence unique minimiser;
- ``Certificate.ok`` is False exactly for a violated verdict (undecided is not a failure);
- a gradient parallel to v gives a degenerate T5 sample whose ``max_abs_deviation`` is max |R - 1|;
  its certificate holds iff max |R - 1| <= AFFINE_TOL (margin AFFINE_TOL / max |R - 1|, no reason),
  undecided (with a reason) otherwise;
- an exact class's ``member(c)`` is ``v + basis c`` (the contract of ``EquivalenceClass.member``);
- T3(b): a certified trait rank above N|A| is violated, margin min(rank margin, rank / N|A|);
- NSP with a zero column e_j: violated by the l1-normalised kernel vector e_j, found before any
  subset is evaluated, and held to at most the documented re-run tolerance;
- NSP with A's rank in the grey band: undecided before any subset or LP is evaluated;
- NSP with a trivial kernel: both methods hold with worst ratio 0 and nothing evaluated;
- ``PhaseTransition.curve(i)``: one point per distinct k at rho = k / m, its success pooled over
  the cells with that k; i must lie in [0, len(deltas) - 1].
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from theory.bp_recovery import dual_certificate, verify_dual
from theory.certificate import Certificate, Verdict
from theory.efficacy import AFFINE_TOL, sample_efficacy, t5_certificate
from theory.jacobian import LocalSpectrum
from theory.linear import equivalence_class
from theory.local import check_t3b
from theory.local_problem import LocalProblem
from theory.phase_transition import PhaseTransition
from theory.rank import decide_rank_from_singular_values
from theory.sparse import null_space_property
from theory.validation import InputError

EPS = float(np.finfo(np.float64).eps)


# ---------------------------------------------------------------------------------------------
# basis pursuit: the dual certificate at the two ends of the support


def test_dual_certificate_of_the_zero_code():
    """{x : A x = 0} has the unique l1 minimiser 0 (|x|_1 = 0 only at x = 0): with an empty
    support the certificate must say so (injective, t* < 1), and w = 0 attains t* = 0."""
    A = np.random.default_rng(0).standard_normal((3, 5))
    a = np.zeros(5)
    t, w, injective = dual_certificate(A, a)
    assert injective is True
    assert t == 0.0 < 1
    assert w.shape == (3,)
    assert verify_dual(A, a, w) == (t, 0.0)  # the re-run attains the reported t*


def test_dual_certificate_of_a_full_support_code():
    """A of full column rank: {x : A x = A a} = {a}, so a is the unique minimiser; S^c is empty,
    so t* = max over no columns = 0, and w must satisfy A^T w = sign(a)."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 4))
    a = np.array([1.5, -0.5, 2.0, -3.0])
    t, w, injective = dual_certificate(A, a)
    assert injective is True
    assert t == 0.0 < 1
    assert w.shape == (6,)
    t_rerun, eq = verify_dual(A, a, w)
    assert t_rerun == 0.0
    assert eq <= 1e-12
    np.testing.assert_allclose(A.T @ w, np.sign(a), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Certificate.ok


@pytest.mark.parametrize(
    ("verdict", "ok"),
    [(Verdict.HOLDS, True), (Verdict.UNDECIDED, True), (Verdict.VIOLATED, False)],
)
def test_certificate_ok_is_false_only_when_violated(verdict, ok):
    assert Certificate(theorem="T1", verdict=verdict, margin=2.0).ok is ok


# ---------------------------------------------------------------------------------------------
# T5: a gradient parallel to v (theta = 0)


def _parallel_score(v: np.ndarray, beta: float):
    """s(x) = g.x + beta |P_perp x|^2 with g = 2 v: its gradient at v is g, parallel to v, and on
    the orthogonal perturbations u of relative norm rho, R - 1 = beta |u|^2 / (g.v) =
    beta rho^2 / 2 exactly (in real arithmetic) for every draw."""
    g = 2.0 * v
    vhat = v / np.linalg.norm(v)

    def score(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        perp = x - np.outer(x @ vhat, vhat)
        return x @ g + beta * np.sum(perp**2, axis=1)

    return score, g


@pytest.mark.parametrize(
    "beta",
    [0.0, 1.5e-6, 6e-6],  # max |R - 1| = 0 (to rounding), 0.75 AFFINE_TOL, 3 AFFINE_TOL
)
def test_t5_degenerate_sample_holds_iff_ratios_within_affine_tol(beta):
    rho = 0.1
    v = np.array([1.0, -2.0, 0.5, 3.0, 1.0])
    score, g = _parallel_score(v, beta)
    sample = sample_efficacy(score, v, g, rho, n=40, seed=3)
    # theta = 0: no first-order change, a degenerate sample without first-order statistics
    assert sample.degenerate is True
    assert sample.first_order_residual is None and sample.ks_pvalue is None
    worst = max(abs(float(r) - 1.0) for r in sample.ratios)
    assert sample.max_abs_deviation == worst
    expected = beta * rho**2 / 2
    assert abs(worst - expected) <= 1e-6 * AFFINE_TOL
    cert = t5_certificate(sample)
    assert cert.details["degenerate"] is True
    assert cert.residual == worst and cert.residual_tolerance == AFFINE_TOL
    if worst <= AFFINE_TOL:
        assert cert.verdict is Verdict.HOLDS
        assert cert.reason == ""  # nothing to say: the witness is there and the verdict decided
        assert cert.margin == (AFFINE_TOL / worst if worst > 0 else math.inf)
    else:
        assert cert.verdict is Verdict.UNDECIDED
        assert cert.reason != ""
        assert cert.margin == AFFINE_TOL / worst < 1


# ---------------------------------------------------------------------------------------------
# T1: the exact class's members


def test_exact_class_member_is_v_plus_basis_times_coefficients():
    L = sympy.Matrix([[1, 2, 0, -1], [0, 1, 1, 1]])
    v = sympy.Matrix([1, 0, 2, -3])
    cls = equivalence_class(L, v)
    assert cls.dim == 2
    for j in range(cls.dim):
        e = [0] * cls.dim
        e[j] = 1
        assert cls.member(e) - v == cls.basis[:, j]  # the j-th kernel direction, added to v
    c = [sympy.Rational(3, 2), -2]
    w = cls.member(c)
    assert w - v == cls.basis[:, 0] * c[0] + cls.basis[:, 1] * c[1]
    assert cls.contains(w) and (L * (w - v)).is_zero_matrix
    assert cls.member([0, 0]) == v


# ---------------------------------------------------------------------------------------------
# T3(b): a spectrum whose certified rank exceeds N|A|


def test_t3b_rank_above_n_times_a_is_violated_by_the_ratio():
    """The trait Jacobian has N|A| rows, so its rank is at most N|A|; a spectrum claiming a
    certified rank r > N|A| is a violation, r / N|A| times over the bound (capped by the rank
    decision's own margin)."""
    rng = np.random.default_rng(4)
    N, T, d, V = 1, 2, 5, 4
    alphas = (1.0, 2.0)
    problem = LocalProblem(
        lambda x: x,
        rng.standard_normal((N, T, d)),
        rng.standard_normal((d, V)),
        alphas=alphas,
        plus=[0],
        minus=[1],
    )
    v = rng.standard_normal(d)
    pairs = N * len(alphas)
    factor = np.diag([4.0, 3.0, 2.5, 2.0, 1.5])  # rank 5 > pairs = 2, well clear of the band
    dec = decide_rank_from_singular_values(np.diag(factor), (pairs, d))
    assert dec.certified and dec.rank == d
    spec = LocalSpectrum(
        channel="trait",
        vector=problem.vector(v),
        factor=factor,
        decision=dec,
        null_basis=np.zeros((d, 0)),
        row_basis=np.eye(d),
        n_rows=pairs,
    )
    cert = check_t3b(problem, v, spectrum=spec)
    assert cert.verdict is Verdict.VIOLATED
    assert cert.rank == d > pairs
    assert cert.margin == min(dec.margin, d / pairs)
    assert dec.margin > d / pairs  # so the margin is the bound's ratio, not the rank margin


# ---------------------------------------------------------------------------------------------
# T7(c): the null-space property at its edge cases


def test_nsp_zero_column_is_a_circuit_with_infinite_ratio():
    """A zero column j puts e_j in ker A: |n_S|_1 / |n_{S^c}|_1 = inf for S = {j}, so NSP(k)
    fails for every k >= 1, witnessed by the l1-normalised vertex e_j of ker A ∩ B_1."""
    A = np.array([[3.0, 0.0, 1.0, 2.0], [4.0, 0.0, -2.0, 0.5]])
    p = A.shape[1]
    cert = null_space_property(A, 1, method="circuits")
    assert cert.verdict is Verdict.VIOLATED
    n = cert.witness["kernel_vector"]
    np.testing.assert_array_equal(n, np.eye(p)[1])
    assert np.abs(n).sum() == 1.0 and not np.any(A @ n)
    assert cert.details["worst_ratio"] == math.inf
    assert cert.details["evaluated"] == 0  # found before any column subset is evaluated
    assert cert.residual == 0.0
    # the re-run is held to at most the documented 10 sqrt(p) tau_rel (at least 1e-12), tau_rel
    # at most the default rank tolerance max(m, p) eps relative to sigma_1: never vacuous
    # (kernel_residual <= 1 for every vector)
    assert cert.residual_tolerance <= max(1e-12, 10 * math.sqrt(p) * max(A.shape) * EPS)


def _grey_band_matrix() -> np.ndarray:
    """3 x 4 of singular values (1, 1, 1e-10): the last far below sqrt(tau sigma_1) ~ 4e-8 and far
    above tau = 4 eps sigma_1, also after the columns are scaled to unit norm."""
    rng = np.random.default_rng(5)
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    W, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    return U @ np.diag([1.0, 1.0, 1e-10]) @ W.T


@pytest.mark.parametrize("method", ["circuits", "lp"])
def test_nsp_is_undecided_when_the_rank_of_a_is_in_the_grey_band(method):
    A = _grey_band_matrix()
    cert = null_space_property(A, 1, method=method)
    assert cert.verdict is Verdict.UNDECIDED
    assert "grey band" in cert.reason
    assert cert.ambiguous.size == 1 and 1e-11 < cert.ambiguous[0] < 1e-9
    assert cert.details["evaluated"] == 0  # the rank of A is decided before any subset or LP


@pytest.mark.parametrize("method", ["circuits", "lp"])
def test_nsp_holds_with_worst_ratio_zero_on_a_trivial_kernel(method):
    """ker A = {0}: there is no nonzero n, so NSP(k) holds for every k, with nothing to
    evaluate."""
    A = np.random.default_rng(6).standard_normal((5, 3))
    cert = null_space_property(A, 2, method=method)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["kernel_trivial"] is True
    assert cert.details["worst_ratio"] == 0.0
    assert cert.details["evaluated"] == 0


# ---------------------------------------------------------------------------------------------
# the phase-transition curve


def _phase_transition() -> PhaseTransition:
    """Two rows, m = 4 and 6, k = round(rho m) half up; row 0 has two rhos with k = 1."""
    rhos = np.array([0.2, 0.25, 0.5, 0.9])
    m_rows = np.array([4, 6])
    k = np.array([[1, 1, 2, 4], [1, 2, 3, 5]])
    success = np.array([[1.0, 0.5, 0.75, 0.25], [1.0, 0.75, 0.25, 0.0]])  # wins / 4
    return PhaseTransition(
        p=10,
        deltas=np.array([0.4, 0.6]),
        rhos=rhos,
        m_rows=m_rows,
        k=k,
        success=success,
        trials=4,
        seed=0,
    )


def test_phase_transition_curve_pools_cells_with_the_same_k():
    pt = _phase_transition()
    for i in range(len(pt.deltas)):
        x, y = pt.curve(i)
        m = int(pt.m_rows[i])
        ks = sorted(set(int(kk) for kk in pt.k[i]))
        assert len(x) == len(y) == len(ks)
        for xj, yj, kk in zip(x, y, ks, strict=True):
            assert xj == kk / m  # rho_eff = k / m
            cells = [pt.success[i, j] for j in range(len(pt.rhos)) if pt.k[i, j] == kk]
            assert Fraction(yj) == sum(map(Fraction, cells)) / len(cells)  # exact: quarters
    x0, y0 = pt.curve(0)
    assert x0[0] == 0.25 and y0[0] == 0.75  # k = 1 pools success 1.0 and 0.5


def test_phase_transition_curve_index_range():
    pt = _phase_transition()
    pt.curve(0)
    pt.curve(len(pt.deltas) - 1)
    for bad in (-1, len(pt.deltas)):
        with pytest.raises(InputError, match="i must be"):
            pt.curve(bad)
