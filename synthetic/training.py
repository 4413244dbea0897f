"""Training a transformer on the synthetic language: next-token cross-entropy, optax AdamW with a
warm-up + cosine schedule, float32, deterministic from a seed; analysis afterwards in float64.

    loss(theta) = mean over sequences and positions t = 0..T-2 of -log softmax(z_t)[x_{t+1}]

Training batches are drawn from the language by ``numpy.random.default_rng(seed * 7919 + step)``
(the same seed, the same run); the weights start from ``init_params(cfg, jax.random.key(seed))``.
``evaluate`` reports the validation loss (float64, the float32 weights cast) against the language's
entropy, and the accuracy of a linear probe of the latent trait at every hook point.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from synthetic.language import LANGUAGE, Language
from synthetic.transformer import Transformer, TransformerConfig, _forward, init_params, resid_pre
from theory.validation import InputError, as_positive_int, as_seed

__all__ = ["TrainSpec", "evaluate", "probe_accuracies", "train", "validation_loss"]

VALIDATION_SEED = 10_007  # the validation set: LANGUAGE.sample(n_val, VALIDATION_SEED)
PROBE_SEEDS = (20_011, 20_021)  # the probe's fitting and test prompts


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """steps of AdamW (peak ``lr``, ``warmup`` linear steps, then cosine decay to lr/10), batches of
    ``batch`` sequences, decoupled weight decay ``weight_decay``, everything from ``seed``."""

    steps: int = 3000
    batch: int = 64
    lr: float = 3e-3
    warmup: int = 200
    weight_decay: float = 0.01
    seed: int = 0


def _loss(params: dict, cfg: TransformerConfig, tokens):
    logits = _forward(params, cfg, tokens[:, :-1], 0, None, None, None)
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()


_loss_jit = jax.jit(_loss, static_argnames="cfg")


def train(
    cfg: TransformerConfig,
    spec: TrainSpec = TrainSpec(),
    language: Language = LANGUAGE,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[Transformer, list[float]]:
    """Train from ``init_params(cfg, key(spec.seed))`` for ``spec.steps`` steps in float32. Returns
    the model (its float32 weights held as float64 arrays) and the training loss of every step.
    ``progress(step, loss)`` is called after each step."""
    if not isinstance(spec, TrainSpec):
        raise InputError(f"spec must be a TrainSpec, got {type(spec).__name__}")
    steps, batch = (
        as_positive_int("spec.steps", spec.steps),
        as_positive_int("spec.batch", spec.batch),
    )
    seed = as_seed("spec.seed", spec.seed)
    if cfg.vocab_size < language.vocab_size or cfg.n_ctx < language.n_ctx - 1:
        raise InputError(
            f"cfg needs vocab_size >= {language.vocab_size} and n_ctx >= {language.n_ctx - 1}"
        )
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, spec.lr, min(spec.warmup, steps - 1), steps, end_value=spec.lr / 10
    )
    opt = optax.adamw(schedule, weight_decay=spec.weight_decay)
    params = jax.tree_util.tree_map(
        lambda x: jnp.asarray(x, jnp.float32), init_params(cfg, jax.random.key(seed))
    )
    state = opt.init(params)

    @jax.jit
    def step(params, state, tokens):
        loss, grads = jax.value_and_grad(_loss)(params, cfg, tokens)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    for i in range(steps):
        tokens = language.sample(batch, seed * 7919 + i).tokens
        params, state, loss = step(params, state, jnp.asarray(tokens, jnp.int32))
        losses.append(float(loss))
        if progress is not None:
            progress(i + 1, losses[-1])
    params64 = jax.tree_util.tree_map(lambda x: jnp.asarray(np.asarray(x), jnp.float64), params)
    return Transformer(cfg, params64), losses


def validation_loss(model: Transformer, language: Language = LANGUAGE, n: int = 2048) -> float:
    """Mean next-token loss (nats) of ``model`` in float64 on ``language.sample(n,
    VALIDATION_SEED)``."""
    tokens = jnp.asarray(language.sample(as_positive_int("n", n), VALIDATION_SEED).tokens)
    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), model.params)
    return float(_loss_jit(params, model.cfg, tokens))


def probe_accuracies(
    model: Transformer, language: Language = LANGUAGE, n: int = 2000
) -> list[float]:
    """Held-out accuracy of a logistic probe (scikit-learn, C = 1) of the latent trait y from the
    stream at the last prompt token (SEP), at every hook point l = 0..n_layers: fitted on ``n``
    prompts, scored on ``n`` others.

    The L2-regularised logistic loss is strictly convex, so its minimiser is unique; the fit runs to
    a gradient tolerance of 1e-10 so that the accuracy is that minimiser's, not a solver path's (at
    scikit-learn's default 1e-4 one test prompt in 2000 flipped between two CPUs)."""
    from sklearn.linear_model import LogisticRegression

    n = as_positive_int("n", n)
    fit, test = (language.sample(n, s) for s in PROBE_SEEDS)
    pos = language.prompt_end - 1
    out = []
    for layer in range(model.cfg.n_layers + 1):
        feats = [
            np.asarray(resid_pre(model.params, model.cfg, language.prompts(b), layer))[:, pos]
            for b in (fit, test)
        ]
        probe = LogisticRegression(C=1.0, tol=1e-10, max_iter=20_000).fit(feats[0], fit.trait)
        out.append(float(probe.score(feats[1], test.trait)))
    return out


def evaluate(model: Transformer, language: Language = LANGUAGE) -> dict[str, Any]:
    """The numbers a trained model's metadata records: validation loss, the language's entropy
    (and its standard error), the Bayes ceiling of a trait probe, probe accuracy per layer."""
    t0 = time.perf_counter()
    entropy, se = language.entropy(20_000, VALIDATION_SEED + 1)
    test = language.sample(2000, PROBE_SEEDS[1])
    return {
        "validation_loss": validation_loss(model, language),
        "entropy": entropy,
        "entropy_se": se,
        "bayes_probe_accuracy": language.bayes_accuracy(test),
        "probe_accuracy": probe_accuracies(model, language),
        "evaluate_seconds": time.perf_counter() - t0,
    }
