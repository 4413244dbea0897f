"""The model families in pure JAX, one forward driven by the config (names follow nanoGPT / GPT-2).

    x_0     = wte[tokens] (+ wpe[:T] for toy, gpt2)             hook: blocks.0.hook_resid_pre
    x_{l+1} = y + mlp(ln_2(y)),  y = x_l + attn(ln_1(x_l))      hook: blocks.{l+1}.hook_resid_pre
    logits  = ln_f(x_L) @ w_u    (w_u = wte^T when tied; no unembedding bias)

Families (``TransformerConfig.family``; the layers are in ``synthetic.layers``):

    toy    LayerNorm or RMSNorm, learned positions, erf GELU MLP, untied w_u (the planted zoo)
    gpt2   LayerNorm (eps from the config), learned positions, GPT-2's tanh GELU, biases everywhere,
           tied unembedding (Hugging Face's GPT2LMHeadModel)
    llama  RMSNorm, rotary positions (rope_theta, rotate-half), SwiGLU MLP, grouped-query attention
           (n_kv_heads), no biases, tied or untied lm_head (LlamaForCausalLM)
    qwen2  llama plus biases on q, k, v (Qwen2ForCausalLM)

Every read of the residual stream goes through a norm (ln_1, ln_2, ln_f). With the mean-centring
LayerNorm, LN(h + c 1) = LN(h), so adding c 1 to the stream at any hook point changes nothing
downstream: the all-ones direction is an exact symmetry (docs/theorems.md T2a). RMSNorm has none.

Steering ``Steering(l, v, alpha, P)`` adds ``alpha * v`` to the stream at
``blocks.{l}.hook_resid_pre`` (the input of decoder block l; l = n_layers: the input of the final
norm) on the positions P (None: all). ``forward`` is exactly
``unembed(run_from(resid_pre(tokens, l) + steer, l))``; every function is pure and jit-able,
and public entry points check their inputs (``synthetic.model_inputs``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

import theory  # noqa: F401  (float64 everywhere)
from synthetic import layers
from synthetic.model_inputs import (
    check_cfg,
    check_float_array,
    check_key,
    check_layer,
    check_params,
    check_resid,
    check_tokens,
)
from synthetic.param_spec import EMBED_SCALE, init_from_spec, param_spec
from theory.steering import Steering
from theory.validation import (
    InputError,
    as_bool,
    as_choice,
    as_count,
    as_positive_int,
    as_positive_real,
)

__all__ = [
    "EMBED_SCALE",
    "EPS",
    "FAMILIES",
    "NORMS",
    "Transformer",
    "TransformerConfig",
    "forward",
    "hook_names",
    "init_params",
    "resid_pre",
    "run_blocks",
    "run_from",
    "unembed",
    "unembedding",
]

FAMILIES = ("toy", "gpt2", "llama", "qwen2")
NORMS = ("layernorm", "rmsnorm")
EPS = (
    1e-5  # the toy's eps, added to the variance (LayerNorm) or mean square (RMSNorm) under the root
)
_FAMILY_NORM = {"gpt2": "layernorm", "llama": "rmsnorm", "qwen2": "rmsnorm"}
_DEFAULT_ACTIVATION = {"toy": "gelu", "gpt2": "gelu_new", "llama": "silu", "qwen2": "silu"}
_ACTIVATIONS = {
    "toy": ("gelu",),
    "gpt2": tuple(layers.GELU_APPROXIMATE),
    "llama": ("silu",),
    "qwen2": ("silu",),
}


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Shape and family of a transformer. Frozen and hashable, so it can be a static jit argument.

    d_model        : width d of the residual stream (divisible by n_heads).
    n_layers       : number of blocks L; hook points blocks.{l}.hook_resid_pre for l = 0..L.
    n_heads        : query heads, each of width d_head = d_model / n_heads.
    d_mlp          : hidden width of the MLP (GELU or SwiGLU).
    vocab_size     : V, token ids 0..V-1.
    n_ctx          : maximum prompt length T (n_positions / max_position_embeddings).
    norm           : "layernorm" (mean-centring, gain and bias) or "rmsnorm" (gain only); None: the
                     family's (toy: layernorm; gpt2: layernorm; llama, qwen2: rmsnorm).
    family         : "toy", "gpt2", "llama" or "qwen2" (module docstring).
    n_kv_heads     : key/value heads of grouped-query attention (llama, qwen2); None: n_heads.
    norm_eps       : eps under the norms' square root.
    rope_theta     : base of the rotary frequencies (llama, qwen2).
    activation     : Hugging Face's activation name; None: the family's (toy "gelu" = erf GELU,
                     gpt2 "gelu_new" = tanh GELU, llama/qwen2 "silu" in SwiGLU).
    tie_embeddings : logits use wte^T (no w_u in params); None: the family's (gpt2 and qwen2 tie,
                     toy and llama do not).
    """

    d_model: int
    n_layers: int
    n_heads: int
    d_mlp: int
    vocab_size: int
    n_ctx: int
    norm: str | None = None
    family: str = "toy"
    n_kv_heads: int | None = None
    norm_eps: float = EPS
    rope_theta: float = 10000.0
    activation: str | None = None
    tie_embeddings: bool | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        for name in ("d_model", "n_heads", "d_mlp", "vocab_size", "n_ctx"):
            set_(name, as_positive_int(f"TransformerConfig.{name}", getattr(self, name)))
        set_("n_layers", as_count("TransformerConfig.n_layers", self.n_layers))
        family = as_choice("TransformerConfig.family", self.family, FAMILIES)
        set_("family", family)
        if self.norm is None:
            set_("norm", _FAMILY_NORM.get(family, "layernorm"))
        norm = as_choice("TransformerConfig.norm", self.norm, NORMS)
        if family != "toy" and norm != _FAMILY_NORM[family]:
            raise InputError(
                f"TransformerConfig.norm must be {_FAMILY_NORM[family]!r} for family {family!r}, "
                f"got {norm!r}"
            )
        if self.d_model % self.n_heads:
            raise InputError(
                f"TransformerConfig.d_model ({self.d_model}) must be divisible by n_heads "
                f"({self.n_heads})"
            )
        kv = self.n_heads if self.n_kv_heads is None else self.n_kv_heads
        kv = as_positive_int("TransformerConfig.n_kv_heads", kv)
        if self.n_heads % kv or (family in ("toy", "gpt2") and kv != self.n_heads):
            raise InputError(
                f"TransformerConfig.n_kv_heads must divide n_heads = {self.n_heads}"
                + (" and equal it for toy and gpt2" if family in ("toy", "gpt2") else "")
                + f", got {kv}"
            )
        set_("n_kv_heads", kv)
        set_("norm_eps", as_positive_real("TransformerConfig.norm_eps", self.norm_eps))
        set_("rope_theta", as_positive_real("TransformerConfig.rope_theta", self.rope_theta))
        if family in ("llama", "qwen2") and self.d_head % 2:
            raise InputError(
                f"rotary positions need an even d_head = d_model / n_heads, got {self.d_head}"
            )
        activation = _DEFAULT_ACTIVATION[family] if self.activation is None else self.activation
        set_(
            "activation",
            as_choice("TransformerConfig.activation", activation, _ACTIVATIONS[family]),
        )
        tie = family in ("gpt2", "qwen2") if self.tie_embeddings is None else self.tie_embeddings
        set_("tie_embeddings", as_bool("TransformerConfig.tie_embeddings", tie))

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def rotary(self) -> bool:
        """Positions enter as rotations of q and k (llama, qwen2), not as a learned wpe."""
        return self.family in ("llama", "qwen2")


def hook_names(cfg: TransformerConfig) -> tuple[str, ...]:
    """TransformerLens names of the hook points a ``Steering`` can act on; entry l is layer l.

    ``blocks.{l}.hook_resid_pre`` for l = 0..n_layers: the input of decoder block l, the same point
    on every family; the last one (l = n_layers) is the input of the final norm ln_f
    (TransformerLens would call it ``blocks.{L-1}.hook_resid_post``).
    """
    check_cfg(cfg)
    return tuple(f"blocks.{l}.hook_resid_pre" for l in range(cfg.n_layers + 1))


def init_params(cfg: TransformerConfig, key) -> dict:
    """Gaussian init: every weight N(0, 1/fan_in) (so each layer roughly preserves scale), the two
    residual writers (attn.c_proj / attn.o, mlp.c_proj / mlp.down) scaled down by 1/sqrt(2 n_layers)
    as in GPT-2, embeddings with entries N(0, EMBED_SCALE^2 / d) (rows of norm about EMBED_SCALE),
    norm gains 1, biases 0; an untied w_u (d, V) has entries N(0, 1/d). Names and shapes:
    ``synthetic.param_spec``.

    ``key`` is a ``jax.random.key``; the same key gives the same params. All Gaussian entries come
    from one ``jax.random.normal(key, (n,))`` draw, cut in the order of the params pytree's leaves.
    """
    check_cfg(cfg)
    check_key(key)
    return init_from_spec(param_spec(cfg), key)


# ----------------------------------------------------------------------------------------------
# the model (pure functions on (..., T, d) streams; no checks here)


def _norm(p: dict, cfg: TransformerConfig, h):
    return layers.norm(p, str(cfg.norm), cfg.norm_eps, h)


def _block(p: dict, cfg: TransformerConfig, x):
    """Pre-norm block: x + attn(ln_1(x)), then + mlp(ln_2(.))."""
    h = _norm(p["ln_1"], cfg, x)
    if cfg.rotary:
        rope = layers.rope_angles(x.shape[-2], cfg.d_head, cfg.rope_theta)
        x = x + layers.rotary_attention(p["attn"], cfg.n_heads, int(cfg.n_kv_heads or 0), rope, h)
    else:
        x = x + layers.fused_attention(p["attn"], cfg.n_heads, h)
    h = _norm(p["ln_2"], cfg, x)
    if cfg.rotary:
        return x + layers.swiglu_mlp(p["mlp"], h)
    return x + layers.gelu_mlp(p["mlp"], layers.GELU_APPROXIMATE[str(cfg.activation)], h)


def _resid_pre(params: dict, cfg: TransformerConfig, tokens, layer: int):
    x = params["wte"][tokens]
    if not cfg.rotary:
        x = x + params["wpe"][: tokens.shape[-1]]
    for block in params["blocks"][:layer]:
        x = _block(block, cfg, x)
    return x


def _run_blocks(params: dict, cfg: TransformerConfig, x, start: int, stop: int):
    for block in params["blocks"][start:stop]:
        x = _block(block, cfg, x)
    return x


def _run_from(params: dict, cfg: TransformerConfig, x, layer: int):
    return _norm(params["ln_f"], cfg, _run_blocks(params, cfg, x, layer, cfg.n_layers))


def unembedding(params: dict):
    """W_U (d, V): ``w_u``, or ``wte^T`` when the embeddings are tied (no ``w_u`` in params)."""
    return params["w_u"] if "w_u" in params else params["wte"].T


def _unembed(params: dict, final):
    return final @ unembedding(params)


def _forward(params, cfg, tokens, layer, vector, alpha, mask):
    """unembed(run_from(resid_pre(tokens, l) + alpha * sum_{t in P} e_t v^T, l)), where ``mask``
    (T,) is the 0/1 indicator of P (None: every position); vector None: unsteered."""
    x = _resid_pre(params, cfg, tokens, layer)
    if vector is not None:
        delta = alpha * vector
        if mask is not None:
            delta = mask[:, None] * delta  # (T, d)
        x = x + delta
    return _unembed(params, _run_from(params, cfg, x, layer))


_resid_pre_jit = jax.jit(_resid_pre, static_argnames=("cfg", "layer"))
_run_from_jit = jax.jit(_run_from, static_argnames=("cfg", "layer"))
_unembed_jit = jax.jit(_unembed)
_run_blocks_jit = jax.jit(_run_blocks, static_argnames=("cfg", "start", "stop"))
_forward_jit = jax.jit(_forward, static_argnames=("cfg", "layer"))


# ----------------------------------------------------------------------------------------------
# public entry points (checked)


def resid_pre(params: dict, cfg: TransformerConfig, tokens, layer: int):
    """h_l(x): the unsteered residual stream entering block ``layer`` (hook
    ``blocks.{layer}.hook_resid_pre``), shape (..., T, d). layer 0 is wte[tokens] (+ wpe[:T] with
    learned positions); layer n_layers is the stream after the last block, before ln_f."""
    check_cfg(cfg)
    check_params(params, cfg)
    tokens = check_tokens(tokens, cfg)
    layer = check_layer("layer", layer, cfg)
    return _resid_pre_jit(params, cfg, tokens, layer)


def run_from(params: dict, cfg: TransformerConfig, resid, layer: int):
    """ln_f(blocks[n_layers-1](... blocks[layer](resid))): the final normalised stream, shape
    (..., T, d), when ``resid`` (T, d) or (N, T, d) is the stream entering block ``layer``.
    Logits are ``unembed(params, run_from(...))`` = that stream @ W_U (there is no unembedding
    bias)."""
    check_cfg(cfg)
    check_params(params, cfg)
    resid = check_resid(resid, cfg)
    layer = check_layer("layer", layer, cfg)
    return _run_from_jit(params, cfg, resid, layer)


def run_blocks(params: dict, cfg: TransformerConfig, resid, start: int, stop: int):
    """The stream entering block ``stop`` when ``resid`` (T, d) or (N, T, d) enters block ``start``
    (start <= stop; hook points ``blocks.{start}`` -> ``blocks.{stop}.hook_resid_pre``). Pure and
    jittable in ``resid`` (the propagation map of T9)."""
    check_cfg(cfg)
    check_params(params, cfg)
    resid = check_resid(resid, cfg)
    start = check_layer("start", start, cfg)
    stop = check_layer("stop", stop, cfg)
    if stop < start:
        raise InputError(f"stop must be at least start = {start}, got {stop}")
    return _run_blocks_jit(params, cfg, resid, start, stop)


def unembed(params: dict, final):
    """Logits z = final @ W_U for the final normalised stream ``final`` (..., d); no bias. W_U is
    ``w_u``, or ``wte^T`` for tied embeddings (``unembedding``)."""
    if not isinstance(params, dict) or not ("w_u" in params or "wte" in params):
        raise InputError("params must be the dict made by init_params (it has no 'w_u' or 'wte')")
    d = unembedding(params).shape[0]
    final = check_float_array("final", final, min_ndim=1)
    if final.shape[-1] != d:
        raise InputError(f"final must have last dimension d_model = {d}, got shape {final.shape}")
    return _unembed_jit(params, final)


def forward(params: dict, cfg: TransformerConfig, tokens, steering: Steering | None = None):
    """Logits (..., T, V) for tokens (T,) or (N, T); with ``steering = Steering(l, v, alpha, P)``
    the stream at ``blocks.{l}.hook_resid_pre`` becomes h_l + alpha * sum_{t in P} e_t v^T
    (P = None: every position).

    Checks params against cfg on every call; ``Transformer(cfg, params)`` checks them once and is
    then called as ``model(tokens, steering)``. Jit-compiled with cfg and layer static (one
    compilation per layer and shape); vector and alpha may be traced (grad, vmap, jit); positions
    become a 0/1 mask, so changing them does not recompile.
    """
    check_cfg(cfg)
    check_params(params, cfg)
    return _apply(params, cfg, tokens, steering)


def _apply(params: dict, cfg: TransformerConfig, tokens, steering: Steering | None):
    """``forward`` for params already checked against cfg: checks tokens and steering only."""
    tokens = check_tokens(tokens, cfg)
    if steering is None:
        return _forward_jit(params, cfg, tokens, 0, None, None, None)
    if not isinstance(steering, Steering):
        raise InputError(
            f"steering must be a theory.steering.Steering or None, got {type(steering).__name__}"
        )
    layer = check_layer("steering.layer", steering.layer, cfg)
    vector = steering.vector
    if vector.shape != (cfg.d_model,):
        raise InputError(
            f"steering.vector must have length d_model = {cfg.d_model}, got shape {vector.shape}"
        )
    mask = None
    if steering.positions is not None:
        T = tokens.shape[-1]
        if any(p >= T for p in steering.positions):
            raise InputError(
                f"steering.positions must lie in [0, T) = [0, {T}), got {list(steering.positions)}"
            )
        mask = np.zeros(T)
        mask[list(steering.positions)] = 1.0
    return _forward_jit(params, cfg, tokens, layer, vector, steering.alpha, mask)


@jax.tree_util.register_pytree_node_class
class Transformer:
    """A toy transformer as a callable pytree: ``params`` are its leaves, ``cfg`` its static part.

    ``Transformer(cfg, params)`` checks the params tree against cfg once; ``model(tokens,
    steering=None)`` then returns logits (..., T, V) exactly as ``forward(params, cfg, tokens,
    steering)`` does, checking only the tokens and the steering. It can be passed through ``jit``,
    ``grad`` and ``vmap`` like any pytree (a rebuilt pytree skips the construction checks).
    """

    __slots__ = ("cfg", "params")
    cfg: TransformerConfig
    params: dict

    def __init__(self, cfg: TransformerConfig, params: dict) -> None:
        check_cfg(cfg)
        check_params(params, cfg)
        object.__setattr__(self, "cfg", cfg)
        object.__setattr__(self, "params", params)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __call__(self, tokens, steering: Steering | None = None):
        return _apply(self.params, self.cfg, tokens, steering)

    def tree_flatten(self):
        return (self.params,), self.cfg

    @classmethod
    def tree_unflatten(cls, cfg: TransformerConfig, leaves):
        obj = object.__new__(cls)
        object.__setattr__(obj, "cfg", cfg)
        object.__setattr__(obj, "params", leaves[0])
        return obj
