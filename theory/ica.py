"""FastICA on samples of ``h = A s`` (T8): scikit-learn's FastICA with
whiten="unit-variance", the logcosh contrast and a fixed random_state.

A ConvergenceWarning is recorded in the fit (``converged=False``), never silently dropped.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import scipy.linalg
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

from .mixing import MIN_TEST_SAMPLES, as_samples
from .rank import decide_rank
from .validation import InputError, as_int, as_matrix, as_positive_int, as_positive_real

DEFAULT_MAX_ITER = 1000
DEFAULT_ICA_TOL = 1e-7
MAX_SEED = 2**32 - 1  # scikit-learn's random_state must fit in 32 bits


@dataclasses.dataclass(frozen=True)
class IcaFit:
    """FastICA estimate: sources ``y = unmixing (h - mean)``, ``h ~ mean + mixing y``.

    converged is False when FastICA raised a ConvergenceWarning or used all ``max_iter`` iterations;
    the warning texts are kept in ``warnings``.
    """

    unmixing: np.ndarray  # (k, d)
    mixing: np.ndarray  # (d, k)
    mean: np.ndarray  # (d,)
    n_iter: int
    max_iter: int
    tol: float
    converged: bool
    warnings: tuple[str, ...]

    def sources(self, H: Any) -> np.ndarray:
        """The recovered sources ``(H - mean) W^T`` of samples H (n, d)."""
        H = as_matrix("H", H)
        if H.shape[1] != self.mean.shape[0]:
            raise InputError(f"H must have {self.mean.shape[0]} columns, got shape {H.shape}")
        return (H - self.mean) @ self.unmixing.T

    def summary(self) -> dict[str, Any]:
        return {
            "converged": self.converged,
            "n_iter": self.n_iter,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "warnings": list(self.warnings),
        }


def n_components_from_data(H: Any) -> int:
    """The certified rank of the centred H (the number of sources it can hold)."""
    H = as_matrix("H", H)
    dec = decide_rank(H - H.mean(axis=0), name="H")
    if not dec.certified:
        raise InputError("n_components: the rank of the centred H is undecided; pass n_components")
    if dec.rank == 0:
        raise InputError("H has no variance (all rows equal); there is nothing to unmix")
    return dec.rank


def fit_ica(
    H: Any,
    n_components: int | None = None,
    seed: int = 0,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_ICA_TOL,
) -> IcaFit:
    """FastICA on the rows of H (whiten="unit-variance", fun="logcosh", parallel algorithm,
    random_state=seed), at most ``max_iter`` (default 1000) iterations to the tolerance ``tol``
    (default 1e-7) on the unmixing update; both are recorded in the fit.

    ``n_components`` defaults to the certified rank of the centred H. A ConvergenceWarning is caught
    and recorded in the fit (``converged=False``); other warnings are re-emitted.
    """
    H = as_samples("H", H, min_rows=MIN_TEST_SAMPLES)
    k = (
        n_components_from_data(H)
        if n_components is None
        else as_int("n_components", n_components, low=1, high=H.shape[1])
    )
    seed = as_int("seed", seed, low=0, high=MAX_SEED)
    max_iter = as_positive_int("max_iter", max_iter)
    tol = as_positive_real("tol", tol)
    # Reduce to the top-k principal subspace first (eigh of the d x d covariance), so FastICA's
    # whitening can use the fast eigh solver (about 10x faster than svd for n >> d) on a full-rank
    # covariance even when d > k. The basis is turned by a fixed Haar rotation: sklearn's eigh
    # whitening flips signs by ``np.sign(u[0])``, which zeroes eigenvectors of an exactly diagonal
    # covariance (as principal components would have).
    mean = H.mean(axis=0)
    Hc = H - mean
    _, vecs = scipy.linalg.eigh(Hc.T @ Hc)
    turn, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((k, k)))
    U = vecs[:, ::-1][:, :k] @ turn
    ica = FastICA(
        n_components=k,
        algorithm="parallel",
        whiten="unit-variance",
        whiten_solver="eigh",
        fun="logcosh",
        max_iter=max_iter,
        tol=tol,
        random_state=seed,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ica.fit(Hc @ U)
    convergence = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            convergence.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n_iter = int(ica.n_iter_)
    unmixing = np.asarray(ica.components_, dtype=np.float64) @ U.T
    mixing = U @ np.asarray(ica.mixing_, dtype=np.float64)
    mean = mean + U @ np.asarray(ica.mean_, dtype=np.float64)
    for arr in (unmixing, mixing, mean):
        arr.setflags(write=False)
    return IcaFit(
        unmixing=unmixing,
        mixing=mixing,
        mean=mean,
        n_iter=n_iter,
        max_iter=max_iter,
        tol=tol,
        converged=not convergence and n_iter < max_iter,
        warnings=tuple(convergence),
    )
