"""The planted-concept model zoo: configs, planting, determinism, prompts, the trait score, and the
monotone rise of the trait under steering along the concept direction at every hook point."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synthetic.transformer import TransformerConfig, forward, init_params
from synthetic.zoo import (
    BETA,
    GAMMA,
    MODEL_NAMES,
    PlantedModel,
    load_model,
    make_prompts,
    plant_concept,
    trait_score,
)
from theory.steering import Steering

EXPECTED = {
    "tiny-ln": TransformerConfig(
        d_model=32, n_layers=2, n_heads=4, d_mlp=128, vocab_size=64, n_ctx=16, norm="layernorm"
    ),
    "tiny-rms": TransformerConfig(
        d_model=32, n_layers=2, n_heads=4, d_mlp=128, vocab_size=64, n_ctx=16, norm="rmsnorm"
    ),
    "small-ln": TransformerConfig(
        d_model=128, n_layers=4, n_heads=4, d_mlp=512, vocab_size=512, n_ctx=32, norm="layernorm"
    ),
}


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name) for name in MODEL_NAMES}


def _leaves_equal(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb))


# ----------------------------------------------------------------------------- names and structure


def test_model_names_and_configs(models):
    assert set(EXPECTED) <= set(MODEL_NAMES)
    for name, cfg in EXPECTED.items():
        assert models[name].cfg == cfg and models[name].name == name


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="name") as err:
        load_model("gpt-5")
    assert all(name in str(err.value) for name in MODEL_NAMES)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        load_model("tiny-ln", seed)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_planted_structure(models, name):
    m = models[name]
    d, V = m.cfg.d_model, m.cfg.vocab_size
    c = m.concept
    assert c.shape == (d,) and abs(np.linalg.norm(c) - 1.0) < 1e-12
    assert abs(c.sum()) < 1e-12  # orthogonal to the all-ones vector
    sets = [set(m.plus.tolist()), set(m.minus.tolist()), set(m.concept_tokens.tolist())]
    assert (
        all(s for s in sets)
        and not (sets[0] & sets[1])
        and not (sets[0] & sets[2])
        and not (sets[1] & sets[2])
    )
    assert all(0 <= t < V for s in sets for t in s)
    assert len(m.plus) == len(m.minus) and len(m.plus) + len(m.minus) + len(m.concept_tokens) < V
    # the params are the documented construction: init_params(cfg, key(seed)), then the planting
    rebuilt = plant_concept(
        init_params(m.cfg, jax.random.key(m.seed)), c, m.plus, m.minus, m.concept_tokens
    )
    assert _leaves_equal(m.params, rebuilt)


def test_plant_concept_is_exactly_the_rank_one_edits():
    cfg = EXPECTED["tiny-ln"]
    p = init_params(cfg, jax.random.key(5))
    rng = np.random.default_rng(5)
    c = rng.standard_normal(cfg.d_model)
    plus, minus, concept_tokens = np.array([1, 7]), np.array([3, 9, 11]), np.array([20])
    q = plant_concept(p, c, plus, minus, concept_tokens, beta=1.5, gamma=2.5)
    dwte = np.asarray(q["wte"] - p["wte"])
    dwu = np.asarray(q["w_u"] - p["w_u"])
    want_wte = np.zeros_like(dwte)
    want_wte[concept_tokens] = 1.5 * c
    want_wu = np.zeros_like(dwu)
    want_wu[:, plus] = 2.5 * c[:, None]
    want_wu[:, minus] = -2.5 * c[:, None]
    np.testing.assert_allclose(dwte, want_wte, atol=1e-14)
    np.testing.assert_allclose(dwu, want_wu, atol=1e-14)
    rest = lambda params: {k: v for k, v in params.items() if k not in ("wte", "w_u")}
    assert _leaves_equal(rest(q), rest(p))
    with pytest.raises(ValueError, match="disjoint"):
        plant_concept(p, c, plus, plus, concept_tokens)
    with pytest.raises(ValueError, match="concept"):
        plant_concept(p, c[:-1], plus, minus, concept_tokens)
    with pytest.raises(ValueError, match="gamma"):
        plant_concept(p, c, plus, minus, concept_tokens, gamma=float("inf"))


def test_deterministic_in_the_seed():
    a, b, other = load_model("tiny-rms", 3), load_model("tiny-rms", 3), load_model("tiny-rms", 4)
    assert a is not b and _leaves_equal(a.params, b.params)
    assert np.array_equal(a.concept, b.concept) and np.array_equal(a.plus, b.plus)
    assert np.array_equal(a.minus, b.minus) and np.array_equal(a.concept_tokens, b.concept_tokens)
    assert not np.array_equal(a.concept, other.concept) and not np.array_equal(
        a.params["wte"], other.params["wte"]
    )
    assert (a.beta, a.gamma, a.seed) == (BETA, GAMMA, 3)


# ----------------------------------------------------------------------------- prompts


def test_make_prompts(models):
    m = models["tiny-ln"]
    toks = make_prompts(m, 64, 10, seed=1)
    assert toks.shape == (64, 10) and toks.dtype.kind == "i"
    assert toks.min() >= 0 and toks.max() < m.cfg.vocab_size
    assert np.array_equal(toks, make_prompts(m, 64, 10, seed=1))
    assert not np.array_equal(toks, make_prompts(m, 64, 10, seed=2))
    has_concept = np.isin(toks, m.concept_tokens).any(axis=1)
    assert 0 < has_concept.sum() < len(toks)  # some prompts carry a concept token, not all
    plain = make_prompts(m.cfg, 5, m.cfg.n_ctx, seed=0)
    assert plain.shape == (5, m.cfg.n_ctx)
    assert forward(m.params, m.cfg, plain).shape == (5, m.cfg.n_ctx, m.cfg.vocab_size)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_prompts=0, length=4), "n_prompts"),
        (dict(n_prompts=2.0, length=4), "n_prompts"),
        (dict(n_prompts=2, length=0), "length"),
        (dict(n_prompts=2, length=17), "length"),
        (dict(n_prompts=2, length=4, seed=-3), "seed"),
    ],
)
def test_make_prompts_bad_input(models, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_prompts(models["tiny-ln"], **kwargs)


def test_make_prompts_needs_a_model_or_config():
    with pytest.raises(ValueError, match="model_or_cfg"):
        make_prompts("tiny-ln", 2, 4, 0)


# ----------------------------------------------------------------------------- the trait score

V_T = 10


@given(
    z=arrays(np.float64, (2, 3, V_T), elements=st.floats(-30, 30)),
    split=st.permutations(range(V_T)),
    k_plus=st.integers(1, 4),
    k_minus=st.integers(1, 4),
)
def test_trait_score_is_the_logsumexp_difference_at_the_last_position(z, split, k_plus, k_minus):
    plus, minus = np.array(split[:k_plus]), np.array(split[k_plus : k_plus + k_minus])
    got = np.asarray(trait_score(z, plus, minus))
    want = scipy.special.logsumexp(z[:, -1, plus], axis=-1) - scipy.special.logsumexp(
        z[:, -1, minus], axis=-1
    )
    assert got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    earlier = z.copy()
    earlier[:, :-1] += 5.0  # only the last position is read
    np.testing.assert_allclose(trait_score(earlier, plus, minus), got, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "logits, plus, minus, name",
    [
        (np.zeros((3, 5)), [0, 1], [1, 2], "disjoint"),
        (np.zeros((3, 5)), [0, 5], [2], "plus"),
        (np.zeros((3, 5)), [0], [], "minus"),
        (np.zeros((3, 5)), [0, 0], [2], "plus"),
        (np.zeros((3, 5)), [0.5], [2], "plus"),
        (np.zeros(5), [0], [2], "logits"),
        (np.full((3, 5), np.nan), [0], [2], "logits"),
        (None, [0], [2], "logits"),
    ],
)
def test_trait_score_bad_input(logits, plus, minus, name):
    with pytest.raises(ValueError, match=name):
        trait_score(logits, plus, minus)


def test_planted_model_methods(models):
    m = models["tiny-ln"]
    toks = make_prompts(m, 4, 8, seed=0)
    s = Steering(1, m.concept, 2.0)
    np.testing.assert_allclose(m.logits(toks, s), forward(m.params, m.cfg, toks, s), rtol=0, atol=0)
    np.testing.assert_allclose(
        m.trait(toks, s),
        trait_score(forward(m.params, m.cfg, toks, s), m.plus, m.minus),
        rtol=0,
        atol=0,
    )
    assert isinstance(m, PlantedModel)
    # the trait is differentiable in alpha (what a Jacobian engine needs): grad matches a central
    # difference
    f = lambda a: m.trait(toks, Steering(1, m.concept, a))
    g = jax.grad(lambda a: f(a).sum())(2.0)
    fd = (f(2.0 + 1e-5).sum() - f(2.0 - 1e-5).sum()) / 2e-5
    assert np.isfinite(g) and abs(g - fd) <= 1e-6 * max(1.0, abs(fd))


# ----------------------------------------------------------------------------- the planted concept
# steers the trait

ALPHAS = np.linspace(0.0, 8.0, 33)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_trait_rises_monotonically_along_the_concept_at_every_layer(models, name):
    """s(alpha) = trait(h_l + alpha c) is strictly increasing on alpha in [0, 8], at every hook
    point."""
    m = models[name]
    toks = make_prompts(m, 8, m.cfg.n_ctx, seed=0)
    c = jnp.asarray(m.concept)
    for layer in range(m.cfg.n_layers + 1):
        scores = np.asarray(
            jax.vmap(
                lambda a, layer=layer: trait_score(
                    forward(m.params, m.cfg, toks, Steering(layer, c, a)), m.plus, m.minus
                )
            )(jnp.asarray(ALPHAS))
        )  # (|A|, N)
        steps = np.diff(scores, axis=0)
        assert np.all(steps > 0), f"{name} layer {layer}: smallest step {steps.min()}"
        assert np.all(scores[-1] - scores[0] > 1.0)  # and the rise is substantial
