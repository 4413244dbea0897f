"""T9 on the zoo: one concept steered at several layers of a toy transformer.

``layer_problems`` cuts the model at each layer (``synthetic.local_problems``); ``propagation_transfers``
gives the maps T_j of "the same concept seen at a later layer": the average over prompts and positions
of the Jacobian of the stream at layer l_j with respect to a vector added at l_1 (at v = 0), so that
steering with ``T_j v`` at l_j moves the stream there as steering with v at l_1 does, to first order.
With LayerNorm every T_j maps the all-ones vector to itself (the blocks read the stream through LN).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.local_problems import local_problem, steered_behaviour, steering_vector
from synthetic.transformer import resid_pre, run_blocks
from synthetic.zoo import PlantedModel, load_model, make_prompts
from theory.certificate import Certificate, Verdict
from theory.cross_layer import check_t9

RERUN_LIMIT = 1e-2  # second order against first: a true null direction gives O(eps), about 1e-4


def _check_layers(model: PlantedModel, layers: Sequence[int]) -> list[int]:
    L = model.cfg.n_layers
    out = []
    for layer in layers:
        if (
            isinstance(layer, bool)
            or not isinstance(layer, (int, np.integer))
            or not 0 <= int(layer) <= L
        ):
            raise ValueError(
                f"layers must be ints in [0, n_layers] = [0, {L}], got {list(layers)!r}"
            )
        out.append(int(layer))
    if not out or len(set(out)) != len(out) or out != sorted(out):
        raise ValueError(
            f"layers must be a non-empty, strictly increasing list, got {list(layers)!r}"
        )
    return out


def layer_problems(
    model: PlantedModel, layers: Sequence[int], prompts: Any, alphas: Sequence[float] = (1.0,)
) -> list:
    """One LocalProblem per layer, same prompts and strengths."""
    return [
        local_problem(model, layer, prompts=prompts, alphas=alphas)
        for layer in _check_layers(model, layers)
    ]


def propagation_transfers(
    model: PlantedModel, layers: Sequence[int], prompts: Any
) -> list[np.ndarray]:
    """T_j = mean_{x, t} d h_{l_j}(x)_t / d v for v added at every position of layer l_1 (T_1 = I)."""
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


def rerun_ratio(
    runs: Sequence[Callable[[np.ndarray], Any]],
    v: np.ndarray,
    u: np.ndarray,
    eps: float = 1e-4,
    seed: int = 0,
) -> float:
    """Run the whole model through each behaviour map in ``runs`` (one per layer or environment):
    max of |B(v + eps u) - B(v)| / |B(v + eps g) - B(v)| for a random unit g, eps relative to |v|.
    A common null direction u gives O(eps) (second order against first); any other direction O(1);
    inf when a map does not move at all (nothing can be verified there)."""
    g = np.random.default_rng(seed).standard_normal(v.size)
    g /= np.linalg.norm(g)
    eps = eps * max(float(np.linalg.norm(v)), 1.0)
    worst = 0.0
    for run in runs:
        b_v = np.asarray(run(v))
        along_g = np.linalg.norm(np.asarray(run(v + eps * g)) - b_v)
        along_u = np.linalg.norm(np.asarray(run(v + eps * u)) - b_v)
        worst = max(worst, float(along_u / along_g) if along_g > 0 else math.inf)
    return worst


def reverify_null_direction(
    model: PlantedModel,
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


def cross_layer_certificate(
    name: str,
    layers: Sequence[int],
    channel: str,
    n_prompts: int = 4,
    seed: int = 0,
    propagate: bool = False,
    tol: float | None = None,
    alphas: Sequence[float] = (1.0, 2.0),
    length: int = 6,
) -> Certificate:
    """T9 for zoo model ``name``: the concept-plus-noise vector v steered at ``layers`` (T_j = I, or
    the propagation Jacobians with ``propagate``); a common null direction, when found, is re-run
    through the whole model at every layer (details ``witness_rerun_ratio``: O(eps) for a true null
    direction)."""
    model = load_model(name, seed)
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, (int, np.integer)) or n_prompts < 1:
        raise ValueError(f"n_prompts must be a positive int, got {n_prompts!r}")
    layers = _check_layers(model, layers)
    prompts = make_prompts(model, int(n_prompts), length, seed)
    v = steering_vector(model, seed)
    transfers = propagation_transfers(model, layers, prompts) if propagate else None
    cert = check_t9(layer_problems(model, layers, prompts, alphas), v, channel, transfers, tol)
    details = {
        **cert.details,
        "model": name,
        "propagate": bool(propagate),
        "n_prompts": int(n_prompts),
        "alphas": list(alphas),
    }
    if cert.verdict is Verdict.VIOLATED:
        u = np.asarray(cert.witness["common_null_direction"])
        ts = transfers if transfers is not None else [np.eye(v.size)] * len(layers)
        details["witness_rerun_ratio"] = reverify_null_direction(
            model, layers, prompts, v, u, ts, channel, alphas, seed=seed
        )
        if not details["witness_rerun_ratio"] <= RERUN_LIMIT:
            details["reason"] = (
                "the common null direction did not survive a re-run through the model"
            )
            return Certificate(
                theorem=cert.theorem,
                verdict=Verdict.UNDECIDED,
                claim=cert.claim,
                dim=cert.dim,
                rank=cert.rank,
                margin=cert.margin,
                tolerance=cert.tolerance,
                witness=cert.witness,
                details=details,
            )
    return Certificate(
        theorem=cert.theorem,
        verdict=cert.verdict,
        claim=cert.claim,
        dim=cert.dim,
        rank=cert.rank,
        margin=cert.margin,
        tolerance=cert.tolerance,
        witness=cert.witness,
        details=details,
    )
