"""T9 on the zoo: one concept steered at several layers of a toy transformer.

``layer_problems`` cuts the model at each layer (``synthetic.local_problems``);
``propagation_transfers`` gives the maps T_j of "the same concept seen at a later layer": the
average over prompts and positions of the Jacobian of the stream at layer l_j with respect to a
vector added at l_1 (at v = 0), so that steering with ``T_j v`` at l_j moves the stream there as
steering with v at l_1 does, to first order. With LayerNorm every T_j maps the all-ones vector to
itself (the blocks read the stream through LN).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.local_problems import local_problem, steered_behaviour
from synthetic.trait_model import TraitModel
from synthetic.transformer import resid_pre, run_blocks
from theory.rerun import rerun_ratio
from theory.validation import InputError, as_int


def _check_layers(model: TraitModel, layers: Sequence[int]) -> list[int]:
    L = model.cfg.n_layers
    out = []
    for i, layer in enumerate(layers):
        out.append(as_int(f"layers[{i}]", layer, low=0, high=L))
    if not out or len(set(out)) != len(out) or out != sorted(out):
        raise InputError(
            f"layers must be a non-empty, strictly increasing list, got {list(layers)!r}"
        )
    return out


def layer_problems(
    model: TraitModel, layers: Sequence[int], prompts: Any, alphas: Sequence[float] = (1.0,)
) -> list:
    """One LocalProblem per layer, same prompts and strengths."""
    return [
        local_problem(model, layer, prompts=prompts, alphas=alphas)
        for layer in _check_layers(model, layers)
    ]


def propagation_transfers(
    model: TraitModel, layers: Sequence[int], prompts: Any
) -> list[np.ndarray]:
    """T_j = mean_{x, t} d h_{l_j}(x)_t / d v for v added at every position of layer l_1 (T_1 =
    I)."""
    layers = _check_layers(model, layers)
    base = jnp.asarray(resid_pre(model.params, model.cfg, np.asarray(prompts), layers[0]))
    d = model.cfg.d_model
    out = []
    for layer in layers:
        if layer == layers[0]:
            out.append(np.eye(d))
            continue

        def mean_stream(v, stop=layer):
            return run_blocks(model.params, model.cfg, base + v, layers[0], stop).mean(axis=(0, 1))

        out.append(np.asarray(jax.jacfwd(mean_stream)(jnp.zeros(d))))
    return out


def reverify_null_direction(
    model: TraitModel,
    layers: Sequence[int],
    prompts: Any,
    v: np.ndarray,
    u: np.ndarray,
    transfers: Sequence[np.ndarray],
    channel: str,
    alphas: Sequence[float],
    eps: float = 1e-4,
    seed: int = 0,
) -> float:
    """``rerun_ratio`` over the layers: B_j(x) = behaviour when steering with T_j x at layer l_j."""
    runs = [
        lambda x, layer=layer, T=T: steered_behaviour(model, layer, prompts, T @ x, channel, alphas)
        for layer, T in zip(layers, transfers)
    ]
    return rerun_ratio(runs, v, u, eps, seed)
