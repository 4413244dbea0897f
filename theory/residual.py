"""How far apart two behaviours are, relative to how much steering moved the behaviour at all."""
from __future__ import annotations

from typing import Any

import numpy as np

TINY = np.finfo(np.float64).tiny


def behaviour_residual(b_w: Any, b_v: Any, b_0: Any | None = None) -> float:
    """|B(w) - B(v)| / |B(v) - B(0)|, falling back to |B(v)| when steering v moves nothing.

    A value at round-off level (about 1e-14 in float64) says w and v steer identically.
    """
    bw = np.asarray(b_w, dtype=np.float64).ravel()
    bv = np.asarray(b_v, dtype=np.float64).ravel()
    if bw.shape != bv.shape:
        raise ValueError(f"behaviours differ in shape: {bw.shape} vs {bv.shape}")
    scale = 0.0
    if b_0 is not None:
        scale = float(np.linalg.norm(bv - np.asarray(b_0, dtype=np.float64).ravel()))
    if scale <= 0.0:
        scale = float(np.linalg.norm(bv))
    return float(np.linalg.norm(bw - bv) / max(scale, TINY))
