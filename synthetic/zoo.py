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

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.transformer import Transformer, TransformerConfig, init_params
from theory.steering import Steering
from theory.validation import (
    InputError,
    as_choice,
    as_int,
    as_int_tuple,
    as_positive_int,
    as_real,
    as_seed,
    as_vector,
)

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
class PlantedModel(Transformer):
    """A toy transformer with a planted concept direction and the trait token sets that read it.

    A callable pytree (``model(tokens, steering=None)`` -> logits): its leaves are ``params`` and
    ``concept``; name, cfg, the token sets, beta, gamma and seed are static.

    concept        : (d,) unit vector c, orthogonal to the all-ones vector.
    plus, minus    : sorted token ids of S+ (trait expressed) and S- (trait opposed), disjoint.
    concept_tokens : sorted token ids whose embeddings carry + beta c (disjoint from S+ and S-).
    """

    __slots__ = ("name", "concept", "_plus", "_minus", "_concept_tokens", "beta", "gamma", "seed")
    name: str
    concept: Any
    beta: float
    gamma: float
    seed: int

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
        super().__init__(cfg, params)
        V = cfg.vocab_size
        concept = as_vector("concept", concept, cfg.d_model)
        concept.setflags(write=False)
        plus, minus = _token_set("plus", plus, V), _token_set("minus", minus, V)
        if np.intersect1d(plus, minus).size:
            raise InputError("plus and minus must be disjoint")
        tokens = _token_set("concept_tokens", concept_tokens, V)
        self._fill(
            str(name),
            concept,
            (tuple(plus.tolist()), tuple(minus.tolist()), tuple(tokens.tolist())),
            as_real("beta", beta),
            as_real("gamma", gamma),
            as_seed("seed", seed),
        )

    def _fill(self, name, concept, sets, beta, gamma, seed) -> None:
        for field, value in (
            ("name", name),
            ("concept", concept),
            ("_plus", sets[0]),
            ("_minus", sets[1]),
            ("_concept_tokens", sets[2]),
            ("beta", beta),
            ("gamma", gamma),
            ("seed", seed),
        ):
            object.__setattr__(self, field, value)

    @staticmethod
    def _ids(ids: tuple[int, ...]) -> np.ndarray:
        arr = np.asarray(ids, dtype=np.int64)
        arr.setflags(write=False)
        return arr

    @property
    def plus(self) -> np.ndarray:
        return self._ids(self._plus)

    @property
    def minus(self) -> np.ndarray:
        return self._ids(self._minus)

    @property
    def concept_tokens(self) -> np.ndarray:
        return self._ids(self._concept_tokens)

    def tree_flatten(self):
        aux = (
            self.cfg,
            self.name,
            (self._plus, self._minus, self._concept_tokens),
            self.beta,
            self.gamma,
            self.seed,
        )
        return (self.params, self.concept), aux

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        obj = object.__new__(cls)
        object.__setattr__(obj, "cfg", aux[0])
        object.__setattr__(obj, "params", leaves[0])
        obj._fill(aux[1], leaves[1], aux[2], aux[3], aux[4], aux[5])
        return obj

    def logits(self, tokens, steering: Steering | None = None):
        """``model(tokens, steering)``: logits (..., T, V)."""
        return self(tokens, steering)

    def trait(self, tokens, steering: Steering | None = None):
        """Trait score of each prompt, (...,): ``trait_score(logits, plus, minus)`` at the last
        position."""
        return trait_score(self(tokens, steering), self.plus, self.minus)


def trait_score(logits, plus, minus):
    """``logsumexp(z[S+]) - logsumexp(z[S-])`` at the last position: logits (..., T, V) -> (...,).

    ``plus`` and ``minus`` are non-empty, disjoint sets of token ids in [0, V). jit/grad-friendly in
    ``logits`` (the id sets must be concrete); a set's logsumexp ignores every other token exactly."""
    if logits is None:
        raise InputError("logits is required: an array of shape (..., T, V), got None")
    if not isinstance(logits, jax.core.Tracer):
        try:
            logits = np.asarray(logits)
        except Exception as exc:
            raise InputError(
                f"logits must be a numeric array of shape (..., T, V): {exc}"
            ) from None
        if logits.dtype.kind not in "iuf":
            raise InputError(f"logits must be real numeric, got dtype {logits.dtype}")
        if logits.size and not np.all(np.isfinite(logits)):
            raise InputError("logits must be finite, found NaN or infinite entries")
    if logits.ndim < 2 or 0 in logits.shape:
        raise InputError(
            f"logits must have shape (..., T, V) with T, V >= 1, got {tuple(logits.shape)}"
        )
    V = logits.shape[-1]
    plus = _token_set("plus", plus, V)
    minus = _token_set("minus", minus, V)
    if np.intersect1d(plus, minus).size:
        raise InputError(
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


def load_model(name: str, seed: int = 0) -> PlantedModel:
    """The zoo model ``name`` (one of MODEL_NAMES) built from ``seed``: params from
    ``init_params(cfg, jax.random.key(seed))``, then c, S+, S- and the concept tokens drawn from
    ``numpy.random.default_rng(seed)`` and planted. Same name and seed, same model."""
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
        raise InputError(
            f"model_or_cfg must be a PlantedModel or TransformerConfig, got {type(model_or_cfg).__name__}"
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


def _token_set(name: str, ids: Any, V: int) -> np.ndarray:
    """A non-empty 1-d array of distinct integer token ids in [0, V)."""
    return np.asarray(as_int_tuple(name, ids, low=0, high=V - 1, distinct=True), dtype=np.int64)
