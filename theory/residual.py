"""How far apart two behaviours are, measured against how sensitive the behaviour map is."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .certificate import ratio_margin
from .gates import over
from .validation import InputError, as_real

EPS = float(np.finfo(np.float64).eps)
SQRT_EPS = float(np.sqrt(EPS))
# round-off of evaluating B: NOISE_FACTOR * eps * |B| (norms aggregate many terms)
NOISE_FACTOR = 1e3


def _flat(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).ravel()


def behaviour_residual(b_w: Any, b_v: Any, b_0: Any | None = None) -> float:
    """|B(w) - B(v)| / |B(v) - B(0)|: a value at round-off level says w and v steer identically.

    When steering v moves the behaviour by at most sqrt(eps) * max(1, |B(v)|) (v steers nothing,
    e.g. v in ker L), that ratio would divide round-off by round-off, so the scale becomes
    max(1, |B(v)|) instead: the residual is then relative to the behaviour itself, or absolute.
    """
    bw, bv = _flat(b_w), _flat(b_v)
    if bw.shape != bv.shape:
        raise InputError(f"behaviours differ in shape: {bw.shape} vs {bv.shape}")
    floor = max(1.0, float(np.linalg.norm(bv)))
    scale = 0.0
    if b_0 is not None:
        b0 = _flat(b_0)
        if b0.shape != bv.shape:
            raise InputError(f"b_0 must have the shape of B(v) {bv.shape}, got {b0.shape}")
        scale = float(np.linalg.norm(bv - b0))
    if scale <= SQRT_EPS * floor:
        scale = floor
    return float(np.linalg.norm(bw - bv) / scale)


@dataclasses.dataclass(frozen=True)
class BehaviourComparison:
    """B(w) against B(v), calibrated by a step of the same length out of the class.

    inside  : |B(w) - B(v)|, w a claimed member;
    outside : |B(s) - B(v)|, s = v + a step of length |w - v| that leaves the class (the map's
              sensitivity at that scale; 0 when there is no such step);
    noise   : round-off of evaluating B at these points, NOISE_FACTOR * eps * max |B(.)|.
    """

    inside: float
    outside: float
    noise: float

    def equivalent(self, allowed: float) -> bool:
        """w steers like v: |B(w) - B(v)| <= allowed * |B(s) - B(v)| + noise."""
        allowed = as_real("allowed", allowed, low=0.0)
        return self.inside <= allowed * self.outside + self.noise

    def separated(self) -> bool:
        """The step out of the class changes the behaviour, clearly above round-off and the
        inside gap."""
        return self.outside > 100 * self.noise and self.outside > 10 * self.inside

    def equivalence_margin(self, allowed: float) -> float:
        """(allowed * outside + noise) / inside: >= 1 iff ``equivalent(allowed)``."""
        allowed = as_real("allowed", allowed, low=0.0)
        return ratio_margin(allowed * self.outside + self.noise, self.inside)

    def separation_margin(self) -> float:
        """min(outside / (100 noise), outside / (10 inside)): >= 1 iff ``separated()`` (up to the
        edge itself)."""
        return min(over(self.outside, 100 * self.noise), over(self.outside, 10 * self.inside))

    @property
    def ratio(self) -> float:
        """inside / outside (0 when both vanish): the member's residual in units of the map's
        sensitivity."""
        if self.outside > 0:
            return self.inside / self.outside
        return 0.0 if self.inside <= self.noise else float("inf")


def compare_behaviours(
    B: Callable[[np.ndarray], Any], v: np.ndarray, w: np.ndarray, out_of_class: np.ndarray | None
) -> BehaviourComparison:
    """Run B on v, on the claimed member w and on ``v + out_of_class`` (a step leaving the class;
    None when every vector is in the class) and compare."""
    if not callable(B):
        raise InputError(f"B must be a callable v -> B(v), got {type(B).__name__}")
    bv, bw = _flat(B(v)), _flat(B(w))
    if bw.shape != bv.shape:
        raise InputError(f"behaviours differ in shape: {bw.shape} vs {bv.shape}")
    sizes = [np.linalg.norm(bv), np.linalg.norm(bw)]
    outside = 0.0
    if out_of_class is not None:
        bs = _flat(B(v + out_of_class))
        outside = float(np.linalg.norm(bs - bv))
        sizes.append(np.linalg.norm(bs))
    noise = NOISE_FACTOR * EPS * float(max(sizes))
    return BehaviourComparison(inside=float(np.linalg.norm(bw - bv)), outside=outside, noise=noise)
