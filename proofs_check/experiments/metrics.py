"""The paper's metrics, as its code computes them (docs/theorems.md, the paper's experiments).

cohens_d(a, b)     |mean a - mean b| / sqrt((sd_a^2 + sd_b^2) / 2), population sd (ddof 0)
pearson_r(a, b)    scipy.stats.pearsonr of samples paired index by index
js_divergence      scipy's Jensen-Shannon distance squared (base 2) between 10-bin histograms
                   on the pooled range
efficacy_ratio     (mean s(v + v_perp) - s0) / (mean s(v) - s0)
effective_rank     number of singular values above 5% of the largest
logit distances    L2 distance, top-1 agreement, top-10 overlap of next-token logits
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import pearsonr

from theory.validation import InputError

__all__ = [
    "cohens_d",
    "effective_rank",
    "efficacy_ratio",
    "js_divergence",
    "logit_distances",
    "pearson_r",
]


def _sample(name: str, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise InputError(f"{name} must hold at least 2 finite scores, got {x.size}")
    return x


def cohens_d(a: Any, b: Any) -> float:
    """Cohen's d with the pooled population standard deviation; 0 when both samples are constant
    and equal, inf when they are constant and differ."""
    a, b = _sample("a", a), _sample("b", b)
    diff = abs(a.mean() - b.mean())
    pooled = math.sqrt((a.var() + b.var()) / 2)
    if pooled == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return float(diff / pooled)


def pearson_r(a: Any, b: Any) -> float:
    """Pearson r of two equally long samples paired by index; NaN when either is constant."""
    a, b = _sample("a", a), _sample("b", b)
    if a.size != b.size:
        raise InputError(f"paired samples must have the same size, got {a.size} and {b.size}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(pearsonr(a, b).statistic)


def js_divergence(a: Any, b: Any, bins: int = 10) -> float:
    """Jensen-Shannon divergence (bits, in [0, 1]) between the ``bins``-bin histograms of a and b
    on their pooled range."""
    a, b = _sample("a", a), _sample("b", b)
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    if lo == hi:
        return 0.0
    pa = np.histogram(a, bins=bins, range=(lo, hi))[0]
    pb = np.histogram(b, bins=bins, range=(lo, hi))[0]
    return float(jensenshannon(pa, pb, base=2) ** 2)


def efficacy_ratio(steered: Any, reference: Any, s0: float) -> float:
    """(mean steered - s0) / (mean reference - s0); NaN when the reference has no efficacy."""
    num = float(np.mean(steered)) - s0
    den = float(np.mean(reference)) - s0
    return num / den if den != 0.0 else math.nan


def effective_rank(singular_values: Any, fraction: float = 0.05) -> int:
    """Number of singular values above ``fraction`` of the largest (the paper's 5% rule)."""
    s = np.asarray(singular_values, dtype=np.float64)
    if s.size == 0:
        return 0
    return int(np.sum(s > fraction * s.max()))


def logit_distances(z: Any, z_ref: Any, k: int = 10) -> dict[str, float]:
    """Mean over prompts of the L2 distance, top-1 agreement and top-k overlap (|top-k cap
    top-k| / k) between next-token logits z and z_ref (N, V)."""
    z, z_ref = np.asarray(z, np.float64), np.asarray(z_ref, np.float64)
    if z.shape != z_ref.shape or z.ndim != 2:
        raise InputError(f"logits must both have shape (N, V), got {z.shape} and {z_ref.shape}")
    top = np.argsort(-z, axis=1)[:, :k]
    top_ref = np.argsort(-z_ref, axis=1)[:, :k]
    overlap = [len(set(a) & set(b)) / k for a, b in zip(top, top_ref, strict=True)]
    return {
        "l2": float(np.mean(np.linalg.norm(z - z_ref, axis=1))),
        "top1_agreement": float(np.mean(top[:, 0] == top_ref[:, 0])),
        "top10_overlap": float(np.mean(overlap)),
    }
