"""The synthetic language: its exact probabilities are a distribution, they match the sampler, a
contrastive pair flips the trait's posterior, and the trait is readable from the prompt."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic.language import LANGUAGE, Language
from theory.validation import InputError


@st.composite
def tiny_languages(draw) -> Language:
    """Languages small enough to enumerate: a prompt of 2 or 3 positions and one continuation
    token; every rate drawn from its valid range."""
    n_genres = draw(st.integers(1, 3))
    prompt_len = draw(st.integers(2, 3))
    rho = draw(st.floats(0.1, 0.7))
    return Language(
        n_genres=n_genres,
        n_cues=draw(st.integers(1, 2)),
        family_size=draw(st.integers(1, 2)),
        n_topics=draw(st.integers(1, 2)),
        topic_size=draw(st.integers(1, 2)),
        n_fillers=1,
        prompt_len=prompt_len,
        cont_len=1,
        cue_counts=(1,),
        cue_noise=draw(st.floats(0.0, 0.4)),
        filler_rate=tuple(draw(st.floats(0.0, 0.9)) for _ in range(n_genres)),
        rho=rho,
        rho_bar=draw(st.floats(0.0, 0.95 - rho)),
    )


def _all_sequences(lang: Language) -> np.ndarray:
    """Every sequence with BOS, a genre marker and SEP in place, the other positions free."""
    free = lang.prompt_len + lang.cont_len
    rows = []
    for g in lang.genre_markers:
        for body in itertools.product(range(lang.vocab_size), repeat=free):
            rows.append([lang.BOS, g, *body[: lang.prompt_len], lang.SEP, *body[lang.prompt_len :]])
    return np.asarray(rows, dtype=np.int64)


@settings(max_examples=15, deadline=None)  # enumerates up to ~10^5 sequences
@given(tiny_languages())
def test_probabilities_sum_to_one(lang):
    """sum_x p(x) = 1 over every sequence: log_prob is a normalised distribution (the latents
    summed out exactly)."""
    p = np.exp(lang.log_prob(_all_sequences(lang)))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_sampler_frequencies_match_log_prob():
    """Empirical frequencies of 200,000 samples agree with p(x) within 5 standard errors."""
    lang = Language(
        n_genres=2, n_cues=1, family_size=1, n_topics=2, topic_size=1, n_fillers=1,
        prompt_len=2, cont_len=1, cue_counts=(1,), filler_rate=(0.3, 0.6),
    )  # fmt: skip
    n = 200_000
    seqs, counts = np.unique(lang.sample(n, 1).tokens, axis=0, return_counts=True)
    p = np.exp(lang.log_prob(seqs))
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(counts / n - p) <= 5 * se + 1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-3)  # every likely sequence was drawn


def test_flip_is_an_involution_that_flips_the_posterior():
    """flip(flip(x)) = x, and p(y = + | flip(x)) = 1 - p(y = + | x): the cue noise is symmetric."""
    batch = LANGUAGE.sample(500, 3)
    flipped = LANGUAGE.flip(batch.tokens)
    assert np.array_equal(LANGUAGE.flip(flipped), batch.tokens)
    post = LANGUAGE.trait_posterior(batch.tokens)
    assert np.allclose(LANGUAGE.trait_posterior(flipped), 1 - post, atol=1e-12)


def test_sequences_carry_their_latents():
    """Each sampled sequence has its genre's marker, its topic's tokens only, and its trait's
    cues in the majority often enough for the Bayes rule to read the trait from the prompt."""
    b = LANGUAGE.sample(2000, 4)
    assert np.array_equal(b.tokens[:, 1], LANGUAGE.genre_markers[b.genre])
    topics = np.stack([np.isin(b.tokens, LANGUAGE.topic_tokens(k)) for k in range(4)], 1)
    present = topics.any(axis=2)  # (N, topics): which topics' tokens appear
    assert np.all(present.sum(1) <= 1) and np.all(
        present[np.arange(2000), b.topic] | ~present.any(1)
    )
    assert LANGUAGE.bayes_accuracy(b) >= 0.95


def test_environments_fix_their_latent():
    for kind, value in (("topic", 2), ("genre", 1), ("trait", -1)):
        b = LANGUAGE.sample(50, 0, **{kind: value})
        assert np.all(getattr(b, kind) == value)


def test_same_seed_same_sequences():
    assert np.array_equal(LANGUAGE.sample(64, 9).tokens, LANGUAGE.sample(64, 9).tokens)
    assert not np.array_equal(LANGUAGE.sample(64, 9).tokens, LANGUAGE.sample(64, 10).tokens)


def test_impossible_sequences_have_probability_zero():
    t = LANGUAGE.sample(4, 0).tokens.copy()
    t[:, 0] = LANGUAGE.SEP  # no BOS
    assert np.all(LANGUAGE.log_prob(t) == -np.inf)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filler_rate": (0.1,)},
        {"cue_counts": ()},
        {"cue_noise": 0.5},
        {"rho": 0.6, "rho_bar": 0.5},
        {"n_genres": 4, "filler_rate": (0.1,) * 4},
    ],
)
def test_bad_language_is_rejected(kwargs):
    with pytest.raises(InputError):
        Language(**kwargs)


def test_bad_sampling_arguments_are_rejected():
    with pytest.raises(InputError, match="topic"):
        LANGUAGE.sample(4, 0, topic=9)
    with pytest.raises(InputError, match="n"):
        LANGUAGE.sample(0, 0)
    with pytest.raises(InputError, match="tokens"):
        LANGUAGE.log_prob(np.zeros((2, 5), dtype=np.int64))


def test_flipping_cues_and_families_preserves_probability():
    """Swapping C+ <-> C- and S+ <-> S- maps a sequence of trait y to one of trait -y with the
    same probability: the language is symmetric in the trait."""
    batch = LANGUAGE.sample(300, 8)
    swapped = LANGUAGE.flip(batch.tokens, continuation=True)
    assert np.allclose(LANGUAGE.log_prob(swapped), LANGUAGE.log_prob(batch.tokens), atol=1e-10)
