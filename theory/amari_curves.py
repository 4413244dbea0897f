"""FastICA's recovery error against sample size (T8): the Amari index of
``fit_ica(H_n).unmixing @ A`` over seeds and sizes n, and the log-log slope of its median.

Root-n consistency makes the slope about -1/2 when the sources (or the block read) are
identifiable; on a block of independent Gaussians the error does not fall (slope about 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .amari import amari_index, block_amari_index
from .ica import DEFAULT_ICA_TOL, DEFAULT_MAX_ITER, MAX_SEED, fit_ica
from .mixing import MIN_SAMPLES, as_mixing
from .validation import (
    InputError,
    as_int,
    as_int_array,
    as_int_tuple,
    as_matrix,
    as_positive_int,
    as_positive_real,
)


@dataclasses.dataclass(frozen=True)
class AmariCurve:
    """Amari index (full, or on ``block``) of FastICA at each sample size, per seed, with the fitted
    log-log slope of the median: ``log median = intercept + slope log n`` (about -1/2 when the
    block is identifiable, about 0 on a Gaussian block)."""

    n: np.ndarray  # (m,) sample sizes
    values: np.ndarray  # (seeds, m)
    median: np.ndarray  # (m,)
    slope: float
    intercept: float
    not_converged: int  # fits that raised a ConvergenceWarning
    block: tuple[int, ...] | None

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "median": self.median,
            "slope": self.slope,
            "intercept": self.intercept,
            "not_converged": self.not_converged,
            "block": None if self.block is None else list(self.block),
        }


def log_spaced_sizes(n_min: int, n_max: int, n_points: int) -> np.ndarray:
    """``n_points`` integer sample sizes, log-spaced from n_min to n_max (distinct, increasing)."""
    n_min = as_int("n_min", n_min, low=MIN_SAMPLES)
    n_max = as_int("n_max", n_max, low=n_min + 1)
    n_points = as_int("n_points", n_points, low=2)
    return np.unique(np.round(np.geomspace(n_min, n_max, n_points)).astype(int))


def as_sizes(name: str, n_grid: Any) -> np.ndarray:
    """A 1-d int array of at least two sample sizes, each >= MIN_SAMPLES, in ascending order (a
    curve's last point is its largest sample size, whatever order they were given in)."""
    sizes = as_int_array(name, n_grid, ndim=1)
    if sizes.size < 2:
        raise InputError(f"{name} must hold at least two sample sizes, got {sizes.tolist()}")
    if np.any(sizes < MIN_SAMPLES):
        raise InputError(
            f"{name}: every sample size must be at least {MIN_SAMPLES}, got {sizes.min()}"
        )
    return np.sort(sizes)


def amari_curves(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    blocks: Sequence[Sequence[int] | None] = (None,),
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> list[AmariCurve]:
    """One ``AmariCurve`` per entry of ``blocks`` (None = the full Amari index), all read off the
    same fits ``fit_ica(sampler(n, seed), seed=seed).unmixing @ A`` for every n in ``n_grid`` and
    seed; median over seeds and least-squares slope of log median on log n."""
    A = as_mixing(A)
    k = A.shape[1]
    sizes = as_sizes("n_grid", n_grid)
    seeds = as_int_tuple("seeds", seeds, low=0, high=MAX_SEED)
    max_iter = as_positive_int("max_iter", max_iter)
    tol = as_positive_real("tol", tol)
    if not blocks:
        raise InputError("blocks must hold at least one entry (None for the full index)")
    read: list[tuple[int, ...] | None] = [
        None if b is None else as_int_tuple("blocks", b, low=0, high=k - 1, distinct=True)
        for b in blocks
    ]
    values = np.empty((len(read), len(seeds), sizes.size))
    not_converged = 0
    for a, s in enumerate(seeds):
        for b, n in enumerate(sizes):
            H = as_matrix("sampler(n, seed)", sampler(int(n), s))
            if H.shape != (int(n), A.shape[0]):
                raise InputError(
                    f"sampler(n, seed) must return ({n}, {A.shape[0]}) samples, got {H.shape}"
                )
            fit = fit_ica(H, n_components=k, seed=s, max_iter=max_iter, tol=tol)
            not_converged += not fit.converged
            P = fit.unmixing @ A
            for c, block in enumerate(read):
                values[c, a, b] = amari_index(P) if block is None else block_amari_index(P, block)
    curves = []
    for c, block in enumerate(read):
        median = np.median(values[c], axis=0)
        slope, intercept = np.polyfit(
            np.log(sizes), np.log(np.maximum(median, np.finfo(np.float64).tiny)), 1
        )
        curves.append(
            AmariCurve(
                n=sizes.astype(np.int64),
                values=values[c],
                median=median,
                slope=float(slope),
                intercept=float(intercept),
                not_converged=not_converged,
                block=block,
            )
        )
    return curves


def amari_curve(
    A: Any,
    sampler: Callable[[int, int], np.ndarray],
    n_grid: Any,
    seeds: Sequence[int] = range(5),
    block: Sequence[int] | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> AmariCurve:
    """Amari index (full, or on ``block``) of ``fit_ica(sampler(n, seed), seed=seed).unmixing @ A``
    for every n in ``n_grid`` and seed; median over seeds and least-squares slope of log median on
    log n (about -1/2 when identifiable: FastICA is root-n consistent)."""
    return amari_curves(A, sampler, n_grid, seeds, blocks=(block,), max_iter=max_iter, tol=tol)[0]
