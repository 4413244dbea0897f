"""Input checks of the model entry points: each raises ``InputError`` naming the argument before any
work; checks that need concrete values are skipped for arrays traced under jit/vmap/grad."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.param_spec import is_leaf, param_spec
from theory.validation import InputError, as_int

if TYPE_CHECKING:
    from synthetic.transformer import TransformerConfig


def is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def check_cfg(cfg: Any) -> None:
    from synthetic.transformer import TransformerConfig  # the config module imports this one

    if not isinstance(cfg, TransformerConfig):
        raise InputError(f"cfg must be a TransformerConfig, got {type(cfg).__name__}")


def check_key(key: Any) -> None:
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
def expected_params(cfg: TransformerConfig):
    spec = param_spec(cfg)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(spec, is_leaf=is_leaf)
    return treedef, tuple((jax.tree_util.keystr(path), leaf.shape) for path, leaf in leaves)


def check_params(params: Any, cfg: TransformerConfig) -> None:
    """params must have exactly the tree structure and shapes init_params(cfg, .) makes."""
    if not isinstance(params, dict):
        raise InputError(
            f"params must be the dict made by init_params, got {type(params).__name__}"
        )
    treedef, expected = expected_params(cfg)
    leaves, got_def = jax.tree_util.tree_flatten(params)
    if got_def != treedef:
        raise InputError(f"params does not have the structure init_params makes for cfg = {cfg}")
    for leaf, (name, shape) in zip(leaves, expected):
        if jnp.shape(leaf) != shape:
            raise InputError(f"params{name} has shape {jnp.shape(leaf)}, but cfg needs {shape}")


def check_layer(name: str, layer: Any, cfg: TransformerConfig) -> int:
    """A hook-point index l in [0, n_layers]."""
    return as_int(name, layer, low=0, high=cfg.n_layers)


def check_tokens(tokens: Any, cfg: TransformerConfig):
    """(T,) or (N, T) integer ids in [0, vocab_size), 1 <= T <= n_ctx, N >= 1; returned as int32."""
    if tokens is None:
        raise InputError("tokens is required: an int array of shape (T,) or (N, T), got None")
    traced = is_traced(tokens)
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
                f"tokens must be ids in [0, vocab_size) = [0, {cfg.vocab_size}), "
                f"found values in [{lo}, {hi}]"
            )
    return jnp.asarray(tokens, dtype=jnp.int32)


def check_resid(resid: Any, cfg: TransformerConfig):
    resid = check_float_array("resid", resid, min_ndim=2)
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


def check_float_array(name: str, x: Any, ndim: int | None = None, min_ndim: int = 0):
    """A real array of the given ndim as float64, finite when its values are known (not traced)."""
    if x is None:
        raise InputError(f"{name} is required, got None")
    traced = is_traced(x)
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
