"""The layers of every model family, as pure functions on (..., T, d) streams (no checks here).

    LayerNorm  (h - mean h) / sqrt(var h + eps) * g + b      toy, gpt2
    RMSNorm    h / sqrt(mean(h^2) + eps) * g                 toy-rms, llama, qwen2
    attention  softmax(q k^T / sqrt(d_head) + causal) v      every family; grouped-query (n_kv_heads
               query heads share one key/value head) and rotary positions for llama and qwen2
    MLP        c_proj(GELU(c_fc x))                          toy (erf GELU), gpt2 (tanh GELU)
               down(SiLU(gate x) * up x)                     llama, qwen2 (SwiGLU)

Linear maps are ``x @ w + b`` with ``w`` of shape (in, out), as in GPT-2's Conv1D; checkpoints in
torch's (out, in) layout are transposed on load (``synthetic.checkpoint``).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import theory  # noqa: F401  (float64 everywhere)

GELU_APPROXIMATE = {"gelu": False, "gelu_new": True, "gelu_pytorch_tanh": True}
"""activation name (Hugging Face's) -> whether GELU is the tanh approximation."""


def linear(p: dict, x):
    """x @ w (+ b where the layer has a bias)."""
    y = x @ p["w"]
    return y + p["b"] if "b" in p else y


def norm(p: dict, kind: str, eps: float, h):
    """LayerNorm (gain g, bias b) or RMSNorm (gain g) over the last axis, eps under the root."""
    if kind == "layernorm":
        centred = h - h.mean(axis=-1, keepdims=True)
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / jnp.sqrt(var + eps) * p["g"] + p["b"]
    return h / jnp.sqrt((h * h).mean(axis=-1, keepdims=True) + eps) * p["g"]


def rope_angles(T: int, d_head: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin (T, d_head) of the rotary angles t * theta^(-2i/d_head), i < d_head/2, each
    frequency written twice (the rotate-half layout of transformers' Llama). Computed on the host in
    float64: they depend on the shapes only, so they are constants of the compiled forward."""
    inv_freq = theta ** (-np.arange(0, d_head, 2, dtype=np.float64) / d_head)
    freqs = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis."""
    x1, x2 = jnp.split(x, 2, axis=-1)
    return jnp.concatenate([-x2, x1], axis=-1)


def apply_rope(x, cos, sin):
    """x (..., T, H, d_head) rotated position by position: x cos + rotate_half(x) sin (the angles
    in x's dtype, so a float32 model stays float32)."""
    cos, sin = jnp.asarray(cos, x.dtype), jnp.asarray(sin, x.dtype)
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def causal_attention(q, k, v):
    """q (..., T, H, e); k, v (..., T, H_kv, e), H a multiple of H_kv: query head h reads key/value
    head h // (H / H_kv). Returns (..., T, H, e)."""
    T, H, e = q.shape[-3:]
    group = H // k.shape[-2]
    if group > 1:
        k, v = jnp.repeat(k, group, axis=-2), jnp.repeat(v, group, axis=-2)
    att = jnp.einsum("...qhe,...khe->...hqk", q, k) / math.sqrt(e)  # (..., H, T, T)
    att = jnp.where(jnp.tril(jnp.ones((T, T), dtype=bool)), att, -jnp.inf)  # t sees s <= t
    att = jax.nn.softmax(att, axis=-1)
    return jnp.einsum("...hqk,...khe->...qhe", att, v)


def fused_attention(p: dict, n_heads: int, x):
    """GPT-2 attention: one c_attn map to (q, k, v), n_heads heads, c_proj (learned positions, so
    no rotation)."""
    d = x.shape[-1]
    q, k, v = jnp.split(linear(p["c_attn"], x), 3, axis=-1)
    q, k, v = (a.reshape(*a.shape[:-1], n_heads, d // n_heads) for a in (q, k, v))
    y = causal_attention(q, k, v)
    return linear(p["c_proj"], y.reshape(*x.shape[:-1], d))


def rotary_attention(p: dict, n_heads: int, n_kv_heads: int, rope: tuple[Any, Any], x):
    """Llama/Qwen2 attention: q, k, v maps (k, v with n_kv_heads heads), rotary positions on q
    and k, grouped-query attention, o map."""
    d_head = p["q"]["w"].shape[1] // n_heads
    q = linear(p["q"], x).reshape(*x.shape[:-1], n_heads, d_head)
    k = linear(p["k"], x).reshape(*x.shape[:-1], n_kv_heads, d_head)
    v = linear(p["v"], x).reshape(*x.shape[:-1], n_kv_heads, d_head)
    cos, sin = rope
    y = causal_attention(apply_rope(q, cos, sin), apply_rope(k, cos, sin), v)
    return linear(p["o"], y.reshape(*x.shape[:-1], n_heads * d_head))


def gelu_mlp(p: dict, approximate: bool, x):
    """c_proj(GELU(c_fc x)); the tanh approximation for GPT-2's gelu_new."""
    return linear(p["c_proj"], jax.nn.gelu(linear(p["c_fc"], x), approximate=approximate))


def swiglu_mlp(p: dict, x):
    """down(SiLU(gate x) * up x)."""
    return linear(p["down"], jax.nn.silu(linear(p["gate"], x)) * linear(p["up"], x))
