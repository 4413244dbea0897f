"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, D):

- The exact spark is exact for rationals of any size: ``[[1, 1], [N, N + 1]]`` with
  ``N = 2**60`` has determinant 1, so spark 3, and scaling its columns by ``1 / N`` and
  ``1 / (N + 1)`` keeps spark 3; entries beyond 2**53 are never rounded to float64 (which would
  merge the two columns into one and report spark 2).
- An exact matrix of full column rank has spark p + 1 read off its rank alone: no column subset is
  examined (``subsets_checked == 0``), as in float mode, with no circuit and no null vector.
- ``batch_status`` applies ``theory.rank``'s rule: an all-zero spectrum (sigma_1 = 0) has an empty
  grey band and nothing near either edge, so its margin is inf (as ``theory.rank`` reports), never
  NaN; a positive spectrum has margin sigma_min / sqrt(tau sigma_1).
- ``rerun_twins`` (float) holds a twin to ``max(1e-10, 10 tau |D (a - a')| / |A a|)``: when the
  second term is far below 1e-10 the tolerance is exactly 1e-10, and a residual of 1.5e-10 fails.
- A T7 *holds* certificate whose spark is decided (spark(A) = rank + 1 > 2k) carries the circuit's
  null vector as its witness (``A n = 0`` on spark(A) columns); one whose search was truncated at
  2k found no circuit, and its witness holds no array (nothing that is not a finite number).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import sympy

from theory.certificate import Verdict
from theory.rank import decide_rank_from_singular_values
from theory.spark import rerun_twins, spark, unique_recovery_certificate
from theory.spark_float import batch_status


def _brute_force_spark(A: sympy.Matrix) -> int:
    """min |T| over dependent column subsets T, by exact rank of every subset (p + 1 if none)."""
    p = A.cols
    for s in range(1, p + 1):
        for T in combinations(range(p), s):
            if A.extract(list(range(A.rows)), list(T)).rank() < s:
                return s
    return p + 1


# ---------------------------------------------------------------------------------------------
# exact spark: big rationals, full column rank


def test_exact_spark_does_not_round_entries_beyond_2_pow_53():
    """det [[1, 1], [N, N + 1]] = 1 for N = 2**60: the columns are independent (spark 3), although
    N and N + 1 are the same float64."""
    N = 2**60
    assert float(N) == float(N + 1)  # float64 cannot tell the entries apart
    A = sympy.Matrix([[1, 1], [N, N + 1]])
    assert A.det() == 1
    assert _brute_force_spark(A) == 3
    res = spark(A)
    assert res.exact and res.value == 3 and res.full_column_rank


def test_exact_spark_of_big_rational_columns_is_their_integer_spark():
    """Column scaling keeps the spark: ``[[1/N, 1/(N+1)], [1, 1]]`` is ``[[1, 1], [N, N + 1]]``
    with columns scaled by 1/N and 1/(N+1), spark 3; a third column equal to the first gives a
    circuit of size 2 whose exact null vector is (1, 0, -1) up to sign."""
    N = 2**60
    q = sympy.Rational
    A = sympy.Matrix([[q(1, N), q(1, N + 1)], [1, 1]])
    assert _brute_force_spark(A) == 3
    assert spark(A).value == 3
    B = sympy.Matrix([[q(1, N), q(1, N + 1), q(1, N)], [1, 1, 1]])
    assert _brute_force_spark(B) == 2
    res = spark(B)
    assert res.value == 2 and res.subset == (0, 2)
    n = sympy.Matrix(res.exact_null_vector)
    assert (B * n).is_zero_matrix
    assert tuple(abs(x) for x in n) == (1, 0, 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_full_column_rank_examines_no_subset(seed):
    """Full column rank (rank A = p) gives spark p + 1 from one exact rank computation: no column
    subset is examined, no circuit, no null vector (the same count as float mode)."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(-5, 6, size=(5, 3))
    A = sympy.Matrix(ints.tolist())
    assert A.rank() == 3 and _brute_force_spark(A) == 4
    res = spark(A)
    assert res.exact and res.value == 4 and res.full_column_rank
    assert res.subsets_checked == 0
    assert res.subset is None and res.null_vector is None and res.exact_null_vector is None
    flt = spark(ints.astype(np.float64))
    assert flt.value == 4 and flt.subsets_checked == res.subsets_checked


# ---------------------------------------------------------------------------------------------
# batch_status: the margin of a zero spectrum


@pytest.mark.parametrize("tau", [1e-12, 1e-3])
def test_batch_status_zero_spectrum_has_infinite_margin_like_theory_rank(tau):
    """sigma = (0, 0): rank 0 < 2, dependent, not undecided; the grey band (tau, sqrt(tau * 0)) is
    empty and nothing sits near an edge, so the margin is inf, as theory.rank says; never NaN."""
    sv = np.zeros((1, 2))
    dep, und, mar = batch_status(sv, 2, tau)
    assert bool(dep[0]) and not bool(und[0])
    assert not np.isnan(mar[0])
    assert mar[0] == math.inf
    ref = decide_rank_from_singular_values(sv[0], (2, 2))
    assert ref.rank == 0 and ref.margin == math.inf


def test_batch_status_margin_mixes_zero_and_positive_spectra():
    """Rows are independent: a zero row's margin inf does not leak into a positive row, whose
    margin is sigma_min / sqrt(tau sigma_1)."""
    tau = 1e-8
    sv = np.array([[0.0, 0.0], [2.0, 0.5]])
    dep, und, mar = batch_status(sv, 2, tau)
    assert list(dep) == [True, False] and list(und) == [False, False]
    assert mar[0] == math.inf
    assert mar[1] == pytest.approx(0.5 / math.sqrt(tau * 2.0), rel=1e-15)


# ---------------------------------------------------------------------------------------------
# rerun_twins: the 1e-10 floor of the float tolerance


def test_rerun_twins_float_tolerance_floor_is_1e_10():
    """A = [1, 1], a = e_1, a' = e_2: A a = A a' = 1 exactly; 10 tau |D(a - a')| / |A a| =
    10 * 2 eps * sqrt(2) ~ 6e-15 < 1e-10, so the tolerance is exactly the floor 1e-10."""
    A = np.array([[1.0, 1.0]])
    run = rerun_twins(A, 1, np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert run.residual == 0.0 and run.verified
    assert run.tolerance == 1e-10


def test_rerun_twins_residual_above_the_floor_fails():
    """A = [1, 1 + 1.5e-10], a = e_1, a' = e_2: residual 1.5e-10 / 1 exceeds the 1e-10 floor (the
    scaled term is ~6e-15), so the pair is not verified; 0.5e-10 passes."""
    for gap, ok in ((1.5e-10, False), (0.5e-10, True)):
        A = np.array([[1.0, 1.0 + gap]])
        run = rerun_twins(A, 1, np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        assert run.tolerance == 1e-10
        assert run.residual == pytest.approx(gap, rel=1e-6)
        assert run.verified is ok


# ---------------------------------------------------------------------------------------------
# T7 holds: the circuit witness


def test_t7_holds_with_decided_spark_carries_the_circuit_null_vector():
    """A generic 2 x 3 matrix has spark 3 = rank + 1 > 2k for k = 1: T7 holds, and the witness is
    the circuit's null vector, A n = 0 with all three entries nonzero."""
    A = np.random.default_rng(4).standard_normal((2, 3))
    cert = unique_recovery_certificate(A, 1)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["spark"] == 3
    n = cert.witness["circuit_null_vector"]
    assert n.shape == (3,) and np.count_nonzero(n) == 3
    assert np.linalg.norm(A @ n) <= 1e-12 * np.linalg.norm(n)


def test_t7_holds_exact_carries_the_circuit_null_vector():
    """Exact: [[1, 0, 1], [0, 1, 1]] has spark 3 > 2 (k = 1); the witness (1, 1, -1) up to sign is
    in its kernel."""
    A = sympy.Matrix([[1, 0, 1], [0, 1, 1]])
    assert _brute_force_spark(A) == 3
    cert = unique_recovery_certificate(A, 1)
    assert cert.verdict is Verdict.HOLDS
    n = cert.witness["circuit_null_vector"]
    assert np.array_equal(np.abs(n), [1.0, 1.0, 1.0])
    assert np.array_equal(np.array(A.tolist(), dtype=float) @ n, [0.0, 0.0])


def test_t7_holds_after_truncated_search_has_no_circuit_witness():
    """3 x 6 generic, k = 1, max_subsets = 30: the full search (6 + 15 + 20 = 41 subsets) is over
    budget, the search up to 2k = 2 (21 subsets) certifies spark > 2 without any circuit, so the
    witness holds no array: every witness entry would be a finite number, and there is none."""
    A = np.random.default_rng(5).standard_normal((3, 6))
    assert sum(math.comb(6, s) for s in (1, 2, 3)) > 30 >= sum(math.comb(6, s) for s in (1, 2))
    cert = unique_recovery_certificate(A, 1, max_subsets=30)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["spark"] is None and cert.details["spark_lower_bound"] == 3
    assert dict(cert.witness) == {}
