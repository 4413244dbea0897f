"""The T3 Jacobian engine: square-root factors whose singular values are those of the full Jacobian.

Property tests build valid ``LocalProblem``s from one small downstream family with random
parameters (a pre-norm residual block with causal mixing; the mean-centring of its norms is
switched by a parameter, so LayerNorm-like and RMSNorm-like maps share one compilation), on a few
fixed shapes (JAX compiles once per shape). The reference is the naive dense Jacobian
(``jax.jacfwd`` over all d directions, dense SVD).
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

from synthetic.local_problems import local_problem, steering_vector
from synthetic.zoo import load_model, make_prompts
from theory.jacobian import (
    CHANNELS,
    EngineOptions,
    LocalProblem,
    behaviour,
    coordinates,
    coordinates_vjp,
    dense_jacobian,
    local_spectrum,
    logits_at,
    observe,
    square_root_factor,
    tangents,
    trait_rows,
)

# (N, T, d, V): a few fixed shapes, so each compiled map is built once per test process
SHAPES = [(2, 3, 5, 4), (3, 2, 6, 9), (1, 4, 4, 3)]


def _norm(p, x):
    c = x - p["centre"] * x.mean(axis=-1, keepdims=True)
    return c / jnp.sqrt((c * c).mean(axis=-1, keepdims=True) + 1e-3) * p["g"]


def small_downstream(p, h):
    """y = norm(h + tanh(norm(h) W1) W2 + causal_mean(norm(h)) W3): prompts independent, positions
    mixed causally; with centre = 1 every read goes through a mean-centring norm (exact
    symmetry 1)."""
    a = _norm(p, h)
    mix = jnp.cumsum(a, axis=1) / jnp.arange(1, h.shape[1] + 1)[None, :, None]
    return _norm(p, h + jnp.tanh(a @ p["w1"]) @ p["w2"] + mix @ p["w3"])


@dataclasses.dataclass(frozen=True)
class Drawn:
    problem: LocalProblem
    v: np.ndarray
    centred: bool


@st.composite
def random_problems(draw, centred=None, shapes=SHAPES, max_alphas: int = 2):
    """A valid LocalProblem of the small family: shape from ``shapes``, random weights, distinct
    nonzero strengths, steered positions (all or a subset), disjoint S+ and S-, bias or none."""
    N, T, d, V = draw(st.sampled_from(shapes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    centre = draw(st.booleans()) if centred is None else centred
    p = {
        "w1": rng.standard_normal((d, d)) / np.sqrt(d),
        "w2": rng.standard_normal((d, d)) / np.sqrt(d),
        "w3": rng.standard_normal((d, d)) / np.sqrt(d),
        "g": 1.0 + 0.2 * rng.standard_normal(d),
        "centre": np.asarray(1.0 if centre else 0.0),
    }
    n_alpha = draw(st.integers(1, max_alphas))
    alphas = tuple(
        draw(
            st.lists(
                st.sampled_from([-1.5, -0.5, 0.5, 1.0, 2.0]),
                min_size=n_alpha,
                max_size=n_alpha,
                unique=True,
            )
        )
    )
    positions = draw(st.one_of(st.none(), st.sets(st.integers(0, T - 1), min_size=1).map(sorted)))
    ids = rng.permutation(V)
    k = max(1, V // 3)
    b_u = draw(st.one_of(st.none(), st.just(rng.standard_normal(V))))
    problem = LocalProblem(
        jax.tree_util.Partial(small_downstream, jax.tree_util.tree_map(jnp.asarray, p)),
        rng.standard_normal((N, T, d)),
        rng.standard_normal((d, V)),
        b_u=b_u,
        positions=positions,
        alphas=alphas,
        plus=ids[:k],
        minus=ids[k : 2 * k],
    )
    return Drawn(problem, 1.5 * rng.standard_normal(d), centre)


def dense_singular_values(problem: LocalProblem, v: np.ndarray, channel: str) -> np.ndarray:
    s = scipy.linalg.svdvals(dense_jacobian(problem, v, channel))
    return np.concatenate([s, np.zeros(problem.d - s.size)])


def assert_same_spectrum(s_engine: np.ndarray, s_dense: np.ndarray, rel: float = 1e-12) -> None:
    assert s_engine.shape == s_dense.shape
    scale = max(float(s_dense[0]), 1e-300)
    assert np.max(np.abs(s_engine - s_dense)) <= rel * scale, (s_engine, s_dense)


# ---------------------------------------------------------------------------------------------
# the engine agrees with the naive dense Jacobian


# no deadline: each example builds the engine's factor and a dense Jacobian (~0.2 s)
@settings(max_examples=50, deadline=None)
@given(random_problems(), st.sampled_from(CHANNELS))
def test_engine_singular_values_equal_the_dense_jacobians(drawn, channel):
    spec = local_spectrum(drawn.problem, drawn.v, channel)
    assert_same_spectrum(
        spec.singular_values, dense_singular_values(drawn.problem, drawn.v, channel)
    )
    # the factor is a square root: |R u| = |J u| for any u
    u = np.random.default_rng(0).standard_normal(drawn.problem.d)
    dense = dense_jacobian(drawn.problem, drawn.v, channel)
    assert abs(spec.norm_of_image(u) - np.linalg.norm(dense @ u)) <= 1e-12 * max(
        1.0, np.linalg.norm(dense, 2)
    ) * np.linalg.norm(u)


# Each new combination of chunk sizes compiles the tangent map again (about a second): few examples.
@settings(max_examples=8, deadline=None)
@given(
    random_problems(shapes=[(3, 2, 6, 9)]),
    st.sampled_from(CHANNELS),
    st.sampled_from([None, 2]),
    st.sampled_from([64, 4]),
    st.sampled_from([8, 5]),
    st.sampled_from(["reverse", "forward"]),
)
def test_chunking_changes_nothing_but_round_off(
    drawn, channel, prompt_chunk, direction_chunk, position_chunk, mode
):
    options = EngineOptions(
        prompt_chunk=prompt_chunk,
        direction_chunk=direction_chunk,
        position_chunk=position_chunk,
        trait_mode=mode,
    )
    chunked = local_spectrum(drawn.problem, drawn.v, channel, options=options)
    assert_same_spectrum(
        chunked.singular_values, dense_singular_values(drawn.problem, drawn.v, channel)
    )


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems(centred=True), st.sampled_from(["logits", "probs"]))
def test_mean_centring_family_has_the_all_ones_null_direction_and_a_certified_rank(drawn, channel):
    spec = local_spectrum(drawn.problem, drawn.v, channel)
    assert spec.certified
    rows = drawn.problem.n_rows(channel)
    # the ones direction is exactly in ker J; generically nothing else is (rows >> d here)
    assert spec.rank == drawn.problem.d - 1
    one = np.ones(drawn.problem.d) / np.sqrt(drawn.problem.d)
    assert np.linalg.norm(spec.null_basis @ (spec.null_basis.T @ one) - one) <= 1e-10
    assert spec.norm_of_image(one) <= spec.decision.tolerance
    assert (
        rows
        == drawn.problem.n_prompts
        * len(drawn.problem.alphas)
        * drawn.problem.length
        * drawn.problem.vocab
    )


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems(centred=False), st.sampled_from(["logits", "probs"]))
def test_uncentred_family_is_locally_identifiable_with_a_certified_rank(drawn, channel):
    spec = local_spectrum(drawn.problem, drawn.v, channel)
    assert spec.certified and spec.rank == drawn.problem.d and spec.null_dim == 0


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems())
def test_null_and_row_bases_split_r_d_orthonormally(drawn):
    spec = local_spectrum(drawn.problem, drawn.v, "trait")
    basis = np.concatenate([spec.row_basis, spec.null_basis], axis=1)
    assert basis.shape == (drawn.problem.d, drawn.problem.d)
    assert np.allclose(basis.T @ basis, np.eye(drawn.problem.d), atol=1e-12)
    assert (
        np.linalg.norm(spec.factor @ spec.null_basis)
        <= max(spec.decision.tolerance, 0.0) * np.sqrt(drawn.problem.d) + 1e-300
    )


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems(), st.sampled_from(CHANNELS))
def test_vjp_is_the_transpose_of_the_dense_jacobian(drawn, channel):
    c = coordinates(drawn.problem, drawn.v, channel)
    cot = np.random.default_rng(1).standard_normal(c.shape)
    dense = dense_jacobian(drawn.problem, drawn.v, channel)
    got = coordinates_vjp(drawn.problem, drawn.v, channel, cot)
    assert np.allclose(got, dense.T @ cot.reshape(-1), rtol=1e-10, atol=1e-10 * np.abs(dense).max())


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems())
def test_reverse_and_forward_trait_rows_agree(drawn):
    rev = trait_rows(drawn.problem, drawn.v, mode="reverse")
    fwd = trait_rows(drawn.problem, drawn.v, mode="forward")
    assert rev.shape == (drawn.problem.n_prompts * len(drawn.problem.alphas), drawn.problem.d)
    assert np.allclose(rev, fwd, rtol=1e-11, atol=1e-12 * max(1.0, np.abs(rev).max()))


# ---------------------------------------------------------------------------------------------
# the zoo models


@pytest.fixture(scope="module", params=["tiny-ln", "tiny-rms"])
def zoo(request):
    model = load_model(request.param, 0)
    prompts = make_prompts(
        model, 8, 8, 0
    )  # the shape of tests/test_t3_local.py: compiled maps are shared
    return (
        model,
        local_problem(model, 1, prompts=prompts, alphas=(1.0, -0.5)),
        steering_vector(model, 0),
    )


@pytest.mark.parametrize("channel", CHANNELS)
def test_engine_matches_dense_on_the_zoo(zoo, channel):
    model, problem, v = zoo
    spec = local_spectrum(problem, v, channel)
    assert_same_spectrum(spec.singular_values, dense_singular_values(problem, v, channel))
    assert spec.certified
    one = np.ones(problem.d) / np.sqrt(problem.d)
    if channel != "trait":
        # T2a / T2b: the all-ones direction is null exactly for LayerNorm, not for RMSNorm
        assert (spec.null_dim == 1 and spec.norm_of_image(one) <= spec.decision.tolerance) == (
            model.cfg.norm == "layernorm"
        )
        assert spec.null_dim == (1 if model.cfg.norm == "layernorm" else 0)
    else:
        assert spec.rank == problem.n_prompts * len(problem.alphas)


def test_first_and_last_hook_points_of_tiny_ln_have_the_ones_symmetry():
    model = load_model("tiny-ln", 0)
    prompts = make_prompts(model, 2, 4, 1)
    v = steering_vector(model, 1)
    one = np.ones(model.cfg.d_model) / np.sqrt(model.cfg.d_model)
    for layer in (0, model.cfg.n_layers):  # layer 1 is covered above: the first and the last hook
        spec = local_spectrum(local_problem(model, layer, prompts=prompts), v, "logits")
        assert spec.certified and spec.null_dim == 1
        assert abs(abs(float(spec.null_basis[:, 0] @ one)) - 1.0) <= 1e-10


def test_behaviour_layouts():
    model = load_model("tiny-ln", 0)
    problem = local_problem(model, 1, n_prompts=3, length=5, alphas=(1.0, 2.0))
    v = steering_vector(model, 0)
    assert behaviour(problem, v, "logits").shape == (2, 3, 5, model.cfg.vocab_size)
    p = behaviour(problem, v, "probs")
    assert np.allclose(p.sum(-1), 1.0, atol=1e-12)
    assert behaviour(problem, v, "trait").shape == (2, 3)


# ---------------------------------------------------------------------------------------------
# bad input: ValueError naming the argument, before any work


def _good(**over):
    d, V = 4, 5
    kw = dict(
        downstream=lambda h: h * 1.0,
        stream=np.ones((2, 3, d)),
        w_u=np.ones((d, V)),
        alphas=(1.0,),
        plus=(0,),
        minus=(1,),
    )
    kw.update(over)
    return LocalProblem(**kw)


@pytest.mark.parametrize(
    "over, name",
    [
        (dict(stream=np.ones((0, 3, 4))), "stream"),
        (dict(stream=np.ones((2, 3))), "stream"),
        (dict(stream=np.full((2, 3, 4), np.nan)), "stream"),
        (dict(w_u=np.ones((3, 5))), "w_u"),
        (dict(b_u=np.ones(4)), "b_u"),
        (dict(positions=[3]), "positions"),
        (dict(positions=[]), "positions"),
        (dict(positions=[0, 0]), "positions"),
        (dict(alphas=()), "alphas"),
        (dict(alphas=(np.inf,)), "alphas"),
        (dict(plus=(0, 1), minus=(1,)), "plus"),
        (dict(plus=(7,)), "plus"),
        (dict(minus=(1.5,)), "minus"),
        (dict(minus=(True,)), "minus"),
        (dict(alphas=(1.0, float("nan"))), "alphas"),
        (dict(alphas=(True,)), "alphas"),
        (dict(positions=[0.0]), "positions"),
        (dict(downstream=3), "downstream"),
        (dict(downstream=lambda h: h[..., :2]), "downstream"),
    ],
)
def test_bad_problem_raises_naming_the_argument(over, name):
    with pytest.raises(ValueError, match=name):
        _good(**over)


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(
    st.one_of(
        st.integers(1, 7).filter(lambda n: n != 4).map(lambda n: np.ones(n)),
        st.sampled_from([np.nan, np.inf, -np.inf]).map(lambda x: np.array([1.0, x, 0.0, 2.0])),
        st.just(np.ones((2, 4))),
        st.just(np.array(["a", "b", "c", "d"])),
        st.just(None),
    )
)
def test_bad_vector_raises_naming_v(bad):
    with pytest.raises(ValueError, match=r"\bv\b"):
        local_spectrum(_good(), bad, "logits")
    with pytest.raises(ValueError, match=r"\bv\b"):
        behaviour(_good(), bad, "trait")


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda p: local_spectrum(p, np.ones(4), "logit"), "channel"),
        (lambda p: behaviour(p, np.ones(4), "hidden"), "channel"),
        (lambda p: local_spectrum(p, np.ones(4), "logits", tol=-1.0), "tol"),
        (
            lambda p: local_spectrum(
                p, np.ones(4), "logits", options=EngineOptions(direction_chunk=0)
            ),
            "direction_chunk",
        ),
        (lambda p: local_spectrum(p, np.ones(4), "logits", options={"prompt_chunk": 1}), "options"),
        (lambda p: EngineOptions(trait_mode="sideways"), "trait_mode"),
        (lambda p: trait_rows(p, np.ones(4), mode="sideways"), "mode"),
        (lambda p: trait_rows(p, np.ones(4), prompt_chunk=0), "prompt_chunk"),
        (lambda p: trait_rows(p, np.ones(4), direction_chunk=2.0), "direction_chunk"),
        (lambda p: EngineOptions(position_chunk=True), "position_chunk"),
        (lambda p: EngineOptions(prompt_chunk=-3), "prompt_chunk"),
        (lambda p: tangents(p, np.ones(4), np.eye(4), alpha=float("nan")), "alpha"),
        (lambda p: tangents(p, np.ones(4), np.eye(3)), "directions"),
        (lambda p: logits_at(p, np.ones(4), "1.0"), "alpha"),
        (lambda p: observe(p, np.ones(4), "entropy"), "kind"),
        (lambda p: p.n_rows("hidden"), "channel"),
        (lambda p: local_spectrum(p, np.ones(4), "logits").norm_of_image(np.ones(3)), r"\bu\b"),
        (lambda p: coordinates_vjp(p, np.ones(4), "trait", np.ones(3)), "cotangent"),
        (
            lambda p: square_root_factor(
                dataclasses.replace(p, plus=(), minus=()), np.ones(4), "trait"
            ),
            "plus",
        ),
    ],
)
def test_bad_arguments_raise_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call(_good())


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(layer=3), "layer"),
        (dict(layer=-1), "layer"),
        (dict(layer=1.0), "layer"),
        (dict(layer=1, prompts=np.zeros((0, 4), dtype=int)), "prompts"),
        (dict(layer=1, prompts=np.full((2, 4), 64)), "prompts"),
        (dict(layer=1, prompts=np.zeros((2, 17), dtype=int)), "prompts"),
    ],
)
def test_local_problem_validates_layer_and_prompts(kwargs, name):
    with pytest.raises(ValueError, match=name):
        local_problem(load_model("tiny-ln", 0), **kwargs)


def test_local_problem_needs_a_zoo_model():
    with pytest.raises(ValueError, match="model"):
        local_problem("tiny-ln", 1)
