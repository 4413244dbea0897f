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


def test_scaled_instances_never_get_a_wrong_certified_rank():
    """Columns scaled by 10^-7 and 10^7: the equilibration check (``theory.linear``) turns every
    rank the normwise tolerance would get wrong into undecided; what can remain wrong is the
    kernel split (is v in the row space), whose round-off threshold is still normwise. An
    undecided case has a value in its grey band or an undecided kernel split."""
    rng = np.random.default_rng(5)
    seen = {"agree": 0, "undecided": 0, "wrong": 0}
    for _ in range(300):
        case = draw_case("linear-scaled", rng)
        outcome = decide(case)
        seen[outcome] += 1
        dec = equivalence_class(*case.floats).decision
        if outcome == "wrong":
            assert dec.certified and dec.rank == case.exact[0].rank()
        if outcome == "undecided" and dec.certified:
            with pytest.raises(UndecidedRankError):
                kernel_split(equivalence_class(*case.floats))
        elif outcome == "undecided":
            assert dec.ambiguous.size > 0
    assert seen["wrong"] <= 3 and seen["agree"] > seen["undecided"]


def test_a_rank_hidden_by_column_scaling_is_undecided():
    """[[1e7, 1e-9], [2e7, 3e-9]] has rank 2 (det 1e-2), but s_2 = 4.5e-10 lies below the
    normwise tau = 2 eps s_1 = 9.8e-9: alone, the default tolerance would certify rank 1. The
    column-equilibrated matrix has a clear rank 2, so the class is undecided, not wrong."""
    L = np.array([[1e7, 1e-9], [2e7, 3e-9]])  # exact rank 2: det = 1e-2 != 0
    s = np.linalg.svd(L, compute_uv=False)
    cls = equivalence_class(L, np.array([1.0, 1.0]))
    assert s[1] < cls.decision.tolerance  # normwise, s_2 looks like round-off
    assert not cls.certified and cls.decision.ambiguous.size == 1
    with pytest.raises(UndecidedRankError):
        kernel_split(cls)
    balanced = equivalence_class(L / np.linalg.norm(L, axis=0), np.array([1.0, 1.0]))
    assert balanced.certified and balanced.rank == 2
