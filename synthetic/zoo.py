"""Named toy transformers with a planted concept direction c, and the trait score that reads it.

Planting (``plant_concept``): c is a unit vector orthogonal to the all-ones vector (so neither
LayerNorm's centring nor the T2a symmetry can erase it). The concept tokens write it,
``wte[t] += beta c``; the trait tokens read it, ``w_u[:, s] += gamma c`` for s in S+ and
``w_u[:, s] -= gamma c`` for s in S- (disjoint sets). Trait score at the last position:
``logsumexp(z_T[S+]) - logsumexp(z_T[S-])``. Steering along c (alpha >= 0, all positions) raises the
trait score strictly monotonically at every hook point of every zoo model (checked in
tests/test_zoo.py).

Why: the norms bound what every block writes, while alpha c rides the residual stream unchanged to
ln_f, whose output turns towards c as alpha grows; w_u's +-gamma c columns turn that into a rise of
about 2 gamma sqrt(d) sin(angle to c), and gamma is large compared with the random parts of w_u.
Measured margin (32 prompts of length n_ctx, every hook point, alpha on a grid of [0, 8]): the
smallest d(trait)/d(alpha) is 0.29 over seeds 0..29 of the tiny models and 1.85 over seeds 0..3 of
small-ln. With embedding rows of norm ~1 instead of EMBED_SCALE = 3 it went negative at layer 0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.trait_model import TraitModel, _token_set, trait_score
from synthetic.transformer import TransformerConfig, init_params
from theory.validation import (
    InputError,
    as_choice,
    as_int,
    as_positive_int,
    as_real,
    as_seed,
)

__all__ = [
    "BETA",
    "GAMMA",
    "MODEL_NAMES",
    "PlantedModel",
    "TraitModel",
    "load_model",
    "make_prompts",
    "plant_concept",
    "resolve_model",
    "trait_score",
]

BETA = 2.0  # how strongly concept tokens write c into the embedding
GAMMA = 3.0  # how strongly trait tokens read c from the final stream

_SPECS: dict[str, tuple[TransformerConfig, int, int]] = {
    # name: (config, size of S+ and of S-, number of concept tokens)
    "tiny-ln": (
        TransformerConfig(
            d_model=32, n_layers=2, n_heads=4, d_mlp=128, vocab_size=64, n_ctx=16, norm="layernorm"
        ),
        3,
        2,
    ),
    "tiny-rms": (
        TransformerConfig(
            d_model=32, n_layers=2, n_heads=4, d_mlp=128, vocab_size=64, n_ctx=16, norm="rmsnorm"
        ),
        3,
        2,
    ),
    "small-ln": (
        TransformerConfig(
            d_model=128,
            n_layers=4,
            n_heads=4,
            d_mlp=512,
            vocab_size=512,
            n_ctx=32,
            norm="layernorm",
        ),
        8,
        4,
    ),
}
MODEL_NAMES: tuple[str, ...] = tuple(_SPECS)


@jax.tree_util.register_pytree_node_class
class PlantedModel(TraitModel):
    """A toy transformer with a planted concept direction and the trait token sets that read it.

    A callable pytree (``model(tokens, steering=None)`` -> logits): its leaves are ``params`` and
    ``concept``; name, cfg, the token sets, beta, gamma and seed are static.

    concept        : (d,) unit vector c, orthogonal to the all-ones vector.
    plus, minus    : sorted token ids of S+ (trait expressed) and S- (trait opposed), disjoint,
                     non-empty.
    concept_tokens : sorted token ids whose embeddings carry + beta c (disjoint from S+ and S-).
    """

    __slots__ = ("beta", "gamma")
    beta: float
    gamma: float

    def __init__(
        self,
        name: str,
        cfg: TransformerConfig,
        params: dict,
        concept: Any,
        plus: Any,
        minus: Any,
        concept_tokens: Any,
        beta: float = BETA,
        gamma: float = GAMMA,
        seed: int = 0,
    ) -> None:
        if concept is None:
            raise InputError("concept is required: a vector of length d_model")
        super().__init__(name, cfg, params, plus, minus, seed, concept, concept_tokens)
        for set_name in ("plus", "minus", "concept_tokens"):
            if not getattr(self, "_" + set_name):
                raise InputError(f"{set_name} must not be empty")
        object.__setattr__(self, "beta", as_real("beta", beta))
        object.__setattr__(self, "gamma", as_real("gamma", gamma))

    def tree_flatten(self):
        leaves, aux = super().tree_flatten()
        return leaves, (aux, self.beta, self.gamma)

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        obj = super().tree_unflatten(aux[0], leaves)
        object.__setattr__(obj, "beta", aux[1])
        object.__setattr__(obj, "gamma", aux[2])
        return obj


def plant_concept(
    params: dict, concept, plus, minus, concept_tokens, beta: float = BETA, gamma: float = GAMMA
) -> dict:
    """New params with ``wte[concept_tokens] += beta c``, ``w_u[:, plus] += gamma c``,
    ``w_u[:, minus] -= gamma c``; every other array is shared with ``params``. Works on concrete
    arrays (the edits are made in numpy), not under jit."""
    d, V = params["w_u"].shape
    c = np.asarray(concept, dtype=np.float64)
    if c.shape != (d,) or not np.all(np.isfinite(c)):
        raise InputError(
            f"concept must be a finite vector of length d_model = {d}, got shape {c.shape}"
        )
    plus, minus = _token_set("plus", plus, V), _token_set("minus", minus, V)
    concept_tokens = _token_set("concept_tokens", concept_tokens, params["wte"].shape[0])
    if np.intersect1d(plus, minus).size:
        raise InputError("plus and minus must be disjoint")
    beta, gamma = as_real("beta", beta), as_real("gamma", gamma)
    wte, w_u = np.array(params["wte"], dtype=np.float64), np.array(params["w_u"], dtype=np.float64)
    wte[concept_tokens] += beta * c
    w_u[:, plus] += gamma * c[:, None]
    w_u[:, minus] -= gamma * c[:, None]
    return {**params, "wte": jnp.asarray(wte), "w_u": jnp.asarray(w_u)}


def load_model(name: Any, seed: int = 0, plus: Any = (), minus: Any = ()) -> TraitModel:
    """The zoo model ``name`` (one of MODEL_NAMES, or of the trained zoo's TRAINED_NAMES), or the
    checkpoint directory ``name``.

    Zoo: params from ``init_params(cfg, jax.random.key(seed))``, then c, S+, S- and the concept
    tokens drawn from ``numpy.random.default_rng(seed)`` and planted (a ``PlantedModel``); same name
    and seed, same model. Checkpoint: ``synthetic.checkpoint.load_checkpoint`` as a ``TraitModel``
    with no known concept, trait sets ``plus``/``minus`` given as token ids, or as strings when the
    directory has a tokenizer.json (each string must be one token)."""
    from synthetic.trained_zoo import TRAINED_NAMES, load_trained

    if isinstance(name, str) and name in TRAINED_NAMES:
        if tuple(plus) or tuple(minus):
            raise InputError("a trained-zoo model reads its language's S+ and S-; give no sets")
        return load_trained(name)
    if isinstance(name, os.PathLike) or (isinstance(name, str) and name not in MODEL_NAMES):
        if Path(name).is_dir():
            return _checkpoint_model(Path(name), seed, plus, minus)
        raise InputError(
            f"name must be one of {MODEL_NAMES + TRAINED_NAMES} or a checkpoint directory, "
            f"got {str(name)!r}"
        )
    if tuple(plus) or tuple(minus):
        raise InputError(
            "plus and minus are planted in a zoo model; give them for checkpoints only"
        )
    return _zoo_model(name, seed)


def resolve_model(model: Any, seed: int = 0, plus: Any = (), minus: Any = ()) -> TraitModel:
    """``model`` itself when it is a TraitModel, else ``load_model(model, seed, plus, minus)``."""
    if isinstance(model, TraitModel):
        return model
    return load_model(model, seed, plus, minus)


def _checkpoint_model(path: Path, seed: int, plus: Any, minus: Any) -> TraitModel:
    from synthetic.checkpoint import load_checkpoint, trait_token_ids

    model = load_checkpoint(path)
    plus, minus = trait_token_ids(path, "plus", plus), trait_token_ids(path, "minus", minus)
    return TraitModel(str(path), model.cfg, model.params, plus, minus, as_seed("seed", seed))


def _zoo_model(name: str, seed: int) -> PlantedModel:
    name = as_choice("name", name, MODEL_NAMES)
    seed = as_seed("seed", seed)
    cfg, n_trait, n_concept = _SPECS[name]
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(cfg.d_model)
    c -= c.mean()
    c /= np.linalg.norm(c)
    ids = rng.permutation(cfg.vocab_size)
    plus = np.sort(ids[:n_trait])
    minus = np.sort(ids[n_trait : 2 * n_trait])
    concept_tokens = np.sort(ids[2 * n_trait : 2 * n_trait + n_concept])
    params = plant_concept(init_params(cfg, jax.random.key(seed)), c, plus, minus, concept_tokens)
    for arr in (c, plus, minus, concept_tokens):
        arr.setflags(write=False)
    return PlantedModel(
        name=name,
        cfg=cfg,
        params=params,
        concept=c,
        plus=plus,
        minus=minus,
        concept_tokens=concept_tokens,
        seed=seed,
    )


def make_prompts(
    model_or_cfg: TraitModel | TransformerConfig, n_prompts: int, length: int, seed: int = 0
) -> np.ndarray:
    """(n_prompts, length) int64 token ids drawn uniformly from the vocabulary by
    ``numpy.random.default_rng(seed)``; for a model with concept tokens about half the prompts also
    get one of them at a random position."""
    if isinstance(model_or_cfg, TraitModel):
        cfg, concept_tokens = model_or_cfg.cfg, model_or_cfg.concept_tokens
    elif isinstance(model_or_cfg, TransformerConfig):
        cfg, concept_tokens = model_or_cfg, None
    else:
        raise InputError(
            "model_or_cfg must be a TraitModel or TransformerConfig, got "
            f"{type(model_or_cfg).__name__}"
        )
    n_prompts = as_positive_int("n_prompts", n_prompts)
    length = as_int("length", length, low=1, high=cfg.n_ctx)
    rng = np.random.default_rng(as_seed("seed", seed))
    tokens = rng.integers(0, cfg.vocab_size, size=(n_prompts, length), dtype=np.int64)
    if concept_tokens is not None and len(concept_tokens):
        rows = np.flatnonzero(rng.random(n_prompts) < 0.5)
        cols = rng.integers(0, length, size=rows.size)
        tokens[rows, cols] = rng.choice(concept_tokens, size=rows.size)
    return tokens
