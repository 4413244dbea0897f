"""T2a/T2b: the all-ones symmetry of a mean-centring LayerNorm, and its absence under RMSNorm.

LN(h + c 1) = LN(h) for every real c, so in a pre-LN transformer whose every read of the stream goes
through such a norm, v ~ v + c 1 at every hook point and for every channel (T2a). RMSNorm has
no such symmetry: RMSNorm(h + c 1) != RMSNorm(h) in general (T2b). Both are checked here on
behaviour maps B(v) that run the whole model: the relative change |B(v + c 1) - B(v)| / |B(v) -
B(0)|.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .certificate import Certificate, Verdict, ratio_margin
from .validation import InputError, as_positive_real, as_real, as_vector

T2A_CLAIM = "LayerNorm model: B(v + c 1) = B(v) for every hook point and channel checked"
T2B_CLAIM = "RMSNorm model: B(v + c 1) != B(v) for every hook point and channel checked"
SYMMETRY_TOL = 1e-12  # relative change that counts as none (round-off of a float64 forward pass)
CHANGE_FLOOR = 1e-3  # relative change that counts as a clear difference


def layernorm(h: Any, eps: float = 1e-5) -> np.ndarray:
    """(h - mean h) / sqrt(var h + eps) along the last axis (gain 1, bias 0)."""
    h = np.asarray(h, dtype=np.float64)
    c = h - h.mean(axis=-1, keepdims=True)
    return c / np.sqrt((c * c).mean(axis=-1, keepdims=True) + eps)


def rmsnorm(h: Any, eps: float = 1e-5) -> np.ndarray:
    """h / sqrt(mean(h^2) + eps) along the last axis (gain 1)."""
    h = np.asarray(h, dtype=np.float64)
    return h / np.sqrt((h * h).mean(axis=-1, keepdims=True) + eps)


def shift_change(run: Callable[[np.ndarray], Any], v: Any, shift: float = 5.0) -> float:
    """|B(v + c 1) - B(v)| / |B(v) - B(0)| for the behaviour map ``run`` and c = ``shift``
    (inf when v steers nothing, so that no change can be measured against it)."""
    v = as_vector("v", v)
    shift = as_real("shift", shift)
    b_v = np.asarray(run(v))
    moved = float(np.linalg.norm(b_v - np.asarray(run(np.zeros_like(v)))))
    changed = float(np.linalg.norm(np.asarray(run(v + shift * np.ones_like(v))) - b_v))
    return changed / moved if moved > 0 else float("inf")


def _changes(runs: Mapping[str, Callable[[np.ndarray], Any]], v: Any, shift: float) -> dict:
    if not runs:
        raise InputError("runs must map at least one name (a layer and channel) to a behaviour map")
    return {str(name): shift_change(run, v, shift) for name, run in runs.items()}


def check_t2a(
    runs: Mapping[str, Callable[[np.ndarray], Any]],
    v: Any,
    shift: float = 5.0,
    tol: float = SYMMETRY_TOL,
) -> Certificate:
    """T2a on a model: every behaviour map in ``runs`` (name -> v -> B(v), each running the model)
    is blind to v -> v + shift * 1 up to ``tol`` relative change (holds, margin tol / worst), or
    some map moves by more (violated: the witness is the all-ones direction, re-run in that map)."""
    v = as_vector("v", v)
    tol = as_positive_real("tol", tol)
    changes = _changes(runs, v, shift)
    worst_name = max(changes, key=lambda k: changes[k])
    worst = changes[worst_name]
    holds = worst <= tol
    return Certificate(
        theorem="T2a",
        verdict=Verdict.HOLDS if holds else Verdict.VIOLATED,
        claim=T2A_CLAIM,
        margin=ratio_margin(tol, worst) if holds else worst / tol,
        tolerance=tol,
        residual=worst,
        residual_tolerance=tol,
        d=v.size,
        witness={"shift_direction": np.ones(v.size)},
        reason="" if holds else f"{worst_name} changes by {worst:.3g}",
        details={"relative_change": changes},
    )


def check_t2b(
    runs: Mapping[str, Callable[[np.ndarray], Any]],
    v: Any,
    shift: float = 5.0,
    floor: float = CHANGE_FLOOR,
) -> Certificate:
    """T2b on a model: every behaviour map in ``runs`` changes by more than ``floor`` (relative)
    under v -> v + shift * 1 (holds, margin least / floor); a map that does not is a symmetry the
    claim denies (violated, margin floor / least)."""
    v = as_vector("v", v)
    floor = as_positive_real("floor", floor)
    changes = _changes(runs, v, shift)
    least_name = min(changes, key=lambda k: changes[k])
    least = changes[least_name]
    holds = least > floor
    return Certificate(
        theorem="T2b",
        verdict=Verdict.HOLDS if holds else Verdict.VIOLATED,
        claim=T2B_CLAIM,
        margin=least / floor if holds else ratio_margin(floor, least),
        tolerance=floor,
        d=v.size,
        witness={"shift_direction": np.ones(v.size)},
        reason="" if holds else f"{least_name} changes by only {least:.3g}",
        details={"relative_change": changes},
    )


def ones_overlap(null_basis: Any) -> float:
    """|P_N 1| / |1| for the null space N with orthonormal basis columns ``null_basis`` (d, k):
    1 when the all-ones direction lies in N, 0 when orthogonal to it."""
    basis = np.asarray(null_basis, dtype=np.float64)
    if basis.ndim != 2:
        raise InputError(f"null_basis must be a (d, k) matrix, got shape {basis.shape}")
    if basis.shape[1] == 0:
        return 0.0
    ones = np.ones(basis.shape[0]) / np.sqrt(basis.shape[0])
    return float(np.linalg.norm(basis.T @ ones))
