"""T5: for an affine score, R - 1 = rho tan(theta) U exactly, with
(U+1)/2 ~ Beta((d-2)/2, (d-2)/2)."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.efficacy import (
    AFFINE_TOL,
    EfficacySample,
    check_t5,
    coordinate_law,
    effective_slope,
    efficacy_law,
    median_abs_deviation,
    orthogonal_perturbations,
    t5_certificate,
)


@st.composite
def affine_scores(draw):
    """(w, v, theta): a gradient w and a steering vector v at a chosen angle theta in (0, pi/2)."""
    d = draw(st.integers(3, 40))
    theta = draw(st.floats(0.05, 1.45))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q, _ = np.linalg.qr(rng.standard_normal((d, 2)))
    w = q[:, 0] * draw(st.floats(0.1, 10.0))
    v = (np.cos(theta) * q[:, 0] + np.sin(theta) * q[:, 1]) * draw(st.floats(0.1, 10.0))
    return w, v, theta


@given(affine_scores(), st.floats(0.01, 3.0), st.integers(0, 2**32 - 1))
def test_ratio_is_one_plus_rho_tan_theta_times_a_coordinate(wvt, rho, seed):
    w, v, theta = wvt
    s0 = 0.7
    us = orthogonal_perturbations(v, rho, 16, np.random.default_rng(seed))
    assert np.allclose(us @ v, 0, atol=1e-10 * np.linalg.norm(v) ** 2)
    assert np.allclose(np.linalg.norm(us, axis=1), rho * np.linalg.norm(v))
    R = ((s0 + (v + us) @ w) - s0) / (v @ w)
    vhat = v / np.linalg.norm(v)
    e = w - (w @ vhat) * vhat
    e /= np.linalg.norm(e)
    U = us @ e / np.linalg.norm(us, axis=1)  # one coordinate of the unit perturbation
    assert np.allclose(R - 1, rho * np.tan(theta) * U, atol=1e-9 * max(1.0, rho * np.tan(theta)))
    assert math.isclose(effective_slope(v, w, v @ w), np.tan(theta), rel_tol=1e-9)


@given(st.integers(3, 400))
def test_coordinate_law_moments(d):
    law = coordinate_law(d)
    assert abs(law.mean()) < 1e-12
    assert math.isclose(law.var(), 1 / (d - 1), rel_tol=1e-9)


def test_perturbations_are_uniform_on_the_sphere():
    """Coordinates of the unit perturbation along a fixed direction in v^perp follow the law of
    U."""
    rng = np.random.default_rng(0)
    d = 12
    v = rng.standard_normal(d)
    us = orthogonal_perturbations(v, 1.0, 4000, rng)
    e = np.linalg.qr(np.column_stack([v, rng.standard_normal(d)]))[0][:, 1]
    U = us @ e / np.linalg.norm(us, axis=1)
    assert scipy.stats.kstest(U, coordinate_law(d).cdf).pvalue > 0.01


def test_paper_number_d2048_rho1_theta60():
    assert abs(median_abs_deviation(2048, 1.0, math.radians(60)) - 0.026) < 0.001


def test_check_t5_on_an_affine_score_holds_and_breaks_on_a_curved_one():
    rng = np.random.default_rng(3)
    d = 50
    w = rng.standard_normal(d)
    v = rng.standard_normal(d)
    affine = lambda X: 0.2 + X @ w
    cert = check_t5(affine, v, w, rho=1.0, n=2000, seed=1)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1 and cert.d == d
    assert cert.residual <= AFFINE_TOL  # affine: the law holds draw by draw
    curved = lambda X: (
        0.2 + X @ w + 0.5 * np.sum(X**2, axis=-1)
    )  # not affine: |v + u|^2 grows with rho
    bad = check_t5(curved, v, w + v, rho=2.0, n=2000, seed=1)
    assert bad.verdict is Verdict.VIOLATED and bad.margin >= 1
    assert bad.details["ks_pvalue"] < 0.01 / 100 and bad.residual > AFFINE_TOL


def _sample(first_order: float, pvalue: float) -> EfficacySample:
    ratios = np.linspace(0.9, 1.1, 11)
    return EfficacySample(10, 0.5, 1.0, ratios, False, first_order, 0.1, pvalue)


@pytest.mark.parametrize(
    "first_order,pvalue,verdict,margin",
    [
        (1e-9, 1e-12, Verdict.HOLDS, 10.0),  # affine draw by draw: the KS test does not matter
        (1.0, 0.5, Verdict.HOLDS, 50.0),  # accepted: margin p / alpha
        (1.0, 0.005, Verdict.UNDECIDED, 0.5),  # a p-value a little under alpha is no failure
        (1.0, 1e-6, Verdict.VIOLATED, 1e-4 / 1e-6),  # rejected: margin (alpha / 100) / p
        (1e-7, 1e-6, Verdict.VIOLATED, 10.0),  # ... and residual / AFFINE_TOL when smaller
    ],
)
def test_t5_verdict_and_margin_from_its_two_gates(first_order, pvalue, verdict, margin):
    cert = t5_certificate(_sample(first_order, pvalue), alpha=0.01)
    assert cert.verdict is verdict and math.isclose(cert.margin, margin, rel_tol=1e-12)


@pytest.mark.parametrize(
    "args,msg",
    [
        (dict(d=2, slope=1.0), r"d must be an int in \[3, inf\)"),
        (dict(d=3.0, slope=1.0), "d must be an int"),
        (dict(d=True, slope=1.0), "d must be an int"),
        (dict(d=10, slope=0.0), "slope must be finite and nonzero"),
    ],
)
def test_law_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg):
        efficacy_law(**args)


def test_perturbation_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rho must be"):
        orthogonal_perturbations(np.ones(4), -1.0, 3, rng)
    with pytest.raises(ValueError, match="v must be nonzero"):
        orthogonal_perturbations(np.zeros(4), 1.0, 3, rng)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, inf\)"):
        orthogonal_perturbations(np.ones(4), 1.0, 0, rng)
    with pytest.raises(ValueError, match="rng must be"):
        orthogonal_perturbations(np.ones(4), 1.0, 3, -1)


def test_transformer_first_order_law_holds_at_small_rho_and_breaks_as_rho_grows():
    """On tiny-ln the measured ratios (running the model) follow the Beta law at rho = 0.05; the
    KS distance to the first-order law grows with rho."""
    from proofs_check.checks.efficacy_transformer import numeric_t5_transformer

    cert = numeric_t5_transformer(0)
    assert cert.verdict is Verdict.HOLDS
    ks = [row["ks_statistic"] for row in cert.details["by_rho"]]
    assert [row["rho"] for row in cert.details["by_rho"]] == [0.05, 0.5, 1.0, 2.0]
    assert ks[-1] > 3 * ks[0] and ks[-1] > ks[1]
    assert not cert.details["by_rho"][-1]["first_order_law_accepted"]
