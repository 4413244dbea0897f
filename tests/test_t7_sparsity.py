"""T7 (sparsity): property tests of spark, sparse twins, unique recovery, basis pursuit, the
null-space property and the phase-transition tools.

Strategies build valid objects: k-sparse codes on a chosen support, integer matrices of a chosen
spark (Vandermonde columns with one planted circuit; provably of that spark), Gaussian matrices
with a planted circuit, generic Gaussian matrices.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import event, given
from hypothesis import strategies as st

from proofs_check.checks.sparsity import numeric_t7_twins
from synthetic.sparse_codes import (
    concept_dictionary,
    gaussian_matrix,
    planted_spark_matrix,
    random_support,
    sparse_code,
)
from theory.basis_pursuit import dual_certificate, verify_dual
from theory.certificate import Certificate, Verdict, ratio_margin
from theory.nsp import nsp_by_circuits, nsp_certificate
from theory.rank import decide_rank_from_singular_values
from theory.residual import behaviour_residual
from theory.spark import full_column_rank_mod_prime, rerun_twins
from theory.spark_float import batch_status
from theory.sparse import (
    RECOVERY_TOL,
    WEAK_THRESHOLD_TABLE,
    InfeasibleError,
    NoSparseTwinError,
    SparkLimitError,
    basis_pursuit,
    bp_recovery_certificate,
    check_t7,
    crossing_rho,
    null_space_property,
    phase_transition,
    relative_error,
    spark,
    sparse_twins,
    split_null_vector,
    statistical_dimension_threshold,
    unique_recovery_certificate,
    weak_threshold,
)

# --------------------------------------------------------------------------------------------
# Strategies


@st.composite
def sparse_codes(draw, p: int, k: int, integer: bool = False):
    """(a, support): a has exactly k nonzeros, on a drawn support, with drawn signs and
    magnitudes."""
    support = sorted(draw(st.lists(st.integers(0, p - 1), min_size=k, max_size=k, unique=True)))
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=k, max_size=k))
    if integer:
        mags = draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
        a = [0] * p
        for j, s, m in zip(support, signs, mags):
            a[j] = s * m
        return a, support
    mags = draw(st.lists(st.floats(0.25, 4.0), min_size=k, max_size=k))
    a = np.zeros(p)
    a[support] = np.array(signs, dtype=float) * np.array(mags)
    return a, support


@st.composite
def exact_planted(draw, max_m: int = 6, max_p: int = 8):
    """(A, s): a sympy integer matrix of spark exactly s, built from drawn primitives.

    Columns are Vandermonde (x^0..x^(m-1)) at distinct drawn nodes, so any m of them are
    independent. For 2 <= s <= m with 2s - 3 <= m a circuit is planted: the last column of a drawn
    s-subset T becomes sum_j beta_j (column j), beta_j drawn nonzero; then every smaller subset
    stays independent (U + {c} with |U| <= s-2 spans <= m Vandermonde columns T' + U, and c in
    span(U) would need T' inside U). s = 1 plants a zero column; s = m + 1 (p > m) and s = p + 1
    (p <= m) plant nothing.
    """
    m = draw(st.integers(1, max_m))
    p = draw(st.integers(1, max_p))
    options = [s for s in range(1, min(m, p) + 1) if s == 1 or 2 * s - 3 <= m]
    options += [m + 1] if p > m else [p + 1]
    s = draw(st.sampled_from(options))
    nodes = draw(st.lists(st.integers(-9, 9), min_size=p, max_size=p, unique=True))
    cols = [[sympy.Integer(x) ** i for i in range(m)] for x in nodes]
    if s <= min(m, p):
        T = sorted(draw(st.lists(st.integers(0, p - 1), min_size=s, max_size=s, unique=True)))
        beta = draw(
            st.lists(st.integers(1, 4) | st.integers(-4, -1), min_size=s - 1, max_size=s - 1)
        )
        cols[T[-1]] = [
            sum((sympy.Integer(b) * cols[j][i] for b, j in zip(beta, T[:-1])), sympy.Integer(0))
            for i in range(m)
        ]
    return sympy.Matrix(m, p, lambda i, j: cols[j][i]), s


@st.composite
def float_planted(draw, max_m: int = 6, max_p: int = 9):
    """(A, s, circuit): Gaussian columns with a planted circuit of drawn size s
    (synthetic.sparse_codes)."""
    m = draw(st.integers(1, max_m))
    p = draw(st.integers(1, max_p))
    options = list(range(1, min(m + 1, p) + 1)) + ([p + 1] if m >= p else [])
    s = draw(st.sampled_from(options))
    planted = planted_spark_matrix(m, p, s, seed=draw(st.integers(0, 2**32 - 1)))
    return planted.matrix, s, planted.circuit


@st.composite
def gaussian(draw, max_m: int = 5, max_p: int = 7, min_m: int = 1):
    m = draw(st.integers(min_m, max_m))
    p = draw(st.integers(m + 1, max_p))
    return gaussian_matrix(m, p, seed=draw(st.integers(0, 2**32 - 1)))


small_int_matrices = st.integers(1, 4).flatmap(
    lambda m: st.integers(1, 6).flatmap(
        lambda p: st.lists(
            st.lists(st.integers(-3, 3), min_size=p, max_size=p), min_size=m, max_size=m
        )
    )
)


def brute_force_spark(A: sympy.Matrix) -> int:
    for s in range(1, A.cols + 1):
        for T in itertools.combinations(range(A.cols), s):
            if A.extract(list(range(A.rows)), list(T)).rank() < s:
                return s
    return A.cols + 1


# --------------------------------------------------------------------------------------------
# Spark


@given(exact_planted())
def test_exact_spark_equals_planted_value_with_exact_null_vector(case):
    A, s = case
    r = spark(A)
    assert r.exact and r.decided
    assert r.value == s
    assert r.lower == r.upper == s
    if s == A.cols + 1:
        assert r.subset is None and r.full_column_rank
    else:
        n = sympy.Matrix(r.exact_null_vector)
        assert (A * n).is_zero_matrix
        assert [j for j in range(A.cols) if n[j] != 0] == list(r.subset) and len(r.subset) == s


@given(float_planted())
def test_float_spark_equals_planted_value(case):
    A, s, _ = case
    r = spark(A)
    assert r.decided and not r.exact
    assert r.value == s
    if s <= A.shape[1]:
        n = r.null_vector
        assert np.count_nonzero(n) == s and np.isclose(np.linalg.norm(n), 1.0)
        scale = np.linalg.norm(np.linalg.norm(A, axis=0) * n)
        assert np.linalg.norm(A @ n) <= 10 * r.tolerance * scale
        assert len(r.subset) == s and set(np.flatnonzero(n)) == set(r.subset)


@given(st.integers(1, 6), st.integers(1, 8), st.data())
def test_synthetic_exact_planting_and_dictionaries_have_the_planted_spark(m, p, data):
    options = [s for s in range(1, min(m, p) + 1) if s == 1 or 2 * s - 3 <= m]
    options += [m + 1] if p > m else [p + 1]
    s = data.draw(st.sampled_from(options))
    seed = data.draw(st.integers(0, 2**32 - 1))
    planted = planted_spark_matrix(m, p, s, seed=seed, exact=True)
    assert spark(planted.matrix).value == s
    if planted.circuit is not None:
        assert (
            planted.matrix * sympy.Matrix(planted.null_vector.astype(int).tolist())
        ).is_zero_matrix
    if s >= 2:
        D = concept_dictionary(m, p, seed=seed, spark=s)
        assert np.allclose(np.linalg.norm(D.matrix, axis=0), 1.0)
        assert spark(D.matrix).value == s


@given(small_int_matrices)
def test_exact_and_float_spark_agree_on_integer_matrices(rows):
    A = sympy.Matrix(rows)
    exact = spark(A)
    num = spark(np.array(rows, dtype=float))
    assert exact.value == brute_force_spark(A)
    assert num.decided, "small integer matrices have no singular value in the grey band"
    assert num.value == exact.value
    as_ints = spark(np.array(rows, dtype=np.int64))  # integer arrays are exact by default
    assert as_ints.exact and as_ints.value == exact.value


@given(exact_planted(max_m=4, max_p=6), st.data())
def test_spark_is_invariant_under_column_scaling_and_permutation(case, data):
    A, s = case
    perm = data.draw(st.permutations(range(A.cols)))
    scales = data.draw(
        st.lists(
            st.integers(1, 7).map(sympy.Rational)
            | st.integers(-7, -1).map(lambda x: sympy.Rational(1, x)),
            min_size=A.cols,
            max_size=A.cols,
        )
    )
    B = sympy.Matrix.hstack(*[A[:, j] * c for j, c in zip(perm, scales)])
    assert spark(B).value == s


@given(
    st.integers(1, 6).flatmap(
        lambda m: st.integers(1, 6).flatmap(
            lambda p: st.lists(
                st.lists(st.integers(-40, 40), min_size=p, max_size=p), min_size=m, max_size=m
            )
        )
    )
)
def test_rank_mod_prime_never_overstates_independence(rows):
    """rank mod q == #columns proves rank over Q == #columns (no false 'independent')."""
    X = np.array(rows, dtype=np.int64) % 2_147_483_647
    full_mod = bool(full_column_rank_mod_prime(X[None])[0])
    full_exact = sympy.Matrix(rows).rank() == len(rows[0])
    assert full_mod == full_exact  # entries far below q: no minor vanishes mod q by accident


@given(
    st.integers(1, 6).flatmap(
        lambda s: st.tuples(
            st.just(s),
            st.lists(
                st.sampled_from([1.0, 0.3, 1e-3, 1e-9, 1e-12, 1e-20, 0.0]), min_size=s, max_size=s
            ),
        )
    ),
    st.sampled_from([1e-15, 1e-13, 1e-10]),
)
def test_vectorised_subset_rule_matches_theory_rank(spectrum, tau):
    s, values = spectrum
    sv = np.sort(np.array(values))[::-1]
    sv[0] = 1.0
    dep, und, _ = batch_status(sv[None], s, tau)
    ref = decide_rank_from_singular_values(sv, (s, s), tau)
    assert bool(dep[0]) == (ref.rank < s)
    assert bool(und[0]) == (ref.rank == s and not ref.certified)


def test_float_spark_is_undecided_not_guessed_in_the_grey_band():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 6))
    A[:, 5] = A[:, 0] - A[:, 2] + 1e-10 * rng.standard_normal(4)  # sigma_min ~ 1e-10: grey band
    r = spark(A)
    assert not r.decided and r.value is None
    assert r.lower == 3 and r.ambiguous_subset == (0, 2, 5)
    assert all(r.tolerance < x < math.sqrt(r.tolerance) for x in r.ambiguous_singular_values)
    cert = unique_recovery_certificate(A, 2)
    assert cert.verdict is Verdict.UNDECIDED and cert.reason
    assert tuple(cert.ambiguous) == r.ambiguous_singular_values
    unique = unique_recovery_certificate(A, 1)  # spark >= 3 > 2 is certified
    assert unique.verdict is Verdict.HOLDS and unique.margin == min(3 / 3, r.margin)
    assert spark(A, tol=1e-8).value == 3  # with a looser tolerance the subset is dependent


def test_spark_conventions_and_limits():
    assert spark(np.eye(3)).value == 4 and spark(np.eye(3)).full_column_rank
    assert spark(sympy.eye(3)).value == 4
    assert spark(np.array([[1.0, 0.0, 2.0]])).value == 1  # a zero column
    assert spark(np.ones((2, 3))).value == 2
    big = gaussian_matrix(12, 40, seed=0)
    with pytest.raises(SparkLimitError, match="max_subsets"):
        spark(big)
    r = spark(big, max_size=2)  # the search up to 2 columns fits: certifies spark > 2
    assert r.value is None and r.lower == 3 and r.truncated_at == 2


# --------------------------------------------------------------------------------------------
# T7(a), T7(b)


def _exact_ksparse_solutions(A: sympy.Matrix, y: sympy.Matrix, k: int) -> set[tuple]:
    """Every code x with at most k nonzeros and A x = y, by exhaustive search over supports of size
    min(k, p) (each such T has A_T injective when spark > 2k >= |T|, so the solution on T is
    unique)."""
    sols = set()
    for T in itertools.combinations(range(A.cols), min(k, A.cols)):
        sub = A.extract(list(range(A.rows)), list(T))
        x = (sub.T * sub).LUsolve(sub.T * y)
        if sub * x == y:
            full = [sympy.Integer(0)] * A.cols
            for j, v in zip(T, x):
                full[j] = v
            sols.add(tuple(full))
    return sols


@given(exact_planted(max_m=5, max_p=7), st.data())
def test_spark_above_2k_every_k_sparse_code_is_unique(case, data):
    A, s = case
    injective = s == A.cols + 1
    if not injective and s < 3:  # spark <= 2 leaves no k >= 1 with 2k < spark
        cert = unique_recovery_certificate(A, 1)
        assert cert.verdict is Verdict.VIOLATED and cert.margin == 2 / s  # 2k / spark >= 1
        return
    k = data.draw(st.integers(1, A.cols if injective else min((s - 1) // 2, A.cols)))
    cert = unique_recovery_certificate(A, k)
    assert cert.verdict is Verdict.HOLDS
    assert cert.margin == (math.inf if injective else s / (2 * k + 1))  # spark / (2k + 1) >= 1
    a, _ = data.draw(sparse_codes(A.cols, data.draw(st.integers(1, k)), integer=True))
    y = A * sympy.Matrix(a)
    assert _exact_ksparse_solutions(A, y, k) == {tuple(sympy.Integer(x) for x in a)}
    with pytest.raises(NoSparseTwinError):
        sparse_twins(A, k)


@given(float_planted(), st.data())
def test_spark_at_most_2k_gives_reverified_twins(case, data):
    A, s, _ = case
    p = A.shape[1]
    if s > p:  # full column rank: unique for every k, even 2k >= p + 1 = spark
        cert = unique_recovery_certificate(A, data.draw(st.integers(1, p)))
        # the margin is the full rank decision's (A is injective whatever k)
        assert cert.verdict is Verdict.HOLDS and cert.margin == spark(A).margin >= 1
        with pytest.raises(NoSparseTwinError):
            sparse_twins(A, p)
        return
    k = data.draw(st.integers((s + 1) // 2, p))
    cert = unique_recovery_certificate(A, k)
    assert cert.verdict is Verdict.VIOLATED
    assert cert.margin == min(2 * k / s, ratio_margin(cert.residual_tolerance, cert.residual))
    assert cert.margin >= 1
    a, b = cert.witness["a"], cert.witness["a_prime"]
    assert np.count_nonzero(a) <= k and np.count_nonzero(b) <= k
    assert np.count_nonzero(a) >= 1 and not np.array_equal(a, b)
    assert not np.any((a != 0) & (b != 0))  # disjoint supports S1, S2
    assert np.count_nonzero(a - b) == s  # together they are the circuit's null vector
    assert np.linalg.norm(A @ a - A @ b) <= cert.residual_tolerance * np.linalg.norm(A @ a)


@given(float_planted(), st.data())
def test_the_twin_rerun_rejects_planted_wrong_twins(case, data):
    """The gate of the twin certificates: (n_S1, -n_S2) passes its re-run, the wrong sign
    (n_S1, +n_S2) and a non-sparse pair do not; the margin is >= 1 exactly when it passes."""
    A, s, _ = case
    p = A.shape[1]
    if s > p:
        return
    k = data.draw(st.integers((s + 1) // 2, p))
    a, b = sparse_twins(A, k)
    tol = spark(A).tolerance or None  # 0 for a zero matrix
    good = rerun_twins(A, k, a, b, tol=tol)
    assert good.verified and good.margin >= 1
    wrong_sign = rerun_twins(A, k, a, -b, tol=tol)
    if np.any(b):  # a' = 0 when the circuit is one zero column: then -b == b
        assert not wrong_sign.verified and wrong_sign.margin < 1
    dense = rerun_twins(A, k, a + 1.0, b + 1.0, tol=tol)  # equal behaviour gaps, not k-sparse
    assert not dense.sparse or k == p
    assert not rerun_twins(A, k, a, a, tol=tol).verified  # not distinct
    run = lambda x: A @ x
    assert rerun_twins(A, k, a, b, tol=tol, behaviour=run).verified
    if np.linalg.norm(a - b) > 0:  # the identity map tells the two codes apart
        assert not rerun_twins(A, k, a, b, tol=tol, behaviour=lambda x: x).verified


@given(exact_planted(max_m=5, max_p=7), st.data())
def test_exact_twin_rerun_needs_exact_equality(case, data):
    A, s = case
    if s > A.cols:
        return
    k = data.draw(st.integers((s + 1) // 2, A.cols))
    a, b = sparse_twins(A, k)
    assert rerun_twins(A, k, a, b).verified and rerun_twins(A, k, a, b).residual == 0.0
    live = [j for j in range(A.cols) if any(A[:, j])]  # a nudge there changes A a'
    if not live:
        return
    j = live[0]
    nudged = tuple(x + sympy.Rational(1, 10**12) if i == j else x for i, x in enumerate(b))
    bad = rerun_twins(A, k, a, nudged)
    assert not bad.verified and bad.residual == math.inf and bad.margin == 0.0


def test_a_wrong_behaviour_map_makes_the_twin_certificate_undecided():
    """unique_recovery_certificate's verdict rests on the re-run: with a behaviour map that tells
    the twins apart it must not claim a violation."""
    planted = planted_spark_matrix(4, 7, 3, seed=5)
    A = planted.matrix
    right = unique_recovery_certificate(A, 2, behaviour=lambda a: A @ a)
    assert right.verdict is Verdict.VIOLATED and right.margin >= 1
    wrong = unique_recovery_certificate(A, 2, behaviour=lambda a: a)
    assert wrong.verdict is Verdict.UNDECIDED and "re-run" in wrong.reason
    exact = planted_spark_matrix(4, 7, 3, seed=5, exact=True).matrix
    assert unique_recovery_certificate(exact, 2, behaviour=lambda a: a).verdict is Verdict.UNDECIDED


def test_the_registered_twin_check_fails_with_a_wrong_rerun():
    """numeric_t7_twins holds only because its twins pass the re-run through the logits."""
    cert = numeric_t7_twins(0, run=lambda model: lambda v: v)  # a map that tells v from v'
    assert cert.verdict is Verdict.UNDECIDED


@given(exact_planted(max_m=5, max_p=7), st.data())
def test_exact_twins_have_exactly_equal_behaviour(case, data):
    A, s = case
    if s > A.cols:  # full column rank: no twins at any k
        with pytest.raises(NoSparseTwinError):
            sparse_twins(A, data.draw(st.integers(1, A.cols)))
        return
    k = data.draw(st.integers((s + 1) // 2, A.cols))
    a, b = sparse_twins(A, k)
    va, vb = sympy.Matrix(a), sympy.Matrix(b)
    assert (A * va - A * vb).is_zero_matrix
    assert va != vb and sum(x != 0 for x in a) <= k and sum(x != 0 for x in b) <= k
    cert = unique_recovery_certificate(A, k)
    assert cert.verdict is Verdict.VIOLATED and cert.residual == 0.0 == cert.residual_tolerance


@given(st.integers(3, 8), st.integers(0, 2**32 - 1))
def test_dictionary_circuit_twins_are_two_codes_of_one_steering_vector(p, seed):
    """Phi with a planted circuit of 3 concepts, read by an injective L plus a bias: the twin codes
    differ, but Phi a = Phi a' (the dependency lives in Phi), so they name the same v."""
    d = 5
    planted = concept_dictionary(d, p, seed=seed, spark=3)
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((d + 2, d))
    bias = rng.standard_normal(d + 2)
    run = lambda v: L @ v + bias
    cert = check_t7(L, planted.matrix, 2, behaviour=run)
    assert cert.verdict is Verdict.VIOLATED and spark(L @ planted.matrix).value == 3
    assert cert.d == d
    a, b = cert.witness["a"], cert.witness["a_prime"]
    v, w = cert.witness["v"], cert.witness["v_prime"]
    assert np.linalg.norm(a - b) > 0.1 * np.linalg.norm(a)
    assert np.linalg.norm(v - w) <= 1e-12 * np.linalg.norm(a)
    assert behaviour_residual(run(w), run(v), run(0 * v)) <= 1e-9  # re-run here, independently


@given(st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_readout_kernel_twins_are_different_steering_vectors_with_equal_logits(m, seed):
    """Phi injective (d >= p), L with m < d rows: spark(L Phi) = m + 1, and for 2k >= m + 1 the twin
    codes give different steering vectors v != v' with identical logits L v + b."""
    d, p = 7, 6
    Phi = concept_dictionary(d, p, seed=seed).matrix
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((m, d))
    bias = rng.standard_normal(m)
    k = (m + 2) // 2
    run = lambda v: L @ v + bias
    cert = check_t7(L, Phi, k, behaviour=run)
    assert cert.verdict is Verdict.VIOLATED and spark(L @ Phi).value == m + 1
    v, w = cert.witness["v"], cert.witness["v_prime"]
    assert np.linalg.norm(v - w) > 0.1 * np.linalg.norm(v)
    assert np.linalg.norm(L @ v - L @ w) <= 1e-9 * np.linalg.norm(L @ v)
    assert behaviour_residual(run(w), run(v), run(0 * v)) <= 1e-9
    # the gate: a behaviour map that tells v from v' (the identity) fails the re-run
    wrong = check_t7(L, Phi, k, behaviour=lambda x: x)
    assert wrong.verdict is Verdict.UNDECIDED and wrong.reason
    assert np.array_equal(wrong.witness["v"], v) and wrong.margin < 1


# --------------------------------------------------------------------------------------------
# T7(c): basis pursuit and the null-space property


@given(gaussian(max_m=5, max_p=7, min_m=2), st.integers(1, 2), st.data())
def test_nsp_iff_basis_pursuit_recovers(A, k, data):
    m, p = A.shape
    cert = null_space_property(A, k)
    assert cert.verdict is not Verdict.UNDECIDED
    event(f"NSP {cert.verdict.value}")
    if cert.verdict is Verdict.HOLDS:
        assert cert.margin >= 1
        for _ in range(3):
            a, _ = data.draw(sparse_codes(p, data.draw(st.integers(1, k))))
            assert relative_error(basis_pursuit(A, A @ a).code, a) <= RECOVERY_TOL
    else:
        a, cheaper = cert.witness["code"], cert.witness["cheaper_code"]
        assert 1 <= np.count_nonzero(a) <= k
        assert np.allclose(A @ a, A @ cheaper, atol=1e-10 * np.linalg.norm(A @ a))
        assert np.abs(cheaper).sum() < np.abs(a).sum()
        bp = basis_pursuit(A, A @ a)
        assert relative_error(bp.code, a) > RECOVERY_TOL
        assert bp.l1 < np.abs(a).sum() - 1e-9


@given(gaussian(max_m=4, max_p=6, min_m=2), st.integers(1, 2))
def test_nsp_equals_exhaustive_recovery_over_supports_and_signs(A, k):
    """BP recovery of a depends only on (support, signs): one code per pattern is exhaustive."""
    p = A.shape[1]
    cert = null_space_property(A, k)
    recovered_all = True
    for S in itertools.combinations(range(p), k):
        for signs in itertools.product((1.0, -1.0), repeat=k):
            a = np.zeros(p)
            a[list(S)] = signs
            recovered_all &= relative_error(basis_pursuit(A, A @ a).code, a) <= RECOVERY_TOL
    event(f"NSP {cert.verdict.value}")
    assert (cert.verdict is Verdict.HOLDS) == recovered_all


@given(gaussian(max_m=4, max_p=5, min_m=1), st.integers(1, 2))
def test_nsp_circuit_and_lp_methods_agree(A, k):
    k = min(k, A.shape[1])
    by_circuits = null_space_property(A, k)
    by_lp = null_space_property(A, k, method="lp", decision_tol=1e-6)
    event(f"NSP {by_circuits.verdict.value}")
    w1, w2 = by_circuits.details["worst_ratio"], by_lp.details["worst_ratio"]
    assert (math.isinf(w1) and math.isinf(w2)) or abs(w1 - w2) <= 1e-6 * max(1.0, w1)
    assert by_circuits.verdict == by_lp.verdict or abs(w1 - 1) <= 1e-6


@given(gaussian(max_m=5, max_p=7, min_m=1), st.integers(1, 3))
def test_nsp_implies_spark_above_2k(A, k):
    k = min(k, A.shape[1])
    if null_space_property(A, k).verdict is Verdict.HOLDS:
        assert spark(A).value > 2 * k


def test_nsp_of_injective_matrix_holds_trivially_and_low_spark_fails():
    cert = null_space_property(np.eye(3), 2)
    assert cert.verdict is Verdict.HOLDS and cert.details["worst_ratio"] == 0.0
    A = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # columns 0 and 1 equal: n = e0 - e1
    cert = null_space_property(A, 1)  # n = (1, -1, 0): |n_S|_1 = |n_Sc|_1, a tie is never guessed
    assert cert.verdict is Verdict.UNDECIDED and cert.details["worst_ratio"] == pytest.approx(1.0)
    cert = null_space_property(A, 2)  # |n_S|_1 with S = {0, 1} is everything: ratio infinite
    assert cert.verdict is Verdict.VIOLATED and cert.details["worst_ratio"] == math.inf
    assert cert.margin >= 1 and cert.residual <= cert.residual_tolerance  # n re-run: in ker A


@given(st.integers(8, 16), st.integers(0, 2**32 - 1))
def test_bp_recovery_certificate_agrees_with_the_lp(p, seed):
    m = p // 2
    A = gaussian_matrix(m, p, seed=seed)
    k = 1 + seed % max(1, m // 2)
    a = sparse_code(p, k, seed=seed)
    cert = bp_recovery_certificate(A, a)
    err = relative_error(basis_pursuit(A, A @ a).code, a)
    event(f"recovery {cert.verdict.value}")
    if cert.verdict is Verdict.HOLDS:
        assert err <= RECOVERY_TOL and cert.margin >= 1 and cert.residual == err
        w, S = cert.witness["dual_vector"], np.flatnonzero(a)
        assert np.allclose(A[:, S].T @ w, np.sign(a[S]), atol=1e-9)
        assert np.max(np.abs(np.delete(A, S, axis=1).T @ w)) < 1 - cert.tolerance
    elif cert.verdict is Verdict.VIOLATED:
        assert err > RECOVERY_TOL and cert.margin >= 1
        x = cert.witness["recovered"]
        assert np.abs(x).sum() <= np.abs(a).sum() * (1 + 1e-9)
        assert np.linalg.norm(A @ x - A @ a) <= 1e-9 * np.linalg.norm(A @ a)


@given(st.integers(8, 14), st.integers(0, 2**32 - 1))
def test_bp_certificate_reruns_a_planted_dual_vector(p, seed):
    """The dual vector is re-run: the LP's passes, one off the constraints A_S^T w = sign(a_S)
    makes the certificate undecided, one with |A_Sc^T w|_inf >= 1 cannot prove uniqueness."""
    A = gaussian_matrix(p // 2, p, seed=seed)
    a = sparse_code(p, 1, seed=seed)
    t, w, injective = dual_certificate(A, a)
    t_rerun, eq = verify_dual(A, a, w)
    assert t_rerun == t and eq <= 1e-9 and injective
    cert = bp_recovery_certificate(A, a)
    event(f"recovery {cert.verdict.value}")
    if cert.verdict is not Verdict.HOLDS:
        return
    assert bp_recovery_certificate(A, a, dual_vector=w).verdict is Verdict.HOLDS
    S = np.flatnonzero(a)
    off = w + 1e-3 * A[:, S[0]] / np.linalg.norm(A[:, S[0]]) ** 2  # A_S^T w moves by 1e-3
    bad = bp_recovery_certificate(A, a, dual_vector=off)
    assert bad.verdict is Verdict.UNDECIDED and "re-run" in bad.reason
    big = bp_recovery_certificate(A, a, dual_vector=10 * w)  # feasible only if sign * 10 = sign
    assert big.verdict is Verdict.UNDECIDED


def test_nsp_certificate_reruns_its_kernel_vector():
    """A planted kernel vector is re-run: one outside ker A, or with another ratio than the
    reported worst one, makes the NSP verdict undecided."""
    for m, k in ((3, 2), (6, 1)):
        A = gaussian_matrix(m, 8, seed=m)
        search = nsp_by_circuits(A, k, None, 1 << 12)
        cert = nsp_certificate(A, k, search, 1e-9, {})
        assert cert.verdict is not Verdict.UNDECIDED and cert.margin >= 1
        assert cert.residual <= cert.residual_tolerance
        outside = search.vector + 1e-3 * np.random.default_rng(m).standard_normal(8)
        wrong = nsp_certificate(A, k, dataclasses.replace(search, vector=outside), 1e-9, {})
        assert wrong.verdict is Verdict.UNDECIDED and wrong.margin < 1
        lied = dataclasses.replace(search, worst=search.worst * 1.5)
        assert nsp_certificate(A, k, lied, 1e-9, {}).verdict is Verdict.UNDECIDED


def test_basis_pursuit_infeasible_and_zero():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(InfeasibleError):
        basis_pursuit(A, [1.0, 0.0])
    assert np.all(basis_pursuit(A, [0.0, 0.0]).code == 0)
    r = basis_pursuit(A, [2.0, 4.0])  # a = (0, 1) has l1 1 < |(2, 0)|_1
    assert r.code == pytest.approx([0.0, 1.0]) and r.l1 == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# Phase transition and the Donoho-Tanner reference


def test_phase_transition_is_seeded_and_cellwise_independent():
    full = phase_transition(20, [0.5, 0.8], [0.2, 0.5, 0.9], trials=3, seed=7)
    again = phase_transition(20, [0.5, 0.8], [0.2, 0.5, 0.9], trials=3, seed=7)
    part = phase_transition(20, [0.5], [0.2, 0.5], trials=3, seed=7)
    assert np.array_equal(full.success, again.success)
    assert np.array_equal(full.success[:1, :2], part.success)
    assert full.k.tolist() == [[2, 5, 9], [3, 8, 14]]
    assert np.all((full.success >= 0) & (full.success <= 1))
    assert full.success[1, 0] == 1.0 and full.success[0, 2] == 0.0  # far from the transition


@given(st.lists(st.floats(0.01, 0.99), min_size=2, max_size=8, unique=True), st.data())
def test_crossing_rho_interpolates_the_first_drop_below_half(rhos, data):
    r = np.sort(np.array(rhos))
    j = data.draw(st.integers(1, len(r) - 1))
    above = data.draw(st.lists(st.floats(0.5, 1.0), min_size=j, max_size=j))
    below = data.draw(st.lists(st.floats(0.0, 0.49), min_size=len(r) - j, max_size=len(r) - j))
    s = np.array(above + below)
    x = crossing_rho(r, s)
    assert r[j - 1] <= x <= r[j]
    expected = r[j - 1] + (s[j - 1] - 0.5) / (s[j - 1] - s[j]) * (r[j] - r[j - 1])
    assert x == pytest.approx(expected)
    assert math.isnan(crossing_rho(r, np.full(len(r), 0.9)))


def test_weak_threshold_table_matches_two_independent_formulas():
    for delta, rho in WEAK_THRESHOLD_TABLE.items():
        assert weak_threshold(delta) == pytest.approx(rho, abs=5e-7)
        assert statistical_dimension_threshold(delta) == pytest.approx(
            weak_threshold(delta), abs=1e-9
        )
    values = [WEAK_THRESHOLD_TABLE[d] for d in sorted(WEAK_THRESHOLD_TABLE)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert 0.3856 < weak_threshold(0.5) < 0.3858


# --------------------------------------------------------------------------------------------
# Certificates, the registry, bad input


def test_certificates_round_trip_through_json():
    planted = planted_spark_matrix(4, 7, 3, seed=1, exact=True)
    A = gaussian_matrix(4, 8, seed=2)
    for cert in (
        unique_recovery_certificate(planted.matrix, 2),
        unique_recovery_certificate(A, 2),
        unique_recovery_certificate(np.eye(3), 2),
        null_space_property(A, 2),
        null_space_property(A, 4),
        bp_recovery_certificate(A, sparse_code(8, 1, seed=3)),
    ):
        assert Certificate.from_json(cert.to_json()) == cert
        assert cert.theorem == "T7"


def test_registered_t7_checks_hold():
    from proofs_check.registry import load_all

    checks = [c for c in load_all() if c.theorem == "T7"]
    assert {c.kind for c in checks} == {"exact", "numeric"} and len(checks) >= 5
    for c in checks:
        cert = c.run(0)
        assert cert.verdict is Verdict.HOLDS, (c.name, cert.details)


BAD = [
    (spark, (np.ones(3),), "A"),
    (spark, (np.ones((2, 0)),), "A"),
    (spark, (np.array([[1.0, np.nan]]),), "A"),
    (spark, (np.array([[1.0, np.inf]]),), "A"),
    (spark, ([["a", "b"]],), "A"),
    (spark, (np.ones((2, 2, 2)),), "A"),
    (spark, (sympy.Matrix([[1, sympy.sqrt(2)]]),), "A"),
    (spark, (np.ones((2, 3)),), "max_subsets"),  # passed below as max_subsets=0
    (spark, (np.ones((2, 3)), None, None, 100, "yes"), "exact"),
    (spark, (sympy.Matrix([[1, 2]]), 1e-3), "tol"),
    (unique_recovery_certificate, (np.ones((2, 3)), 0), "k"),
    (unique_recovery_certificate, (np.ones((2, 3)), 4), "k"),
    (unique_recovery_certificate, (np.ones((2, 3)), 1.5), "k"),
    (unique_recovery_certificate, (np.ones((2, 3)), True), "k"),
    (unique_recovery_certificate, (np.array([[np.nan, 1.0]]), 1), "A"),
    (
        unique_recovery_certificate,
        (gaussian_matrix(14, 40, seed=1), 7),
        "A",
    ),  # too large for exact spark
    (null_space_property, (np.ones((2, 3)), 0), "k"),
    (null_space_property, (np.ones((2, 3)), 5), "k"),
    (null_space_property, (np.ones(3), 1), "A"),
    (basis_pursuit, (np.ones((2, 3)), np.ones(3)), "y"),
    (basis_pursuit, (np.ones((2, 3)), [np.nan, 1.0]), "y"),
    (basis_pursuit, (np.ones((2, 3)), np.ones((2, 1))), "y"),
    (bp_recovery_certificate, (np.ones((2, 3)), np.ones(2)), "a"),
    (check_t7, (np.ones((2, 3)), np.ones((4, 5)), 1), "Phi"),
    (phase_transition, (20, [0.5], [1.5], 2), "rhos"),
    (phase_transition, (20, [0.0], [0.5], 2), "deltas"),
    (phase_transition, (20, [0.5], [0.01], 2), "rhos"),
    (phase_transition, (20, [0.5], [0.5], 0), "trials"),
    (phase_transition, (1, [0.5], [0.5], 2), "p"),
    (spark, (np.ones((2, 3)), None, 0), "max_size"),
    (spark, (np.ones((2, 3)), None, 1.0), "max_size"),
    (spark, (np.ones((2, 3)), -1e-3), "tol"),
    (sparse_twins, (np.ones((2, 3)), 2.0), "k"),
    (null_space_property, (np.ones((2, 3)), 1, "circuits", None, 0.0), "decision_tol"),
    (null_space_property, (np.ones((2, 3)), 1, "circuits", None, 1e-9, 100, -1), "max_lps"),
    (bp_recovery_certificate, (np.ones((2, 3)), np.ones(3), float("nan")), "decision_tol"),
    (bp_recovery_certificate, (np.ones((2, 3)), np.ones(3), 1e-7, np.ones(3)), "dual_vector"),
    (phase_transition, (20, [0.5], [0.5], 2, -1), "seed"),
    (phase_transition, (20, [0.5], [0.5], True), "trials"),
    (crossing_rho, ([0.1, 0.2], [1.0, 0.0], 1.5), "level"),
    (crossing_rho, ([0.1, 0.2], [1.0]), "success"),
    (weak_threshold, (True,), "delta"),
    (weak_threshold, (1.0,), "delta"),
    (statistical_dimension_threshold, (float("nan"),), "delta"),
    (split_null_vector, (np.ones(3), (0, 1), 0), "k"),
    (split_null_vector, (np.ones(3), (0, 3), 1), "subset"),
    (rerun_twins, (np.ones((2, 3)), 1, np.ones(2), np.ones(3)), "a"),
    (sparse_code, (5, 2, 0, None, None, 0.0), "low"),
    (sparse_code, (5, 2, 0, [0, 0]), "support"),
    (sparse_code, (5, 2, 0, None, [1, 2]), "signs"),
    (gaussian_matrix, (0, 3), "m"),
    (gaussian_matrix, (2, 3, -1), "seed"),
    (planted_spark_matrix, (3, 4, 2, 0, 1), "exact"),
    (concept_dictionary, (3, 4, 0, 2.0), "spark"),
    (sparse_code, (5, 6), "k"),
    (planted_spark_matrix, (3, 6, 5), "spark"),
    (random_support, (3, 4), "k"),
]


@pytest.mark.parametrize(
    "fn,args,name", BAD, ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD)]
)
def test_bad_input_raises_value_error_naming_the_argument(fn, args, name):
    kwargs = {"max_subsets": 0} if name == "max_subsets" else {}
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        fn(*args, **kwargs)


def test_nsp_rejects_too_large_problems_before_work():
    with pytest.raises(ValueError, match="max_subsets"):
        null_space_property(gaussian_matrix(10, 30, seed=0), 2)
    with pytest.raises(ValueError, match="max_lps"):
        null_space_property(gaussian_matrix(10, 30, seed=0), 4, method="lp")
    with pytest.raises(ValueError, match="method"):
        null_space_property(np.ones((2, 3)), 1, method="simplex")


def test_circuit_enumeration_finds_vertices_of_the_kernel_polytope():
    """Every normalised circuit vector is in ker A with |n|_1 = 1; the worst ratio is attained."""
    A = gaussian_matrix(3, 6, seed=11)
    search = nsp_by_circuits(A, 2, None, 1 << 12)
    n = search.vector
    assert search.reason == "" and search.count == sum(math.comb(6, s) for s in range(1, 5))
    assert np.linalg.norm(A @ n) <= 1e-12 and np.abs(n).sum() == pytest.approx(1.0)
    top = np.sort(np.abs(n))[::-1]
    assert search.worst == pytest.approx(top[:2].sum() / top[2:].sum())
