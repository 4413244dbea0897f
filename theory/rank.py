"""Certified numerical rank from singular values (docs/theorems.md section 3).

Singular values s_1 >= ... >= s_n of an (M, d) matrix are split by a tolerance tau (default
``max(M, d) * eps * s_1``): those <= tau count as zero, so ``rank = #{s_i > tau}``. The decision is
*certified* only when no singular value sits in the grey band ``(tau, sqrt(tau * s_1))``, i.e. every
retained value is nearer, on a log scale, to s_1 than to the noise floor tau (for a derived matrix,
the scale it inherits its round-off from takes s_1's place in tau and in the band). A tolerance the
user chose also has a band below it, ``(tau / 10, tau]``: a value just under a hand-picked cut-off
is as doubtful as one just above. Otherwise the rank is *undecided* and the values in the band are
reported. The margin is ``s_r / sqrt(tau * s_1)`` (s_1 or the scale) for the smallest retained s_r,
and with a user's tolerance also ``(tau / 10) / s_{r+1}`` for the largest dropped one: >= 1 iff the
decision is certified (infinite when nothing sits near either edge).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import scipy.linalg

from .validation import InputError, as_int_tuple, as_matrix, as_real, as_tolerance

EPS = float(np.finfo(np.float64).eps)


@dataclasses.dataclass(frozen=True)
class RankDecision:
    """A rank read off a spectrum, with the evidence it rests on."""

    rank: int
    tolerance: float
    band_top: float
    singular_values: np.ndarray
    certified: bool
    margin: float
    ambiguous: np.ndarray

    @property
    def n(self) -> int:
        """Number of singular values in the spectrum: min(M, d) for an (M, d) matrix."""
        return int(self.singular_values.shape[0])

    def summary(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "certified": self.certified,
            "tolerance": self.tolerance,
            "band_top": self.band_top,
            "margin": self.margin,
            "singular_values": self.singular_values,
            "ambiguous_singular_values": self.ambiguous,
        }


def default_tolerance(shape: tuple[int, int], s_max: float) -> float:
    """tau = max(M, d) * eps * s_max."""
    shape = _as_shape(shape)
    return max(shape) * EPS * as_real("s_max", s_max, low=0.0)


def _as_shape(shape: Any) -> tuple[int, int]:
    dims = as_int_tuple("shape", shape, low=0)
    if len(dims) != 2:
        raise InputError(f"shape must be a matrix shape (M, d), got {shape!r}")
    return dims[0], dims[1]


def decide_rank_from_singular_values(
    singular_values: Any,
    shape: tuple[int, int],
    tol: float | None = None,
    scale: float | None = None,
) -> RankDecision:
    """Rank decision from a spectrum; ``shape`` is the matrix shape (for the default tolerance).

    ``scale`` (default s_1) is the magnitude the default tolerance and the grey band's top
    ``sqrt(tau * scale)`` are relative to: pass the norm of the matrix a derived one came from
    (e.g. |W|_2 for the centred P W), whose round-off it inherits.
    """
    tol = as_tolerance("tol", tol)
    shape = _as_shape(shape)
    scale = None if scale is None else as_real("scale", scale, low=0.0)
    s = np.sort(np.asarray(singular_values, dtype=np.float64))[::-1]
    if s.ndim != 1 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise InputError("singular_values must be a finite non-negative vector")
    s_max = float(s[0]) if s.size else 0.0
    if scale is not None and scale < s_max * (1 - 1e-12):
        raise InputError(
            f"scale must be at least the largest singular value {s_max:.3g}, got {scale!r}"
        )
    top = s_max if scale is None else scale  # the magnitude both the floor and the band refer to
    tau = default_tolerance(shape, top) if tol is None else tol
    band_top = math.sqrt(tau * top) if top > tau else tau
    kept = s[s > tau]
    rank = int(kept.size)
    ambiguous = kept[kept < band_top]
    if tol is not None:
        ambiguous = np.concatenate([ambiguous, s[(s <= tau) & (s > tau / 10)]])
    margin = math.inf  # how many times the spectrum clears the edges of its grey band(s)
    if rank and band_top > 0:
        margin = float(kept[-1] / band_top)
    dropped = s[s <= tau]
    if tol is not None and dropped.size and dropped[0] > 0:
        margin = min(margin, float((tau / 10) / dropped[0]))
    s = s.copy()
    s.setflags(write=False)
    ambiguous.setflags(write=False)
    return RankDecision(
        rank=rank,
        tolerance=float(tau),
        band_top=float(band_top),
        singular_values=s,
        certified=bool(ambiguous.size == 0),
        margin=margin,
        ambiguous=ambiguous,
    )


BADLY_SCALED = 1e4  # column-norm ratio above which the rank is also decided column-equilibrated


def column_scale(L: np.ndarray) -> np.ndarray | None:
    """The column norms of L (1 for a zero column) when its nonzero column norms spread over more
    than ``BADLY_SCALED``, else None: ``L / column_scale(L)`` is L column-equilibrated."""
    norms = np.linalg.norm(L, axis=0)
    nonzero = norms[norms > 0]
    if nonzero.size < 2 or nonzero.max() <= BADLY_SCALED * nonzero.min():
        return None
    return np.where(norms > 0, norms, 1.0)


def check_column_scaling(L: np.ndarray, decision: RankDecision) -> RankDecision:
    """rank(L) = rank(L D) for every nonsingular diagonal D, but the default tolerance is
    normwise: with columns of very different norms a true singular value can sit at round-off
    level relative to s_1 although the rounding error of its small columns is far below it. When
    the column norms spread over more than ``BADLY_SCALED``, the rank is decided again on the
    column-equilibrated L D^-1 (nonzero columns at unit norm); if the two decisions differ, or the
    second is not certified, the rank is undecided, the singular values between the two cut
    points listed as ambiguous."""
    scale = column_scale(L)
    if not decision.certified or scale is None:
        return decision
    balanced = (L / scale)[:, np.linalg.norm(L, axis=0) > 0]
    second = decide_rank_from_singular_values(scipy.linalg.svdvals(balanced), L.shape)
    if second.certified and second.rank == decision.rank:
        return decision
    lo, hi = sorted((decision.rank, second.rank))
    s = decision.singular_values
    ambiguous = s[lo : max(hi, lo + 1)].copy()
    ambiguous.setflags(write=False)
    return dataclasses.replace(decision, certified=False, ambiguous=ambiguous, margin=0.0)


def decide_rank(matrix: Any, tol: float | None = None, name: str = "matrix") -> RankDecision:
    """Certified-or-undecided rank of a finite float64 matrix (SVD by scipy.linalg.svdvals)."""
    if not isinstance(name, str):
        raise InputError(f"name must be a string, got {name!r}")
    a = as_matrix(name, matrix)
    s = scipy.linalg.svdvals(a)
    return decide_rank_from_singular_values(s, a.shape, tol)
