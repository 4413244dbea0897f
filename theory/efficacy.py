"""T5: why orthogonal perturbations keep 95-100% of the steering efficacy.

If the trait score is affine near the operating point, ``s(v) = s0 + <w, v>``, and u is uniform on the
sphere of radius ``rho |v|`` in the orthogonal complement of v, then the efficacy ratio
``R = (s(v + u) - s0) / (s(v) - s0)`` satisfies ``R - 1 = rho tan(theta) U`` with theta the angle
between w and v and U one coordinate of a uniform unit vector in R^{d-1}:
``(U + 1)/2 ~ Beta((d-2)/2, (d-2)/2)``, ``E U = 0``, ``Var U = 1/(d-1)``.

For a smooth score the same holds to first order in rho with ``tan(theta)`` replaced by the
effective slope ``c = |v| |P_perp g| / (s(v) - s0)`` (g the gradient at v, P_perp the projection
orthogonal to v); for an affine score c = tan(theta) exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.stats

from .certificate import Certificate, Verdict
from .validation import as_vector


def _check_dim(d: Any) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 3:
        raise ValueError(
            f"d must be an int >= 3 (U is a coordinate of a unit vector in R^(d-1)), got {d!r}"
        )
    return int(d)


def _check_rho(rho: Any) -> float:
    rho = float(rho)
    if not math.isfinite(rho) or rho <= 0:
        raise ValueError(f"rho must be a finite positive number, got {rho!r}")
    return rho


def coordinate_law(d: int):
    """Law of U, one coordinate of a uniform unit vector in R^{d-1}: ``2 Beta(a, a) - 1``, a = (d-2)/2."""
    d = _check_dim(d)
    a = (d - 2) / 2
    return scipy.stats.beta(a, a, loc=-1.0, scale=2.0)


def efficacy_law(d: int, slope: float):
    """Law of R = 1 + slope * U (slope = rho * c): ``Beta(a, a)`` on ``[1 - |slope|, 1 + |slope|]``."""
    d = _check_dim(d)
    c = abs(float(slope))
    if not math.isfinite(c) or c == 0:
        raise ValueError(f"slope must be finite and nonzero, got {slope!r}")
    a = (d - 2) / 2
    return scipy.stats.beta(a, a, loc=1.0 - c, scale=2.0 * c)


def median_abs_deviation(d: int, rho: float, theta: float) -> float:
    """Median of |R - 1| = rho |tan theta| median|U|, with median|U| = 2 q_{3/4}(Beta(a, a)) - 1."""
    rho = _check_rho(rho)
    return rho * abs(math.tan(theta)) * float(coordinate_law(d).ppf(0.75))


def orthogonal_perturbations(v: Any, rho: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n vectors uniform on the sphere of radius ``rho |v|`` in the orthogonal complement of v."""
    v = as_vector("v", v)
    rho = _check_rho(rho)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    nv = float(np.linalg.norm(v))
    if nv == 0:
        raise ValueError("v must be nonzero")
    if v.size < 3:
        raise ValueError(
            f"v must have at least 3 entries (the complement of v must hold a sphere), got {v.size}"
        )
    g = rng.standard_normal((n, v.size))
    vhat = v / nv
    g -= np.outer(g @ vhat, vhat)
    return rho * nv * g / np.linalg.norm(g, axis=1, keepdims=True)


def effective_slope(v: Any, gradient: Any, gain: float) -> float:
    """c = |v| |P_perp g| / (s(v) - s0): the first-order slope of R - 1 in units of rho U."""
    v = as_vector("v", v)
    g = as_vector("gradient", gradient, v.size, against="v")
    if not math.isfinite(gain) or gain == 0:
        raise ValueError(f"gain s(v) - s0 must be finite and nonzero, got {gain!r}")
    vhat = v / np.linalg.norm(v)
    perp = g - (g @ vhat) * vhat
    return float(np.linalg.norm(v) * np.linalg.norm(perp) / gain)


T5_CLAIM = (
    "R - 1 = rho c U with (U + 1)/2 ~ Beta((d-2)/2, (d-2)/2); c = tan(theta) for an affine score"
)

AFFINE_TOL = 1e-8  # relative first-order residual below which R - 1 = rho c U holds draw by draw


def check_t5(
    score: Callable[[np.ndarray], np.ndarray],
    v: Any,
    gradient: Any,
    rho: float,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.01,
) -> Certificate:
    """Draw n orthogonal perturbations u of relative norm rho, run ``score`` (batched: (n, d) -> (n,))
    on v + u, and compare the efficacy ratios R with the first-order prediction.

    Two tests: (1) draw by draw, ``R - 1 = rho c U`` with U = <u, e>/|u| computed from each u
    (e the unit direction of the gradient orthogonal to v): a residual below AFFINE_TOL proves the
    law for this score (it is affine along these draws); (2) the Kolmogorov-Smirnov test of R
    against the Beta law. holds: (1) or p >= alpha; violated: (1) fails and p < alpha / 100 (strong
    evidence that the first-order law breaks at this rho); undecided in between, so a p-value a
    little under alpha (which happens at rate alpha when the law holds) never reads as a failure.
    When the gradient is parallel to v (theta = 0), R = 1 exactly to first order: holds iff
    max |R - 1| is first-order small. Witness: the sampled ratios."""
    v = as_vector("v", v)
    g = as_vector("gradient", gradient, v.size, against="v")
    rho = _check_rho(rho)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    alpha = float(alpha)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if not callable(score):
        raise ValueError(f"score must be a callable (n, d) -> (n,), got {type(score).__name__}")
    rng = np.random.default_rng(seed)
    us = orthogonal_perturbations(v, rho, n, rng)
    s0 = float(np.asarray(score(np.zeros((1, v.size))))[0])
    sv = float(np.asarray(score(v[None, :]))[0])
    gain = sv - s0
    c = effective_slope(v, g, gain)
    ratios = (np.asarray(score(v + us), dtype=np.float64) - s0) / gain
    vhat = v / np.linalg.norm(v)
    perp = g - (g @ vhat) * vhat
    details: dict[str, Any] = {
        "d": v.size,
        "rho": rho,
        "slope": c,
        "n": n,
        "median_abs_R_minus_1": float(np.median(np.abs(ratios - 1))),
        "mean_R": float(ratios.mean()),
        "min_R": float(ratios.min()),
    }
    if np.linalg.norm(perp) <= 1e-12 * np.linalg.norm(g):  # theta = 0: no first-order change
        worst = float(np.max(np.abs(ratios - 1)))
        details.update(degenerate=True, max_abs_R_minus_1=worst)
        ok = worst <= AFFINE_TOL
        return Certificate(
            theorem="T5",
            verdict=Verdict.HOLDS if ok else Verdict.UNDECIDED,
            claim=T5_CLAIM,
            margin=worst,
            tolerance=AFFINE_TOL,
            witness={"ratios": ratios},
            details=details,
        )
    e = perp / np.linalg.norm(perp)
    U = us @ e / np.linalg.norm(us, axis=1)
    first_order = float(np.max(np.abs(ratios - 1 - rho * c * U)) / (rho * abs(c)))
    ks = scipy.stats.kstest(ratios, efficacy_law(v.size, rho * c).cdf)
    details.update(
        first_order_residual=first_order,
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        predicted_median_abs_R_minus_1=abs(c) * rho * float(coordinate_law(v.size).ppf(0.75)),
    )
    if first_order <= AFFINE_TOL or ks.pvalue >= alpha:
        verdict = Verdict.HOLDS
    elif ks.pvalue < alpha / 100:
        verdict = Verdict.VIOLATED
    else:
        verdict = Verdict.UNDECIDED
    return Certificate(
        theorem="T5",
        verdict=verdict,
        claim=T5_CLAIM,
        margin=float(ks.pvalue),
        tolerance=alpha,
        witness={"ratios": ratios},
        details=details,
    )
