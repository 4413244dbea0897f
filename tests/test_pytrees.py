"""Models and ``Steering`` are pytrees: callable, validated at construction, traced not hashed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from synthetic.transformer import Transformer, forward
from synthetic.zoo import PlantedModel, load_model, make_prompts
from theory.steering import Steering


@pytest.fixture(scope="module")
def model() -> PlantedModel:
    return load_model("tiny-ln", 0)


@pytest.fixture(scope="module")
def tokens(model):
    return make_prompts(model, 3, 6, 0)


def test_model_call_equals_forward_steered_and_unsteered(model, tokens):
    v = np.random.default_rng(0).standard_normal(model.cfg.d_model)
    s = Steering(layer=1, vector=v, alpha=0.7, positions=(0, 4))
    np.testing.assert_array_equal(model(tokens), forward(model.params, model.cfg, tokens))
    np.testing.assert_array_equal(model(tokens, s), forward(model.params, model.cfg, tokens, s))
    assert not np.allclose(model(tokens, s), model(tokens))


def test_model_flattens_to_its_params_and_concept_and_rebuilds_equal(model, tokens):
    leaves, treedef = jax.tree_util.tree_flatten(model)
    assert len(leaves) == len(jax.tree_util.tree_leaves(model.params)) + 1
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt, PlantedModel) and rebuilt.name == model.name
    np.testing.assert_array_equal(rebuilt.plus, model.plus)
    np.testing.assert_array_equal(rebuilt(tokens), model(tokens))


def test_a_model_passes_through_jit_as_an_argument(model, tokens):
    @jax.jit
    def last_logits(m, t):
        return m(t)[..., -1, :]

    np.testing.assert_allclose(last_logits(model, tokens), model(tokens)[..., -1, :], rtol=1e-13)
    doubled = jax.tree_util.tree_map(lambda x: 2.0 * x, model)
    assert not np.allclose(last_logits(doubled, tokens), last_logits(model, tokens))


def test_steering_is_traced_by_grad_and_vmap(model, tokens):
    d = model.cfg.d_model
    v = jnp.asarray(model.concept)

    def trait_of(s: Steering):
        return model.trait(tokens, s).sum()

    g = jax.grad(trait_of)(Steering(1, v, 1.0))
    assert isinstance(g, Steering) and g.vector.shape == (d,)
    # d trait / d alpha = <d trait / d v, v> / alpha at alpha = 1 (the score sees alpha v only)
    np.testing.assert_allclose(float(g.alpha), float(g.vector @ v), rtol=1e-10)

    alphas = jnp.array([0.0, 1.0, 2.0])
    batched = jax.vmap(lambda a: model.trait(tokens, Steering(1, v, a)))(alphas)
    for i, a in enumerate([0.0, 1.0, 2.0]):
        np.testing.assert_allclose(batched[i], model.trait(tokens, Steering(1, v, a)), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"layer": True}, "Steering.layer"),
        ({"layer": 1.0}, "Steering.layer"),
        ({"vector": np.full(4, np.nan)}, "Steering.vector"),
        ({"alpha": np.nan}, "Steering.alpha"),
        ({"alpha": True}, "Steering.alpha"),
        ({"positions": (0, 0)}, "Steering.positions"),
        ({"positions": (0.5,)}, "Steering.positions"),
    ],
)
def test_steering_is_validated_at_construction(kwargs, name):
    args = {"layer": 1, "vector": np.ones(4), "alpha": 1.0, "positions": None} | kwargs
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        Steering(**args)


def test_steering_accepts_numpy_scalars_and_is_immutable():
    s = Steering(np.int64(2), np.ones(3), np.float64(0.5), positions=np.array([1, 2]))
    assert (s.layer, s.alpha, s.positions) == (2, 0.5, (1, 2))
    with pytest.raises(AttributeError):
        s.layer = 3  # type: ignore[misc]
    assert s.vector.flags.writeable is False


def test_model_checks_its_params_once_at_construction(model):
    bad = model.params | {"w_u": model.params["w_u"][:, :-1]}
    with pytest.raises(ValueError, match="params"):
        Transformer(model.cfg, bad)
