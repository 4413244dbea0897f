"""A toy pre-norm GPT in pure JAX, readable in one sitting (names follow nanoGPT / GPT-2).

    x_0     = wte[tokens] + wpe[:T]                                   hook: blocks.0.hook_resid_pre
    x_{l+1} = y + mlp(ln_2(y)),  y = x_l + attn(ln_1(x_l))            hook: blocks.{l+1}.hook_resid_pre
    logits  = ln_f(x_L) @ w_u                                         (no unembedding bias)

Every read of the residual stream goes through a norm (ln_1, ln_2, ln_f). With the mean-centring
LayerNorm, LN(h + c 1) = LN(h), so adding c 1 to the stream at any hook point changes nothing
downstream: the all-ones direction is an exact symmetry (docs/theorems.md T2a). RMSNorm has no such symmetry.

Steering ``Steering(l, v, alpha, P)`` adds ``alpha * v`` to the stream at ``blocks.{l}.hook_resid_pre``
on the positions P (None: all), l in 0..n_layers (l = n_layers: after the last block, before ln_f).

Params are a plain dict pytree of float64 arrays; every function is pure and jit-able. The building
blocks for Jacobians are ``resid_pre`` (the stream entering block l), ``run_from`` (blocks l.. and ln_f)
and ``unembed``; ``forward`` is exactly ``unembed(run_from(resid_pre(tokens, l) + steer, l))``.
Public entry points check their inputs (raising ValueError naming the argument) before any work;
checks that need concrete values are skipped for arrays traced under jit/vmap/grad.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import theory  # noqa: F401  (float64 everywhere)
from theory.steering import Steering
from theory.validation import InputError

NORMS = ("layernorm", "rmsnorm")
EPS = 1e-5  # added to the variance (LayerNorm) or mean square (RMSNorm) under the square root
# Norm of an embedding row. Large enough that the stream entering block 0 is not tiny: the norms'
# Jacobians scale like sqrt(d)/|h|, and with rows of norm ~1 the blocks can over-react to a steering
# vector at layer 0 (seen as a trait score that dips before it rises).
EMBED_SCALE = 3.0


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Shape of the toy transformer. Frozen and hashable, so it can be a static jit argument.

    d_model    : width d of the residual stream (divisible by n_heads).
    n_layers   : number of blocks L; hook points blocks.{l}.hook_resid_pre for l = 0..L.
    n_heads    : attention heads, each of width d_head = d_model / n_heads.
    d_mlp      : hidden width of the GELU MLP.
    vocab_size : V, token ids 0..V-1.
    n_ctx      : maximum prompt length T.
    norm       : "layernorm" (mean-centring, gain and bias) or "rmsnorm" (gain only).
    """

    d_model: int
    n_layers: int
    n_heads: int
    d_mlp: int
    vocab_size: int
    n_ctx: int
    norm: str = "layernorm"

    def __post_init__(self) -> None:
        for name in ("d_model", "n_layers", "n_heads", "d_mlp", "vocab_size", "n_ctx"):
            value = getattr(self, name)
            lowest = 0 if name == "n_layers" else 1
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or value < lowest
            ):
                kind = "a non-negative int" if lowest == 0 else "a positive int"
                raise InputError(f"TransformerConfig.{name} must be {kind}, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.norm not in NORMS:
            raise InputError(f"TransformerConfig.norm must be one of {NORMS}, got {self.norm!r}")
        if self.d_model % self.n_heads:
            raise InputError(
                f"TransformerConfig.d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads


def hook_names(cfg: TransformerConfig) -> tuple[str, ...]:
    """TransformerLens names of the hook points a ``Steering`` can act on; entry l is layer l.

    ``blocks.{l}.hook_resid_pre`` for l = 0..n_layers; the last one (l = n_layers) is the stream after
    the final block, before ln_f (TransformerLens would call it ``blocks.{L-1}.hook_resid_post``).
    """
    _check_cfg(cfg)
    return tuple(f"blocks.{l}.hook_resid_pre" for l in range(cfg.n_layers + 1))


# ----------------------------------------------------------------------------------------------
# parameters


class _Leaf(NamedTuple):
    """Spec of one parameter array: its shape and its init ("ones", "zeros" or a Gaussian std)."""

    shape: tuple[int, ...]
    fill: str | float


def _is_leaf(x: Any) -> bool:
    return isinstance(x, _Leaf)


def _param_spec(cfg: TransformerConfig) -> dict:
    """The params pytree with a _Leaf in place of every array: the one source of names and shapes."""
    d, L = cfg.d_model, cfg.n_layers
    resid_scale = 1.0 / math.sqrt(2 * max(L, 1))

    def norm() -> dict:
        if cfg.norm == "layernorm":
            return {"g": _Leaf((d,), "ones"), "b": _Leaf((d,), "zeros")}
        return {"g": _Leaf((d,), "ones")}

    def linear(n_in: int, n_out: int, scale: float) -> dict:  # x @ w + b, w ~ N(0, scale^2 / n_in)
        return {"w": _Leaf((n_in, n_out), scale / math.sqrt(n_in)), "b": _Leaf((n_out,), "zeros")}

    block = lambda: {
        "ln_1": norm(),
        "attn": {"c_attn": linear(d, 3 * d, 1.0), "c_proj": linear(d, d, resid_scale)},
        "ln_2": norm(),
        "mlp": {"c_fc": linear(d, cfg.d_mlp, 1.0), "c_proj": linear(cfg.d_mlp, d, resid_scale)},
    }
    return {
        "wte": _Leaf((cfg.vocab_size, d), EMBED_SCALE / math.sqrt(d)),
        "wpe": _Leaf((cfg.n_ctx, d), EMBED_SCALE / math.sqrt(d)),
        "blocks": [block() for _ in range(L)],
        "ln_f": norm(),
        "w_u": _Leaf((d, cfg.vocab_size), 1.0 / math.sqrt(d)),
    }


def init_params(cfg: TransformerConfig, key) -> dict:
    """Gaussian init: every weight N(0, 1/fan_in) (so each layer roughly preserves scale), the two
    residual writers (attn.c_proj, mlp.c_proj) scaled down by 1/sqrt(2 n_layers) as in GPT-2,
    embeddings wte, wpe with entries N(0, EMBED_SCALE^2 / d) (rows of norm about EMBED_SCALE), norm
    gains 1, biases 0. Untied unembedding w_u (d, V) with entries N(0, 1/d).

    ``key`` is a ``jax.random.key``; the same key gives the same params. All Gaussian entries come from
    one ``jax.random.normal(key, (n,))`` draw, cut in the order of the params pytree's leaves.
    """
    _check_cfg(cfg)
    _check_key(key)
    leaves, treedef = jax.tree_util.tree_flatten(_param_spec(cfg), is_leaf=_is_leaf)
    n = sum(math.prod(leaf.shape) for leaf in leaves if not isinstance(leaf.fill, str))
    z = jax.random.normal(key, (n,), jnp.float64)
    if not isinstance(z, jax.core.Tracer):
        z = np.asarray(z)  # cut on the host: one compiled kernel per config instead of one per leaf
    out, offset = [], 0
    for leaf in leaves:
        if isinstance(leaf.fill, str):
            out.append((np.ones if leaf.fill == "ones" else np.zeros)(leaf.shape))
        else:
            size = math.prod(leaf.shape)
            out.append(z[offset : offset + size].reshape(leaf.shape) * leaf.fill)
            offset += size
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(x, jnp.float64) for x in out])


# ----------------------------------------------------------------------------------------------
# the model (pure functions on (..., T, d) streams; no checks here)


def _norm(p: dict, cfg: TransformerConfig, h):
    """LayerNorm (h - mean) / sqrt(var + eps) * g + b, or RMSNorm h / sqrt(mean(h^2) + eps) * g, per position."""
    if cfg.norm == "layernorm":
        centred = h - h.mean(axis=-1, keepdims=True)
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / jnp.sqrt(var + EPS) * p["g"] + p["b"]
    return h / jnp.sqrt((h * h).mean(axis=-1, keepdims=True) + EPS) * p["g"]


def _attn(p: dict, cfg: TransformerConfig, x):
    """Causal multi-head self-attention: per head softmax(q k^T / sqrt(d_head), causal) v; heads
    concatenated, then c_proj."""
    T, H, dh = x.shape[-2], cfg.n_heads, cfg.d_head
    q, k, v = jnp.split(x @ p["c_attn"]["w"] + p["c_attn"]["b"], 3, axis=-1)
    q, k, v = (a.reshape(*a.shape[:-1], H, dh) for a in (q, k, v))  # (..., T, H, dh)
    att = jnp.einsum("...qhe,...khe->...hqk", q, k) / math.sqrt(dh)  # (..., H, T, T)
    att = jnp.where(jnp.tril(jnp.ones((T, T), dtype=bool)), att, -jnp.inf)  # position t sees s <= t
    att = jax.nn.softmax(att, axis=-1)
    y = jnp.einsum("...hqk,...khe->...qhe", att, v).reshape(*x.shape[:-1], cfg.d_model)
    return y @ p["c_proj"]["w"] + p["c_proj"]["b"]


def _mlp(p: dict, x):
    """c_proj(GELU(c_fc(x))), exact (erf) GELU."""
    return (
        jax.nn.gelu(x @ p["c_fc"]["w"] + p["c_fc"]["b"], approximate=False) @ p["c_proj"]["w"]
        + p["c_proj"]["b"]
    )


def _block(p: dict, cfg: TransformerConfig, x):
    """Pre-norm block: x + attn(ln_1(x)), then + mlp(ln_2(.))."""
    x = x + _attn(p["attn"], cfg, _norm(p["ln_1"], cfg, x))
    return x + _mlp(p["mlp"], _norm(p["ln_2"], cfg, x))


def _resid_pre(params: dict, cfg: TransformerConfig, tokens, layer: int):
    x = params["wte"][tokens] + params["wpe"][: tokens.shape[-1]]
    for block in params["blocks"][:layer]:
        x = _block(block, cfg, x)
    return x


def _run_from(params: dict, cfg: TransformerConfig, x, layer: int):
    for block in params["blocks"][layer:]:
        x = _block(block, cfg, x)
    return _norm(params["ln_f"], cfg, x)


def _run_blocks(params: dict, cfg: TransformerConfig, x, start: int, stop: int):
    for block in params["blocks"][start:stop]:
        x = _block(block, cfg, x)
    return x


def _unembed(params: dict, final):
    return final @ params["w_u"]


def _forward(params, cfg, tokens, layer, vector, alpha, mask):
    """unembed(run_from(resid_pre(tokens, l) + alpha * sum_{t in P} e_t v^T, l)), where ``mask`` (T,) is
    the 0/1 indicator of P (None: every position); vector None: unsteered."""
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
    """h_l(x): the unsteered residual stream entering block ``layer`` (hook ``blocks.{layer}.hook_resid_pre``),
    shape (..., T, d). layer 0 is wte[tokens] + wpe[:T]; layer n_layers is the stream after the last
    block, before ln_f."""
    _check_cfg(cfg)
    _check_params(params, cfg)
    tokens = _check_tokens(tokens, cfg)
    layer = _check_layer("layer", layer, cfg)
    return _resid_pre_jit(params, cfg, tokens, layer)


def run_from(params: dict, cfg: TransformerConfig, resid, layer: int):
    """ln_f(blocks[n_layers-1](... blocks[layer](resid))): the final normalised stream, shape (..., T, d),
    when ``resid`` (T, d) or (N, T, d) is the stream entering block ``layer``. Logits are
    ``unembed(params, run_from(...))`` = that stream @ w_u (there is no unembedding bias)."""
    _check_cfg(cfg)
    _check_params(params, cfg)
    resid = _check_resid(resid, cfg)
    layer = _check_layer("layer", layer, cfg)
    return _run_from_jit(params, cfg, resid, layer)


def run_blocks(params: dict, cfg: TransformerConfig, resid, start: int, stop: int):
    """The stream entering block ``stop`` when ``resid`` (T, d) or (N, T, d) enters block ``start``
    (start <= stop; hook points ``blocks.{start}`` -> ``blocks.{stop}.hook_resid_pre``). Pure and
    jittable in ``resid`` (the propagation map of T9)."""
    _check_cfg(cfg)
    _check_params(params, cfg)
    resid = _check_resid(resid, cfg)
    start = _check_layer("start", start, cfg)
    stop = _check_layer("stop", stop, cfg)
    if stop < start:
        raise InputError(f"stop must be at least start = {start}, got {stop}")
    return _run_blocks_jit(params, cfg, resid, start, stop)


def unembed(params: dict, final):
    """Logits z = final @ w_u for the final normalised stream ``final`` (..., d); no bias."""
    if not isinstance(params, dict) or "w_u" not in params:
        raise InputError("params must be the dict made by init_params (it has no 'w_u')")
    d = params["w_u"].shape[0]
    final = _check_float_array("final", final, min_ndim=1)
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
    _check_cfg(cfg)
    _check_params(params, cfg)
    return _apply(params, cfg, tokens, steering)


def _apply(params: dict, cfg: TransformerConfig, tokens, steering: Steering | None):
    """``forward`` for params already checked against cfg: checks tokens and steering only."""
    tokens = _check_tokens(tokens, cfg)
    if steering is None:
        return _forward_jit(params, cfg, tokens, 0, None, None, None)
    if not isinstance(steering, Steering):
        raise InputError(
            f"steering must be a theory.steering.Steering or None, got {type(steering).__name__}"
        )
    layer = _check_layer("steering.layer", steering.layer, cfg)
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
        _check_cfg(cfg)
        _check_params(params, cfg)
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


# ----------------------------------------------------------------------------------------------
# input checks


def _is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_cfg(cfg: Any) -> None:
    if not isinstance(cfg, TransformerConfig):
        raise InputError(f"cfg must be a TransformerConfig, got {type(cfg).__name__}")


def _check_key(key: Any) -> None:
    ok = isinstance(key, jax.Array) and (
        jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        and key.shape == ()
        or key.dtype == jnp.uint32
        and key.shape == (2,)
    )
    if not ok:
        raise InputError(
            f"key must be a single jax.random key (e.g. jax.random.key(0)), got {key!r}"
        )


@functools.lru_cache(maxsize=64)
def _expected_params(cfg: TransformerConfig):
    spec = _param_spec(cfg)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(spec, is_leaf=_is_leaf)
    return treedef, tuple((jax.tree_util.keystr(path), leaf.shape) for path, leaf in leaves)


def _check_params(params: Any, cfg: TransformerConfig) -> None:
    """params must have exactly the tree structure and shapes init_params(cfg, .) makes."""
    if not isinstance(params, dict):
        raise InputError(
            f"params must be the dict made by init_params, got {type(params).__name__}"
        )
    treedef, expected = _expected_params(cfg)
    leaves, got_def = jax.tree_util.tree_flatten(params)
    if got_def != treedef:
        raise InputError(f"params does not have the structure init_params makes for cfg = {cfg}")
    for leaf, (name, shape) in zip(leaves, expected):
        if jnp.shape(leaf) != shape:
            raise InputError(f"params{name} has shape {jnp.shape(leaf)}, but cfg needs {shape}")


def _check_layer(name: str, layer: Any, cfg: TransformerConfig) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise InputError(
            f"{name} must be a Python int in [0, n_layers] = [0, {cfg.n_layers}], got {layer!r}"
        )
    if not 0 <= layer <= cfg.n_layers:
        raise InputError(f"{name} must be in [0, n_layers] = [0, {cfg.n_layers}], got {layer}")
    return int(layer)


def _check_tokens(tokens: Any, cfg: TransformerConfig):
    """(T,) or (N, T) integer ids in [0, vocab_size), 1 <= T <= n_ctx, N >= 1; returned as int32."""
    if tokens is None:
        raise InputError("tokens is required: an int array of shape (T,) or (N, T), got None")
    traced = _is_traced(tokens)
    if not traced:
        try:
            tokens = np.asarray(tokens)
        except Exception as exc:  # ragged lists and the like
            raise InputError(
                f"tokens must be an int array of shape (T,) or (N, T): {exc}"
            ) from None
    shape = tuple(tokens.shape)
    if len(shape) not in (1, 2):
        raise InputError(
            f"tokens must have shape (T,) or (N, T), got ndim {len(shape)} (shape {shape})"
        )
    if len(shape) == 2 and shape[0] == 0:
        raise InputError(
            f"tokens is an empty prompt set (N = 0, shape {shape}); need at least one prompt"
        )
    if shape[-1] == 0:
        raise InputError(f"tokens must hold at least one token per prompt, got shape {shape}")
    if shape[-1] > cfg.n_ctx:
        raise InputError(f"tokens has T = {shape[-1]} positions, more than n_ctx = {cfg.n_ctx}")
    if tokens.dtype.kind not in "iu":
        raise InputError(f"tokens must have an integer dtype, got {tokens.dtype}")
    if not traced:
        lo, hi = int(tokens.min()), int(tokens.max())
        if lo < 0 or hi >= cfg.vocab_size:
            raise InputError(
                f"tokens must be ids in [0, vocab_size) = [0, {cfg.vocab_size}), found values in [{lo}, {hi}]"
            )
    return jnp.asarray(tokens, dtype=jnp.int32)


def _check_resid(resid: Any, cfg: TransformerConfig):
    resid = _check_float_array("resid", resid, min_ndim=2)
    shape = resid.shape
    if len(shape) > 3 or shape[-1] != cfg.d_model:
        raise InputError(
            f"resid must have shape (T, d) or (N, T, d) with d = {cfg.d_model}, got {shape}"
        )
    if 0 in shape:
        raise InputError(f"resid must not be empty (no prompts or no positions), got shape {shape}")
    if shape[-2] > cfg.n_ctx:
        raise InputError(f"resid has T = {shape[-2]} positions, more than n_ctx = {cfg.n_ctx}")
    return resid


def _check_float_array(name: str, x: Any, ndim: int | None = None, min_ndim: int = 0):
    """A real array of the given ndim as float64, finite when its values are known (not traced)."""
    if x is None:
        raise InputError(f"{name} is required, got None")
    traced = _is_traced(x)
    if not traced:
        try:
            x = np.asarray(x)
        except Exception as exc:
            raise InputError(f"{name} must be a real numeric array: {exc}") from None
    kind = np.dtype(x.dtype).kind
    if kind not in "iuf":
        raise InputError(f"{name} must be real numeric (int or float), got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise InputError(f"{name} must have {ndim} dimension(s), got shape {tuple(x.shape)}")
    if x.ndim < min_ndim:
        raise InputError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(x.shape)}"
        )
    if not traced and not np.all(np.isfinite(x)):
        raise InputError(f"{name} must be finite, found NaN or infinite entries")
    return jnp.asarray(x, dtype=jnp.float64)
