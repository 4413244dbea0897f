"""Is a recovered source Gaussian? (T8): per-column normality tests of ICA's output, with
a Bonferroni level ``alpha / k`` over the k columns.

Each column is called non-Gaussian (D'Agostino-Pearson K^2 rejects normality at ``alpha / k``),
Gaussian within a resolution band (two one-sided tests put skew and excess kurtosis inside it), or
inconclusive. No finite sample proves exact Gaussianity: "gaussian" means indistinguishable from it
at the stated resolution.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import scipy.stats

from .certificate import ratio_margin
from .mixing import MIN_TEST_SAMPLES, as_samples
from .validation import InputError, as_positive_real, as_real

KINDS = ("non-gaussian", "gaussian", "inconclusive")


def as_family_level(name: str, alpha: Any) -> float:
    """A family-wise level in (0, 1/2): above 1/2 the quantile ``Phi^{-1}(1 - alpha)`` is negative
    and the equivalence bounds ``|g| + z se`` stop being upper confidence bounds."""
    return as_real(name, alpha, low=0.0, high=0.5, low_open=True, high_open=True)


@dataclasses.dataclass(frozen=True)
class ComponentGaussianity:
    """Evidence on one recovered source y (n held-out samples).

    skew g1, excess kurtosis g2 (biased moment estimators), their standard errors under normality
    ``se1^2 = 6(n-2)/((n+1)(n+3))``, ``se2^2 = 24n(n-2)(n-3)/((n+1)^2(n+3)(n+5))``,
    negentropy approximation ``J = g1^2/12 + g2^2/48``, D'Agostino-Pearson K^2 and its p-value.
    kind: "non-gaussian" (p < alpha/k), "gaussian" (p >= alpha/k and both equivalence bounds
    ``|g| + z_{1-alpha/k} se`` inside the resolution band), or "inconclusive".
    """

    skew: float
    excess_kurtosis: float
    negentropy: float
    k2: float
    p_value: float
    skew_bound: float
    kurtosis_bound: float
    kind: str


@dataclasses.dataclass(frozen=True)
class GaussianityReport:
    """The k components' evidence at family level ``alpha`` (per-column ``level = alpha / k``)."""

    components: tuple[ComponentGaussianity, ...]
    alpha: float
    level: float
    k2_critical: float
    z: float
    max_skew: float
    max_excess_kurtosis: float
    n: int

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.components)

    def non_gaussian_margin(self, j: int) -> float:
        """``level / p_j``: > 1 iff normality is rejected for component j (a test that must
        reject)."""
        return ratio_margin(self.level, self.components[j].p_value)

    def gaussian_margin(self, j: int) -> float:
        """``min(p_j / level, max_skew / skew_bound, max_excess_kurtosis / kurtosis_bound)``: >= 1
        iff component j is Gaussian within the band (normality not rejected, both bounds inside)."""
        c = self.components[j]
        return min(
            c.p_value / self.level,
            ratio_margin(self.max_skew, c.skew_bound),
            ratio_margin(self.max_excess_kurtosis, c.kurtosis_bound),
        )

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "alpha": self.alpha,
            "level": self.level,
            "k2_critical": self.k2_critical,
            "z": self.z,
            "max_skew": self.max_skew,
            "max_excess_kurtosis": self.max_excess_kurtosis,
            "components": [dataclasses.asdict(c) for c in self.components],
        }


def moment_standard_errors(n: int) -> tuple[float, float]:
    """Standard errors of the sample skew and excess kurtosis of n normal observations."""
    se1 = math.sqrt(6.0 * (n - 2) / ((n + 1) * (n + 3)))
    se2 = math.sqrt(24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5)))
    return se1, se2


def gaussianity(
    Y: Any, alpha: float = 0.01, max_skew: float = 0.25, max_excess_kurtosis: float = 0.5
) -> GaussianityReport:
    """Classify each column of Y (n, k) as non-Gaussian / Gaussian within resolution / inconclusive.

    Bonferroni over the k columns at family level alpha: non-Gaussian iff the D'Agostino-Pearson
    K^2 (scipy.stats.normaltest, ~chi^2_2 under normality) has p < alpha/k, so on k Gaussian
    columns the chance of any non-Gaussian call is at most alpha; Gaussian iff not rejected and, by
    two one-sided tests, ``|g1| + z se1 <= max_skew`` and ``|g2| + z se2 <= max_excess_kurtosis``
    with ``z = Phi^{-1}(1 - alpha/k)``.
    """
    Y = as_samples("Y", Y, min_rows=MIN_TEST_SAMPLES)
    alpha = as_family_level("alpha", alpha)
    max_skew = as_positive_real("max_skew", max_skew)
    max_kurt = as_positive_real("max_excess_kurtosis", max_excess_kurtosis)
    n, k = Y.shape
    level = alpha / k
    z = float(scipy.stats.norm.ppf(1.0 - level))
    se1, se2 = moment_standard_errors(n)
    comps = []
    for j in range(k):
        y = Y[:, j]
        g1 = float(scipy.stats.skew(y))
        g2 = float(scipy.stats.kurtosis(y, fisher=True))
        k2, p = scipy.stats.normaltest(y)
        b1, b2 = abs(g1) + z * se1, abs(g2) + z * se2
        if p < level:
            kind = "non-gaussian"
        elif b1 <= max_skew and b2 <= max_kurt:
            kind = "gaussian"
        else:
            kind = "inconclusive"
        comps.append(
            ComponentGaussianity(
                skew=g1,
                excess_kurtosis=g2,
                negentropy=g1**2 / 12 + g2**2 / 48,
                k2=float(k2),
                p_value=float(p),
                skew_bound=b1,
                kurtosis_bound=b2,
                kind=kind,
            )
        )
    return GaussianityReport(
        components=tuple(comps),
        alpha=alpha,
        level=level,
        k2_critical=float(scipy.stats.chi2.ppf(1.0 - level, 2)),
        z=z,
        max_skew=max_skew,
        max_excess_kurtosis=max_kurt,
        n=n,
    )


def sorted_margins(report: GaussianityReport, kind: str) -> np.ndarray:
    """Every component's ``non_gaussian_margin`` or ``gaussian_margin``, largest first: the i-th
    clears 1 iff at least i components are of ``kind`` (so it is the margin of "i of that kind")."""
    if kind not in ("non-gaussian", "gaussian"):
        raise InputError(f"kind must be 'non-gaussian' or 'gaussian', got {kind!r}")
    margin = report.non_gaussian_margin if kind == "non-gaussian" else report.gaussian_margin
    return np.sort([margin(j) for j in range(len(report.components))])[::-1]
