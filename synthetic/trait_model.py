"""A transformer with the token sets of its trait channel: the zoo's planted models and any
checkpoint are analysed through this one type.

    trait(x) = logsumexp(z_T[S+]) - logsumexp(z_T[S-])      (z_T: the logits at the last position)

``concept`` is the planted direction where one is known (the zoo), None otherwise (a checkpoint);
``plus``/``minus`` may be empty, and then only the logits and probs channels are defined.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.transformer import Transformer, TransformerConfig
from theory.steering import Steering
from theory.validation import InputError, as_int_tuple, as_seed, as_vector


@jax.tree_util.register_pytree_node_class
class TraitModel(Transformer):
    """A callable pytree: leaves ``params`` and ``concept``; name, cfg, token sets and seed static.

    name           : how certificates name the model (a zoo name or a checkpoint path).
    plus, minus    : sorted token ids of S+ and S- (disjoint; may be empty).
    seed           : the seed the model (or its prompts and default vectors) were drawn from.
    concept        : the known concept direction (d,), or None.
    concept_tokens : token ids that write the concept (may be empty).
    """

    __slots__ = ("name", "concept", "_plus", "_minus", "_concept_tokens", "seed")
    name: str
    concept: Any
    seed: int
    _plus: tuple[int, ...]
    _minus: tuple[int, ...]
    _concept_tokens: tuple[int, ...]

    def __init__(
        self,
        name: str,
        cfg: TransformerConfig,
        params: dict,
        plus: Any = (),
        minus: Any = (),
        seed: int = 0,
        concept: Any = None,
        concept_tokens: Any = (),
    ) -> None:
        super().__init__(cfg, params)
        V = cfg.vocab_size
        if concept is not None:
            concept = as_vector("concept", concept, cfg.d_model)
            concept.setflags(write=False)
        plus, minus = _token_set("plus", plus, V, True), _token_set("minus", minus, V, True)
        if np.intersect1d(plus, minus).size:
            raise InputError(
                "plus and minus must be disjoint, both contain "
                f"{np.intersect1d(plus, minus).tolist()}"
            )
        tokens = _token_set("concept_tokens", concept_tokens, V, True)
        sets = (tuple(plus.tolist()), tuple(minus.tolist()), tuple(tokens.tolist()))
        self._fill(str(name), concept, sets, as_seed("seed", seed))

    def _fill(self, name, concept, sets, seed) -> None:
        for field, value in (
            ("name", name),
            ("concept", concept),
            ("_plus", sets[0]),
            ("_minus", sets[1]),
            ("_concept_tokens", sets[2]),
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
        aux = (self.cfg, self.name, (self._plus, self._minus, self._concept_tokens), self.seed)
        return (self.params, self.concept), aux

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        obj = object.__new__(cls)
        object.__setattr__(obj, "cfg", aux[0])
        object.__setattr__(obj, "params", leaves[0])
        obj._fill(aux[1], leaves[1], aux[2], aux[3])
        return obj

    def logits(self, tokens, steering: Steering | None = None):
        """``model(tokens, steering)``: logits (..., T, V)."""
        return self(tokens, steering)

    def trait(self, tokens, steering: Steering | None = None):
        """Trait score of each prompt, (...,): ``trait_score(logits, plus, minus)`` at the last
        position."""
        if not self._plus or not self._minus:
            raise InputError(f"{self.name} has no trait token sets: give plus and minus")
        return trait_score(self(tokens, steering), self.plus, self.minus)


def trait_score(logits, plus, minus):
    """``logsumexp(z[S+]) - logsumexp(z[S-])`` at the last position: logits (..., T, V) -> (...,).

    ``plus`` and ``minus`` are non-empty, disjoint sets of token ids in [0, V). jit/grad-friendly in
    ``logits`` (the id sets must be concrete); a set's logsumexp ignores every other token
    exactly."""
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


def _token_set(name: str, ids: Any, V: int, allow_empty: bool = False) -> np.ndarray:
    """A 1-d array of distinct integer token ids in [0, V), non-empty unless ``allow_empty``."""
    ids = as_int_tuple(name, ids, low=0, high=V - 1, distinct=True, nonempty=not allow_empty)
    return np.asarray(ids, dtype=np.int64)
