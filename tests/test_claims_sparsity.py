"""T7 (sparsity): mathematical and documented claims about spark, sparse twins, basis pursuit, the
null-space property and the phase-transition tools, each checked against an independent
computation (closed forms, binomial counts, exact arithmetic) or a documented contract.

- basis pursuit on an invertible diagonal system returns its only feasible point y / d to rounding;
- the basis-pursuit certificate's margin is the documented minimum, here the dual term
  ``(1 - decision_tol) / t`` with t = max |c_j| for the one-row matrix [1, c];
- the LP method of the NSP check evaluates exactly C(p, k) 2^(k-1) LPs on a generic A;
- ``WEAK_THRESHOLD_TABLE`` is keyed by delta = 0.05, 0.10, ..., 0.95;
- ``PhaseTransition.rho_eff`` is k / m, within 1 / (2m) of the requested rho;
- the spark budget refuses only *more* than ``max_subsets`` subsets;
- ``subsets_checked`` counts every examined subset: sum_{s <= top} C(p, s) for a full search;
- a singular value equal to tau counts as zero (theory.rank's rule);
- an undecided spark has ``upper <= p + 1``; a zero column is a circuit with residual 0;
- the uniqueness certificate falls back to the search up to 2k when the full one is too large;
- the twin certificate's supports S1 / S2 are the supports of its witness a / a';
- the behaviour re-run of a twin is held to ``max(tolerance, 1e-9)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.optimize
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synthetic.sparse_codes import gaussian_matrix, planted_spark_matrix
from theory.bp_recovery import SOLVE_TOL, BasisPursuitError
from theory.phase_transition import weak_threshold
from theory.rank import decide_rank_from_singular_values
from theory.spark_base import coerce_matrix
from theory.spark_float import batch_status
from theory.sparse import (
    WEAK_THRESHOLD_TABLE,
    SparkLimitError,
    basis_pursuit,
    bp_recovery_certificate,
    null_space_property,
    phase_transition,
    rerun_twins,
    spark,
    unique_recovery_certificate,
)

EPS = float(np.finfo(np.float64).eps)


def _subsets(p: int, top: int) -> int:
    """sum_{s=1}^{top} C(p, s), written out independently of the implementation."""
    return sum(math.comb(p, s) for s in range(1, top + 1))


def _vandermonde(nodes: list[int], m: int) -> sympy.Matrix:
    """Integer Vandermonde columns (x^0, ..., x^(m-1)): any m of them are independent."""
    return sympy.Matrix(m, len(nodes), lambda i, j: sympy.Integer(nodes[j]) ** i)


# --------------------------------------------------------------------------------------------
# Basis pursuit


@st.composite
def diagonal_systems(draw):
    """(d, y): d a diagonal of signed powers of two (so y / d is exact), y of a drawn scale."""
    p = draw(st.integers(1, 6))
    exps = draw(st.lists(st.integers(-2, 2), min_size=p, max_size=p))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=p, max_size=p))
    d = np.array(signs) * np.exp2(exps)
    vals = draw(st.lists(st.floats(0.1, 1.0) | st.floats(-1.0, -0.1), min_size=p, max_size=p))
    scale = draw(st.sampled_from([1e-4, 1e-3, 1e-2, 1.0, 1e3]))
    return d, np.array(vals) * scale


@settings(max_examples=20)
@given(diagonal_systems())
@example((np.array([1.0, -2.0]), np.array([3e-4, 7e-4])))
def test_basis_pursuit_returns_the_only_feasible_point_of_an_invertible_system(system):
    """When A = diag(d) is invertible, {x : A x = y} = {y / d}: basis pursuit returns it, to
    rounding (the LP answer is a basic solution, not one shifted by the variable bounds)."""
    d, y = system
    res = basis_pursuit(np.diag(d), y)
    expected = y / d  # exact: d holds powers of two
    np.testing.assert_allclose(res.code, expected, rtol=8 * EPS, atol=0)
    assert res.l1 == pytest.approx(np.abs(expected).sum(), rel=1e-14)


@st.composite
def one_row_dual_cases(draw):
    """(A, a, decision_tol): A = [1, c_2, ..., c_p] with max |c_j| < 1 - decision_tol, a = s e_1."""
    p = draw(st.integers(2, 5))
    mags = draw(st.lists(st.floats(0.05, 0.9), min_size=p - 1, max_size=p - 1))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=p - 1, max_size=p - 1))
    c = np.array(mags) * np.array(signs)
    decision_tol = draw(st.floats(1e-3, 0.05))
    A = np.concatenate([[1.0], c])[None, :]
    a = np.zeros(p)
    a[0] = draw(st.floats(0.5, 2.0) | st.floats(-2.0, -0.5))
    return A, a, decision_tol


@settings(max_examples=15)
@given(one_row_dual_cases())
def test_bp_certificate_margin_is_the_dual_term_for_one_row(case):
    """For A = [1, c] and a = s e_1, the dual vector is w = sign(s), t = |A_{S^c}^T w|_inf =
    max |c_j|, and the certificate holds with margin (1 - decision_tol) / t (the LP is exact and
    A_S = [1] is perfectly conditioned, so the dual term of the documented minimum binds)."""
    A, a, decision_tol = case
    t = float(np.max(np.abs(A[0, 1:])))
    cert = bp_recovery_certificate(A, a, decision_tol=decision_tol)
    assert cert.verdict == "holds"
    assert cert.details["dual_sup_norm"] == pytest.approx(t, rel=1e-12)
    assert cert.margin == pytest.approx((1 - decision_tol) / t, rel=1e-9)


@st.composite
def sparse_systems(draw):
    """(A, y): A an (m, p) gaussian matrix, y = A a for a drawn k-sparse code a (k <= m)."""
    m = draw(st.integers(1, 6))
    p = draw(st.integers(m, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = gaussian_matrix(m, p, rng)
    k = draw(st.integers(0, m))
    a = np.zeros(p)
    a[rng.choice(p, size=k, replace=False)] = rng.standard_normal(k)
    return A, A @ a


@settings(max_examples=30)
@given(sparse_systems(), st.integers(-12, 12), st.integers(-6, 6))
def test_basis_pursuit_is_equivariant_under_scaling_of_y_and_a(system, ey, ea):
    """{x : (s A) x = c y} = (c / s) {x : A x = y} and |.|_1 is homogeneous, so the l1
    minimiser for (s A, c y) is (c / s) times the one for (A, y): basis pursuit returns it at
    every scale, with relative residual <= SOLVE_TOL (the LP is not fooled by absolute solver
    tolerances when y or A is tiny or huge)."""
    A, y = system
    c, s = 10.0**ey, 10.0**ea
    base = basis_pursuit(A, y)
    scaled = basis_pursuit(s * A, c * y)
    ref = max(float(np.linalg.norm(base.code)), 1e-300)
    err = float(np.linalg.norm(scaled.code * (s / c) - base.code)) / ref
    assert err <= 1e-9 or not (base.code.any() or scaled.code.any())
    assert scaled.residual <= SOLVE_TOL


def test_basis_pursuit_refuses_an_optimal_answer_that_does_not_solve_the_system(monkeypatch):
    """basis_pursuit never returns a code with |A a - y| / |y| > SOLVE_TOL: a solver answer that
    is 'optimal' but infeasible (here the LP's x replaced by 0) raises BasisPursuitError."""
    real = scipy.optimize.linprog

    def zero_answer(*args, **kwargs):
        res = real(*args, **kwargs)
        res.x = np.zeros_like(res.x)
        return res

    monkeypatch.setattr(scipy.optimize, "linprog", zero_answer)
    with pytest.raises(BasisPursuitError, match="optimal"):
        basis_pursuit(np.eye(2), np.array([1.0, 2.0]))


@settings(max_examples=60)
@given(
    st.integers(-(2**80), 2**80).filter(lambda n: n != 0),
    st.integers(1, 2**80),
    st.integers(0, 2),
)
@example(2**62 + 2**9 + 1, 2**62, 0)  # 1 + 2^-53 + 2^-62: rounding twice gives 1.0
def test_exact_matrix_to_float_rounds_each_entry_to_the_nearest_float(num, den, where):
    """coerce_matrix(exact=False) turns a rational sympy matrix into float64 with each entry the
    float nearest to its rational value x: no neighbour of the answer is closer to x (checked in
    exact arithmetic)."""
    x = Fraction(num, den)
    M = sympy.Matrix(1, 3, lambda i, j: sympy.Rational(num, den) if j == where else j)
    F, exact = coerce_matrix("A", M, exact=False)
    got = float(F[0, where])
    assert exact is False and F.dtype == np.float64
    for neighbour in (np.nextafter(got, -np.inf), np.nextafter(got, np.inf)):
        assert abs(Fraction(got) - x) <= abs(Fraction(float(neighbour)) - x)


# --------------------------------------------------------------------------------------------
# Null-space property


@settings(max_examples=8)
@given(st.integers(3, 5).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, p - 2))), st.data())
def test_nsp_lp_method_evaluates_every_lp(pk, data):
    """On a generic A (m x p, k <= m < p: spark m + 1 > k, so no null vector lives on k columns)
    the LP method evaluates exactly the documented C(p, k) 2^(k-1) LPs."""
    p, k = pk
    m = data.draw(st.integers(k, p - 1))
    A = gaussian_matrix(m, p, seed=data.draw(st.integers(0, 2**32 - 1)))
    cert = null_space_property(A, k, method="lp", decision_tol=1e-6)
    assert cert.details["evaluated"] == math.comb(p, k) * 2 ** (k - 1)


# --------------------------------------------------------------------------------------------
# Phase transition


def test_weak_threshold_table_is_keyed_by_the_documented_grid():
    """WEAK_THRESHOLD_TABLE holds rho_W(delta) at delta = 0.05, 0.10, ..., 0.95 (documented),
    each value rho_W(delta) rounded to 6 decimals."""
    grid = [round(0.05 * i, 2) for i in range(1, 20)]
    assert sorted(WEAK_THRESHOLD_TABLE) == pytest.approx(grid, abs=1e-12)
    for delta, rho in WEAK_THRESHOLD_TABLE.items():
        assert rho == pytest.approx(weak_threshold(delta), abs=5e-7 + 1e-12)


def test_phase_transition_rho_eff_is_k_over_m():
    """rho_eff = k / m (the rhos actually realised): m = round(delta p), k = round(rho m), both
    rounded half up, so |rho_eff - rho| <= 1 / (2m)."""
    p, deltas, rhos = 10, [0.5, 0.8], [0.2, 0.5]
    pt = phase_transition(p, deltas, rhos, trials=1, seed=3)
    m = np.array([math.floor(d * p + 0.5) for d in deltas])
    k = np.array([[math.floor(r * mm + 0.5) for r in rhos] for mm in m])
    np.testing.assert_allclose(pt.rho_eff, k / m[:, None], rtol=1e-15)
    assert np.all(np.abs(pt.rho_eff - np.array(rhos)[None, :]) <= 1 / (2 * m[:, None]) + 1e-12)


# --------------------------------------------------------------------------------------------
# Spark: budget, counts, rank rule, bounds


@pytest.mark.parametrize("m, p", [(2, 4), (3, 5), (1, 3)])
def test_spark_budget_refuses_only_more_than_max_subsets(m, p):
    """A search of sum_{s <= rank} C(p, s) subsets runs with max_subsets equal to that count
    (only *more* than max_subsets is refused) and is refused with one less; float and exact."""
    need = _subsets(p, m)
    A = gaussian_matrix(m, p, seed=11)
    assert spark(A, max_subsets=need).value == m + 1
    with pytest.raises(SparkLimitError):
        spark(A, max_subsets=need - 1)
    V = _vandermonde(list(range(1, p + 1)), m)
    assert spark(V, max_subsets=need).value == m + 1
    with pytest.raises(SparkLimitError):
        spark(V, max_subsets=need - 1)


@settings(max_examples=15)
@given(st.integers(1, 4).flatmap(lambda m: st.tuples(st.just(m), st.integers(m + 1, 7))), st.data())
def test_spark_counts_every_examined_subset(mp, data):
    """On an m x p Vandermonde matrix (p > m, spark m + 1) the search examines every subset of
    size <= m: subsets_checked = sum_{s <= m} C(p, s); truncated at max_size, the sum up to it.
    Exact and float mode agree on the count."""
    m, p = mp
    nodes = data.draw(st.lists(st.integers(-6, 6), min_size=p, max_size=p, unique=True))
    V = _vandermonde(nodes, m)
    for A in (V, np.array(V.tolist(), dtype=np.float64)):
        res = spark(A)
        assert res.value == m + 1
        assert res.subsets_checked == _subsets(p, m)
    size = data.draw(st.integers(1, m))
    cut = spark(V, max_size=size)
    assert cut.subsets_checked == _subsets(p, size)


@settings(max_examples=20)
@given(st.integers(1, 5), st.floats(1e-12, 1e-3), st.data())
def test_singular_value_equal_to_tau_counts_as_zero(s, tau, data):
    """Singular values <= tau are zero (theory.rank's rule): a subset whose smallest singular
    value equals tau exactly is dependent, as decide_rank_from_singular_values also says."""
    big = sorted(data.draw(st.lists(st.floats(1.0, 10.0), min_size=s - 1, max_size=s - 1)))[::-1]
    sv = np.array([big + [tau]])
    dependent, undecided, _ = batch_status(sv, s, tau)
    assert bool(dependent[0]) and not bool(undecided[0])
    assert decide_rank_from_singular_values(sv[0], (s, s), tau).rank == s - 1


@pytest.mark.parametrize("tiny", [1e-10, 1e-11])
def test_undecided_spark_upper_bound_is_p_plus_one(tiny):
    """A = [[1, 1], [0, tiny]] has full column rank with sigma_min in the grey band: the spark is
    undecided between lower = 2 and upper = p + 1 = 3 (never above p + 1)."""
    A = np.array([[1.0, 1.0], [0.0, tiny]])
    res = spark(A)
    assert res.value is None
    assert (res.lower, res.upper) == (2, 3)


@pytest.mark.parametrize("j", [0, 2])
def test_zero_column_is_a_circuit_with_zero_residual(j):
    """A zero column is a circuit of size 1 whose column-normalised sigma_min (the residual) is 0,
    below the tolerance."""
    A = gaussian_matrix(3, 4, seed=5)
    A[:, j] = 0.0
    res = spark(A)
    assert (res.value, res.subset) == (1, (j,))
    assert res.residual == 0.0 <= res.tolerance


# --------------------------------------------------------------------------------------------
# Uniqueness and twins


def test_unique_recovery_falls_back_to_the_search_up_to_2k():
    """When the full spark search exceeds max_subsets, unique_recovery_certificate searches sizes
    up to 2k only (sum_{s <= 2k} C(p, s) subsets, here exactly max_subsets) and certifies
    spark > 2k: a generic 7 x 8 Gaussian A (spark 8), k = 1, max_subsets = C(8,1) + C(8,2)."""
    A = gaussian_matrix(7, 8, seed=4)
    budget = _subsets(8, 2)
    with pytest.raises(SparkLimitError):
        spark(A, max_subsets=budget)
    cert = unique_recovery_certificate(A, 1, max_subsets=budget)
    assert cert.verdict == "holds"
    assert cert.details["truncated_at"] == 2
    assert cert.details["spark_lower_bound"] == 3
    assert cert.details["subsets_checked"] == budget


@settings(max_examples=15)
@given(st.integers(2, 5), st.integers(0, 2**32 - 1), st.booleans())
def test_twin_supports_are_the_supports_of_the_witness(s, seed, exact):
    """For a planted circuit T of size s (spark s <= 2k, k = ceil(s/2)), the reported supports
    S1, S2 are the supports of the witness codes a and a' (|S1| = ceil(s/2), |S2| = floor(s/2)),
    and they partition T."""
    m = 2 * s - 3 if exact else s
    m = max(m, s)
    k = (s + 1) // 2
    planted = planted_spark_matrix(m, s + 2, s, seed=seed, exact=exact)
    cert = unique_recovery_certificate(planted.matrix, k)
    assert cert.verdict == "violated"
    S1, S2 = cert.details["supports"]["S1"], cert.details["supports"]["S2"]
    assert S1 == np.flatnonzero(cert.witness["a"]).tolist()
    assert S2 == np.flatnonzero(cert.witness["a_prime"]).tolist()
    assert (len(S1), len(S2)) == ((s + 1) // 2, s // 2)
    assert sorted(S1 + S2) == sorted(int(t) for t in planted.circuit)


def test_behaviour_rerun_is_held_to_max_of_tolerance_and_1e_9():
    """rerun_twins holds the behaviour map to max(tolerance, 1e-9): with tolerance below 1e-9
    that is 1e-9, so a behaviour residual of 1.5e-9 fails the re-run and 0.5e-9 passes."""
    A = np.array([[1.0, 2.0, 3.0]])
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])  # A a = A b = 3
    exact = rerun_twins(sympy.Matrix([[1, 2, 3]]), 1, (3, 0, 0), (0, 0, 1), behaviour=lambda c: c)
    assert exact.tolerance == 0.0 and exact.behaviour_tolerance == 1e-9
    for eta, ok in ((1.5e-9, False), (0.5e-9, True)):
        # B(c) = (A c, eta c_0): residual |B(b) - B(a)| / |B(a) - B(0)| = 3 eta / |(3, 3 eta)|
        run = rerun_twins(A, 1, a, b, behaviour=lambda c, e=eta: np.array([A[0] @ c, e * c[0]]))
        assert run.tolerance < 1e-9
        assert run.behaviour_tolerance == max(run.tolerance, 1e-9) == 1e-9
        assert run.behaviour_residual == pytest.approx(eta / math.hypot(1.0, eta), rel=1e-6)
        assert run.verified is ok
