"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 6, O):

- T5 certificate: holds iff the affine gate (residual <= AFFINE_TOL) or the KS gate (p >= alpha)
  clears, margin the larger; violated when neither clears and p < alpha / 100 (margin the smaller
  of residual / AFFINE_TOL and (alpha / 100) / p); undecided in between; alpha defaults to 0.01;
- phase_diagram: fraction[i, j] is the share of (j + 1) Gaussian environments of rank ranks[i]
  that identify v in R^d: shape (len(ranks), max_env), 1 iff (j + 1) ranks[i] >= d, else 0;
- T4: the built member is w + u with u in ker(H_c) at distance |w| (1 when w = 0), its bias
  b - <u, mean h>; the step inside S has the same length, so when the nonzero singular values of
  H_c all equal sigma its score change is sigma |w - member|; seed defaults to 0;
- fitted_slope floors the changes at 1e-300 before taking logs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.efficacy import AFFINE_TOL, EfficacySample, t5_certificate
from theory.environments import phase_diagram
from theory.estimation import check_t4
from theory.first_order import fitted_slope

# ---------------------------------------------------------------------------------------------
# T5: the two gates of t5_certificate


def _sample(first: float, p: float) -> EfficacySample:
    ratios = 1.0 + 0.05 * np.linspace(-1.0, 1.0, 21)
    return EfficacySample(10, 0.1, 0.5, ratios, False, first, 0.2, p)


ALPHA = 0.01


@pytest.mark.parametrize(
    ("first", "p", "verdict"),
    [
        (0.5 * AFFINE_TOL, 1e-9, Verdict.HOLDS),  # affine draw by draw: holds whatever p says
        (AFFINE_TOL, 1e-9, Verdict.HOLDS),  # residual exactly at the tolerance
        (1.0, ALPHA, Verdict.HOLDS),  # KS p exactly alpha: not rejected
        (1.0, 1.5 * ALPHA, Verdict.HOLDS),  # KS not rejected, affine gate failed
        (1.0, 0.7, Verdict.HOLDS),
        (1e-3, 0.5 * ALPHA, Verdict.UNDECIDED),  # p in [alpha / 100, alpha)
        (1e-3, ALPHA / 100, Verdict.UNDECIDED),
        (1e-3, 0.3 * ALPHA / 100, Verdict.VIOLATED),
        (2.0, 1e-12, Verdict.VIOLATED),
    ],
)
def test_t5_certificate_gates(first, p, verdict):
    """Either gate clears -> holds (margin the larger); both fail with p < alpha / 100 ->
    violated (margin min(residual / AFFINE_TOL, (alpha / 100) / p)); else undecided."""
    cert = t5_certificate(_sample(first, p), ALPHA)
    affine, accepted = AFFINE_TOL / first, p / ALPHA
    assert cert.verdict is verdict
    assert cert.tolerance == ALPHA
    assert cert.residual == first
    assert cert.residual_tolerance == AFFINE_TOL
    assert cert.details["ks_pvalue"] == p
    if verdict is Verdict.HOLDS:
        assert affine >= 1 or accepted >= 1
        assert cert.margin == pytest.approx(max(affine, accepted), rel=1e-12)
        assert cert.margin >= 1
    elif verdict is Verdict.VIOLATED:
        assert cert.margin == pytest.approx(min(first / AFFINE_TOL, ALPHA / 100 / p), rel=1e-12)
        assert cert.margin > 1
    else:
        assert cert.margin == pytest.approx(max(affine, accepted), rel=1e-12)
        assert cert.margin < 1
        assert "alpha / 100" in cert.reason


@pytest.mark.parametrize("p", [0.015, 0.02, 0.005])
def test_t5_certificate_alpha_defaults_to_one_percent(p):
    """alpha left out equals alpha = 0.01 passed explicitly (and differs from 0.02 near it)."""
    sample = _sample(1.0, p)
    default, explicit = t5_certificate(sample), t5_certificate(sample, 0.01)
    assert default.tolerance == 0.01
    assert (default.verdict, default.margin) == (explicit.verdict, explicit.margin)
    assert default.verdict is (Verdict.HOLDS if p >= 0.01 else Verdict.UNDECIDED)
    other = t5_certificate(sample, 0.02)
    assert (other.verdict, other.margin) != (default.verdict, default.margin)


# ---------------------------------------------------------------------------------------------
# T6: the phase diagram of Gaussian environments


@pytest.mark.parametrize(
    ("d", "ranks", "max_env"), [(4, (1, 2, 3), 5), (5, (2, 5), 3), (3, (1,), 1)]
)
def test_phase_diagram_is_the_rank_count(d, ranks, max_env):
    """E Gaussian readouts of rank r stack to rank min(E r, d) almost surely, so column j (j + 1
    environments) of row i is 1 iff (j + 1) ranks[i] >= d, else 0."""
    frac = phase_diagram(d, ranks, max_env, 3, 0)
    expected = np.array([[float((j + 1) * r >= d) for j in range(max_env)] for r in ranks])
    assert frac.shape == (len(ranks), max_env)
    np.testing.assert_array_equal(frac, expected)


# ---------------------------------------------------------------------------------------------
# T4: the member built at distance |w|, and the step inside S of the same length


def _isotropic_activations(n: int, d: int, k: int, sigma: float, seed: int) -> np.ndarray:
    """H whose centred H_c = sigma A B (A: n x k orthonormal columns orthogonal to 1, B: k x d
    orthonormal rows), so every nonzero singular value of H_c is sigma; plus a nonzero mean."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, k))
    M -= M.mean(axis=0)
    A = np.linalg.qr(M)[0]
    B = np.linalg.qr(rng.standard_normal((d, k)))[0].T
    return sigma * A @ B + rng.standard_normal(d)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("zero_w", [False, True])
def test_t4_member_and_in_class_step(seed, zero_w):
    """member = w + u, u in ker H_c, |u| = |w| (1 when w = 0), bias b - <u, mean h>; the scores
    are unchanged, and a step of length |u| inside S changes them by exactly sigma |u|."""
    n, d, k, sigma = 8, 6, 3, 2.5
    H = _isotropic_activations(n, d, k, sigma, seed)
    rng = np.random.default_rng(100 + seed)
    w = np.zeros(d) if zero_w else rng.standard_normal(d)
    b = 0.75
    cert = check_t4(H, w, b, seed=seed)
    assert cert.verdict is Verdict.HOLDS
    assert cert.dim == d - k
    member, bias = cert.witness["member"], float(cert.witness["member_bias"][0])
    u = member - w
    length = 1.0 if zero_w else float(np.linalg.norm(w))
    assert np.linalg.norm(u) == pytest.approx(length, rel=1e-12)
    Hc = H - H.mean(axis=0)
    assert np.linalg.norm(Hc @ u) <= 1e-12 * sigma * length
    assert bias == pytest.approx(b - float(u @ H.mean(axis=0)), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(H @ member + bias, H @ w + b, rtol=0, atol=1e-12)
    assert cert.details["score_change_in_class"] <= 1e-12 * sigma * length
    assert cert.details["score_change_out_of_class"] == pytest.approx(sigma * length, rel=1e-10)


def test_t4_seed_defaults_to_zero():
    """seed left out equals seed = 0 passed explicitly, and seed 1 draws another member."""
    H = _isotropic_activations(8, 6, 3, 1.0, 7)
    w = np.random.default_rng(3).standard_normal(6)
    default, zero, one = check_t4(H, w), check_t4(H, w, seed=0), check_t4(H, w, seed=1)
    np.testing.assert_array_equal(default.witness["member"], zero.witness["member"])
    assert default.details == zero.details
    assert not np.allclose(default.witness["member"], one.witness["member"])


# ---------------------------------------------------------------------------------------------
# first_order.fitted_slope: the floor at 1e-300


def test_fitted_slope_floors_changes_at_1e_300():
    """A zero change is read as 1e-300: with eps = (1, e) and changes (0, c) the slope is
    log c - log 1e-300."""
    for c in (1.0, 3.5e-7):
        expected = math.log(c) - math.log(1e-300)
        assert fitted_slope([1.0, math.e], [0.0, c]) == pytest.approx(expected, rel=1e-12)
    # a change below the floor reads as the floor too: the same slope as for 0
    assert fitted_slope([1.0, math.e], [1e-310, 1.0]) == fitted_slope([1.0, math.e], [0.0, 1.0])
