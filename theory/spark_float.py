"""The spark in float64, with certified rank decisions (``theory.rank``'s rule per subset).

Columns are scaled to unit norm (the spark does not change under column scaling) and each subset
gets one tolerance for all subsets (default ``max(m, p) * eps * sigma_1`` of the scaled A):
singular values <= tau are zero; a subset is *dependent* when fewer than |T| values exceed tau,
*independent* when all |T| exceed tau and none lies in the grey band
``(tau, sqrt(tau * sigma_1(A_T)))``, *undecided* otherwise. One undecided subset below the first
dependent size makes the spark undecided: it is never guessed.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .rank import decide_rank_from_singular_values
from .spark_base import SparkResult, check_budget, combinations


def batch_status(sv: np.ndarray, s: int, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """theory.rank's rule, vectorised over subsets: (dependent, undecided, margin) per subset,
    for singular values ``sv`` (n, s) in decreasing order.

    rank = #{sigma > tau}; dependent iff rank < s; undecided iff rank == s and some retained value
    lies below sqrt(tau * sigma_1); margin = sigma_min / sqrt(tau * sigma_1), inf where
    sqrt(tau * sigma_1) = 0 (an all-zero subset: an empty band, nothing near an edge).
    """
    kept = sv > tau
    rank = kept.sum(axis=1)
    band_top = np.sqrt(tau * sv[:, 0])
    ambiguous = (kept & (sv < band_top[:, None])).any(axis=1)
    dependent = rank < s
    undecided = ~dependent & ambiguous
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(band_top > 0, sv[:, -1] / band_top, np.inf)
    return dependent, undecided, margin


def normalised_columns(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A with unit-norm columns, the column norms); zero columns stay zero."""
    norms = np.linalg.norm(A, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    return A / safe, norms


def _circuit_vector(
    An: np.ndarray, norms: np.ndarray, cols: tuple[int, ...]
) -> tuple[np.ndarray, float]:
    """Unit null vector (in the original column scale, |n|_2 = 1) of the circuit, and sigma_min."""
    _, s, vt = scipy.linalg.svd(An[:, list(cols)], full_matrices=True)
    z = vt[-1] / norms[list(cols)]
    z = z / np.linalg.norm(z)
    z = z * np.sign(z[np.argmax(np.abs(z))])
    n = np.zeros(An.shape[1])
    n[list(cols)] = z
    smin = float(s[-1]) if len(s) == len(cols) else 0.0
    return n, smin


def _result(p: int, tau: float, checked: int, margin: float, **fields) -> SparkResult:
    base = dict(
        subset=None,
        null_vector=None,
        residual=None,
        ambiguous_subset=None,
        ambiguous_singular_values=None,
    )
    return SparkResult(
        p=p,
        exact=False,
        exact_null_vector=None,
        tolerance=tau,
        margin=margin,
        subsets_checked=checked,
        **{**base, **fields},
    )


def _decided(p, tau, checked, margin, An, norms, cols) -> SparkResult:
    n, smin = _circuit_vector(An, norms, cols)
    s = len(cols)
    fields = dict(value=s, lower=s, upper=s, subset=cols, null_vector=n, residual=smin)
    return _result(p, tau, checked, margin, **fields)


def spark_float(
    A: np.ndarray, tol: float | None, max_size: int | None, max_subsets: int
) -> SparkResult:
    """spark of a finite float64 matrix (already validated), subsets of size <= max_size only."""
    p = A.shape[1]
    An, norms = normalised_columns(A)
    full = decide_rank_from_singular_values(scipy.linalg.svdvals(An), An.shape, tol)
    tau = full.tolerance
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:  # an exactly zero column: spark 1
        n = np.zeros(p)
        n[zero[0]] = 1.0
        one = (int(zero[0]),)
        fields = dict(value=1, lower=1, upper=1, subset=one, null_vector=n, residual=0.0)
        return _result(p, tau, p, math.inf, **fields)
    if full.rank == p and full.certified:
        return _result(p, tau, 0, full.margin, value=p + 1, lower=p + 1, upper=p + 1)
    r_hi = full.rank  # any r_hi + 1 columns have sigma_{r_hi+1} <= tau (interlacing): dependent
    upper = r_hi + 1 if r_hi < p else p + 1
    top = r_hi if max_size is None else min(r_hi, max_size)
    check_budget(p, r_hi, top, max_subsets)
    checked, margin = 0, math.inf
    for s in range(1, top + 1):
        first_dep, first_und, und_sv = None, None, None
        for chunk in combinations(p, s):
            checked += len(chunk)
            sv = np.linalg.svd(An[:, chunk].transpose(1, 0, 2), compute_uv=False)
            dep, und, mar = batch_status(sv, s, tau)
            if dep.any():
                first_dep = tuple(int(c) for c in chunk[np.argmax(dep)])
                break
            if und.any() and first_und is None:
                i = int(np.argmax(und))
                first_und = tuple(int(c) for c in chunk[i])
                row = sv[i]
                und_sv = tuple(float(x) for x in row[(row > tau) & (row < math.sqrt(tau * row[0]))])
            ok = ~und
            if ok.any():
                margin = min(margin, float(mar[ok].min()))
        if first_dep is not None:
            return _decided(p, tau, checked, margin, An, norms, first_dep)
        if first_und is not None:
            fields = dict(ambiguous_subset=first_und, ambiguous_singular_values=und_sv)
            return _result(p, tau, checked, margin, value=None, lower=s, upper=upper, **fields)
    if top < r_hi:  # truncated by max_size: spark > top
        fields = dict(value=None, lower=top + 1, upper=upper, truncated_at=top)
        return _result(p, tau, checked, margin, **fields)
    if r_hi == p:  # full rank counted, but the full matrix itself was in the grey band
        amb = tuple(float(x) for x in full.ambiguous)
        fields = dict(ambiguous_subset=tuple(range(p)), ambiguous_singular_values=amb)
        return _result(p, tau, checked, margin, value=None, lower=p, upper=p + 1, **fields)
    return _decided(p, tau, checked, margin, An, norms, tuple(range(r_hi + 1)))
