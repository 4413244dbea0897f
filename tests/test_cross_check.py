"""Float64 decisions against exact rational arithmetic on random small instances: never wrong on
the four kinds, nor on the badly scaled stress kind."""

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


def test_scaled_instances_never_get_a_wrong_certified_answer():
    """Columns scaled by 10^-7 and 10^7: the equilibration checks (``theory.rank`` for the rank,
    ``theory.linear.kernel_split`` for the split of v) turn every answer the normwise tolerance
    would get wrong into undecided. An undecided case has a value in its grey band or an
    undecided kernel split."""
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
    assert seen["wrong"] == 0 and seen["agree"] > seen["undecided"]


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


def _scaled_rank_one() -> tuple[sympy.Matrix, np.ndarray]:
    """L = x y^T diag(10^7, 10^-7) with y = (1, -2/7): rank 1, row space spanned by
    (1, -(2/7) 10^-14), a direction 2.9e-15 from e_1, i.e. at round-off level normwise."""
    x = sympy.Matrix([sympy.Rational(-4, 7), 2, 6, -2])
    y = sympy.Matrix([[1, sympy.Rational(-2, 7)]])
    L = x * y * sympy.diag(sympy.Integer(10) ** 7, sympy.Integer(10) ** -7)
    return L, np.array(L.tolist(), dtype=float)


def test_a_twin_hidden_by_column_scaling_is_undecided_not_denied():
    """v = e_1 is not in the row space of the exact L (k != 0: a twin exists), but |k| / |v| =
    2.9e-15 lies below the normwise round-off threshold, so alone the normwise split would certify
    k = 0 (no twin). Column-equilibrated, k is half of v: the two disagree and the split is
    undecided."""
    L, Lf = _scaled_rank_one()
    v = np.array([1.0, 0.0])
    exact = kernel_split(equivalence_class(L, sympy.Matrix([1, 0])))
    assert not exact.k_zero
    cls = equivalence_class(Lf, v)
    assert cls.certified and cls.rank == 1 and cls.equilibrated is not None
    assert np.linalg.norm(cls.kernel_part) < 16 * 2 * np.finfo(float).eps  # normwise: zero
    with pytest.raises(UndecidedRankError, match="badly scaled"):
        kernel_split(cls)
    assert decide(Case("linear", (L, sympy.Matrix([1, 0])), (Lf, v))) == "undecided"


def test_a_vector_in_a_badly_scaled_row_space_keeps_its_certified_split():
    """The equilibrated check does not make every badly scaled split undecided: a row of L lies in
    its row space in both coordinates, so k = 0 stays certified (no twin)."""
    _, Lf = _scaled_rank_one()
    split = kernel_split(equivalence_class(Lf, Lf[1]))
    assert split.k_zero and not split.vid_zero and split.margin >= 1
