"""Key/value-cached decoding of every family, with steering at the newest position.

    prefill(prompt)      run the blocks on the prompt (N, P), keep each layer's keys and values
    step(token, t)       run the blocks on one new token at position t, attending to the cache

Steering ``alpha v`` enters ``blocks.{layer}.hook_resid_pre`` at the last prompt token and at
every new token: the positions a cached decoder with a steering hook adds it to, so the logits
equal those of the full forward pass with those positions steered (``synthetic.transformer``), up
to the order of floating-point sums (tests/test_sampler.py compares them). Pure functions for jit;
no checks here.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from synthetic import layers
from synthetic.transformer import TransformerConfig, unembedding


def _project(p: dict, cfg: TransformerConfig, h, pos):
    """q (N, t, H, e), k and v (N, t, H_kv, e) of the normalised stream h (N, t, d) at absolute
    positions ``pos`` (t,): rotary on q and k for llama and qwen2."""
    N, t, d = h.shape
    e = cfg.d_head
    if cfg.rotary:
        q = layers.linear(p["q"], h).reshape(N, t, cfg.n_heads, e)
        k = layers.linear(p["k"], h).reshape(N, t, int(cfg.n_kv_heads or 0), e)
        v = layers.linear(p["v"], h).reshape(N, t, int(cfg.n_kv_heads or 0), e)
        table = layers.rope_angles(cfg.n_ctx + 1, e, cfg.rope_theta)
        cos, sin = (jax.lax.dynamic_slice_in_dim(jnp.asarray(a, h.dtype), pos[0], t) for a in table)
        return layers.apply_rope(q, cos, sin), layers.apply_rope(k, cos, sin), v
    q, k, v = jnp.split(layers.linear(p["c_attn"], h), 3, axis=-1)
    return tuple(a.reshape(N, t, cfg.n_heads, e) for a in (q, k, v))


def _attend(cfg: TransformerConfig, q, K, V, pos):
    """Attention of queries at positions ``pos`` (t,) over the cache K, V (N, T, H_kv, e): key s
    is visible to the query at position p iff s <= p."""
    N, t, H, e = q.shape
    kv = K.shape[2]
    q = q.reshape(N, t, kv, H // kv, e)  # query head h reads key/value head h // (H / H_kv)
    att = jnp.einsum("nqcge,nkce->ncgqk", q, K) / math.sqrt(e)
    visible = jnp.arange(K.shape[1])[None, :] <= pos[:, None]  # (t, T)
    att = jax.nn.softmax(jnp.where(visible, att, -jnp.inf), axis=-1)
    return jnp.einsum("ncgqk,nkce->nqcge", att, V).reshape(N, t, H, e)


def _block(p: dict, cfg: TransformerConfig, x, pos, K, V):
    """One block on the stream x (N, t, d) at positions ``pos``; returns the new stream and the
    cache with this chunk's keys and values written at ``pos``."""
    h = layers.norm(p["ln_1"], str(cfg.norm), cfg.norm_eps, x)
    q, k, v = _project(p["attn"], cfg, h, pos)
    K = jax.lax.dynamic_update_slice_in_dim(K, k, pos[0], axis=1)  # pos is a contiguous run
    V = jax.lax.dynamic_update_slice_in_dim(V, v, pos[0], axis=1)
    y = _attend(cfg, q, K, V, pos).reshape(*x.shape[:-1], cfg.n_heads * cfg.d_head)
    x = x + layers.linear(p["attn"]["o" if cfg.rotary else "c_proj"], y)
    h = layers.norm(p["ln_2"], str(cfg.norm), cfg.norm_eps, x)
    if cfg.rotary:
        return x + layers.swiglu_mlp(p["mlp"], h), K, V
    return x + layers.gelu_mlp(p["mlp"], layers.GELU_APPROXIMATE[str(cfg.activation)], h), K, V


def _embed(params: dict, cfg: TransformerConfig, tokens, pos):
    x = params["wte"][tokens]
    if cfg.rotary:
        return x
    return x + jax.lax.dynamic_slice_in_dim(params["wpe"], pos[0], pos.shape[0])


def run(params: dict, cfg: TransformerConfig, tokens, pos, cache, layer: int, delta):
    """Logits at the last of ``tokens`` (N, t) placed at positions ``pos`` (t,), the stream at
    ``blocks.{layer}.hook_resid_pre`` plus ``delta`` (t, d) or (d,); returns (logits (N, V),
    cache)."""
    x = _embed(params, cfg, tokens, pos)
    new = []
    for l, (block, (K, V)) in enumerate(zip(params["blocks"], cache, strict=True)):
        if l == layer:
            x = x + delta
        x, K, V = _block(block, cfg, x, pos, K, V)
        new.append((K, V))
    if layer == cfg.n_layers:
        x = x + delta
    final = layers.norm(params["ln_f"], str(cfg.norm), cfg.norm_eps, x[:, -1])
    return final @ unembedding(params), new


def empty_cache(params: dict, cfg: TransformerConfig, N: int, T: int):
    """Zero keys and values (N, T, H_kv, e) for every layer, in the params' dtype."""
    dtype = params["wte"].dtype
    shape = (N, T, int(cfg.n_kv_heads or cfg.n_heads), cfg.d_head)
    return [(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype)) for _ in range(cfg.n_layers)]
