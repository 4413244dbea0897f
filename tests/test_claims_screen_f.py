"""Claims on ``theory/`` stated against the mathematics or a documented contract (screen F):

- ``phase_transition`` has documented default seed 0: leaving it out equals passing 0 (recorded);
- ``phase_transition`` refuses a grid cell whose k = round(rho m) is 0, naming that cell's rho,
  delta and m (not a neighbouring cell whose k is 1);
- ``statistical_dimension_threshold`` (psi minimised over tau >= 0, from tau = 0) is the same curve
  as ``weak_threshold`` over the whole delta range, including delta near 1 where the minimiser
  tau is small, and for tiny delta where it is large (rho_W ~ 1 / (2 ln(1/delta)), Donoho-Tanner);
- both thresholds refuse delta below MIN_DELTA = 1e-300, where J(z) underflows;
- ``rerun_ratio`` steps eps max(|v|, 1) from v (default eps 1e-4): for a behaviour that depends
  only on the distance to v the ratio reads the step length off exactly;
- ``rerun_ratio`` measures u at v + eps u: with one map, the ratio for u over the ratio for u' is
  |B(v + e u) - B(v)| / |B(v + e u') - B(v)| (the unknown g cancels);
- ``rerun_ratio`` is O(eps) for a direction in the null space of every map's Jacobian at v, and
  O(1) for any other direction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.phase_transition import (
    MIN_DELTA,
    phase_transition,
    statistical_dimension_threshold,
    weak_threshold,
)
from theory.rerun import rerun_ratio
from theory.validation import InputError

# --------------------------------------------------------------------------------------------
# Phase transition


def test_phase_transition_default_seed_is_zero():
    """The documented default seed = 0: omitted, the result (and its recorded seed) is that of
    seed=0 passed explicitly; another seed is recorded as itself."""
    args = (10, [0.5, 0.8], [0.4])
    default = phase_transition(*args, trials=2)
    explicit = phase_transition(*args, trials=2, seed=0)
    assert default.seed == 0
    np.testing.assert_array_equal(default.success, explicit.success)
    assert phase_transition(*args, trials=1, seed=1).seed == 1


def test_phase_transition_names_the_cell_whose_k_rounds_to_zero():
    """p = 4, delta = 0.5: m = 2; rho = 0.5 gives k = 1 (valid), rho = 0.2 gives k = round(0.4)
    = 0, so the error names rho = 0.2, not the valid cell next to it."""
    with pytest.raises(InputError, match=r"rho = 0\.2 at delta = 0\.5 \(m = 2\)"):
        phase_transition(4, [0.5], [0.5, 0.2], trials=1)
    with pytest.raises(InputError, match=r"rho = 0\.2 at delta = 0\.5 \(m = 2\)"):
        phase_transition(4, [1.0, 0.5], [0.5, 0.2], trials=1)


@pytest.mark.parametrize("delta", [0.05, 0.3, 0.5, 0.8, 0.95, 0.99])
def test_statistical_dimension_threshold_is_the_weak_threshold(delta):
    """Two independent formulas for rho_W(delta) (DMM minimax; ALMT statistical dimension with
    psi(eps) = inf over tau >= 0) agree; rho_W lies in (0, 1) and increases with delta."""
    rho = statistical_dimension_threshold(delta)
    assert 0.0 < rho < 1.0
    assert rho == pytest.approx(weak_threshold(delta), abs=1e-9)
    assert statistical_dimension_threshold(delta - 0.01) < rho


@pytest.mark.parametrize("delta", [1e-20, 1e-40, 1e-100, 1e-300])
def test_weak_threshold_small_delta_follows_the_donoho_tanner_asymptotic(delta):
    """The maximum / infimum run over all z, tau >= 0 (not a truncated range): for every delta in
    [MIN_DELTA, 1) = [1e-300, 1), rho_W(delta) is a positive fraction, both formulas agree, rho_W
    follows Donoho & Tanner's asymptotic rho_W(delta) ~ 1 / (2 ln(1/delta)) as delta -> 0 (from
    above: ratio 1.02 at 1e-20, 1.003 at 1e-300)."""
    rho = weak_threshold(delta)
    assert 0.0 < rho < 1.0
    assert statistical_dimension_threshold(delta) == pytest.approx(rho, rel=1e-9)
    assert 1.0 < 2.0 * math.log(1.0 / delta) * rho < 1.03


@pytest.mark.parametrize("delta", [9.9e-301, 1e-307, 5e-324])
@pytest.mark.parametrize("threshold", [weak_threshold, statistical_dimension_threshold])
def test_thresholds_refuse_delta_below_the_underflow_floor(threshold, delta):
    """Below MIN_DELTA = 1e-300 the optimal z ~ sqrt(2 ln(1/delta)) makes J(z) subnormal, so
    the curve cannot be computed in float64: both formulas refuse such delta with an InputError
    naming delta instead of returning a wrong value."""
    assert delta < MIN_DELTA
    with pytest.raises(InputError, match="delta"):
        threshold(delta)


# --------------------------------------------------------------------------------------------
# Re-run ratio


def _radial_map(v: np.ndarray):
    """B(x) = r + r^2 with r = |x - v|: moves by e + e^2 along any unit direction, whatever g."""
    return lambda x: np.array([np.linalg.norm(x - v) + np.linalg.norm(x - v) ** 2])


def _step_from_ratio(ratio: float) -> float:
    """|u| = 2: ratio = (2e + 4e^2) / (e + e^2) = 2 (1 + 2e) / (1 + e), so e = (R - 2) / (4 - R)."""
    return (ratio - 2.0) / (4.0 - ratio)


@pytest.mark.parametrize("norm_v", [0.0, 0.5, 1.0, 1.5, 10.0])
@pytest.mark.parametrize("eps", [None, 1e-4, 3e-3])
def test_rerun_ratio_steps_eps_times_max_norm_v_one(norm_v, eps):
    """The step is e = eps max(|v|, 1) (eps = 1e-4 by default); a radial behaviour about v reads
    e off the ratio."""
    rng = np.random.default_rng(11)
    d = 4
    direction = rng.standard_normal(d)
    v = norm_v * direction / np.linalg.norm(direction)
    u = rng.standard_normal(d)
    u *= 2.0 / np.linalg.norm(u)
    runs = [_radial_map(v)]
    ratio = rerun_ratio(runs, v, u) if eps is None else rerun_ratio(runs, v, u, eps=eps)
    step = (1e-4 if eps is None else eps) * max(norm_v, 1.0)
    assert _step_from_ratio(ratio) == pytest.approx(step, rel=1e-5)
    if eps is None:
        assert ratio == rerun_ratio(runs, v, u, eps=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rerun_ratio_measures_u_at_v_plus_eps_u(seed):
    """One map B: rerun_ratio(v, u) / rerun_ratio(v, u') = |B(v + e u) - B(v)| / |B(v + e u') -
    B(v)|, e = eps max(|v|, 1), since the same seeded g gives the same denominator."""
    rng = np.random.default_rng(seed)
    d, eps = 5, 0.2
    W = rng.standard_normal((3, d))
    c = rng.standard_normal(3)

    def B(x):
        return np.tanh(W @ x + c) + 0.5 * (W @ x) ** 2

    v = 1.7 * rng.standard_normal(d)
    e = eps * max(np.linalg.norm(v), 1.0)
    u1 = rng.standard_normal(d)
    for u2 in (-u1, rng.standard_normal(d)):
        got = rerun_ratio([B], v, u1, eps=eps, seed=seed) / rerun_ratio([B], v, u2, eps, seed)
        want = np.linalg.norm(B(v + e * u1) - B(v)) / np.linalg.norm(B(v + e * u2) - B(v))
        assert got == pytest.approx(want, rel=1e-10)
        assert abs(want - 1.0) > 1e-3  # the two directions are told apart


def test_rerun_ratio_is_order_eps_on_a_common_null_direction():
    """u in the null space of every map's Jacobian at v: the effect is second order, so the
    ratio halves with eps; a generic direction gives a ratio of order one at any eps."""
    rng = np.random.default_rng(5)
    d = 4
    A = rng.standard_normal((2, d))
    null = np.linalg.svd(A)[2][-1]
    v = rng.standard_normal(d)
    runs = [lambda x: A @ x + 0.3 * np.sum((x - v) ** 2), lambda x: 2.0 * A @ x]
    small, large = (rerun_ratio(runs, v, null, eps=e) for e in (1e-4, 2e-4))
    assert small < 1e-2
    assert large / small == pytest.approx(2.0, rel=1e-3)
    generic = rerun_ratio(runs, v, rng.standard_normal(d), eps=1e-4)
    assert generic > 1e-1
    assert math.isfinite(generic)
