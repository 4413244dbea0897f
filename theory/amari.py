"""ICA's recovery error (T8): the Amari index of ``P = W A`` and the matching of
estimated mixing columns to planted ones up to permutation and sign.

The Amari index is 0 iff P is a scaled permutation, the ambiguity T8 leaves; column matching solves
an assignment problem (``scipy.optimize.linear_sum_assignment``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.optimize

from .validation import InputError, as_int_tuple, as_matrix


def amari_index(P: Any) -> float:
    """Amari index of a square P = W A (n x n), in [0, 1], 0 iff P is a scaled permutation:

    ``Amari(P) = 1/(2n(n-1)) [ sum_i (sum_j |p_ij| / max_j |p_ij| - 1)
                              + sum_j (sum_i |p_ij| / max_i |p_ij| - 1) ]``.

    Invariant under row and column permutations, sign flips and a global scale of P; the zero set
    (scaled permutations) is invariant under any row and column scaling, but the value is not (a
    row scaling changes the column term and vice versa). For P = W A from unit-variance ICA of
    unit-variance sources the scales are +-1 near the solution. For a 2 x 2 plane rotation by
    theta in [0, pi/4] it equals ``tan(theta)``. n = 1 gives 0 (every nonzero scalar is a scaled
    permutation). A zero row or column (the ratio is undefined) raises InputError naming P.
    """
    P = np.abs(as_matrix("P", P))
    n = P.shape[0]
    if P.shape[1] != n:
        raise InputError(f"P must be square (P = W A with W (k, d), A (d, k)), got shape {P.shape}")
    row_max, col_max = P.max(axis=1), P.max(axis=0)
    if np.any(row_max == 0) or np.any(col_max == 0):
        raise InputError("P must have no zero row or column (the Amari index is undefined there)")
    if n == 1:
        return 0.0
    rows = float(np.sum(P.sum(axis=1) / row_max - 1.0))
    cols = float(np.sum(P.sum(axis=0) / col_max - 1.0))
    return (rows + cols) / (2.0 * n * (n - 1))


def match_rows(P: Any) -> np.ndarray:
    """``perm`` with row ``perm[j]`` of P matched to column j: the assignment maximising
    ``sum_j |p_{perm[j], j}| / max_l |p_{perm[j], l}|`` (scipy.optimize.linear_sum_assignment)."""
    P = np.abs(as_matrix("P", P))
    if P.shape[0] != P.shape[1]:
        raise InputError(f"P must be square, got shape {P.shape}")
    Q = P / np.maximum(P.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
    rows, cols = scipy.optimize.linear_sum_assignment(-Q)
    perm = np.empty_like(rows)
    perm[cols] = rows
    return perm


def block_amari_index(P: Any, block: Any) -> float:
    """Amari index of the sub-block of P = W A on the source columns ``block`` and the estimated
    rows matched to them (``match_rows``). On a Gaussian block it measures how far ICA is from
    recovering those columns; with independent Gaussians it does not fall with n."""
    P = as_matrix("P", P)
    idx = np.array(as_int_tuple("block", block, low=0, high=P.shape[1] - 1, distinct=True))
    perm = match_rows(P)
    return amari_index(P[np.ix_(perm[idx], idx)])


@dataclasses.dataclass(frozen=True)
class Alignment:
    """Estimated columns matched to planted ones up to permutation and sign.

    permutation : estimated column ``permutation[j]`` is matched to planted column j.
    signs       : +-1 per planted column: -1 only where the matched cosine is negative (an
                  orthogonal match, cos = 0, is not flipped).
    cosines     : |cos| between each planted column and its match (1 = recovered up to scale).
    aligned     : (d, k) the estimated columns, permuted and sign-flipped onto the planted order.
    """

    permutation: np.ndarray
    signs: np.ndarray
    cosines: np.ndarray
    aligned: np.ndarray

    @property
    def errors(self) -> np.ndarray:
        """Per-column recovery error ``1 - |cos|`` up to sign and scale."""
        return 1.0 - self.cosines


def align_columns(estimated: Any, planted: Any) -> Alignment:
    """Best permutation/sign matching of estimated mixing columns to planted ones, maximising the
    summed |cos| (scipy.optimize.linear_sum_assignment)."""
    E = as_matrix("estimated", estimated)
    A = as_matrix("planted", planted)
    if E.shape != A.shape:
        raise InputError(f"estimated must have the shape of planted {A.shape}, got {E.shape}")
    ne, na = np.linalg.norm(E, axis=0), np.linalg.norm(A, axis=0)
    if np.any(ne == 0) or np.any(na == 0):
        raise InputError("estimated and planted must have no zero column")
    C = (E / ne).T @ (A / na)  # C[i, j] = cos(estimated_i, planted_j)
    rows, cols = scipy.optimize.linear_sum_assignment(-np.abs(C))
    perm = np.empty_like(rows)
    perm[cols] = rows
    cos = C[perm, np.arange(A.shape[1])]
    signs = np.where(cos < 0, -1.0, 1.0)
    aligned = E[:, perm] * signs
    return Alignment(
        permutation=perm, signs=signs, cosines=np.minimum(np.abs(cos), 1.0), aligned=aligned
    )
