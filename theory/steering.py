"""The steering intervention s = (l, v, alpha, P): h_l(x) -> h_l(x) + alpha * sum_{t in P} e_t v^T."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Steering:
    """Add ``alpha * vector`` to the residual stream entering block ``layer``.

    layer     : index l of the hook point ``blocks.{l}.hook_resid_pre`` (l = n_layers: after the last block).
    vector    : v, shape (d,).
    alpha     : strength (default 1).
    positions : token positions P to steer; None means every position.
    """

    layer: int
    vector: Any
    alpha: float = 1.0
    positions: Sequence[int] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.layer, bool) or not isinstance(self.layer, (int, np.integer)):
            raise ValueError(f"Steering.layer must be an int, got {type(self.layer).__name__}")
        if self.positions is not None:
            object.__setattr__(self, "positions", tuple(int(p) for p in self.positions))
            if len(self.positions) == 0:
                raise ValueError(
                    "Steering.positions must be None (all) or a non-empty list of positions"
                )

    @property
    def hook_name(self) -> str:
        """TransformerLens name of the hook point this steering acts on."""
        return f"blocks.{self.layer}.hook_resid_pre"
