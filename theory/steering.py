"""The steering intervention s = (l, v, alpha, P): h_l(x) -> h_l(x) + alpha * sum_{t in P} e_t v^T.

``Steering`` is a JAX pytree: ``vector`` and ``alpha`` are its leaves (so they can be traced by
``jit``, ``grad`` and ``vmap``), ``layer`` and ``positions`` its static structure. It is validated
once, at construction; a pytree rebuilt by JAX from traced leaves skips the value checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from theory.validation import InputError

from .validation import as_float_array, as_int, as_int_tuple, as_real


def _is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


@jax.tree_util.register_pytree_node_class
class Steering:
    """Add ``alpha * vector`` to the residual stream entering block ``layer``.

    layer     : index l of the hook point ``blocks.{l}.hook_resid_pre`` (l = n_layers: after the
                last block, before the final norm).
    vector    : v, shape (d,), real and finite (float64).
    alpha     : strength (default 1), a finite real.
    positions : token positions P to steer (distinct ints >= 0); None means every position.
    """

    __slots__ = ("layer", "vector", "alpha", "positions")

    layer: int
    vector: Any
    alpha: Any
    positions: tuple[int, ...] | None

    def __init__(
        self,
        layer: int,
        vector: Any,
        alpha: Any = 1.0,
        positions: Sequence[int] | None = None,
    ) -> None:
        layer = as_int("Steering.layer", layer, low=0)
        if not _is_traced(vector):
            vector = as_float_array("Steering.vector", vector, 1)
            vector.setflags(write=False)
        elif vector.ndim != 1:
            raise InputError(f"Steering.vector must have 1 dimension (d,), got {vector.shape}")
        if not _is_traced(alpha):
            if getattr(alpha, "shape", None) == ():  # a 0-d numpy or jax array
                alpha = alpha.item()
            alpha = as_real("Steering.alpha", alpha)
        if positions is not None:
            positions = as_int_tuple("Steering.positions", positions, low=0, distinct=True)
        self._set(layer, vector, alpha, positions)

    def _set(self, layer: int, vector: Any, alpha: Any, positions: tuple[int, ...] | None) -> None:
        object.__setattr__(self, "layer", layer)
        object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "positions", positions)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Steering is immutable")

    def tree_flatten(self) -> tuple[tuple[Any, Any], tuple[int, tuple[int, ...] | None]]:
        return (self.vector, self.alpha), (self.layer, self.positions)

    @classmethod
    def tree_unflatten(cls, aux: tuple[int, tuple[int, ...] | None], leaves: Any) -> Steering:
        obj = object.__new__(cls)
        obj._set(aux[0], leaves[0], leaves[1], aux[1])
        return obj

    @property
    def hook_name(self) -> str:
        """TransformerLens name of the hook point this steering acts on."""
        return f"blocks.{self.layer}.hook_resid_pre"

    def __repr__(self) -> str:
        shape = getattr(self.vector, "shape", None)
        return (
            f"Steering(layer={self.layer}, vector=<{shape}>, alpha={self.alpha!r}, "
            f"positions={self.positions!r})"
        )
