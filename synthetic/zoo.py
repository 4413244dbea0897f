"""Named toy transformers with a planted concept direction c, and the trait score that reads it.

Planting (``plant_concept``): c is a unit vector orthogonal to the all-ones vector (so neither
LayerNorm's centring nor the T2a symmetry can erase it). The concept tokens write it,
``wte[t] += beta c``; the trait tokens read it, ``w_u[:, s] += gamma c`` for s in S+ and
``w_u[:, s] -= gamma c`` for s in S- (disjoint sets). Trait score at the last position:
``logsumexp(z_T[S+]) - logsumexp(z_T[S-])``. Steering along c (alpha >= 0, all positions) raises the
trait score strictly monotonically at every hook point of every zoo model (checked in tests/test_zoo.py).

Why: the norms bound what every block writes, while alpha c rides the residual stream unchanged to
ln_f, whose output turns towards c as alpha grows; w_u's +-gamma c columns turn that into a rise of
about 2 gamma sqrt(d) sin(angle to c), and gamma is large compared with the random parts of w_u.
Measured margin (32 prompts of length n_ctx, every hook point, alpha on a grid of [0, 8]): the
smallest d(trait)/d(alpha) is 0.29 over seeds 0..29 of the tiny models and 1.85 over seeds 0..3 of
small-ln. With embedding rows of norm ~1 instead of EMBED_SCALE = 3 it went negative at layer 0.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.transformer import TransformerConfig, forward, init_params
from theory.steering import Steering

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


@dataclasses.dataclass(frozen=True, eq=False)
class PlantedModel:
    """A toy transformer with a planted concept direction and the trait token sets that read it.

    concept        : (d,) unit vector c, orthogonal to the all-ones vector.
    plus, minus    : sorted token ids of S+ (trait expressed) and S- (trait opposed), disjoint.
    concept_tokens : sorted token ids whose embeddings carry + beta c (disjoint from S+ and S-).
    """

    name: str
    cfg: TransformerConfig
    params: dict
    concept: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    concept_tokens: np.ndarray
    beta: float = BETA
    gamma: float = GAMMA
    seed: int = 0

    def logits(self, tokens, steering: Steering | None = None):
        """``forward(params, cfg, tokens, steering)``: logits (..., T, V)."""
        return forward(self.params, self.cfg, tokens, steering)

    def trait(self, tokens, steering: Steering | None = None):
        """Trait score of each prompt, (...,): ``trait_score(logits, plus, minus)`` at the last position."""
        return trait_score(self.logits(tokens, steering), self.plus, self.minus)


def trait_score(logits, plus, minus):
    """``logsumexp(z[S+]) - logsumexp(z[S-])`` at the last position: logits (..., T, V) -> (...,).

    ``plus`` and ``minus`` are non-empty, disjoint sets of token ids in [0, V). jit/grad-friendly in
    ``logits`` (the id sets must be concrete); a set's logsumexp ignores every other token exactly."""
    if logits is None:
        raise ValueError("logits is required: an array of shape (..., T, V), got None")
    if not isinstance(logits, jax.core.Tracer):
        try:
            logits = np.asarray(logits)
        except Exception as exc:
            raise ValueError(
                f"logits must be a numeric array of shape (..., T, V): {exc}"
            ) from None
        if logits.dtype.kind not in "iuf":
            raise ValueError(f"logits must be real numeric, got dtype {logits.dtype}")
        if logits.size and not np.all(np.isfinite(logits)):
            raise ValueError("logits must be finite, found NaN or infinite entries")
    if logits.ndim < 2 or 0 in logits.shape:
        raise ValueError(
            f"logits must have shape (..., T, V) with T, V >= 1, got {tuple(logits.shape)}"
        )
    V = logits.shape[-1]
    plus = _token_set("plus", plus, V)
    minus = _token_set("minus", minus, V)
    if np.intersect1d(plus, minus).size:
        raise ValueError(
            f"plus and minus must be disjoint, both contain {np.intersect1d(plus, minus).tolist()}"
        )
    in_plus, in_minus = np.zeros(V, bool), np.zeros(V, bool)
    in_plus[plus], in_minus[minus] = True, True
    return _trait_jit(jnp.asarray(logits, dtype=jnp.float64), in_plus, in_minus)


@jax.jit
def _trait_jit(logits, in_plus, in_minus):
    """The sets enter as boolean masks, so one compilation serves every S+ and S- of a given V."""
    last = logits[..., -1, :]
    lse = lambda mask: jax.scipy.special.logsumexp(jnp.where(mask, last, -jnp.inf), axis=-1)
    return lse(in_plus) - lse(in_minus)


def plant_concept(
    params: dict, concept, plus, minus, concept_tokens, beta: float = BETA, gamma: float = GAMMA
) -> dict:
    """New params with ``wte[concept_tokens] += beta c``, ``w_u[:, plus] += gamma c``,
    ``w_u[:, minus] -= gamma c``; every other array is shared with ``params``. Works on concrete
    arrays (the edits are made in numpy), not under jit."""
    d, V = params["w_u"].shape
    c = np.asarray(concept, dtype=np.float64)
    if c.shape != (d,) or not np.all(np.isfinite(c)):
        raise ValueError(
            f"concept must be a finite vector of length d_model = {d}, got shape {c.shape}"
        )
    plus, minus = _token_set("plus", plus, V), _token_set("minus", minus, V)
    concept_tokens = _token_set("concept_tokens", concept_tokens, params["wte"].shape[0])
    if np.intersect1d(plus, minus).size:
        raise ValueError("plus and minus must be disjoint")
    for name, value in (("beta", beta), ("gamma", gamma)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not np.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    wte, w_u = np.array(params["wte"], dtype=np.float64), np.array(params["w_u"], dtype=np.float64)
    wte[concept_tokens] += beta * c
    w_u[:, plus] += gamma * c[:, None]
    w_u[:, minus] -= gamma * c[:, None]
    return {**params, "wte": jnp.asarray(wte), "w_u": jnp.asarray(w_u)}


def load_model(name: str, seed: int = 0) -> PlantedModel:
    """The zoo model ``name`` (one of MODEL_NAMES) built from ``seed``: params from
    ``init_params(cfg, jax.random.key(seed))``, then c, S+, S- and the concept tokens drawn from
    ``numpy.random.default_rng(seed)`` and planted. Same name and seed, same model."""
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"name must be one of {MODEL_NAMES}, got {name!r}")
    seed = _check_seed(seed)
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
    model_or_cfg: PlantedModel | TransformerConfig, n_prompts: int, length: int, seed: int = 0
) -> np.ndarray:
    """(n_prompts, length) int64 token ids drawn uniformly from the vocabulary by
    ``numpy.random.default_rng(seed)``; for a PlantedModel about half the prompts also get one of its
    concept tokens at a random position."""
    if isinstance(model_or_cfg, PlantedModel):
        cfg, concept_tokens = model_or_cfg.cfg, model_or_cfg.concept_tokens
    elif isinstance(model_or_cfg, TransformerConfig):
        cfg, concept_tokens = model_or_cfg, None
    else:
        raise ValueError(
            f"model_or_cfg must be a PlantedModel or TransformerConfig, got {type(model_or_cfg).__name__}"
        )
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, (int, np.integer)) or n_prompts < 1:
        raise ValueError(f"n_prompts must be a positive int, got {n_prompts!r}")
    if (
        isinstance(length, bool)
        or not isinstance(length, (int, np.integer))
        or not 1 <= length <= cfg.n_ctx
    ):
        raise ValueError(f"length must be an int in [1, n_ctx] = [1, {cfg.n_ctx}], got {length!r}")
    rng = np.random.default_rng(_check_seed(seed))
    tokens = rng.integers(0, cfg.vocab_size, size=(int(n_prompts), int(length)), dtype=np.int64)
    if concept_tokens is not None and len(concept_tokens):
        rows = np.flatnonzero(rng.random(n_prompts) < 0.5)
        cols = rng.integers(0, length, size=rows.size)
        tokens[rows, cols] = rng.choice(concept_tokens, size=rows.size)
    return tokens


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _token_set(name: str, ids: Any, V: int) -> np.ndarray:
    """A non-empty 1-d array of distinct integer token ids in [0, V)."""
    try:
        arr = np.asarray(ids)
    except Exception as exc:
        raise ValueError(f"{name} must be a 1-d array of token ids: {exc}") from None
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a non-empty 1-d array of int token ids, got {ids!r}")
    if arr.min() < 0 or arr.max() >= V:
        raise ValueError(f"{name} must be token ids in [0, {V}), got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must not repeat a token id, got {arr.tolist()}")
    return arr.astype(np.int64)
