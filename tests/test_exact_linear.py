"""Exact mode: sympy Matrix input gives the class in the rationals, and float64 agrees with it."""

import numpy as np
import sympy
from hypothesis import given
from hypothesis import strategies as st

from proofs_check.registry import EXACT, load_all
from theory.certificate import Verdict
from theory.linear import NoTwinError, cosine_range, equivalence_class, orthogonal_twin

from .strategies import rational_matrices, rational_vectors


@given(st.data())
def test_exact_class_is_exact(data):
    L = data.draw(rational_matrices())
    v = data.draw(rational_vectors(L.cols))
    cls = equivalence_class(L, v)
    assert cls.rank == L.rank() and cls.dim == L.cols - L.rank()
    assert (L * cls.basis).is_zero_matrix
    assert (L * (cls.point - v)).is_zero_matrix  # point is a member
    assert (cls.basis.T * cls.point).is_zero_matrix  # and orthogonal to ker L: minimum norm
    assert all(x.is_Rational for x in cls.point)
    assert cls.contains(v + cls.basis * sympy.ones(cls.dim, 1)) if cls.dim else cls.contains(v)


@given(st.data())
def test_float64_agrees_with_exact_on_rational_input(data):
    L = data.draw(rational_matrices())
    v = data.draw(rational_vectors(L.cols))
    exact = equivalence_class(L, v)
    num = equivalence_class(np.array(L.tolist(), dtype=float), np.array(v, dtype=float).ravel())
    assert num.certified
    assert num.dim == exact.dim and num.rank == exact.rank
    assert np.allclose(num.point, np.array(exact.point, dtype=float).ravel(), atol=1e-10)
    if exact.dim:  # the exact kernel basis lies in the numeric kernel
        B = np.array(exact.basis, dtype=float)
        assert np.allclose(num.basis @ (num.basis.T @ B), B, atol=1e-10)


@given(st.data())
def test_exact_twin_and_cosine_range_agree_with_float(data):
    L = data.draw(rational_matrices())
    v = data.draw(rational_vectors(L.cols))
    if v.is_zero_matrix:
        return
    Lf, vf = np.array(L.tolist(), dtype=float), np.array(v, dtype=float).ravel()
    try:
        tw = orthogonal_twin(L, v)
    except NoTwinError:
        try:
            orthogonal_twin(Lf, vf)
            raise AssertionError("float found a twin where the exact class has none")
        except NoTwinError:
            pass
    else:
        assert (L * (tw - v)).is_zero_matrix and (tw.T * v)[0, 0] == 0
        assert np.allclose(orthogonal_twin(Lf, vf), np.array(tw, dtype=float).ravel(), atol=1e-9)
    lo, hi, att = cosine_range(L, v)
    flo, fhi, fatt = cosine_range(Lf, vf)
    assert att == fatt and np.isclose(float(lo), flo, atol=1e-12) and float(hi) == fhi


def test_exact_mode_rejects_floats_in_sympy_matrices():
    import pytest

    with pytest.raises(ValueError, match="rational"):
        equivalence_class(sympy.Matrix([[0.5, 1]]), sympy.Matrix([1, 1]))


def test_registered_exact_checks_hold():
    for c in load_all():
        if c.kind == EXACT and c.theorem in ("T1", "T1a", "T1b", "T2c", "T4"):
            assert c.run(0).verdict is Verdict.HOLDS, c.name
