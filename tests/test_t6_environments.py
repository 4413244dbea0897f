"""T6: requiring equivalence in every environment intersects the classes; v is identifiable iff the
stacked readout has rank d; generic readouts of rank r need ceil(d/r) environments."""
import math

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.environments import check_t6, environments_needed, multi_environment_class, stack_readouts
from theory.linear import equivalence_class


@st.composite
def environment_sets(draw):
    """(d, [L_e]) with E Gaussian readouts of chosen ranks r_e (each built as a rank-r_e product)."""
    d = draw(st.integers(1, 10))
    ranks = draw(st.lists(st.integers(1, d), min_size=1, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    envs = [rng.standard_normal((r + draw(st.integers(0, 2)), r)) @ rng.standard_normal((r, d)) for r in ranks]
    return d, ranks, envs


@given(environment_sets(), st.integers(0, 2**32 - 1))
def test_generic_stack_rank_is_min_of_d_and_sum_of_ranks(data, seed):
    d, ranks, envs = data
    v = np.random.default_rng(seed).standard_normal(d)
    cls = multi_environment_class(envs, v)
    assert cls.certified and cls.rank == min(d, sum(ranks))
    cert = check_t6(envs, v)
    assert (cert.verdict is Verdict.HOLDS) == (sum(ranks) >= d)


@given(environment_sets(), st.integers(0, 2**32 - 1))
def test_class_is_the_intersection_of_the_classes(data, seed):
    d, _, envs = data
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(d)
    joint = multi_environment_class(envs, v)
    if joint.dim:
        w = joint.member(rng.standard_normal(joint.dim) * 3)
        assert all(equivalence_class(L, v).contains(w) for L in envs)
    # a member of one environment's class that is outside the joint class is told apart by another
    first = equivalence_class(envs[0], v)
    if first.dim > joint.dim:
        w = first.member(rng.standard_normal(first.dim) * 3)
        if not joint.contains(w):
            assert any(not np.allclose(L @ w, L @ v, atol=1e-8) for L in envs[1:])


@given(environment_sets(), st.integers(0, 2**32 - 1))
def test_counterexample_and_recovery_are_reverified(data, seed):
    d, ranks, envs = data
    v = np.random.default_rng(seed).standard_normal(d)
    cert = check_t6(envs, v)
    if cert.verdict is Verdict.HOLDS:
        assert cert.details["recovery_error"] < 1e-8
    else:
        u = cert.witness["common_null_direction"]
        assert np.isclose(np.linalg.norm(u), 1.0)
        for L in envs:
            assert np.allclose(L @ cert.witness["equivalent"], L @ v, atol=1e-10 * max(1, np.linalg.norm(L, 2)))


@given(st.integers(1, 200), st.data())
def test_environments_needed(d, data):
    r = data.draw(st.integers(1, d))
    E = environments_needed(d, r)
    assert E * r >= d and (E - 1) * r < d and E == math.ceil(d / r)


def test_symmetry_survives_every_environment():
    """If every readout kills the all-ones direction (as LayerNorm makes them), no number of
    environments identifies v: the class keeps span(1)."""
    rng = np.random.default_rng(0)
    d = 6
    P = np.eye(d) - np.ones((d, d)) / d
    envs = [rng.standard_normal((d, d)) @ P for _ in range(10)]
    cls = multi_environment_class(envs, np.ones(d))
    assert cls.dim == 1 and np.allclose(np.abs(cls.basis[:, 0]), 1 / np.sqrt(d))


def test_exact_stack():
    L1, L2 = sympy.Matrix([[1, 0, 0]]), sympy.Matrix([[0, 1, 1]])
    cls = multi_environment_class([L1, L2], sympy.Matrix([1, 2, 3]))
    assert cls.dim == 1 and (stack_readouts([L1, L2]) * cls.basis).is_zero_matrix


@pytest.mark.parametrize("args,msg", [
    (dict(d=0, r=1), "d must be a positive int"),
    (dict(d=3, r=4), "r must be at most d"),
    (dict(d=3, r=0), "r must be a positive int"),
])
def test_environments_needed_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg):
        environments_needed(**args)


def test_stack_bad_input():
    with pytest.raises(ValueError, match="non-empty list"):
        stack_readouts([])
    with pytest.raises(ValueError, match=r"readouts\[1\] must have 3 columns"):
        stack_readouts([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"readouts\[0\] must be finite"):
        stack_readouts([np.array([[np.nan, 1.0]])])
