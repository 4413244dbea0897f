"""The trained zoo: training lowers the loss deterministically, the shipped weights reproduce their
recorded numbers, and the latent trait is linearly readable where the experiments steer."""

from __future__ import annotations

import numpy as np
import pytest

from synthetic.language import LANGUAGE
from synthetic.trained_zoo import (
    TRAINED_NAMES,
    TRAINED_SPECS,
    load_trained,
    metadata,
    steering_layer,
    trained_dir,
)
from synthetic.training import TrainSpec, probe_accuracies, train, validation_loss
from synthetic.transformer import TransformerConfig
from synthetic.zoo import load_model
from theory.validation import InputError

SMALL = TransformerConfig(
    d_model=16, n_layers=1, n_heads=2, d_mlp=32, vocab_size=LANGUAGE.vocab_size,
    n_ctx=LANGUAGE.n_ctx, family="gpt2",
)  # fmt: skip


def test_a_short_run_lowers_the_loss_and_is_reproducible():
    """60 AdamW steps lower the training loss well below its start, and the same seed gives the
    same weights bit for bit."""
    spec = TrainSpec(steps=60, batch=32, lr=1e-2, warmup=10, seed=3)
    model, losses = train(SMALL, spec)
    assert np.mean(losses[-10:]) < np.mean(losses[:5]) - 1.0
    again, losses2 = train(SMALL, spec)
    assert losses == losses2
    for a, b in zip(
        np.asarray(model.params["wte"]).ravel(),
        np.asarray(again.params["wte"]).ravel(),
        strict=True,
    ):
        assert a == b
    assert validation_loss(model, n=256) < losses[0]


@pytest.mark.parametrize("name", TRAINED_NAMES)
def test_shipped_weights_reproduce_their_recorded_numbers(name):
    """Validation loss (float64) and probe accuracies recomputed from the shipped float32 weights
    equal what the metadata recorded when they were written."""
    meta = metadata(name)
    model = load_trained(name)
    assert validation_loss(model) == pytest.approx(meta["validation_loss"], rel=1e-10)
    assert probe_accuracies(model) == pytest.approx(meta["probe_accuracy"], abs=1e-12)


@pytest.mark.parametrize("name", TRAINED_NAMES)
def test_trained_models_learned_the_language(name):
    """Validation loss within 0.02 nats of the language's entropy (and never below it by more than
    its standard error allows); the trait probe at the steering layer reaches 0.95 and at most the
    Bayes ceiling plus the test set's sampling error."""
    meta = metadata(name)
    H, se = meta["entropy"], meta["entropy_se"]
    assert H - 4 * se <= meta["validation_loss"] <= H + 0.02
    layer = steering_layer(TRAINED_SPECS[name][0])
    assert meta["steering_layer"] == layer
    acc = meta["probe_accuracy"][layer]
    assert acc >= 0.95
    assert acc <= meta["bayes_probe_accuracy"] + 3 * np.sqrt(0.25 / 2000)
    assert meta["probe_accuracy"][0] < 0.6  # the token embedding of SEP alone knows nothing


def test_recorded_entropy_is_the_languages():
    H, se = LANGUAGE.entropy(20_000, 10_008)
    meta = metadata("trained-gpt2")
    assert H == pytest.approx(meta["entropy"], abs=1e-12) and se == pytest.approx(
        meta["entropy_se"], abs=1e-12
    )


@pytest.mark.parametrize("name", TRAINED_NAMES)
def test_trained_models_load_by_name_with_the_language_trait_sets(name):
    model = load_model(name)
    assert model.cfg == TRAINED_SPECS[name][0]
    assert np.array_equal(model.plus, LANGUAGE.plus) and np.array_equal(model.minus, LANGUAGE.minus)
    assert (trained_dir(name) / "model.safetensors").stat().st_size < 700_000
    with pytest.raises(InputError, match="trained-zoo"):
        load_model(name, plus=(1,), minus=(2,))


def test_trained_model_steers_its_trait():
    """Adding the CAA direction at the steering layer raises the model's own trait score (the
    log-odds of S+ over S- at SEP) on average over prompts."""
    from theory.steering import Steering

    model = load_trained("trained-gpt2")
    layer = steering_layer(model.cfg)
    pos = LANGUAGE.prompts(LANGUAGE.sample(64, 5, trait=1))
    from synthetic.transformer import resid_pre

    h = lambda p: np.asarray(resid_pre(model.params, model.cfg, p, layer))[:, -1]
    v = (h(pos) - h(LANGUAGE.flip(pos))).mean(0)
    prompts = LANGUAGE.prompts(LANGUAGE.sample(32, 6))
    last = (prompts.shape[1] - 1,)
    base = np.asarray(model.trait(prompts))
    up = np.asarray(model.trait(prompts, Steering(layer, v, 1.0, last)))
    down = np.asarray(model.trait(prompts, Steering(layer, v, -1.0, last)))
    assert up.mean() > base.mean() + 1.0 > down.mean() + 2.0
