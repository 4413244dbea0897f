"""The jit-compiled sampler equals step-by-step decoding, and the generation score counts
exactly."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic.sampler import generation_score, sample_continuations
from synthetic.zoo import load_model, make_prompts
from theory.steering import Steering
from theory.validation import InputError

MODEL = load_model("tiny-ln")


def naive_sample(model, prompts, n_new, seed, layer, v, alpha, temperature):
    """Decoding one token at a time on a growing prefix, the steering added at every position from
    the last prompt token on: what a cached decoder with a steering hook computes."""
    key = jax.random.key(seed)
    buf = np.asarray(prompts)
    P = buf.shape[1]
    out = []
    for i in range(n_new):
        s = Steering(layer, v, alpha, positions=tuple(range(P - 1, P + i)))
        z = np.asarray(model(buf, s))[:, -1]
        tok = np.asarray(jax.random.categorical(jax.random.fold_in(key, i), z / temperature))
        out.append(tok)
        buf = np.concatenate([buf, tok[:, None]], axis=1)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("layer,alpha", [(0, 0.0), (1, 1.5), (2, -2.0)])
def test_sampler_equals_step_by_step_decoding(layer, alpha):
    prompts = make_prompts(MODEL, 6, 8, seed=1)
    v = np.asarray(MODEL.concept) * 2.0
    got = sample_continuations(MODEL, prompts, 7, 11, layer, v, alpha, temperature=0.8)
    want = naive_sample(MODEL, prompts, 7, 11, layer, v, alpha, 0.8)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("name", ["trained-gpt2", "trained-llama"])
def test_cached_decoding_matches_step_by_step_on_both_families(name):
    """Grouped-query attention and rotary positions in the cache (llama), learned positions and
    fused attention (gpt2): the same tokens as recomputing every prefix."""
    from synthetic.language import LANGUAGE

    model = load_model(name)
    prompts = LANGUAGE.prompts(LANGUAGE.sample(6, 0))
    v = np.random.default_rng(0).standard_normal(64) * 3
    got = sample_continuations(model, prompts, 9, 5, 2, v, 1.0)
    assert np.array_equal(got, naive_sample(model, prompts, 9, 5, 2, v, 1.0, 0.8))


def test_unsteered_is_the_zero_vector_and_seeds_reproduce():
    prompts = make_prompts(MODEL, 4, 8, seed=2)
    a = sample_continuations(MODEL, prompts, 5, 3)
    assert np.array_equal(a, sample_continuations(MODEL, prompts, 5, 3, 1, np.zeros(32), 4.0))
    assert not np.array_equal(a, sample_continuations(MODEL, prompts, 5, 4))


def test_low_temperature_is_greedy():
    """At temperature -> 0 the draw is the argmax of the logits."""
    prompts = make_prompts(MODEL, 5, 8, seed=3)
    toks = sample_continuations(MODEL, prompts, 1, 0, temperature=1e-9)
    greedy = np.asarray(MODEL(prompts)).argmax(-1)[:, -1]
    assert np.array_equal(toks[:, 0], greedy)


@st.composite
def token_rows(draw):
    n, length = draw(st.integers(1, 6)), draw(st.integers(1, 12))
    return np.asarray(
        draw(st.lists(st.integers(0, 19), min_size=n * length, max_size=n * length))
    ).reshape(n, length)


@settings(max_examples=40)
@given(token_rows(), st.sets(st.integers(0, 19), max_size=6))
def test_generation_score_counts_trait_tokens(tokens, chosen):
    plus, minus = sorted(chosen)[: len(chosen) // 2], sorted(chosen)[len(chosen) // 2 :]
    score = generation_score(tokens, plus, minus)
    for row, s in zip(tokens, score, strict=True):
        want = (sum(t in plus for t in row) - sum(t in minus for t in row)) / row.size
        assert s == pytest.approx(want, abs=1e-15)
        assert -1.0 <= s <= 1.0


def test_sampler_rejects_bad_input():
    prompts = make_prompts(MODEL, 2, 8, seed=0)
    with pytest.raises(InputError, match="n_ctx"):
        sample_continuations(MODEL, prompts, 10, 0)
    with pytest.raises(InputError, match="temperature"):
        sample_continuations(MODEL, prompts, 2, 0, temperature=0.0)
    with pytest.raises(InputError, match="prompts"):
        sample_continuations(MODEL, prompts + 100, 2, 0)
    with pytest.raises(InputError, match="vector"):
        sample_continuations(MODEL, prompts, 2, 0, 1, np.ones(5))
    with pytest.raises(InputError, match="layer"):
        sample_continuations(MODEL, prompts, 2, 0, 3)
    with pytest.raises(InputError, match="tokens"):
        generation_score(np.zeros((2, 0), dtype=int), [1], [2])
