"""T3(c) on models whose null directions move at an order other than exactly eps^2:

- T3(c) states |B(v + eps u) - B(v)| = O(eps^2) along ker J, a bound: a linear model (which
  moves by exactly 0, i.e. round-off, along ker J) holds in the logits and probs channels, with
  the null slope inf (no step beats round-off);
- a null direction that moves like eps^3 (B cubic along it) holds too: the null gate is one-sided,
  slope >= 2 - slope_tol, and the fitted slope is 3;
- a null direction that moves like eps^1.5 (B not twice differentiable there) is the violation the
  gate catches: slope 1.5 < 2 - slope_tol;
- where the Fisher form vanishes (J = 0, so u^T F u = 0) the KL ratio KL / ((eps^2/2) u^T F u) is
  undefined when KL > 0: undecided with that reason (not an error), KL itself reported; a constant
  model (KL = 0 = (eps^2/2) u^T F u at every step) holds;
- a kink that autodiff puts in ker J but that moves B at order eps is caught (null slope 1), with
  or without a constant offset of 1e5 in B;
- ``kl_divergences`` matches a 50-digit KL from eps = 1 down to eps = 1e-8 and is never negative,
  and stays finite (and exact) for a logit change of 800;
- the default steps are the documented 7, max(|v|, 1) geomspace(1e-5, 1e-2, 7);
- ``_exp_excess`` is e^x - 1 - x to 1e-13 on both sides of its series switch at |x| = 1e-2;
- violated: the margin is the worst miss (1 / the smallest failing gate margin), capped by the
  rank margin.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from theory.certificate import Verdict
from theory.first_order import ROUNDOFF_CHANGE, _exp_excess, check_t3c, kl_divergences
from theory.jacobian import local_spectrum
from theory.local_problem import LocalProblem
from theory.observations import observe

D = 3


def _problem(downstream, params: dict, w_u: np.ndarray) -> LocalProblem:
    """One prompt of one position whose stream is v itself (h = 0), read by W_U."""
    fn = jax.tree_util.Partial(downstream, {k: jnp.asarray(x) for k, x in params.items()})
    return LocalProblem(fn, np.zeros((1, 1, D)), w_u)


def _identity(p, h):
    return h


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("channel", ["logits", "probs"])
def test_t3c_holds_on_a_linear_model_whose_null_directions_move_by_round_off(seed, channel):
    """z = v W_U with W_U of rank 2 (d = 3): ker J is the kernel of W_U^T, the behaviour moves by
    at most round-off along it, so O(eps^2) holds; no step's change beats round-off and the null
    slope is inf (gate passed); the certificate holds with rank 2."""
    rng = np.random.default_rng(seed)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    cert = check_t3c(_problem(_identity, {}, w_u), rng.standard_normal(D), channel)
    d = cert.details
    assert cert.rank == 2 and cert.dim == 1
    assert np.max(d["null_changes"]) <= ROUNDOFF_CHANGE * 10  # |B| is O(1) here
    assert d["null_slope"] == math.inf and d["gate_margins"]["null_slope"] == math.inf
    assert cert.verdict is Verdict.HOLDS, cert.reason


def _kernel_direction(w_u: np.ndarray) -> np.ndarray:
    """The unit n with n W_U = 0 (W_U of rank D - 1)."""
    return np.linalg.svd(w_u.T)[2][-1]


def _power_along(p, h):
    """y = h + kappa |h . n|^power e: along n (with n W_U = 0) only the power term reaches the
    logits; its derivative at h . n = 0 is 0, so n stays in ker J."""
    t = jnp.abs(h @ p["n"])
    return h + p["kappa"] * t[..., None] ** p["power"] * p["e"]


@pytest.mark.parametrize(
    ("power", "verdict"), [(3.0, Verdict.HOLDS), (2.0, Verdict.HOLDS), (1.5, Verdict.VIOLATED)]
)
def test_t3c_null_gate_is_the_bound_o_eps_squared(power, verdict):
    """With v . n = 0 the null direction is +-n and moves by kappa eps^power |e W_U|: slope =
    power. O(eps^2) holds for power 3 and 2 (slope >= 2 - 0.2) and fails for 1.5 (not C^2),
    which is a violation naming the null gate."""
    rng = np.random.default_rng(4)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    n = _kernel_direction(w_u)
    e = rng.standard_normal(D)
    v = rng.standard_normal(D)
    v -= (v @ n) * n
    problem = _problem(_power_along, {"n": n, "e": e, "kappa": 0.7, "power": power}, w_u)
    cert = check_t3c(problem, v, "logits", kl=False)
    d = cert.details
    assert cert.rank == 2 and abs(abs(cert.witness["u_null"] @ n) - 1) < 1e-12
    assert d["null_slope"] == pytest.approx(power, abs=1e-3)
    assert cert.verdict is verdict, cert.reason
    assert ("null_slope" in cert.reason) == (verdict is Verdict.VIOLATED)


def _cubic_difference(p, h):
    """y = kappa (h_0 - h_1)^3 e: J = 3 kappa (h_0 - h_1)^2 (e_0 - e_1) e^T is exactly 0 where
    h_0 = h_1 (every channel has rank 0 there, bit for bit), and moving along 1 changes nothing."""
    return p["kappa"] * (h[..., 0] - h[..., 1])[..., None] ** 3 * p["e"]


def _constant(p, h):
    return 0.0 * h + p["c"]


def test_t3c_kl_ratio_is_undefined_where_the_fisher_form_vanishes():
    """At v with v_0 = v_1 the Jacobian is exactly 0 (rank 0, every direction null) and
    u^T F u = 0 for every u; KL along u is O(eps^6) > 0 but the ratio KL / ((eps^2/2) u^T F u) is
    undefined: undecided, saying so, with KL and u^T F u reported and no KL gate; the null gate
    passes (slope 3, since u_0 != u_1) and the LayerNorm direction moves by exactly 0."""
    rng = np.random.default_rng(5)
    w_u = rng.standard_normal((D, 5))
    v = np.array([0.4, 0.4, -1.1])
    problem = _problem(_cubic_difference, {"e": rng.standard_normal(D), "kappa": 2.0}, w_u)
    cert = check_t3c(problem, v, "logits")
    d = cert.details
    assert cert.rank == 0 and cert.dim == D
    assert d["uFu"] == 0.0
    assert "kl" not in d["gate_margins"] and "kl_ratio" not in d
    assert np.all(np.asarray(d["kl"]) >= 0) and np.max(d["kl"]) > 0
    assert d["null_slope"] == pytest.approx(3.0, abs=1e-3)
    assert d["gate_margins"]["symmetry"] == math.inf
    assert cert.verdict is Verdict.UNDECIDED
    assert "u^T F u = 0" in cert.reason


@pytest.mark.parametrize("channel", ["logits", "probs"])
def test_t3c_holds_on_a_constant_model_where_kl_is_exactly_the_zero_fisher_form(channel):
    """B constant: J = 0, every direction null and unmoved, KL = 0 = (eps^2/2) u^T F u at every
    step: every gate passes (the KL one with margin inf) and T3(c) holds with rank 0."""
    rng = np.random.default_rng(6)
    problem = _problem(_constant, {"c": rng.standard_normal(D)}, rng.standard_normal((D, 5)))
    cert = check_t3c(problem, rng.standard_normal(D), channel)
    assert cert.rank == 0 and cert.details["uFu"] == 0.0
    assert not np.any(cert.details["kl"])
    assert cert.details["gate_margins"]["kl"] == math.inf
    assert cert.verdict is Verdict.HOLDS, cert.reason


def _exact_kl(z: np.ndarray, z2: np.ndarray) -> float:
    """KL(softmax z || softmax z2) summed over rows, in 50-digit arithmetic from the same floats."""
    mpmath.mp.dps = 50
    total = mpmath.mpf(0)
    for a, b in zip(z.reshape(-1, z.shape[-1]), z2.reshape(-1, z2.shape[-1]), strict=True):
        a_, b_ = [mpmath.mpf(float(x)) for x in a], [mpmath.mpf(float(x)) for x in b]
        la, lb = mpmath.log(sum(map(mpmath.exp, a_))), mpmath.log(sum(map(mpmath.exp, b_)))
        pairs = zip(a_, b_, strict=True)
        total += sum(mpmath.exp(x - la) * ((x - la) - (y - lb)) for x, y in pairs)
    return float(total)


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_divergences_are_accurate_down_to_tiny_steps(seed):
    """KL(p_v || p_{v + eps u}) for eps from 1e-8 to 1 matches the 50-digit KL of the same logits
    to 1e-6 relative (round-off eps |z| / |dz| of the logit change, not eps / |dz|^2), and is
    never negative."""
    rng = np.random.default_rng(seed)
    w_u = rng.standard_normal((D, 6))
    problem = _problem(_identity, {}, w_u)
    v, u = rng.standard_normal(D), rng.standard_normal(D)
    eps = np.geomspace(1e-8, 1.0, 9)
    kl = kl_divergences(problem, v, u, eps)
    z = observe(problem, v, "logits")
    exact = np.array([_exact_kl(z, observe(problem, v + x * u, "logits")) for x in eps])
    assert np.all(kl >= 0)
    np.testing.assert_allclose(kl, exact, rtol=1e-6)


def _kink_along(p, h):
    """y = h + offset + kappa |h . n| e: autodiff gives J n = 0 at h . n = 0 (the kink's
    derivative is taken as 0), yet B moves like kappa eps |e W_U| along n: first order."""
    return h + p["offset"] + p["kappa"] * jnp.abs(h @ p["n"])[..., None] * p["e"]


@pytest.mark.parametrize("offset", [0.0, 1e5])
def test_t3c_catches_a_first_order_change_along_a_null_direction(offset):
    """A kink puts n in the computed ker J while B moves at order eps along it: the null slope is
    1 and the check is violated, also when a constant offset makes |B(v)| ~ 1e5 (the round-off
    floor scales with |B(v)| but stays below a change of 1e-6 eps |B(v)|)."""
    rng = np.random.default_rng(4)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    n = _kernel_direction(w_u)
    v = rng.standard_normal(D)
    v -= (v @ n) * n
    params = {"n": n, "e": rng.standard_normal(D), "kappa": 1e-6}
    params["offset"] = offset * np.array([1.0, 0.3, -0.5])
    cert = check_t3c(_problem(_kink_along, params, w_u), v, "logits", kl=False)
    assert cert.rank == 2
    assert cert.details["null_slope"] == pytest.approx(1.0, abs=0.05)
    assert cert.verdict is Verdict.VIOLATED and "null_slope" in cert.reason


def test_kl_divergences_stay_finite_when_the_logit_change_is_large():
    """z = [0, -600] moved to [0, 200]: e^d overflows a naive form, yet KL(p || q) = 200 + log(1 +
    e^-200) - log(1 + e^-600) is finite; it matches the 50-digit value to 1e-12."""
    w_u = np.zeros((D, 2))
    w_u[0, 1] = -600.0
    problem = _problem(_identity, {}, w_u)
    v, u = np.array([1.0, 0.0, 0.0]), np.array([-1.0, 0.0, 0.0])
    kl = kl_divergences(problem, v, u, [4.0 / 3.0])
    z, z2 = observe(problem, v, "logits"), observe(problem, v + 4.0 / 3.0 * u, "logits")
    assert np.allclose(z2.ravel(), [0.0, 200.0])
    assert kl[0] == pytest.approx(_exact_kl(z, z2), rel=1e-12)


@pytest.mark.parametrize("scale", [0.3, 4.0])
def test_t3c_default_steps_are_seven_from_1e_5_to_1e_2_times_max_norm_one(scale):
    """The documented default eps: 7 steps max(|v|, 1) geomspace(1e-5, 1e-2, 7) (so |v| < 1
    steps from 1e-5); leaving eps out gives the certificate of those steps passed explicitly."""
    rng = np.random.default_rng(7)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    v = rng.standard_normal(D)
    v *= scale / np.linalg.norm(v)
    problem = _problem(_identity, {}, w_u)
    steps = max(float(np.linalg.norm(v)), 1.0) * np.geomspace(1e-5, 1e-2, 7)
    default = check_t3c(problem, v, "logits")
    np.testing.assert_array_equal(default.details["eps"], steps)
    assert default == check_t3c(problem, v, "logits", eps=steps)


def test_exp_excess_is_e_to_the_x_minus_one_minus_x_to_full_precision():
    """e^x - 1 - x on both sides of the series' switch at |x| = 1e-2 (and far from it), against
    50-digit arithmetic: relative error below 1e-13 (a wrong series term at x ~ 1e-2 is off by
    x^3 / 60 ~ 1e-8), never negative."""
    mpmath.mp.dps = 50
    xs = np.concatenate([np.geomspace(1e-8, 5.0, 60), -np.geomspace(1e-8, 5.0, 60), [0.0099999]])
    got = _exp_excess(xs)
    exact = np.array([float(mpmath.expm1(mpmath.mpf(x)) - mpmath.mpf(x)) for x in xs])
    assert np.all(got >= 0)
    np.testing.assert_allclose(got, exact, rtol=1e-13, atol=0)


def test_t3c_violated_margin_is_the_worst_miss_capped_by_the_rank_margin():
    """Violated: margin = min(rank margin, max over failing gates of |deviation| / tolerance), the
    latter being 1 / (the smallest failing gate margin)."""
    rng = np.random.default_rng(4)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    n = _kernel_direction(w_u)
    v = rng.standard_normal(D)
    v -= (v @ n) * n
    params = {"n": n, "e": rng.standard_normal(D), "kappa": 1e-6, "offset": np.zeros(D)}
    problem = _problem(_kink_along, params, w_u)
    cert = check_t3c(problem, v, "logits", kl=False)
    gates = cert.details["gate_margins"]
    worst = min(m for m in gates.values() if m < 1)
    rank_margin = local_spectrum(problem, v, "logits").decision.margin
    assert cert.verdict is Verdict.VIOLATED
    assert cert.margin == pytest.approx(min(rank_margin, 1.0 / worst), rel=1e-12)
    assert 1.0 / worst < rank_margin  # the miss, not the rank, sets it here
