"""Claims about the T3 engine's objects and the T9 stack that the other tests leave unstated.

- ``LocalProblem`` and ``LocalSpectrum`` are immutable once validated, and a ``LocalProblem`` has
  identity semantics (hashable, equal only to itself);
- when the behaviour does not depend on v at all (W_U = 0, so J = 0), every direction, the
  all-ones one included, is in the null space: the LayerNorm-mean symmetry is named (T3 and T9)
  and its relative image |J 1| / (sqrt(d) s_max) is 0;
- T9's witness gate uses the documented slack ``(10 tau + 1e3 eps s_1) |u|``, and a claimed
  witness is accepted for a single layer;
- the accelerator path of the sharded engine (``shard_map`` over a mesh of prompts) folds, on a
  one-device mesh, the factor of the plain one-device loop (R^T R = J^T J either way);
- the re-run of the spectrum's bases through the model (``rerun_bases``) gives |J u| of the dense
  Jacobian for the probs channel (the Hellinger coordinates).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.cross_layer import check_t9
from theory.jacobian import (
    EngineOptions,
    LocalProblem,
    dense_jacobian,
    local_spectrum,
    square_root_factor,
)
from theory.jacobian_kernels import _chunks
from theory.jacobian_sharding import _sharded_fold, prompt_mesh
from theory.local import rerun_bases
from theory.local_common import LAYERNORM_MEAN, exact_symmetries

from .test_jacobian_engine import random_problems, small_downstream

SHAPE = [(2, 3, 5, 4)]  # (N, T, d, V): one compiled shape for every test here


def _params(d: int, rng: np.random.Generator, centre: float = 1.0) -> dict:
    return {
        "w1": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "w2": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "w3": jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d)),
        "g": jnp.asarray(1.0 + 0.2 * rng.standard_normal(d)),
        "centre": jnp.asarray(centre),
    }


def _problem(seed: int = 0, w_u: np.ndarray | None = None) -> LocalProblem:
    N, T, d, V = SHAPE[0]
    rng = np.random.default_rng(seed)
    fn = jax.tree_util.Partial(small_downstream, _params(d, rng))
    w = rng.standard_normal((d, V)) if w_u is None else w_u
    return LocalProblem(fn, rng.standard_normal((N, T, d)), w, alphas=(1.0,))


def test_local_problem_fields_cannot_be_reassigned():
    """A validated LocalProblem is immutable: reassigning a field raises FrozenInstanceError."""
    problem = _problem()
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.stream = np.zeros((1, 1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.alphas = (2.0,)
    assert problem.alphas == (1.0,)


def test_local_problem_is_hashable_and_equal_only_to_itself():
    """A LocalProblem has identity semantics: hashable, equal to itself, unequal to a twin."""
    N, T, d, V = SHAPE[0]
    rng = np.random.default_rng(1)
    fn = jax.tree_util.Partial(small_downstream, _params(d, rng))
    stream, w_u = rng.standard_normal((N, T, d)), rng.standard_normal((d, V))
    a = LocalProblem(fn, stream, w_u)
    b = LocalProblem(fn, stream, w_u)
    assert hash(a) == hash(a) and len({a, b}) == 2
    assert a == a and not (a == b) and a != b
    assert {a: 1, b: 2}[a] == 1


def test_local_spectrum_fields_cannot_be_reassigned():
    """A LocalSpectrum is immutable: reassigning its factor or decision raises."""
    problem = _problem(2)
    spec = local_spectrum(problem, np.ones(problem.d), "logits")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.factor = np.zeros_like(spec.factor)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.n_rows = 0
    assert spec.n_rows == problem.n_rows("logits")


def test_zero_jacobian_names_the_layernorm_symmetry_with_relative_image_zero():
    """J = 0 (W_U = 0): rank 0, the all-ones direction is in ker J, so exact_symmetries names
    layernorm-mean and its relative image |J 1| / (sqrt(d) s_max) is 0."""
    N, T, d, V = SHAPE[0]
    problem = _problem(3, w_u=np.zeros((d, V)))
    v = np.random.default_rng(3).standard_normal(d)
    for channel in ("logits", "probs"):
        spec = local_spectrum(problem, v, channel)
        assert spec.rank == 0 and spec.null_dim == d and spec.certified
        assert np.linalg.norm(spec.factor @ np.ones(d)) == 0.0  # the ones direction is read by none
        found, ratio = exact_symmetries(spec)
        assert found == [LAYERNORM_MEAN]
        assert ratio == 0.0


def test_zero_jacobian_stack_names_the_layernorm_symmetry():
    """T9 with every layer's J = 0: the stack has rank 0 and the all-ones direction is in every
    layer's null space, so the certificate names the layernorm-mean symmetry."""
    N, T, d, V = SHAPE[0]
    problems = [_problem(s, w_u=np.zeros((d, V))) for s in (4, 5)]
    v = np.random.default_rng(4).standard_normal(d)
    for stack in (problems, problems[:1]):
        cert = check_t9(stack, v, "logits")
        assert cert.rank == 0 and cert.dim == d
        assert LAYERNORM_MEAN in cert.symmetries


# ci profile: at most 15 examples of one compiled shape (each ~0.1 s once compiled); no deadline:
# the first example compiles the model (about 1 s)
@settings(max_examples=15, deadline=None)
@given(
    random_problems(centred=True, shapes=SHAPE, max_alphas=1),
    st.floats(0.25, 8.0),
    st.sampled_from(["logits", "trait"]),
)
def test_t9_witness_slack_is_the_documented_one_and_one_layer_takes_a_witness(drawn, scale, ch):
    """T9 re-verifies a claimed witness u (one layer suffices) with slack
    (10 tau + 1e3 eps s_1) |u|, tau the stack's tolerance and s_1 its largest singular value."""
    problem, v = drawn.problem, drawn.v
    d = problem.d
    u = scale * np.ones(d) / np.sqrt(d)  # the exact LayerNorm symmetry of a centred model
    cert = check_t9([problem], v, ch, witness=u)
    assert cert.dim >= 1  # centred: the all-ones direction is an exact null direction
    if len(cert.ambiguous):
        return  # rank in the grey band: undecided before any witness is re-verified
    assert np.array_equal(cert.witness["common_null_direction"], u)
    s1 = float(cert.singular_values[0])
    expected = (10.0 * cert.tolerance + 1e3 * np.finfo(np.float64).eps * s1) * scale
    assert cert.residual_tolerance == pytest.approx(expected, rel=1e-12, abs=0.0)
    assert cert.residual_tolerance >= 10.0 * cert.tolerance * scale


@settings(max_examples=10, deadline=None)  # each new shape compiles the model (about 1 s)
@given(random_problems(shapes=SHAPE, max_alphas=2))
def test_rerun_bases_gives_the_dense_probs_images(drawn):
    """rerun_bases re-runs the null and row bases through the model: its max |J u| over the null
    basis and min |J u| over the row basis are those of the dense probs Jacobian
    (d(2 sqrt p) = u (dz - <p, dz>), the mean taken over the vocabulary)."""
    problem, v = drawn.problem, drawn.v
    spec = local_spectrum(problem, v, "probs")
    null_max, row_min, _ = rerun_bases(problem, spec)
    dense = dense_jacobian(problem, v, "probs")
    s_max = float(np.linalg.svd(dense, compute_uv=False)[0])
    bases = np.concatenate([spec.row_basis, spec.null_basis], axis=1)
    images = np.linalg.norm(dense @ bases, axis=0)
    r = spec.rank
    expected_null = float(images[r:].max()) if spec.null_dim else 0.0
    expected_row = float(images[:r].min()) if r else np.inf
    assert null_max == pytest.approx(expected_null, rel=1e-8, abs=1e-10 * s_max)
    assert row_min == pytest.approx(expected_row, rel=1e-8, abs=1e-10 * s_max)


def test_shard_map_fold_on_a_one_device_mesh_gives_the_one_device_factor():
    """The accelerator path (``_sharded_fold``: shard_map over the mesh axis "prompts"), run on a
    one-device mesh one prompt at a time, gives a factor R with R^T R = J^T J of the plain loop."""
    problem, channel = _problem(6), "logits"
    d = problem.d
    v = jnp.asarray(np.random.default_rng(6).standard_normal(d))
    args = problem.jax_args(channel)
    r_u = jnp.asarray(scipy.linalg.qr(problem.w_u.T, mode="r")[0][: min(problem.vocab, d)])
    r = jnp.zeros((1, d, d))
    for alpha in problem.alphas:
        for idx, w in _chunks(problem.n_prompts, 1):
            r = _sharded_fold(
                r, args["fn"], jnp.asarray(problem.stream[idx]), jnp.asarray(w), args["mask"],
                alpha, v, jnp.eye(d), r_u, args["w_u"], args["b_u"], mesh=prompt_mesh(1),
                channel=channel, direction_chunk=64, position_chunk=8,
            )  # fmt: skip
    R = np.asarray(r)[0]
    R0 = square_root_factor(problem, v, channel, EngineOptions(devices=1))
    scale = float(np.linalg.norm(R0, 2)) ** 2
    assert scale > 0
    np.testing.assert_allclose(R.T @ R, R0.T @ R0, rtol=0, atol=1e-12 * scale)
