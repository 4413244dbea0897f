"""The common set-up of the paper's experiments on one model: prompts, contrastive pairs, the CAA
vector at the injection site, and the conditions' scores.

Models with the synthetic language (the trained zoo, or a directory ``steerid train`` wrote): the
evaluation prompts are the language's prompts (through SEP); a pair is a prompt of trait + and the
same prompt with every cue flipped; continuations have the language's length. Other models (the
planted zoo, any checkpoint): prompts of uniform tokens; a pair puts a concept token (planted zoo)
or an S+ token (checkpoints) at the last position against a neutral or S- token.

Steering follows the paper: ``alpha v`` added at ``blocks.{layer}.hook_resid_pre`` at the last
prompt token and, while generating, at every new token (``synthetic.sampler``); the CAA vector is
the mean of ``h+ - h-`` at the last prompt token, read at that same hook (the paper reads it one
block earlier: ``read_early``).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import jax
import numpy as np

from synthetic.environments import family_prompts
from synthetic.language import LANGUAGE, Language
from synthetic.sampler import generation_score, sample_continuations
from synthetic.trained_zoo import METADATA, TRAINED_NAMES, load_trained
from synthetic.trait_model import TraitModel
from synthetic.transformer import resid_pre
from synthetic.zoo import load_model, make_prompts
from theory.steering import Steering
from theory.validation import InputError, as_int, as_seed


@dataclasses.dataclass(frozen=True, eq=False)
class Setup:
    """One model's experiment set-up (module docstring). ``prompts`` (P, T0) and ``held_out`` are
    evaluation prompts; ``pairs`` = (plus, minus) prompts (N, T0); ``v`` the CAA vector at
    ``layer``; ``n_new`` tokens are sampled ``n_samples`` times per prompt at ``temperature``."""

    model: TraitModel
    layer: int
    seed: int
    prompts: np.ndarray
    held_out: np.ndarray
    pairs: tuple[np.ndarray, np.ndarray]
    n_new: int
    other_pairs: tuple[np.ndarray, np.ndarray]
    environments: dict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]]
    n_samples: int = 8
    temperature: float = 0.8
    language: Language | None = None
    continuation_pairs: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def last(self) -> int:
        """Position of the last prompt token."""
        return self.prompts.shape[1] - 1

    def activations(self, prompts: np.ndarray, layer: int | None = None) -> np.ndarray:
        """The stream at ``blocks.{layer}.hook_resid_pre`` at the last prompt token: (N, d)."""
        layer = self.layer if layer is None else layer
        return np.asarray(resid_pre(self.model.params, self.model.cfg, prompts, layer))[:, -1]

    def pair_activations(self, layer: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.activations(self.pairs[0], layer), self.activations(self.pairs[1], layer)

    @functools.cached_property
    def v(self) -> np.ndarray:
        """CAA at the injection site: mean over pairs of h+ - h- at the last prompt token."""
        hp, hm = self.pair_activations()
        return (hp - hm).mean(axis=0)

    @functools.cached_property
    def v_continuation(self) -> np.ndarray | None:
        """CAA averaged over the continuation tokens of whole sequences of trait + and their
        partners of trait - (cues and families swapped); None without a language."""
        if self.continuation_pairs is None or self.language is None:
            return None
        start = self.language.prompt_end
        cfg = self.model.cfg
        mean = lambda seqs: np.asarray(resid_pre(self.model.params, cfg, seqs, self.layer))[
            :, start:
        ].mean(axis=1)
        a, b = self.continuation_pairs
        return (mean(a) - mean(b)).mean(axis=0)

    @functools.cached_property
    def v_read_early(self) -> np.ndarray:
        """CAA read one block before the injection site (the paper's ``hidden_states[l]`` with the
        hook on block l's output); equal to ``v`` at layer 0."""
        hp, hm = self.pair_activations(max(self.layer - 1, 0))
        return (hp - hm).mean(axis=0)

    def other_contrast(self) -> np.ndarray:
        """CAA of another contrast at the injection site (E3's "other trait"): a topic swap with
        the language, a swap of two neutral token sets at the last position otherwise."""
        a, b = self.other_pairs
        return (self.activations(a) - self.activations(b)).mean(axis=0)

    def steering(self, vector: Any, alpha: float = 1.0) -> Steering:
        if not isinstance(vector, jax.core.Tracer):
            vector = np.asarray(vector, np.float64)
        return Steering(self.layer, vector, alpha, positions=(self.last,))

    def trait(self, vector: Any, alpha: float = 1.0, prompts: np.ndarray | None = None):
        """Trait channel: logsumexp z[S+] - logsumexp z[S-] at the last prompt token, (P,)."""
        prompts = self.prompts if prompts is None else prompts
        return np.asarray(self.model.trait(prompts, self.steering(vector, alpha)))

    def next_logits(self, vector: Any, alpha: float = 1.0) -> np.ndarray:
        """Next-token logits at the last prompt token under steering, (P, V)."""
        return np.asarray(self.model(self.prompts, self.steering(vector, alpha)))[:, -1]

    def generation(self, vector: Any, alpha: float, seed: int) -> np.ndarray:
        """Generation scores of ``n_samples`` continuations of every prompt, prompt-major:
        (P * n_samples,), row p * n_samples + s is sample s of prompt p."""
        rows = np.repeat(self.prompts, self.n_samples, axis=0)
        toks = sample_continuations(
            self.model, rows, self.n_new, seed, self.layer, vector, alpha, self.temperature
        )
        return generation_score(toks, self.model.plus, self.model.minus)

    def scores(self, vector: Any, alpha: float = 1.0, seed: int = 0) -> dict[str, list[float]]:
        """Both channels' raw per-sample scores of one condition."""
        return {
            "generation": self.generation(vector, alpha, seed).tolist(),
            "trait": self.trait(vector, alpha).tolist(),
        }


def _uses_language(name: Any) -> bool:
    return name in TRAINED_NAMES or (
        isinstance(name, (str, Path)) and (Path(name) / METADATA).is_file()
    )


def make_setup(
    name: Any,
    layer: int | None = None,
    seed: int = 0,
    n_prompts: int = 16,
    n_pairs: int = 64,
    n_samples: int = 8,
    plus: Any = (),
    minus: Any = (),
) -> Setup:
    """The set-up of model ``name`` (trained zoo, planted zoo, checkpoint directory, or a
    TraitModel) at ``layer`` (default L/2), everything drawn from ``seed``."""
    seed = as_seed("seed", seed)
    if isinstance(name, TraitModel):
        model = name
        language = None
    elif _uses_language(name):
        trained = name if name in TRAINED_NAMES else None
        model = (
            load_trained(trained)
            if trained
            else load_trained(_trained_name(Path(name)), directory=name)
        )
        language = LANGUAGE
    else:
        model = load_model(name, seed, plus, minus)
        language = None
    cfg = model.cfg
    layer = cfg.n_layers // 2 if layer is None else as_int("layer", layer, low=0, high=cfg.n_layers)
    if not model.plus.size or not model.minus.size:
        raise InputError(f"{model.name} has no trait token sets: give plus and minus")
    if language is not None:
        rng_seeds = 1000 + 3 * seed
        prompts = language.prompts(language.sample(n_prompts, rng_seeds))
        held_out = language.prompts(language.sample(n_prompts, rng_seeds + 1))
        pos = language.prompts(language.sample(n_pairs, rng_seeds + 2, trait=1))
        pairs = (pos, language.flip(pos))
        topic0 = language.prompts(language.sample(n_pairs, rng_seeds + 3, topic=0))
        swapped = np.where(
            np.isin(topic0, language.topic_tokens(0)), topic0 + language.topic_size, topic0
        )
        whole = language.sample(n_pairs, rng_seeds + 4, trait=1).tokens[:, : cfg.n_ctx]
        return Setup(
            model,
            layer,
            seed,
            prompts,
            held_out,
            pairs,
            language.cont_len,
            (topic0, swapped),
            _language_environments(language, n_prompts, n_pairs, rng_seeds),
            n_samples,
            language=language,
            continuation_pairs=(whole, language.flip(whole, continuation=True)),
        )
    length = cfg.n_ctx // 2
    prompts = make_prompts(cfg, n_prompts, length, seed)
    held_out = make_prompts(cfg, n_prompts, length, seed + 1)
    base = make_prompts(cfg, n_pairs, length, seed + 2)
    rng = np.random.default_rng(seed + 3)
    special = np.concatenate([model.plus, model.minus, model.concept_tokens])
    neutral = np.setdiff1d(np.arange(cfg.vocab_size), special)
    a, b = base.copy(), base.copy()
    if model.concept_tokens.size:
        a[:, -1] = rng.choice(model.concept_tokens, n_pairs)
        b[:, -1] = rng.choice(neutral, n_pairs)
    else:
        a[:, -1] = rng.choice(model.plus, n_pairs)
        b[:, -1] = rng.choice(model.minus, n_pairs)
    half = rng.permutation(neutral)
    c, e = base.copy(), base.copy()
    c[:, -1] = rng.choice(half[: half.size // 2], n_pairs)
    e[:, -1] = rng.choice(half[half.size // 2 :], n_pairs)
    envs = {}
    for fam in range(4):
        env = family_prompts(model, fam, 4, n_prompts + n_pairs, length, seed)
        ea, eb = env[n_prompts:].copy(), env[n_prompts:].copy()
        ea[:, -1], eb[:, -1] = a[:, -1], b[:, -1]
        envs[f"family_{fam}"] = (env[:n_prompts], (ea, eb))
    return Setup(
        model,
        layer,
        seed,
        prompts,
        held_out,
        (a, b),
        cfg.n_ctx - length + 1,
        (c, e),
        envs,
        n_samples,
    )


def _language_environments(language: Language, n_prompts: int, n_pairs: int, seed: int):
    """Topic and genre environments: evaluation prompts and contrastive pairs of each."""
    envs = {}
    for kind, values in (("topic", range(language.n_topics)), ("genre", range(language.n_genres))):
        for value in values:
            s = seed + 17 * (1 + value) + (0 if kind == "topic" else 1000)
            prompts = language.prompts(language.sample(n_prompts, s, **{kind: value}))
            pos = language.prompts(language.sample(n_pairs, s + 1, trait=1, **{kind: value}))
            envs[f"{kind}_{value}"] = (prompts, (pos, language.flip(pos)))
    return envs


def _trained_name(directory: Path) -> str:
    import json

    meta = json.loads((directory / METADATA).read_text())
    if meta.get("name") not in TRAINED_NAMES:
        raise InputError(f"{directory / METADATA} names no trained-zoo model")
    return str(meta["name"])
