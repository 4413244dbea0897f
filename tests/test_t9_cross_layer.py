"""T9: steering one concept at several layers; the class is v + intersection of ker(J_l T_l); v is
identifiable iff the stack has rank d; the LayerNorm symmetry survives every layer."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs_check.checks.cross_layer import exact_t9, numeric_t9
from synthetic.cross_layer import layer_problems, propagation_transfers, reverify_null_direction
from synthetic.local_problems import steering_vector
from synthetic.zoo import load_model, make_prompts
from theory.certificate import Verdict
from theory.cross_layer import check_t9, layer_factors
from theory.jacobian import dense_jacobian

from .test_jacobian_engine import random_problems


@pytest.fixture(scope="module")
def ln():
    model = load_model("tiny-ln", 0)
    prompts = make_prompts(model, 2, 5, 0)
    return model, prompts, steering_vector(model, 0)


def test_stacked_factor_has_the_singular_values_of_the_stacked_dense_jacobians(ln):
    model, prompts, v = ln
    layers = [0, 2]
    problems = layer_problems(model, layers, prompts, alphas=(1.0, 2.0))
    transfers = propagation_transfers(model, layers, prompts)
    blocks, _ = layer_factors(problems, v, "trait", transfers)
    dense = np.vstack([dense_jacobian(p, T @ v, "trait") @ T for p, T in zip(problems, transfers)])
    s_engine = scipy.linalg.svdvals(np.vstack(blocks))
    s_dense = scipy.linalg.svdvals(dense)
    k = min(s_engine.size, s_dense.size)
    assert np.allclose(s_engine[:k], s_dense[:k], rtol=0, atol=1e-12 * s_dense[0])


def test_layernorm_transfers_fix_the_ones_vector_rmsnorm_ones_do_not(ln):
    model, prompts, _ = ln
    ones = np.ones(model.cfg.d_model)
    for T in propagation_transfers(model, [0, 1, 2], prompts):
        assert np.allclose(T @ ones, ones, atol=1e-12)
    rms = load_model("tiny-rms", 0)
    moved = [
        np.linalg.norm(T @ ones - ones)
        for T in propagation_transfers(rms, [0, 1, 2], make_prompts(rms, 2, 5, 0))
    ]
    assert moved[0] == 0 and min(moved[1:]) > 1e-3


def test_adding_layers_never_grows_the_class_and_ones_survives(ln):
    model, prompts, v = ln
    dims = []
    for layers in ([1], [0, 1], [0, 1, 2]):
        cert = check_t9(layer_problems(model, layers, prompts, (1.0,)), v, "trait")
        assert cert.verdict is Verdict.VIOLATED and "layernorm-mean" in cert.symmetries
        assert cert.margin >= 1 and cert.residual <= cert.residual_tolerance
        dims.append(cert.dim)
        ones = np.ones(v.size) / np.sqrt(v.size)
        null = cert.witness["null_basis"]
        assert np.isclose(np.linalg.norm(null.T @ ones), 1.0, atol=1e-10)  # 1 in every class
    assert dims == sorted(dims, reverse=True) and dims[0] > dims[-1]


def test_common_null_direction_is_reverified_and_a_generic_direction_is_not(ln):
    model, prompts, v = ln
    layers = [0, 1, 2]
    cert = check_t9(layer_problems(model, layers, prompts, (1.0,)), v, "trait")
    eye = [np.eye(v.size)] * 3
    u = cert.witness["common_null_direction"]
    assert reverify_null_direction(model, layers, prompts, v, u, eye, "trait", (1.0,)) < 1e-2
    g = np.random.default_rng(5).standard_normal(v.size)
    g -= cert.witness["null_basis"] @ (cert.witness["null_basis"].T @ g)  # outside the class
    g /= np.linalg.norm(g)
    assert (
        reverify_null_direction(model, layers, prompts, v, g, eye, "trait", (1.0,), seed=1) > 1e-2
    )


def test_a_planted_witness_that_some_layer_reads_makes_the_verdict_undecided(ln):
    """The common null direction is re-verified layer by layer (its image under each R_j T_j): a
    direction that one layer reads is not accepted as a counterexample; a true one is."""
    model, prompts, v = ln
    problems = layer_problems(model, [0, 1], prompts, (1.0,))
    cert = check_t9(problems, v, "trait")
    assert cert.verdict is Verdict.VIOLATED
    ones = np.ones(v.size) / np.sqrt(v.size)  # the LayerNorm symmetry: in every null space
    assert check_t9(problems, v, "trait", witness=5.0 * ones).verdict is Verdict.VIOLATED
    blocks, _ = layer_factors(problems, v, "trait")
    read = blocks[1][0] / np.linalg.norm(blocks[1][0])  # layer 1 reads this direction
    bad = check_t9(problems, v, "trait", witness=read)
    assert bad.verdict is Verdict.UNDECIDED and "layer 1" in bad.reason and bad.margin < 1
    zero = check_t9(problems, v, "trait", witness=np.zeros(v.size))
    assert zero.verdict is Verdict.UNDECIDED and "witness nonzero" in zero.reason


def test_registered_checks_hold_and_exact_variant_fails():
    assert exact_t9().verdict is Verdict.HOLDS
    assert exact_t9(transfer_fixes_ones=False).verdict is Verdict.VIOLATED
    cert = numeric_t9(0)
    assert cert.verdict is Verdict.HOLDS
    rows = {(r["model"], r["propagated"]): r for r in cert.details["by_model"]}
    assert rows[("tiny-ln", False)]["dim_three_layers"] == 1
    assert rows[("tiny-ln", True)]["dim_three_layers"] == 1
    assert rows[("tiny-rms", False)]["dim_three_layers"] == 0


def test_bad_input(ln):
    model, prompts, v = ln
    with pytest.raises(ValueError, match="strictly increasing"):
        layer_problems(model, [1, 0], prompts)
    with pytest.raises(ValueError, match=r"layers\[1\] must be an int in \[0, 2\]"):
        layer_problems(model, [0, 7], prompts)
    with pytest.raises(ValueError, match="problems must be a non-empty list"):
        check_t9([], v, "trait")
    problems = layer_problems(model, [0, 1], prompts)
    with pytest.raises(ValueError, match="transfers must have one"):
        check_t9(problems, v, "trait", transfers=[np.eye(v.size)])
    with pytest.raises(ValueError, match=r"transfers\[1\] must have shape"):
        check_t9(problems, v, "trait", transfers=[np.eye(v.size), np.eye(3)])
    with pytest.raises(ValueError, match="v must have length"):
        check_t9(problems, v[:5], "trait")


# ---------------------------------------------------------------------------------------------
# property tests on the engine's small random models (one compiled shape)

SHAPE = [(2, 3, 5, 4)]  # (N, T, d, V)


@st.composite
def layer_stacks(draw):
    """1-3 problems of one shape and one centring (a "layer" each), with transfers T_j that fix the
    all-ones vector: T = I + R (I - 1 1^T / d)."""
    centred = draw(st.booleans())
    drawn = [
        draw(random_problems(centred=centred, shapes=SHAPE, max_alphas=1))
        for _ in range(draw(st.integers(1, 3)))
    ]
    d = drawn[0].problem.d
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = np.eye(d) - np.ones((d, d)) / d
    transfers = [np.eye(d)] + [np.eye(d) + 0.3 * rng.standard_normal((d, d)) @ P for _ in drawn[1:]]
    return [x.problem for x in drawn], transfers, drawn[0].v, centred


# no deadline: each example builds up to 3 engine factors and 3 dense Jacobians (~0.3 s)
@settings(max_examples=30, deadline=None)
@given(layer_stacks(), st.sampled_from(["logits", "trait"]))
def test_stack_rank_equals_the_dense_stack_and_never_grows_the_class(stack, channel):
    problems, transfers, v, centred = stack
    cert = check_t9(problems, v, channel, transfers)
    dense = np.vstack([dense_jacobian(p, T @ v, channel) @ T for p, T in zip(problems, transfers)])
    s = scipy.linalg.svdvals(dense)
    if cert.verdict is not Verdict.UNDECIDED:
        assert cert.rank == int(np.sum(s > cert.tolerance))
        assert cert.dim == v.size - cert.rank
    dims = [
        check_t9(problems[:k], v, channel, transfers[:k]).dim for k in range(1, len(problems) + 1)
    ]
    assert dims == sorted(dims, reverse=True)
    if centred:  # every layer kills 1 and every transfer fixes it: the symmetry survives the stack
        assert cert.dim >= 1 and np.linalg.norm(
            np.vstack(layer_factors(problems, v, channel, transfers)[0]) @ np.ones(v.size)
        ) <= 1e-10 * max(s[0], 1.0)
