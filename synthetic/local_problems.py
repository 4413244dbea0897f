"""Zoo models cut at a hook point, as ``theory.jacobian.LocalProblem``s (the T3 engine's input).

``local_problem(model, layer)`` takes the unsteered stream ``h_l = resid_pre(tokens, l)`` and the
downstream map ``run_from(., l)`` (blocks l.. and ln_f, so it returns the final normalised stream);
logits are that stream @ ``w_u`` (the toy transformer has no unembedding bias).
``steered_behaviour`` re-runs the whole model through ``forward`` with a ``Steering``: the
independent path on which certificates' witnesses are re-verified.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.model_inputs import check_layer
from synthetic.trait_model import TraitModel, trait_score
from synthetic.transformer import TransformerConfig, forward, resid_pre, run_from, unembedding
from synthetic.zoo import make_prompts, resolve_model
from theory.jacobian import CHANNELS, LocalProblem
from theory.steering import Steering
from theory.validation import InputError


@functools.cache
def _downstream(cfg: TransformerConfig, layer: int):
    """One function object per (cfg, layer), so compiled engine code is shared by every model and
    seed of that shape (the params travel as a ``Partial`` argument, not as constants)."""

    def downstream(params, resid):
        return run_from(params, cfg, resid, layer)

    return downstream


def _check_model(model: Any) -> TraitModel:
    if not isinstance(model, TraitModel):
        raise InputError(
            f"model must be a TraitModel (synthetic.zoo.load_model), got {type(model).__name__}"
        )
    return model


def _check_layer(model: TraitModel, layer: Any) -> int:
    return check_layer("layer", layer, model.cfg)


def _check_prompts(model: TraitModel, prompts: Any) -> np.ndarray:
    try:
        arr = np.asarray(prompts)
    except Exception as exc:
        raise InputError(f"prompts must be an int array of shape (N, T): {exc}") from None
    if arr.ndim == 2 and arr.shape[0] == 0 or arr.size == 0:
        raise InputError(
            f"prompts is an empty prompt set (shape {arr.shape}); need at least one prompt"
        )
    if arr.ndim != 2:
        raise InputError(f"prompts must have shape (N, T), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise InputError(f"prompts must hold integer token ids, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= model.cfg.vocab_size:
        raise InputError(
            f"prompts must be token ids in [0, {model.cfg.vocab_size}), found [{arr.min()}, "
            f"{arr.max()}]"
        )
    if arr.shape[1] > model.cfg.n_ctx:
        raise InputError(
            f"prompts has T = {arr.shape[1]} positions, more than n_ctx = {model.cfg.n_ctx}"
        )
    return arr


def transformer_problem(
    cfg: TransformerConfig,
    params: dict,
    tokens: Any,
    layer: int,
    alphas: Sequence[float] = (1.0,),
    positions: Sequence[int] | None = None,
    plus: Sequence[int] | np.ndarray = (),
    minus: Sequence[int] | np.ndarray = (),
    meta: dict | None = None,
) -> LocalProblem:
    """The LocalProblem of any toy transformer (cfg, params) steered at
    ``blocks.{layer}.hook_resid_pre`` on ``tokens`` (N, T): stream ``resid_pre``, downstream
    ``run_from``, unembedding ``w_u`` (no bias)."""
    if not isinstance(cfg, TransformerConfig):
        raise InputError(f"cfg must be a TransformerConfig, got {type(cfg).__name__}")
    layer = check_layer("layer", layer, cfg)
    stream = np.asarray(resid_pre(params, cfg, tokens, layer))
    fn = jax.tree_util.Partial(_downstream(cfg, layer), params)
    return LocalProblem(
        downstream=fn,
        stream=stream,
        w_u=np.asarray(unembedding(params)),
        b_u=None,
        positions=positions,
        alphas=alphas,
        plus=tuple(int(t) for t in plus),
        minus=tuple(int(t) for t in minus),
        meta={"layer": layer, **(meta or {})},
    )


def local_problem(
    model: TraitModel,
    layer: int,
    prompts: Any = None,
    n_prompts: int = 8,
    length: int = 8,
    seed: int = 0,
    alphas: Sequence[float] = (1.0,),
    positions: Sequence[int] | None = None,
) -> LocalProblem:
    """The LocalProblem of ``model`` steered at ``blocks.{layer}.hook_resid_pre`` on ``prompts``
    (default: ``make_prompts(model, n_prompts, length, seed)``), strengths ``alphas``, positions P;
    the trait channel reads S+ = model.plus, S- = model.minus."""
    model = _check_model(model)
    layer = _check_layer(model, layer)
    if prompts is None:
        prompts = make_prompts(model, n_prompts, length, seed)
    tokens = _check_prompts(model, prompts)
    return transformer_problem(
        model.cfg,
        model.params,
        tokens,
        layer,
        alphas=alphas,
        positions=positions,
        plus=model.plus,
        minus=model.minus,
        meta={
            "model": model.name,
            "seed": model.seed,
            "n_prompts": int(tokens.shape[0]),
            "length": int(tokens.shape[1]),
            "norm": model.cfg.norm,
        },
    )


def steered_behaviour(
    model: TraitModel,
    layer: int,
    prompts: Any,
    v: Any,
    channel: str,
    alphas: Sequence[float] = (1.0,),
    positions: Sequence[int] | None = None,
) -> np.ndarray:
    """B(v) by running the whole model (``forward`` with ``Steering(layer, v, alpha, P)``), laid out
    like ``theory.jacobian.behaviour``: (|A|, N, T, V) logits/probs, (|A|, N) trait."""
    model = _check_model(model)
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {CHANNELS}, got {channel!r}")
    tokens = _check_prompts(model, prompts)
    out = []
    for alpha in alphas:
        z = forward(
            model.params,
            model.cfg,
            tokens,
            Steering(
                layer=layer,
                vector=np.asarray(v, dtype=np.float64),
                alpha=float(alpha),
                positions=positions,
            ),
        )
        if channel == "logits":
            out.append(np.asarray(z))
        elif channel == "probs":
            out.append(np.asarray(jax.nn.softmax(jnp.asarray(z), axis=-1)))
        else:
            out.append(np.asarray(trait_score(z, model.plus, model.minus)))
    return np.stack(out)


def behaviour_verifier(model: TraitModel, problem: LocalProblem, prompts: Any, channel: str):
    """v -> B(v) through ``forward`` for the prompts, layer, strengths and positions of
    ``problem``."""
    layer = int(problem.meta["layer"])
    return lambda v: steered_behaviour(
        model, layer, prompts, v, channel, problem.alphas, problem.positions
    )


def steering_vector(
    model: TraitModel, seed: int = 0, scale: float = 2.0, noise: float = 0.5
) -> np.ndarray:
    """``scale * c + noise * g`` with g ~ N(0, I_d) from ``default_rng(seed)``: along the planted
    concept, with parts in every direction (the all-ones direction included). A model with no known
    concept (a checkpoint) gets ``scale * g / |g|``, a random direction of the same length."""
    model = _check_model(model)
    g = np.random.default_rng(seed).standard_normal(model.cfg.d_model)
    if model.concept is None:
        return scale * g / np.linalg.norm(g)
    return scale * np.asarray(model.concept) + noise * g


@dataclasses.dataclass(frozen=True, eq=False)
class ZooLocal:
    """A zoo model cut at one layer: the model, its prompts, the LocalProblem and the steering
    vector."""

    model: TraitModel
    prompts: np.ndarray
    problem: LocalProblem
    vector: np.ndarray

    def verifier(self, channel: str):
        """v -> B(v) by running the whole model (``forward`` with a ``Steering``)."""
        return behaviour_verifier(self.model, self.problem, self.prompts, channel)


def zoo_local(
    name: Any,
    layer: int,
    n_prompts: int = 8,
    length: int = 8,
    seed: int = 0,
    alphas: Sequence[float] = (1.0,),
    positions: Sequence[int] | None = None,
    plus: Sequence[Any] = (),
    minus: Sequence[Any] = (),
    texts: Sequence[str] | None = None,
) -> ZooLocal:
    """``load_model(name, seed, plus, minus)`` (a zoo name, a checkpoint directory or a TraitModel)
    cut at ``layer`` on ``make_prompts(model, n_prompts, length, seed)``, or on the prompts
    ``texts`` read with a checkpoint directory's tokenizer, with
    ``v = steering_vector(model, seed)``."""
    model = resolve_model(name, seed, plus, minus)
    if texts is None:
        prompts = make_prompts(model, n_prompts, length, seed)
    elif isinstance(name, (str, os.PathLike)) and os.path.isdir(name):
        from synthetic.checkpoint import prompt_token_ids

        prompts = prompt_token_ids(name, list(texts))
    else:
        raise InputError(
            f"prompts as text need a checkpoint directory with a tokenizer, not {name!r}"
        )
    problem = local_problem(model, layer, prompts=prompts, alphas=alphas, positions=positions)
    return ZooLocal(model, prompts, problem, steering_vector(model, seed))
