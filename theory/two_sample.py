"""Do two samples come from one law? (T8): two-sample Kolmogorov-Smirnov tests of
one-dimensional projections, Bonferroni-adjusted over the directions.

Used to re-verify the rotated twin by sampling: ``A s`` and ``A R s'`` must not be separated when R
rotates a Gaussian block, and must be when the rotated sources are not Gaussian.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.stats

from .ica import MAX_SEED
from .mixing import MIN_TEST_SAMPLES, as_samples
from .validation import InputError, as_count, as_fraction, as_int, as_matrix


@dataclasses.dataclass(frozen=True)
class TwoSampleTest:
    """Per-projection KS tests with Bonferroni: ``p_value = min(1, m * min_j p_j)`` over m
    directions."""

    p_value: float
    statistic: float  # largest KS distance over the directions
    p_values: np.ndarray  # per direction, unadjusted
    statistics: np.ndarray
    directions: np.ndarray  # (m, d) unit rows

    def rejects(self, alpha: float) -> bool:
        """True iff the adjusted p-value is below the level alpha."""
        return self.p_value < as_fraction("alpha", alpha)

    def summary(self) -> dict[str, Any]:
        return {
            "test": "two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp) on each of m unit "
            "projections, Bonferroni-adjusted min p-value",
            "p_value": self.p_value,
            "max_ks_distance": self.statistic,
            "m": int(self.p_values.size),
            "p_values": self.p_values,
            "ks_distances": self.statistics,
        }


def projection_ks_test(
    X: Any, Y: Any, directions: Any = None, n_random: int = 8, seed: int = 0
) -> TwoSampleTest:
    """Do X (n, d) and Y (m, d) come from one law? Two-sample KS test of ``X u`` against ``Y u`` for
    each unit u among the rows of ``directions`` plus ``n_random`` seeded random directions;
    Bonferroni-adjusted p-value ``min(1, m * min p)``. Valid for independent samples only."""
    X = as_samples("X", X, MIN_TEST_SAMPLES)
    Y = as_samples("Y", Y, MIN_TEST_SAMPLES)
    if X.shape[1] != Y.shape[1]:
        raise InputError(f"Y must have the {X.shape[1]} columns of X, got shape {Y.shape}")
    d = X.shape[1]
    n_random = as_count("n_random", n_random)
    seed = as_int("seed", seed, low=0, high=MAX_SEED)
    rows = []
    if directions is not None:
        D = as_matrix("directions", directions)
        if D.shape[1] != d:
            raise InputError(f"directions must have {d} columns, got shape {D.shape}")
        rows.append(D)
    if n_random:
        rows.append(np.random.default_rng(seed).standard_normal((n_random, d)))
    if not rows:
        raise InputError("directions: give directions or n_random >= 1")
    U = np.vstack(rows)
    norms = np.linalg.norm(U, axis=1)
    if np.any(norms == 0):
        raise InputError("directions must have no zero row")
    U = U / norms[:, None]
    stats, pvals = [], []
    for u in U:
        res = scipy.stats.ks_2samp(X @ u, Y @ u)
        stats.append(float(res.statistic))
        pvals.append(float(res.pvalue))
    pvals_arr = np.array(pvals)
    return TwoSampleTest(
        p_value=float(min(1.0, U.shape[0] * pvals_arr.min())),
        statistic=float(max(stats)),
        p_values=pvals_arr,
        statistics=np.array(stats),
        directions=U,
    )
