"""Float64 decisions against exact rational arithmetic on random small instances: never wrong on
the four kinds, and on the badly scaled stress kind wrong only in the way the normwise tolerance
predicts."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from proofs_check.cross_check import KINDS, Case, cross_check, decide, draw_case
from theory.linear import UndecidedRankError, equivalence_class, kernel_split


def test_float_decisions_are_never_wrong_on_rational_instances():
    counts = cross_check(400, seed=11)
    for kind in KINDS:
        assert counts[kind]["wrong"] == 0, kind
        assert sum(counts[kind].values()) == 100


def test_a_wrong_float_answer_is_reported_as_wrong():
    """The comparison can fail: floats of another matrix than the exact one."""
    L = sympy.Matrix([[1, 2], [2, 4]])  # rank 1
    v = sympy.Matrix([1, 0])
    case = Case("linear", (L, v), (np.array([[1.0, 2.0], [2.0, 5.0]]), np.array([1.0, 0.0])))
    assert decide(case) == "wrong"
    assert (
        decide(Case("linear", (L, v), (np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([1.0, 0.0]))))
        == "agree"
    )


def test_scaled_failures_sit_just_under_the_normwise_tolerance():
    """On column-scaled instances a certified wrong rank drops a true singular value within a
    factor 100 below tau = max(m, d) eps s_1, never one far from it; an undecided case has a
    value in its grey band or an undecided kernel split."""
    rng = np.random.default_rng(5)
    seen = {"agree": 0, "undecided": 0, "wrong": 0}
    for _ in range(300):
        case = draw_case("linear-scaled", rng)
        outcome = decide(case)
        seen[outcome] += 1
        dec = equivalence_class(*case.floats).decision
        if outcome == "wrong":
            exact_rank = case.exact[0].rank()
            dropped = dec.singular_values[dec.rank : exact_rank]
            assert exact_rank > dec.rank and np.all(dropped > dec.tolerance / 100)
        if outcome == "undecided" and dec.certified:
            with pytest.raises(UndecidedRankError):
                kernel_split(equivalence_class(*case.floats))
        elif outcome == "undecided":
            assert dec.ambiguous.size > 0
    assert seen["agree"] > seen["undecided"] + seen["wrong"]
