"""T5: why orthogonal perturbations keep 95-100% of the steering efficacy.

If the trait score is affine near the operating point, ``s(v) = s0 + <w, v>``, and u is uniform on
the sphere of radius ``rho |v|`` in the orthogonal complement of v, then the efficacy ratio
``R = (s(v + u) - s0) / (s(v) - s0)`` satisfies ``R - 1 = rho tan(theta) U`` with theta the angle
between w and v and U one coordinate of a uniform unit vector in R^{d-1}:
``(U + 1)/2 ~ Beta((d-2)/2, (d-2)/2)``, ``E U = 0``, ``Var U = 1/(d-1)``.

For a smooth score the same holds to first order in rho with ``tan(theta)`` replaced by the
effective slope ``c = |v| |P_perp g| / (s(v) - s0)`` (g the gradient at v, P_perp the projection
orthogonal to v); for an affine score c = tan(theta) exactly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.stats

from .certificate import Certificate, Verdict, ratio_margin
from .gates import inverse, over
from .validation import (
    InputError,
    as_fraction,
    as_generator,
    as_int,
    as_positive_real,
    as_real,
    as_sample_size,
    as_seed,
    as_vector,
)


def _dim(d: Any) -> int:
    """d >= 3: U is a coordinate of a unit vector in R^(d-1), whose law needs d - 1 >= 2."""
    return as_int("d", d, low=3)


def coordinate_law(d: int):
    """Law of U, one coordinate of a uniform unit vector in R^{d-1}: ``2 Beta(a, a) - 1`` with
    a = (d-2)/2."""
    a = (_dim(d) - 2) / 2
    return scipy.stats.beta(a, a, loc=-1.0, scale=2.0)


def efficacy_law(d: int, slope: float):
    """Law of R = 1 + slope * U (slope = rho * c): ``Beta(a, a)`` on
    ``[1 - |slope|, 1 + |slope|]``."""
    d = _dim(d)
    c = abs(as_real("slope", slope))
    if c == 0:
        raise InputError(f"slope must be finite and nonzero, got {slope!r}")
    a = (d - 2) / 2
    return scipy.stats.beta(a, a, loc=1.0 - c, scale=2.0 * c)


def median_abs_deviation(d: int, rho: float, theta: float) -> float:
    """Median of |R - 1| = rho |tan theta| median|U|, with median|U| = 2 q_{3/4}(Beta(a, a)) - 1."""
    rho = as_positive_real("rho", rho)
    theta = as_real("theta", theta)
    return rho * abs(math.tan(theta)) * float(coordinate_law(d).ppf(0.75))


def orthogonal_perturbations(v: Any, rho: float, n: int, rng: Any) -> np.ndarray:
    """n vectors uniform on the sphere of radius ``rho |v|`` in the orthogonal complement of v
    (``rng``: a numpy Generator or a seed)."""
    v = as_vector("v", v)
    rho = as_positive_real("rho", rho)
    n = as_sample_size("n", n, v.size)
    rng = as_generator("rng", rng)
    nv = float(np.linalg.norm(v))
    if nv == 0:
        raise InputError("v must be nonzero")
    if v.size < 3:
        raise InputError(
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
    gain = as_real("gain", gain)
    if gain == 0:
        raise InputError(f"gain s(v) - s0 must be finite and nonzero, got {gain!r}")
    nv = float(np.linalg.norm(v))
    if nv == 0:
        raise InputError("v must be nonzero")
    vhat = v / nv
    perp = g - (g @ vhat) * vhat
    return float(nv * np.linalg.norm(perp) / gain)


T5_CLAIM = (
    "R - 1 = rho c U with (U + 1)/2 ~ Beta((d-2)/2, (d-2)/2); c = tan(theta) for an affine score"
)

AFFINE_TOL = 1e-8  # relative first-order residual below which R - 1 = rho c U holds draw by draw


@dataclasses.dataclass(frozen=True)
class EfficacySample:
    """Efficacy ratios R of n orthogonal perturbations of relative norm rho, run through a score.

    slope: c (``effective_slope``); degenerate: the gradient is parallel to v (c = 0, R = 1 to
    first order), when first_order_residual, ks_statistic and ks_pvalue are None; otherwise
    first_order_residual = max |R - 1 - rho c U| / (rho |c|) with U computed from each draw, and
    the Kolmogorov-Smirnov test of R against ``efficacy_law(d, rho c)``.
    """

    d: int
    rho: float
    slope: float
    ratios: np.ndarray
    degenerate: bool
    first_order_residual: float | None
    ks_statistic: float | None
    ks_pvalue: float | None

    @property
    def n(self) -> int:
        return int(self.ratios.size)

    @property
    def median_abs_deviation(self) -> float:
        """Measured median |R - 1|."""
        return float(np.median(np.abs(self.ratios - 1)))

    @property
    def predicted_median_abs_deviation(self) -> float:
        """rho |c| median|U|: the first-order prediction of the median |R - 1|."""
        return abs(self.slope) * self.rho * float(coordinate_law(self.d).ppf(0.75))

    @property
    def max_abs_deviation(self) -> float:
        return float(np.max(np.abs(self.ratios - 1)))


def sample_efficacy(
    score: Callable[[np.ndarray], np.ndarray],
    v: Any,
    gradient: Any,
    rho: float,
    n: int = 1000,
    seed: int = 0,
) -> EfficacySample:
    """Draw n orthogonal perturbations u of relative norm rho, run ``score`` (batched: (n, d) ->
    (n,)) on 0, v and v + u, and compare the ratios R with the first-order prediction. n >= 2
    (the KS test needs two draws). A gradient with |g - (g.v^) v^| <= 1e-12 |g| is parallel to
    v (theta = 0): a degenerate sample, with no first-order residual or KS test."""
    v = as_vector("v", v)
    g = as_vector("gradient", gradient, v.size, against="v")
    rho = as_positive_real("rho", rho)
    n = as_sample_size("n", n, v.size, low=2)
    seed = as_seed("seed", seed)
    if not callable(score):
        raise InputError(f"score must be a callable (n, d) -> (n,), got {type(score).__name__}")
    us = orthogonal_perturbations(v, rho, n, np.random.default_rng(seed))
    s0 = float(np.asarray(score(np.zeros((1, v.size))))[0])
    gain = float(np.asarray(score(v[None, :]))[0]) - s0
    c = effective_slope(v, g, gain)
    ratios = (np.asarray(score(v + us), dtype=np.float64) - s0) / gain
    ratios.setflags(write=False)
    vhat = v / np.linalg.norm(v)
    perp = g - (g @ vhat) * vhat
    if np.linalg.norm(perp) <= 1e-12 * np.linalg.norm(g):  # theta = 0: no first-order change
        return EfficacySample(v.size, rho, c, ratios, True, None, None, None)
    e = perp / np.linalg.norm(perp)
    U = us @ e / np.linalg.norm(us, axis=1)
    first_order = float(np.max(np.abs(ratios - 1 - rho * c * U)) / (rho * abs(c)))
    ks = scipy.stats.kstest(ratios, efficacy_law(v.size, rho * c).cdf)
    return EfficacySample(
        v.size, rho, c, ratios, False, first_order, float(ks.statistic), float(ks.pvalue)
    )


def t5_certificate(sample: EfficacySample, alpha: float = 0.01) -> Certificate:
    """The T5 verdict on a sample, from two gates: (1) draw by draw, ``R - 1 = rho c U``
    (first-order residual <= AFFINE_TOL proves the law for this score: it is affine along these
    draws; margin AFFINE_TOL / residual); (2) the KS test must not reject (margin p / alpha).

    holds: either gate clears (margin: the larger). violated: (1) fails and p < alpha / 100, strong
    evidence that the first-order law breaks at this rho (margin: the smaller of
    residual / AFFINE_TOL and (alpha / 100) / p). undecided in between, so a p-value a little under
    alpha (which happens at rate alpha when the law holds) never reads as a failure. Degenerate
    sample (gradient parallel to v): holds iff max |R - 1| <= AFFINE_TOL, else undecided."""
    if not isinstance(sample, EfficacySample):
        raise InputError(f"sample must be an EfficacySample, got {type(sample).__name__}")
    alpha = as_fraction("alpha", alpha)
    details: dict[str, Any] = {
        "rho": sample.rho,
        "slope": sample.slope,
        "n": sample.n,
        "median_abs_R_minus_1": sample.median_abs_deviation,
        "mean_R": float(sample.ratios.mean()),
        "min_R": float(sample.ratios.min()),
    }
    common: dict[str, Any] = dict(
        theorem="T5", claim=T5_CLAIM, d=sample.d, witness={"ratios": sample.ratios}
    )
    if sample.degenerate:
        worst = sample.max_abs_deviation
        margin = ratio_margin(AFFINE_TOL, worst)
        details.update(degenerate=True)
        return Certificate(
            verdict=Verdict.HOLDS if margin >= 1 else Verdict.UNDECIDED,
            margin=margin,
            tolerance=AFFINE_TOL,
            residual=worst,
            residual_tolerance=AFFINE_TOL,
            reason="" if margin >= 1 else "gradient parallel to v and max |R - 1| not first-order",
            details=details,
            **common,
        )
    first, p = sample.first_order_residual, sample.ks_pvalue
    if first is None or p is None:
        raise InputError("a non-degenerate sample needs its first-order residual and KS p-value")
    affine, accepted = ratio_margin(AFFINE_TOL, first), over(p, alpha)
    details.update(
        ks_statistic=sample.ks_statistic,
        ks_pvalue=sample.ks_pvalue,
        predicted_median_abs_R_minus_1=sample.predicted_median_abs_deviation,
    )
    if affine >= 1 or accepted >= 1:
        verdict, margin, reason = Verdict.HOLDS, max(affine, accepted), ""
    elif p < alpha / 100:
        margin = min(inverse(affine), over(alpha / 100, p))
        verdict, reason = Verdict.VIOLATED, ""
    else:
        verdict, margin = Verdict.UNDECIDED, max(affine, accepted)
        reason = "KS p-value in [alpha / 100, alpha): neither accepted nor clearly rejected"
    return Certificate(
        verdict=verdict,
        margin=margin,
        tolerance=alpha,
        residual=first,
        residual_tolerance=AFFINE_TOL,
        reason=reason,
        details=details,
        **common,
    )


def check_t5(
    score: Callable[[np.ndarray], np.ndarray],
    v: Any,
    gradient: Any,
    rho: float,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.01,
) -> Certificate:
    """T5 on a score: ``t5_certificate(sample_efficacy(score, v, gradient, rho, n, seed), alpha)``.
    The score is the re-run: every ratio is measured by running it. Witness: the sampled ratios."""
    alpha = as_fraction("alpha", alpha)
    return t5_certificate(sample_efficacy(score, v, gradient, rho, n, seed), alpha)
