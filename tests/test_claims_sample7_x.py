"""Claims stated here (sample 7, group X):

- ``nsp_by_circuits`` reports ``tau_rel`` = rank tolerance / sigma_1 of the column-normalised A.
- A singular value exactly at the top of the grey band sqrt(tau s_1) is certified (margin 1).
- Every ``RankDecision`` from ``check_column_scaling`` keeps its ``ambiguous`` array read-only.
- ``separation_margin() >= 1`` iff ``separated()`` (outside > 100 noise and > 10 inside).
- ``spark_exact`` is exact: a column that vanishes modulo its prime is not a circuit.
- ``as_int`` names a one-sided range in its error message ("in [0, inf)").
- ``as_int_array`` accepts any ndim when ``ndim`` is None and refuses a wrong one when given.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import sympy

from theory.nsp import nsp_by_circuits
from theory.rank import check_column_scaling, decide_rank, decide_rank_from_singular_values
from theory.residual import BehaviourComparison
from theory.spark_exact import _PRIME, spark_exact
from theory.validation import InputError, as_int, as_int_array


def test_nsp_circuits_tau_rel_is_tolerance_over_sigma1():
    A = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    An = A / np.linalg.norm(A, axis=0)
    s = scipy.linalg.svdvals(An)
    assert s[0] > 1.2  # non-orthogonal unit columns: sigma_1 > 1 tells * from /
    found = nsp_by_circuits(A, 1, None, 10_000)
    tau = decide_rank(An).tolerance
    assert found.tau_rel == pytest.approx(tau / s[0], rel=1e-12)


def test_value_at_band_top_is_certified():
    dec = decide_rank_from_singular_values([1.0, 0.5], (2, 2), 0.25)
    assert dec.band_top == 0.5
    assert dec.rank == 2
    assert dec.certified
    assert dec.margin == 1.0
    assert dec.ambiguous.size == 0


def test_column_scaling_ambiguous_is_read_only():
    L = np.array([[1.0, 0.0], [0.0, 1e-17]])  # rank 2, second column below round-off normwise
    dec = decide_rank_from_singular_values(scipy.linalg.svdvals(L), L.shape)
    assert dec.certified
    checked = check_column_scaling(L, dec)
    assert not checked.certified
    assert not checked.ambiguous.flags.writeable
    with pytest.raises(ValueError):
        checked.ambiguous[0] = 0.0


@pytest.mark.parametrize("factor", [100.5, 150.0, 99.5])
def test_separation_margin_matches_separated(factor):
    cmp = BehaviourComparison(inside=0.0, outside=factor * 1e-12, noise=1e-12)
    assert (cmp.separation_margin() >= 1) == cmp.separated()


def test_spark_exact_ignores_column_vanishing_mod_prime():
    A = sympy.Matrix([[_PRIME, 0, 1], [0, 1, 1]])
    res = spark_exact(A, None, 10_000)
    assert res.value == 3  # any two columns are independent, all three are not


def test_as_int_message_names_one_sided_range():
    with pytest.raises(InputError, match=r"in \[0, inf\)"):
        as_int("n", -1, low=0)
    with pytest.raises(InputError, match=r"in \(-inf, 5\]"):
        as_int("n", 6, high=5)


def test_as_int_array_ndim():
    assert as_int_array("x", [1, 2]).shape == (2,)
    assert as_int_array("x", [[1, 2]]).shape == (1, 2)
    with pytest.raises(InputError, match="dimension"):
        as_int_array("x", [1, 2], ndim=2)
