"""The ICA model ``h = A s`` (T8): its sample-size floor and the checks of its inputs.

Samples are rows: H (n, d) with ``H = S A^T``; A (d, k) has full column rank; a Gaussian mask marks
the sources whose law is N(0, 1). The generic checks are ``theory.validation``'s; these add what the
model needs (enough rows, certified full column rank, a boolean mask).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rank import decide_rank
from .validation import InputError, as_matrix

# The held-out Gaussianity statistic (D'Agostino-Pearson K^2) runs on half of the samples; its
# chi^2_2 approximation and the kurtosis z-test need about 100 observations to be trusted.
MIN_SAMPLES = 200
MIN_TEST_SAMPLES = MIN_SAMPLES // 2


class NoGaussianPairError(InputError):
    """Fewer than two Gaussian components: no rotation of a Gaussian block exists (T8 holds)."""


def as_samples(name: str, X: Any, min_rows: int = MIN_SAMPLES) -> np.ndarray:
    """A finite float64 (n, d) sample matrix with at least ``min_rows`` rows."""
    X = as_matrix(name, X)
    if X.shape[0] < min_rows:
        raise InputError(
            f"{name} must have at least {min_rows} rows (samples) for the statistic, "
            f"got {X.shape[0]}"
        )
    return X


def as_mixing(A: Any, name: str = "A", k: int | None = None, d: int | None = None) -> np.ndarray:
    """A (d, k) float64 matrix of certified full column rank k (``theory.rank.decide_rank``)."""
    A = as_matrix(name, A)
    rows, cols = A.shape
    if k is not None and cols != k:
        raise InputError(f"{name} must have {k} columns (one per source), got shape {A.shape}")
    if d is not None and rows != d:
        raise InputError(f"{name} must have {d} rows (the dimension of h), got shape {A.shape}")
    if rows < cols:
        raise InputError(
            f"{name} must have at least as many rows as columns (d >= k), got shape {A.shape}"
        )
    dec = decide_rank(A, name=name)
    if not dec.certified or dec.rank != cols:
        raise InputError(
            f"{name} must have full column rank {cols}, got rank {dec.rank} "
            f"({'certified' if dec.certified else 'undecided'}; singular values "
            f"{np.array2string(dec.singular_values, precision=3)})"
        )
    return A


def as_gaussian_mask(gaussian: Any, k: int | None = None, name: str = "gaussian") -> np.ndarray:
    """A boolean (k,) mask: True where the source is Gaussian (bool or 0/1 entries)."""
    if gaussian is None:
        raise InputError(f"{name} is required, got None")
    try:
        arr = np.asarray(gaussian)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise InputError(f"{name} must be a 1-d boolean mask: {exc}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty 1-d mask, got shape {arr.shape}")
    if arr.dtype.kind == "b":
        mask = arr.astype(bool)
    elif arr.dtype.kind in "iu" and np.all((arr == 0) | (arr == 1)):
        mask = arr.astype(bool)
    else:
        raise InputError(f"{name} must be a boolean mask (or 0/1 entries), got {gaussian!r}")
    if k is not None and mask.size != k:
        raise InputError(f"{name} must have one entry per column of A ({k}), got {mask.size}")
    return mask
