"""T6: requiring equivalence in every environment intersects the classes; v is identifiable iff the
stacked readout has rank d; generic readouts of rank r need ceil(d/r) environments."""

import math

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from proofs_check.model_checks import environments_certificate
from synthetic.environments import environment_problems, family_prompts
from synthetic.local_problems import steering_vector
from synthetic.zoo import load_model
from theory.certificate import Verdict
from theory.environments import (
    check_t6,
    check_t6_local,
    environments_needed,
    multi_environment_class,
    stack_readouts,
)
from theory.jacobian import local_spectrum
from theory.linear import equivalence_class


@st.composite
def environment_sets(draw):
    """(d, [L_e]) with E Gaussian readouts of chosen ranks r_e (each a rank-r_e product)."""
    d = draw(st.integers(1, 10))
    ranks = draw(st.lists(st.integers(1, d), min_size=1, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    envs = [
        rng.standard_normal((r + draw(st.integers(0, 2)), r)) @ rng.standard_normal((r, d))
        for r in ranks
    ]
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
    assert cert.margin >= 1 and cert.d == d
    if cert.verdict is Verdict.HOLDS:
        assert cert.residual < 1e-8 and cert.residual <= cert.residual_tolerance
        assert np.allclose(cert.witness["recovered"], v, atol=1e-8 * max(1, np.linalg.norm(v)))
    else:
        u = cert.witness["common_null_direction"]
        assert np.isclose(np.linalg.norm(u), 1.0)
        for L in envs:
            assert np.allclose(
                L @ cert.witness["equivalent"], L @ v, atol=1e-10 * max(1, np.linalg.norm(L, 2))
            )


@given(environment_sets(), st.integers(0, 2**32 - 1))
def test_a_planted_wrong_witness_makes_the_verdict_undecided(data, seed):
    """The witness is re-verified environment by environment: a direction some L_e reads is not a
    common null direction, and a wrong recovery is not v; either way the verdict is undecided."""
    d, ranks, envs = data
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(d)
    cert = check_t6(envs, v)
    if cert.verdict is Verdict.VIOLATED:
        joint = multi_environment_class(envs, v)
        wrong = joint.row_basis @ rng.standard_normal(joint.rank)  # read by the stack
        bad = check_t6(envs, v, witness=wrong)
        assert bad.verdict is Verdict.UNDECIDED and "unchanged" in bad.reason and bad.margin < 1
        zero = check_t6(envs, v, witness=np.zeros(d))
        assert zero.verdict is Verdict.UNDECIDED and "witness nonzero" in zero.reason
        right = check_t6(envs, v, witness=3.0 * joint.basis[:, -1])
        assert right.verdict is Verdict.VIOLATED
    else:
        bad = check_t6(envs, v, witness=v + 1e-3 * rng.standard_normal(d))
        assert bad.verdict is Verdict.UNDECIDED and "recovered = v" in bad.reason


def test_exact_check_t6_gates_a_planted_witness():
    L1, L2 = sympy.Matrix([[1, 0, 0]]), sympy.Matrix([[0, 1, 1]])
    v = sympy.Matrix([1, 2, 3])
    cert = check_t6([L1, L2], v)
    assert cert.verdict is Verdict.VIOLATED and cert.margin is None
    u = cert.witness["common_null_direction"]
    assert np.allclose(np.abs(u) / np.abs(u).max(), [0, 1, 1])
    bad = check_t6([L1, L2], v, witness=sympy.Matrix([0, 1, 0]))  # L2 reads it
    assert bad.verdict is Verdict.UNDECIDED
    full = [L1, L2, sympy.Matrix([[0, 1, -1]])]
    assert check_t6(full, v).verdict is Verdict.HOLDS
    assert check_t6(full, v, witness=sympy.Matrix([1, 2, 4])).verdict is Verdict.UNDECIDED


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


@pytest.mark.parametrize(
    "args,msg",
    [
        (dict(d=0, r=1), r"d must be an int in \[1, inf\)"),
        (dict(d=3, r=4), "r must be at most d"),
        (dict(d=3, r=0), r"r must be an int in \[1, inf\)"),
        (dict(d=3.0, r=1), "d must be an int"),
        (dict(d=3, r=True), "r must be an int"),
    ],
)
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


# ---------------------------------------------------------------------------------------------
# T6 on the toy transformers: environments are prompt distributions (token families)


def test_token_families_are_disjoint_and_seeded():
    model = load_model("tiny-ln", 0)
    fams = [set(family_prompts(model, e, 4, 6, 5, seed=1).ravel()) for e in range(4)]
    assert all(not (fams[i] & fams[j]) for i in range(4) for j in range(i + 1, 4))
    assert np.array_equal(
        family_prompts(model, 2, 4, 6, 5, seed=1), family_prompts(model, 2, 4, 6, 5, seed=1)
    )


@pytest.mark.parametrize("name,floor", [("tiny-ln", 1), ("tiny-rms", 0)])
def test_class_falls_by_n_times_a_per_environment_down_to_the_symmetry(name, floor):
    cert = {E: environments_certificate(name, 1, E, n_families=5) for E in (1, 3, 5)}
    assert [cert[E].dim for E in (1, 3, 5)] == [24, 8, floor]
    assert ("layernorm-mean" in cert[5].symmetries) == bool(floor)
    if floor:
        assert cert[5].residual < 1e-6  # re-run through the model in every environment
        u = cert[5].witness["common_null_direction"]
        assert np.allclose(np.abs(u), 1 / np.sqrt(32), atol=1e-10)
    else:
        assert cert[5].verdict is Verdict.HOLDS


def test_stacked_class_is_the_intersection_of_the_environment_classes():
    """A vector in the stacked null space is in every environment's own null space."""
    model = load_model("tiny-ln", 0)
    problems = environment_problems(model, 1, 3, n_families=3)
    v = steering_vector(model, 0)
    cert = check_t6_local(problems, v, "trait")
    for p in problems:
        spec = local_spectrum(p, v, "trait")
        N = cert.witness["null_basis"]
        assert np.linalg.norm(spec.factor @ N) <= 1e-10 * spec.singular_values[0]


def test_a_planted_local_witness_is_reverified_in_every_environment():
    """A common null direction is re-verified in every environment (its image under each factor):
    a planted direction that some environment reads makes the verdict undecided."""
    model = load_model("tiny-ln", 0)
    problems = environment_problems(model, 1, 2, n_families=2)
    v = steering_vector(model, 0)
    cert = check_t6_local(problems, v, "trait")
    assert cert.verdict is Verdict.VIOLATED and cert.margin >= 1 and cert.channel == "trait"
    assert cert.residual <= cert.residual_tolerance
    again = check_t6_local(problems, v, "trait", witness=cert.witness["null_basis"][:, -1])
    assert again.verdict is Verdict.VIOLATED
    spec = local_spectrum(problems[0], v, "trait")
    read = spec.factor[0] / np.linalg.norm(spec.factor[0])  # environment 0 reads this direction
    planted = check_t6_local(problems, v, "trait", witness=read)
    assert planted.verdict is Verdict.UNDECIDED and "environment 0" in planted.reason


def test_environment_bad_input():
    model = load_model("tiny-ln", 0)
    with pytest.raises(ValueError, match="family must be an int"):
        family_prompts(model, 4, 4, 2, 3)
    with pytest.raises(ValueError, match="n_families must be at most"):
        family_prompts(model, 0, 100, 2, 3)
    with pytest.raises(ValueError, match="length must be at most"):
        family_prompts(model, 0, 2, 2, 99)
    with pytest.raises(ValueError, match=r"n_envs must be an int in \[1, inf\)"):
        environment_problems(model, 1, 0)
