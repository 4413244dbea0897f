"""Contracts every result of ``theory`` keeps: results are immutable records, margins invert
exactly, the separation and ratio rules of a behaviour comparison at their edges, and the entry
bound of the validators (1e150, stated in ``as_float_array``'s docstring)."""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory.gates import inverse
from theory.residual import BehaviourComparison
from theory.validation import InputError, as_float_array


def _theory_dataclasses() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(theory.__path__):
        module = importlib.import_module(f"theory.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == module.__name__
            ):
                found.append(obj)
    return found


def test_every_result_record_of_theory_is_frozen():
    """A certificate, a rank decision, a class or a split is evidence: none of the dataclasses
    that ``theory`` defines can be changed after it is built."""
    classes = _theory_dataclasses()
    assert len(classes) >= 20  # RankDecision, EquivalenceClass, KernelSplit, Certificate, ...
    names = {c.__name__ for c in classes}
    assert {"RankDecision", "EquivalenceClass", "KernelSplit", "Certificate"} <= names
    mutable = [c.__qualname__ for c in classes if not c.__dataclass_params__.frozen]
    assert mutable == []


@given(st.floats(1e-300, 1e300))
def test_inverse_of_a_margin_is_its_reciprocal(m):
    """inverse(m) = 1/m (so inverse(1) = 1: a gate exactly at its threshold fails by nothing);
    inverse(0) is infinite."""
    assert inverse(m) == 1.0 / m
    assert inverse(1.0) == 1.0 and inverse(0.0) == math.inf


@pytest.mark.parametrize("factor", [1.005, 1.5, 0.995, 0.5])
def test_separated_needs_the_step_out_of_the_class_above_100_times_the_noise(factor):
    """BehaviourComparison.separated: with the inside gap negligible, the step out of the class
    separates iff outside > 100 noise."""
    noise = 1e-9
    comp = BehaviourComparison(inside=0.0, outside=100 * noise * factor, noise=noise)
    assert comp.separated() is (factor > 1)


@given(st.floats(1e-6, 0.99), st.floats(0.0, 1.0))
def test_ratio_is_inside_over_outside_for_any_positive_outside(outside, share):
    """BehaviourComparison.ratio = inside / outside whenever outside > 0, also below 1."""
    inside = share * outside
    comp = BehaviourComparison(inside=inside, outside=outside, noise=0.0)
    assert comp.ratio == inside / outside


def test_entries_are_bounded_by_1e150():
    """as_float_array refuses an entry above 1e150 in magnitude (so squared norms stay finite) and
    keeps one at exactly 1e150."""
    assert as_float_array("x", np.array([1e150, -1.0]), 1)[0] == 1e150
    for big in (1.5e150, -1.9e150):
        with pytest.raises(InputError, match="x has an entry"):
            as_float_array("x", np.array([big, 1.0]), 1)


@given(st.floats(1.0, 1e6), st.floats(0.0, 0.999))
def test_a_gate_at_margin_one_clears_and_below_one_is_short(at_least_one, below):
    """Margins >= 1 clear a gate, < 1 do not (the orientation of ``theory.certificate``): in
    ``decide`` for claims, needs and holds_needs alike, and in ``refute``."""
    from theory.certificate import Verdict
    from theory.gates import decide, refute

    ok = at_least_one
    assert decide({"c": ok}, {"n": ok}, {"h": ok})[0] is Verdict.HOLDS
    assert decide({"c": 1.0}, {"n": 1.0}, {"h": 1.0})[0] is Verdict.HOLDS
    assert decide({"c": ok}, {"n": ok}, {"h": below})[0] is Verdict.UNDECIDED
    assert decide({"c": below}, {"n": ok})[0] is Verdict.VIOLATED
    assert decide({"c": ok}, {"n": below})[0] is Verdict.UNDECIDED
    assert refute({"g": 1.0, "h": ok})[0] is Verdict.VIOLATED
    assert refute({"g": below, "h": ok})[0] is Verdict.UNDECIDED


@pytest.mark.parametrize("pair", [(-1.0, 1.0), (1.0, -1.0)])
def test_a_negative_residual_or_tolerance_is_refused(pair):
    """ratio_margin(threshold, evidence) takes non-negative numbers: either one negative is an
    error, not a margin."""
    from theory.certificate import ratio_margin

    with pytest.raises(ValueError, match="non-negative"):
        ratio_margin(*pair)


def test_a_sympy_readout_with_a_float_vector_is_solved_exactly():
    """equivalence_class is exact as soon as L or v is a sympy Matrix: a sympy L with an integer
    numpy v (or the other way round) gives the exact class, and a float entry beside a sympy
    operand is refused rather than rounded."""
    import sympy

    from theory.linear import ExactEquivalenceClass, equivalence_class

    L = sympy.Matrix([[1, 2, 3]])
    assert isinstance(equivalence_class(L, np.array([1, 0, 0])), ExactEquivalenceClass)
    cls = equivalence_class(np.array([[1, 2, 3]]), sympy.Matrix([1, 0, 0]))
    assert isinstance(cls, ExactEquivalenceClass) and cls.dim == 2
    with pytest.raises(InputError, match="rational entries for exact mode"):
        equivalence_class(L, np.array([0.1, 0.0, 0.0]))


def test_a_zero_column_does_not_make_a_readout_badly_scaled():
    """column_scale looks at the nonzero columns only: equal nonzero columns beside a zero
    column are balanced (None); a spread of 1e5 among nonzero columns is not."""
    from theory.rank import column_scale

    assert column_scale(np.array([[1.0, 0.0, 1.0], [1.0, 0.0, -1.0]])) is None
    spread = column_scale(np.array([[1e5, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    assert spread is not None and spread.tolist() == [1e5, 1.0, 1.0]


def test_the_spark_of_a_matrix_with_a_zero_column_is_one():
    """spark(A) = 1 iff A has a zero column (a 1-sparse null vector), in float and exactly."""
    import sympy

    from theory.spark import spark

    A = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 1.0]])
    for M in (A, sympy.Matrix([[1, 0, 2], [3, 0, 1]])):
        result = spark(M)
        assert (result.value, result.lower, result.upper) == (1, 1, 1)


@pytest.mark.parametrize("shape", [(3, 3), (1, 3), (2, 3)])
def test_t1_reports_identifiable_iff_the_readout_has_rank_d(shape):
    """check_t1's ``identifiable`` is [v] = {v}: true iff rank L = d (ker L = {0})."""
    from theory.linear_checks import check_t1

    L = np.eye(3)[: shape[0]] + np.triu(np.ones(shape), 1)
    cert = check_t1(L, np.array([1.0, -2.0, 0.5]))
    assert cert.details["identifiable"] is bool(np.linalg.matrix_rank(L) == 3)


def test_t7_says_unique_exactly_when_it_holds():
    """unique_recovery_certificate: details['unique'] is True when T7 holds (spark > 2k) and False
    when a sparse twin pair refutes uniqueness (a zero column: spark 1 <= 2k)."""
    from theory.certificate import Verdict
    from theory.spark_twins import unique_recovery_certificate

    A = np.array([[1.0, 0.0, 2.0, 1.0], [3.0, 0.0, 1.0, -1.0], [0.0, 0.0, 1.0, 2.0]])
    refuted = unique_recovery_certificate(A, 1)
    assert refuted.verdict is Verdict.VIOLATED and refuted.details["unique"] is False
    B = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])  # spark 3 > 2 = 2k
    held = unique_recovery_certificate(B, 1)
    assert held.verdict is Verdict.HOLDS and held.details["unique"] is True


def test_amari_blocks_must_be_distinct_indices_of_a_component():
    """amari_curves reads blocks of component indices 0..k-1, each without repeats: an index k
    or a repeated index is refused before any fit runs."""
    from theory.amari_curves import amari_curves

    A = np.eye(3)

    def sampler(n, seed):
        return np.random.default_rng(seed).laplace(size=(n, 3))

    for bad in ((0, 3), (1, 1)):
        with pytest.raises(InputError, match="blocks"):
            amari_curves(A, sampler, [200, 400], seeds=[0], blocks=[bad])
    (curve,) = amari_curves(A, sampler, [200, 400], seeds=[0], blocks=[(0, 2)])  # k - 1 is in
    assert curve.block == (0, 2) and curve.values.shape == (1, 2)
