"""T5: for an affine score, R - 1 = rho tan(theta) U exactly, with (U+1)/2 ~ Beta((d-2)/2, (d-2)/2)."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.efficacy import (
    check_t5,
    coordinate_law,
    effective_slope,
    efficacy_law,
    median_abs_deviation,
    orthogonal_perturbations,
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
    """Coordinates of the unit perturbation along a fixed direction in v^perp follow the law of U."""
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
    assert cert.verdict is Verdict.HOLDS
    curved = lambda X: (
        0.2 + X @ w + 0.5 * np.sum(X**2, axis=-1)
    )  # not affine: |v + u|^2 grows with rho
    bad = check_t5(curved, v, w + v, rho=2.0, n=2000, seed=1)
    assert bad.verdict is Verdict.VIOLATED


@pytest.mark.parametrize(
    "args,msg",
    [
        (dict(d=2, slope=1.0), "d must be an int >= 3"),
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
    with pytest.raises(ValueError, match="n must be a positive int"):
        orthogonal_perturbations(np.ones(4), 1.0, 0, rng)


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
