"""Checks of T5: the law of one coordinate of a uniform unit vector (exact, sympy), and the efficacy
ratio of orthogonal perturbations on an affine score (numeric)."""

from __future__ import annotations

import math

import numpy as np
import sympy

from theory.certificate import Certificate, Verdict, min_margin, ratio_margin
from theory.efficacy import median_abs_deviation, sample_efficacy, t5_certificate
from theory.gates import decide

from ..registry import EXACT, NUMERIC, check


def coordinate_moments(d: int) -> list[sympy.Expr]:
    """E U^k, k = 0, 1, 2, for U one coordinate of a uniform unit vector in R^{d-1}, whose density
    is proportional to (1 - u^2)^((d-4)/2); with u = sin t on (-pi/2, pi/2) the k-th unnormalised
    moment is the integral of sin(t)^k cos(t)^(d-3)."""
    t = sympy.Symbol("t", real=True)
    m = [
        sympy.integrate(
            sympy.sin(t) ** k * sympy.cos(t) ** (d - 3), (t, -sympy.pi / 2, sympy.pi / 2)
        )
        for k in range(3)
    ]
    return [sympy.simplify(mk / m[0]) for mk in m] + [m[0]]


@check(
    "T5", EXACT, "law of U: E U = 0, Var U = 1/(d-1), (U+1)/2 ~ Beta((d-2)/2, (d-2)/2), d = 3..8"
)
def exact_t5(seed: int = 0, claimed_variance=lambda d: sympy.Rational(1, d - 1)) -> Certificate:
    """For d = 3..8, symbolically: E U = 0, Var U = 1/(d-1), and the density of X = (U + 1)/2,
    2 (4 x y)^((d-4)/2) / Z with y = 1 - x, divided by the Beta((d-2)/2, (d-2)/2) density is 1."""
    x, y = sympy.symbols("x y", positive=True)
    rows, ok = [], True
    for d in range(3, 9):
        _, mean, second, Z = coordinate_moments(d)
        var = sympy.simplify(second - mean**2)
        a = sympy.Rational(d - 2, 2)
        pushed = 2 * (4 * x * y) ** sympy.Rational(d - 4, 2) / Z
        beta_pdf = x ** (a - 1) * y ** (a - 1) * sympy.gamma(2 * a) / sympy.gamma(a) ** 2
        ratio = sympy.simplify(sympy.powsimp(pushed / beta_pdf, force=True))
        good = mean == 0 and sympy.simplify(var - claimed_variance(d)) == 0 and ratio == 1
        ok &= bool(good)
        rows.append(
            {"d": d, "mean": str(mean), "variance": str(var), "density_ratio_to_beta": str(ratio)}
        )
    return Certificate(
        theorem="T5",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="E U = 0, Var U = 1/(d-1), (U+1)/2 ~ Beta((d-2)/2, (d-2)/2)",
        details={"evidence": rows},
    )


@check(
    "T5", NUMERIC, "affine score in d = 2048, rho = 1, theta = 60 degrees: median |R - 1| ~ 2.6%"
)
def numeric_t5_affine(seed: int = 0) -> Certificate:
    """T5 on an affine score (``check_t5``'s gates), and the measured median |R - 1| within 10% of
    the formula rho tan(theta) median|U| (a gate: margin 0.1 predicted / |measured - predicted|)."""
    rng = np.random.default_rng(seed)
    d, theta = 2048, math.radians(60)
    q, _ = np.linalg.qr(rng.standard_normal((d, 2)))
    w = q[:, 0]
    v = math.cos(theta) * q[:, 0] + math.sin(theta) * q[:, 1]
    sample = sample_efficacy(lambda X: 0.1 + X @ w, v, w, rho=1.0, n=2000, seed=seed)
    cert = t5_certificate(sample)
    predicted = median_abs_deviation(d, 1.0, theta)
    deviation = abs(sample.median_abs_deviation - predicted)
    median_gate = ratio_margin(0.1 * predicted, deviation)
    details = {
        **cert.details,
        "paper_median_abs_R_minus_1": 0.026,
        "formula_median_abs_R_minus_1": predicted,
    }
    if cert.verdict is Verdict.HOLDS:
        verdict, margin, reason = decide({"median |R - 1| = formula": median_gate})
        margin = min_margin(cert.margin, margin)
    else:
        verdict, margin, reason = cert.verdict, cert.margin, cert.reason
    return cert.replace(verdict=verdict, margin=margin, reason=reason, details=details)
