"""The steering vectors practitioners estimate from contrastive activations, each with its T4 class.

Given paired activations h+_i, h-_i (N, d) at one hook point and the differences D = H+ - H-:

    caa        v = mean_i (h+_i - h-_i)                         (CAA, Rimsky et al.)
    pca        v = top principal axis of the differences, their mean removed first (sklearn
                   PCA's convention; the paper's E6)
    pca_diff   v = top right singular vector of D, uncentred      (repeng ``pca_diff``)
    pca_center v = top right singular vector of the stacked rows h+-_i - (h+_i + h-_i)/2
                   (repeng ``pca_center``); those rows are +-D_i/2, so this is pca_diff's
                   direction exactly: a practitioner's two options are one estimator
    probe      v = the weight of a logistic regression separating H+ from H- (scikit-learn)

Every direction's sign is fixed by the mean projection: ``mean_i <D_i, v> > 0``. Each estimate is
returned with its T4 estimation class: the data constrain v only through ``<v, h>`` on the rows it
was fitted on, so ``v + ker(H_c)`` (H_c the centred stacked activations) is as well supported, of
dimension ``d - rank H_c``, the rank certified or undecided as everywhere else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .estimation import probe_class
from .validation import InputError, as_choice, as_matrix

__all__ = ["ESTIMATORS", "Estimate", "estimate", "estimate_all"]

ESTIMATORS = ("caa", "pca", "pca_diff", "pca_center", "probe")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A steering vector estimated from pairs: ``vector`` (d,), the estimator's name, and its T4
    class: ``class_dim`` = d - ``rank`` of the centred fit activations (``certified`` False when
    that rank is undecided)."""

    method: str
    vector: np.ndarray
    class_dim: int
    rank: int
    certified: bool


def _pairs(h_plus: Any, h_minus: Any) -> tuple[np.ndarray, np.ndarray]:
    hp, hm = as_matrix("h_plus", h_plus), as_matrix("h_minus", h_minus)
    if hp.shape != hm.shape:
        raise InputError(f"h_plus and h_minus must have the same shape, got {hp.shape}, {hm.shape}")
    if hp.shape[0] < 2:
        raise InputError(f"need at least 2 pairs, got {hp.shape[0]}")
    return hp, hm


def _top_direction(rows: np.ndarray) -> np.ndarray:
    """Top right singular vector (scipy's SVD); no centring."""
    from scipy.linalg import svd

    return svd(rows, full_matrices=False)[2][0]


def _oriented(v: np.ndarray, D: np.ndarray) -> np.ndarray:
    """v with the sign that makes the mean projection of the differences positive."""
    s = float(np.mean(D @ v))
    if s == 0.0:
        raise InputError("the differences have zero mean projection on the estimate: no sign")
    return v if s > 0 else -v


def estimate(method: str, h_plus: Any, h_minus: Any, seed: int = 0) -> Estimate:
    """The ``method`` estimate (one of ESTIMATORS) from paired activations h_plus, h_minus
    (N, d)."""
    method = as_choice("method", method, ESTIMATORS)
    hp, hm = _pairs(h_plus, h_minus)
    D = hp - hm
    if not np.any(D):
        raise InputError("h_plus and h_minus are identical: the pairs carry no contrast")
    if method == "caa":
        v = D.mean(axis=0)
    elif method == "pca":
        v = _oriented(_top_direction(D - D.mean(axis=0)), D)
    elif method == "pca_diff":
        v = _oriented(_top_direction(D), D)
    elif method == "pca_center":
        mid = (hp + hm) / 2
        v = _oriented(_top_direction(np.vstack([hp - mid, hm - mid])), D)
    else:
        from sklearn.linear_model import LogisticRegression

        X = np.vstack([hp, hm])
        y = np.r_[np.ones(len(hp)), np.zeros(len(hm))]
        fit = LogisticRegression(C=1.0, tol=1e-10, max_iter=20_000, random_state=seed).fit(X, y)
        v = _oriented(fit.coef_[0].astype(np.float64), D)
    cls = probe_class(np.vstack([hp, hm]), v)
    return Estimate(method, v, int(cls.dim), int(cls.rank), bool(cls.certified))


def estimate_all(h_plus: Any, h_minus: Any, seed: int = 0) -> dict[str, Estimate]:
    """Every estimator of ESTIMATORS on the same pairs."""
    return {m: estimate(m, h_plus, h_minus, seed) for m in ESTIMATORS}
