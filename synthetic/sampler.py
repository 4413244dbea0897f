"""A jit-compiled sampler of continuations under steering, and the exact generation score.

    x_{t+1} ~ softmax(z_t(x_{<=t}; s) / temperature),   t = P-1, ..., P+n-2

with the steering s = (l, v, alpha) added at every position from the last prompt token on: the
positions each generation step of a cached decoder adds it to (the prompt's last token at the first
step, then each new token). The prompt is run once and every new token costs one cached step
(``synthetic.decoding``); the cache has a fixed length P + n, so one compilation serves every
prompt batch of a shape; the loop is a ``lax.fori_loop`` and the draws come from one
``jax.random`` key per call (``jax.random.fold_in`` per step).

    score(continuation) = (#tokens in S+ - #tokens in S-) / n      (exact; no classifier)
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic import decoding
from synthetic.transformer import Transformer
from theory.validation import InputError, as_int, as_positive_int, as_real, as_vector

__all__ = ["generation_score", "sample_continuations"]


@partial(jax.jit, static_argnames=("cfg", "layer", "n_new"))
def _sample(params, cfg, prompts, layer: int, vector, alpha, n_new: int, key, temperature):
    """Prefill the prompt once, then one cached step per new token (``synthetic.decoding``)."""
    N, P = prompts.shape
    cache = decoding.empty_cache(params, cfg, N, P + n_new)
    delta = alpha * vector
    at_last = (jnp.arange(P) == P - 1).astype(delta.dtype)[:, None] * delta  # (P, d)
    z, cache = decoding.run(params, cfg, prompts, jnp.arange(P), cache, layer, at_last)
    out = jnp.zeros((N, n_new), dtype=prompts.dtype)

    def draw(i, z):
        tok = jax.random.categorical(jax.random.fold_in(key, i), z / temperature, axis=-1)
        return tok.astype(prompts.dtype)

    def step(i, carry):
        z, cache, out = carry
        tok = draw(i, z)
        pos = jnp.reshape(P + i, (1,))
        z, cache = decoding.run(params, cfg, tok[:, None], pos, cache, layer, delta)
        return z, cache, out.at[:, i].set(tok)

    z, cache, out = jax.lax.fori_loop(0, n_new - 1, step, (z, cache, out))
    return out.at[:, n_new - 1].set(draw(n_new - 1, z))


def sample_continuations(
    model: Transformer,
    prompts: Any,
    n_new: int,
    seed: int,
    layer: int = 0,
    vector: Any = None,
    alpha: float = 1.0,
    temperature: float = 0.8,
) -> np.ndarray:
    """(N, n_new) tokens sampled after each prompt (N, P) under steering ``alpha * vector`` at
    ``blocks.{layer}.hook_resid_pre`` (vector None: unsteered), at ``temperature`` > 0, from
    ``jax.random.key(seed)``. Same arguments, same tokens."""
    if not isinstance(model, Transformer):
        raise InputError(f"model must be a Transformer, got {type(model).__name__}")
    cfg = model.cfg
    prompts = np.asarray(prompts)
    if prompts.ndim != 2 or prompts.dtype.kind not in "iu" or 0 in prompts.shape:
        raise InputError(f"prompts must be a non-empty int array (N, P), got {prompts.shape}")
    if prompts.min() < 0 or prompts.max() >= cfg.vocab_size:
        raise InputError(f"prompts must hold token ids in [0, {cfg.vocab_size})")
    n_new = as_positive_int("n_new", n_new)
    if prompts.shape[1] + n_new - 1 > cfg.n_ctx:
        raise InputError(
            f"prompt length {prompts.shape[1]} + n_new {n_new} - 1 exceeds n_ctx = {cfg.n_ctx}"
        )
    layer = as_int("layer", layer, low=0, high=cfg.n_layers)
    v = np.zeros(cfg.d_model) if vector is None else as_vector("vector", vector, cfg.d_model)
    alpha = as_real("alpha", alpha)
    temperature = as_real("temperature", temperature, low=0.0, low_open=True)
    key = jax.random.key(as_int("seed", seed, low=0))
    toks = _sample(
        model.params,
        cfg,
        jnp.asarray(prompts, jnp.int32),
        layer,
        jnp.asarray(v),
        alpha,
        n_new,
        key,
        temperature,
    )
    return np.asarray(toks, dtype=np.int64)


def generation_score(tokens: Any, plus: Any, minus: Any) -> np.ndarray:
    """(#S+ - #S-) / n for each row of ``tokens`` (N, n): the fraction of trait tokens, signed."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] == 0:
        raise InputError(f"tokens must have shape (N, n) with n >= 1, got {tokens.shape}")
    return (np.isin(tokens, plus).sum(1) - np.isin(tokens, minus).sum(1)) / tokens.shape[1]
