"""Claims of basis pursuit, the phase transition, the spark search and a few linear-theory helpers
(T1, T7, T8), stated so that a wrong operator, comparison or constant in ``theory/`` breaks one.

Each test states one claim from a docstring or from docs/theorems.md and checks it against an
independent computation or a hand-built boundary case: the strict dual-certificate threshold of
basis pursuit (T7(c)), the exact-k success rate of the phase transition against the Fuchs
condition, the chunking and the default budget of the spark enumeration, the float spark's margin
rule and its zero-subset full-rank answer, a twin re-run's margin without a behaviour map, the
1e-12 orthogonality tolerance of a Gaussian-block rotation (T8), the 1e4 column-spread threshold of
the rank decision, the distance of T1's member from v, and the string contract of the class report.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory.bp_recovery import bp_recovery_certificate
from theory.certificate import Verdict
from theory.class_report import class_certificate
from theory.linear import equivalence_class
from theory.linear_checks import check_t1
from theory.phase_transition import phase_transition
from theory.rotations import embed_block_rotation
from theory.spark_base import SparkLimitError, combinations
from theory.spark_float import batch_status
from theory.spark_search import spark
from theory.spark_twins import TwinRerun
from theory.validation import InputError

from .strategies import ranked_matrices, split_vectors

# ---------------------------------------------------------------------------------------------
# T7(c): basis pursuit and the phase transition


def test_dual_sup_norm_exactly_at_one_minus_decision_tol_is_not_a_proof():
    """bp_recovery_certificate: holds needs t < 1 - decision_tol strictly; t on that edge is
    undecided, t below it holds."""
    # a = e_1 is the unique l1 minimiser of A x = e_1 (|1 - s/2| + |s/2| + |s| > 1 for s != 0);
    # w = (1, 0) has A_S^T w = 1 = sign(a_1) exactly and t = |A_{S^c}^T w|_inf = 0.5 exactly
    A = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    a = np.array([1.0, 0.0, 0.0])
    w = np.array([1.0, 0.0])
    on_edge = bp_recovery_certificate(A, a, decision_tol=0.5, dual_vector=w)
    assert on_edge.details["dual_sup_norm"] == 0.5
    assert on_edge.details["dual_equality_residual"] == 0.0
    assert on_edge.verdict is Verdict.UNDECIDED
    below = bp_recovery_certificate(A, a, decision_tol=0.25, dual_vector=w)
    assert below.verdict is Verdict.HOLDS


def _fuchs_success_probability(p: int, m: int, trials: int, seed: int) -> float:
    """P(a with m nonzeros is the unique l1 minimiser) for Gaussian (m, p) A, by the dual
    certificate: A_S square, w = A_S^{-T} sign(a_S), success iff |A_{S^c}^T w|_inf < 1. The support
    and the signs may be fixed (iid Gaussian columns are exchangeable and sign-symmetric)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((trials, m, p))
    AS, ASc = A[:, :, :m], A[:, :, m:]
    w = np.linalg.solve(np.transpose(AS, (0, 2, 1)), np.ones((trials, m, 1)))
    t = np.abs(np.transpose(ASc, (0, 2, 1)) @ w).max(axis=(1, 2))
    return float(np.mean(t < 1))


def test_phase_transition_success_rate_is_that_of_exactly_k_sparse_codes():
    """phase_transition: a cell's success rate is a binomial sample of P(basis pursuit recovers a
    code with exactly k = round(rho m) nonzeros), here k = m = 4 of p = 8 (Fuchs's condition)."""
    p, trials = 8, 400
    result = phase_transition(p, [0.5], [1.0], trials=trials, seed=3)
    assert int(result.m_rows[0]) == 4 and int(result.k[0, 0]) == 4
    expected = _fuchs_success_probability(p, 4, 200_000, seed=11)
    wins = round(float(result.success[0, 0]) * trials)
    assert scipy.stats.binomtest(wins, trials, expected).pvalue > 1e-3


# ---------------------------------------------------------------------------------------------
# T7(a)/(b): the spark search


def test_combinations_yields_every_subset_in_order_in_chunks_of_at_most_16384():
    """combinations(p, s): all C(p, s) s-subsets in lexicographic order, as index arrays of at
    most 16384 rows each."""
    p, s = 22, 5  # C(22, 5) = 26334 > 16384: at least two chunks
    chunks = list(combinations(p, s))
    assert len(chunks) >= 2
    assert all(c.ndim == 2 and c.shape[1] == s and 1 <= c.shape[0] <= 16384 for c in chunks)
    rows = [tuple(int(x) for x in r) for c in chunks for r in c]
    assert rows == list(itertools.combinations(range(p), s))
    assert len(rows) == math.comb(p, s)


def test_default_budget_refuses_a_search_over_more_than_two_to_the_17_subsets():
    """spark: by default a search that may examine more than 2^17 column subsets is refused with
    SparkLimitError before any work (9 x 18 of rank 9: sum_{s<=9} C(18, s) = 155381 > 2^17)."""
    need = sum(math.comb(18, s) for s in range(1, 10))
    assert 2**17 < need < 2**18
    A = np.random.default_rng(0).standard_normal((9, 18))
    with pytest.raises(SparkLimitError, match="155381"):
        spark(A)


def test_float_spark_of_full_column_rank_examines_no_subset():
    """spark (float): a certified full column rank gives spark p + 1 read off one rank
    computation, with subsets_checked = 0."""
    A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    res = spark(A)
    assert res.value == 3 and res.full_column_rank
    assert res.subsets_checked == 0


@st.composite
def _spectra(draw):
    """(sv, s, tau): n rows of s decreasing positive singular values and a positive tau."""
    n, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    vals = st.floats(1e-6, 10.0, allow_nan=False)
    rows = draw(st.lists(st.lists(vals, min_size=s, max_size=s), min_size=n, max_size=n))
    sv = -np.sort(-np.asarray(rows, dtype=float), axis=1)
    return sv, s, draw(st.floats(1e-8, 1.0))


@settings(max_examples=30)
@given(_spectra())
def test_batch_status_applies_the_rank_rule_per_subset(case):
    """batch_status: dependent iff fewer than s values exceed tau; undecided iff not dependent
    and a value above tau lies below sqrt(tau sigma_1); margin = sigma_min / sqrt(tau sigma_1)."""
    sv, s, tau = case
    dep, und, mar = batch_status(sv, s, tau)
    for i, row in enumerate(sv):
        band_top = math.sqrt(tau * row[0])
        dependent = int(np.sum(row > tau)) < s
        assert bool(dep[i]) == dependent
        assert bool(und[i]) == (not dependent and any(tau < x < band_top for x in row))
        assert mar[i] == pytest.approx(row[-1] / band_top, rel=1e-12)


def test_twin_rerun_margin_is_the_smallest_tolerance_over_residual():
    """TwinRerun.margin = min(tolerance / residual, behaviour_tolerance / behaviour_residual),
    the second only when a behaviour map was re-run; >= 1 iff verified."""
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    common = dict(distinct=True, sparse=True, residual=1e-12, tolerance=1e-10, a=a, a_prime=b)
    alone = TwinRerun(**common, behaviour_residual=None, behaviour_tolerance=None)
    assert alone.verified and alone.margin == pytest.approx(1e-10 / 1e-12, rel=1e-12)
    both = TwinRerun(**common, behaviour_residual=1e-9, behaviour_tolerance=4e-9)
    assert both.verified and both.margin == pytest.approx(4.0, rel=1e-12)
    failing = TwinRerun(**common, behaviour_residual=1e-8, behaviour_tolerance=4e-9)
    assert not failing.verified and failing.margin == pytest.approx(0.4, rel=1e-12)


def test_twin_rerun_refuses_a_behaviour_residual_without_its_tolerance():
    """A behaviour residual and its tolerance come together or not at all: one without the other
    would make ``verified`` and ``margin >= 1`` disagree."""
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    common = dict(distinct=True, sparse=True, residual=1e-12, tolerance=1e-10, a=a, a_prime=b)
    for res, tol in ((0.5, None), (None, 1e-9)):
        with pytest.raises(InputError, match="behaviour_residual and behaviour_tolerance"):
            TwinRerun(**common, behaviour_residual=res, behaviour_tolerance=tol)


# ---------------------------------------------------------------------------------------------
# T8: rotations of the Gaussian block


def test_block_orthogonality_is_checked_to_1e_minus_12_inclusive():
    """embed_block_rotation: a float block with |Q^T Q - I|_max = 1e-12 exactly passes the
    documented 1e-12 check; 2e-12 is refused."""
    # Q^T Q = [[1, e], [e, 1 + e^2]] and 1 + e^2 rounds to 1, so the deviation is e exactly
    Q = np.array([[1.0, 1e-12], [0.0, 1.0]])
    assert np.max(np.abs(Q.T @ Q - np.eye(2))) == 1e-12
    R = embed_block_rotation([True, False, True], Q)
    assert np.array_equal(R[np.ix_([0, 2], [0, 2])], Q) and R[1, 1] == 1.0
    with pytest.raises(InputError, match="orthogonal"):
        embed_block_rotation([True, False, True], np.array([[1.0, 2e-12], [0.0, 1.0]]))


# ---------------------------------------------------------------------------------------------
# T1 and the rank decision


def test_column_norms_spread_by_more_than_1e4_are_re_decided_column_equilibrated():
    """A readout whose column norms spread by more than 1e4 (here 1.5e4) gets its rank decided
    again column-equilibrated: [[1.5e4, 1], [0, 1e-13]] is rank 1 normwise and 2 balanced, so
    undecided; a spread of exactly 1e4 keeps the normwise decision."""
    v = np.array([1.0, 1.0])
    at_edge = equivalence_class(np.array([[1e4, 1.0], [0.0, 1e-13]]), v)
    assert at_edge.certified and at_edge.rank == 1
    spread = np.array([[1.5e4, 1.0], [0.0, 1e-13]])
    norms = np.linalg.norm(spread, axis=0)
    assert norms.max() / norms.min() == pytest.approx(1.5e4)
    # independent: the two decisions, normwise (s_2 / s_1 ~ 7e-18 < eps) and balanced (~5e-14)
    s = np.linalg.svd(spread, compute_uv=False)
    sb = np.linalg.svd(spread / norms, compute_uv=False)
    assert s[1] / s[0] < 2 * np.finfo(float).eps < sb[1] / sb[0]
    assert not equivalence_class(spread, v).certified


@settings(max_examples=20)
@given(st.data())
def test_t1_member_lies_at_distance_norm_v_from_v(data):
    """check_t1: the member re-run is in v + ker L at distance |v| from v (1 when v = 0)."""
    M = data.draw(ranked_matrices(max_dim=5, full_rank=False))
    v = data.draw(split_vectors(M))
    cert = check_t1(M.L, v)
    assume("member" in cert.witness)
    step = cert.witness["member"] - v
    nv = float(np.linalg.norm(v))
    expected = nv if nv > 0 else 1.0
    assert np.linalg.norm(step) == pytest.approx(expected, rel=1e-9)
    # the step lies in ker L: no component along the row space
    assert np.linalg.norm(M.row_space.T @ step) <= 1e-9 * expected


def test_class_certificate_refuses_a_non_string_claim_or_theorem():
    """class_certificate: theorem and claim must both be strings; either one not a string is
    refused with InputError."""
    L, v = np.array([[1.0, 0.0]]), np.array([1.0, 1.0])
    with pytest.raises(InputError, match="strings"):
        class_certificate(L, v, theorem="T1", claim=42)
    with pytest.raises(InputError, match="strings"):
        class_certificate(L, v, theorem=7, claim="a claim")
    assert class_certificate(L, v).verdict is Verdict.HOLDS
