"""Names, shapes and random init of every family's parameter pytree: the one source of both.

toy, gpt2     wte (V, d), wpe (n_ctx, d); per block ln_1, attn.{c_attn (d, 3d), c_proj (d, d)},
              ln_2, mlp.{c_fc (d, d_mlp), c_proj (d_mlp, d)}, all with biases; ln_f
llama, qwen2  wte (V, d); per block ln_1, attn.{q (d, H e), k (d, H_kv e), v (d, H_kv e),
              o (H e, d)}, ln_2, mlp.{gate (d, d_mlp), up (d, d_mlp), down (d_mlp, d)}; ln_f;
              biases on q, k, v for qwen2 only
w_u (d, V)    the unembedding, absent when tied (logits then use wte^T)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:
    from synthetic.transformer import TransformerConfig

# Norm of an embedding row. Large enough that the stream entering block 0 is not tiny: the norms'
# Jacobians scale like sqrt(d)/|h|, and with rows of norm ~1 the blocks can over-react to a steering
# vector at layer 0 (seen as a trait score that dips before it rises).
EMBED_SCALE = 3.0


class Leaf(NamedTuple):
    """Spec of one parameter array: its shape and its init ("ones", "zeros" or a Gaussian std)."""

    shape: tuple[int, ...]
    fill: str | float


def is_leaf(x: Any) -> bool:
    return isinstance(x, Leaf)


def param_spec(cfg: TransformerConfig) -> dict:
    """The params pytree of ``cfg`` with a ``Leaf`` in place of every array."""
    d, L, V = cfg.d_model, cfg.n_layers, cfg.vocab_size
    resid_scale = 1.0 / math.sqrt(2 * max(L, 1))

    def norm() -> dict:
        if cfg.norm == "layernorm":
            return {"g": Leaf((d,), "ones"), "b": Leaf((d,), "zeros")}
        return {"g": Leaf((d,), "ones")}

    def linear(n_in: int, n_out: int, scale: float, bias: bool = True) -> dict:
        """x @ w (+ b), w ~ N(0, scale^2 / n_in)."""
        out = {"w": Leaf((n_in, n_out), scale / math.sqrt(n_in))}
        if bias:
            out["b"] = Leaf((n_out,), "zeros")
        return out

    if cfg.family in ("toy", "gpt2"):
        block = lambda: {
            "ln_1": norm(),
            "attn": {"c_attn": linear(d, 3 * d, 1.0), "c_proj": linear(d, d, resid_scale)},
            "ln_2": norm(),
            "mlp": {"c_fc": linear(d, cfg.d_mlp, 1.0), "c_proj": linear(cfg.d_mlp, d, resid_scale)},
        }
        spec: dict = {
            "wte": Leaf((V, d), EMBED_SCALE / math.sqrt(d)),
            "wpe": Leaf((cfg.n_ctx, d), EMBED_SCALE / math.sqrt(d)),
        }
    else:
        qkv_bias = cfg.family == "qwen2"
        e, H, H_kv = cfg.d_head, cfg.n_heads, int(cfg.n_kv_heads or 0)  # resolved by the config
        block = lambda: {
            "ln_1": norm(),
            "attn": {
                "q": linear(d, H * e, 1.0, qkv_bias),
                "k": linear(d, H_kv * e, 1.0, qkv_bias),
                "v": linear(d, H_kv * e, 1.0, qkv_bias),
                "o": linear(H * e, d, resid_scale, False),
            },
            "ln_2": norm(),
            "mlp": {
                "gate": linear(d, cfg.d_mlp, 1.0, False),
                "up": linear(d, cfg.d_mlp, 1.0, False),
                "down": linear(cfg.d_mlp, d, resid_scale, False),
            },
        }
        spec = {"wte": Leaf((V, d), EMBED_SCALE / math.sqrt(d))}
    spec["blocks"] = [block() for _ in range(L)]
    spec["ln_f"] = norm()
    if not cfg.tie_embeddings:
        spec["w_u"] = Leaf((d, V), 1.0 / math.sqrt(d))
    return spec


def init_from_spec(spec: dict, key) -> dict:
    """Fill ``spec``: "ones", "zeros", or Gaussian entries of the leaf's std. All Gaussian entries
    come from one ``jax.random.normal(key, (n,))`` draw, cut in the order of the pytree's leaves."""
    leaves, treedef = jax.tree_util.tree_flatten(spec, is_leaf=is_leaf)
    n = sum(math.prod(leaf.shape) for leaf in leaves if not isinstance(leaf.fill, str))
    z: Any = jax.random.normal(key, (n,), jnp.float64)
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
