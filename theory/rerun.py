"""Re-running a witness through the model: how a null direction's effect compares with a generic
one.

``rerun_ratio(runs, v, u)`` = max over behaviour maps B of |B(v + eps u) - B(v)| / |B(v + eps g) -
B(v)| for a random unit g (eps relative to |v|). A direction u in the common null space of every map
moves the behaviour at second order, so the ratio is O(eps); any other direction gives O(1). A map
that does not move at all gives inf: nothing can be verified through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .validation import InputError, as_positive_real, as_seed, as_vector

RERUN_LIMIT = 1e-2  # second order against first: a true null direction gives O(eps), about 1e-4


def rerun_ratio(
    runs: Sequence[Callable[[np.ndarray], Any]],
    v: Any,
    u: Any,
    eps: float = 1e-4,
    seed: int = 0,
) -> float:
    """max_B |B(v + eps u) - B(v)| / |B(v + eps g) - B(v)| over ``runs``, g a seeded random unit
    vector, eps scaled by max(|v|, 1); inf when some B does not move along g."""
    v = as_vector("v", v)
    u = as_vector("u", u, v.size)
    eps = as_positive_real("eps", eps)
    if not runs:
        raise InputError("runs must hold at least one behaviour map")
    g = np.random.default_rng(as_seed("seed", seed)).standard_normal(v.size)
    g /= np.linalg.norm(g)
    eps = eps * max(float(np.linalg.norm(v)), 1.0)
    worst = 0.0
    for run in runs:
        b_v = np.asarray(run(v))
        along_g = np.linalg.norm(np.asarray(run(v + eps * g)) - b_v)
        along_u = np.linalg.norm(np.asarray(run(v + eps * u)) - b_v)
        worst = max(worst, float(along_u / along_g) if along_g > 0 else math.inf)
    return worst
