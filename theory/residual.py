"""How far apart two behaviours are, relative to how much steering moved the behaviour at all."""
from __future__ import annotations

from typing import Any

import numpy as np

SQRT_EPS = float(np.sqrt(np.finfo(np.float64).eps))


def behaviour_residual(b_w: Any, b_v: Any, b_0: Any | None = None) -> float:
    """|B(w) - B(v)| / |B(v) - B(0)|: a value at round-off level says w and v steer identically.

    When steering v moves the behaviour by less than sqrt(eps) * max(1, |B(v)|) (v steers nothing,
    e.g. v in ker L), that ratio would divide round-off by round-off, so the scale becomes
    max(1, |B(v)|) instead: the residual is then relative to the behaviour itself, or absolute.
    """
    bw = np.asarray(b_w, dtype=np.float64).ravel()
    bv = np.asarray(b_v, dtype=np.float64).ravel()
    if bw.shape != bv.shape:
        raise ValueError(f"behaviours differ in shape: {bw.shape} vs {bv.shape}")
    floor = max(1.0, float(np.linalg.norm(bv)))
    scale = 0.0
    if b_0 is not None:
        scale = float(np.linalg.norm(bv - np.asarray(b_0, dtype=np.float64).ravel()))
    if scale <= SQRT_EPS * floor:
        scale = floor
    return float(np.linalg.norm(bw - bv) / scale)
