"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, H):

- ``kl_divergences`` keeps the cancellation-free form log1p(sum_i p_i (e^{d_i} - 1 - d_i)) up to
  and including a largest centred logit change of exactly d = 600 (only d > 600 switches to
  logsumexp): with p spread over two tokens and KL ~ 5e-13 it matches the closed-form KL (50
  digits) to 1e-10 relative (the log-sum-exp of log p + d loses ~1e-16 absolute to cancellation,
  ~1e-4 relative).
- T3(c)'s KL gate where u^T F u = 0 while the probs rank is positive (a two-token softmax with
  p_1 = e^-800: F = p_0 p_1 (w_0 - w_1)(w_0 - w_1)^T has its one singular value at 1e-174, so
  |R u|^2 underflows to 0) and KL = 0 at every step: the documented "KL = 0 at every step passes"
  (margin inf), no ratio KL / ((eps^2 / 2) u^T F u) is formed, and T3(c) holds.
- A gate margin is ``tolerance / |deviation|``, ">= 1 iff it passes": a slope tolerance equal to
  the outside slope's |slope - 1| gives that gate margin exactly 1, and the certificate holds with
  margin 1.
- The null slope is fitted over the steps whose change exceeds round-off, and is inf only when
  fewer than two do: with exactly two such steps it is the chord slope between them, so a null
  direction moving like eps^1.5 (slope 1.5 < 2 - slope_tol) is still a violation.
- A softmax so peaked that (eps^2 / 2) u^T F u falls below ``FISHER_FLOOR`` (logit gaps of
  730-745: u^T F u subnormal) forms no KL ratio: T3(c) is undecided, not violated on subnormal
  digits and not stopped by a 0 / 0.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from theory.certificate import Verdict
from theory.first_order import FISHER_FLOOR, ROUNDOFF_CHANGE, check_t3c, kl_divergences
from theory.jacobian import local_spectrum
from theory.local_problem import LocalProblem
from theory.observations import observe

D = 3


def _identity(p, h):
    return h


def _problem(downstream, params: dict, w_u: np.ndarray, b_u=None) -> LocalProblem:
    """One prompt of one position whose stream is v itself (h = 0), read by W_U (and b_U)."""
    fn = jax.tree_util.Partial(downstream, {k: jnp.asarray(x) for k, x in params.items()})
    return LocalProblem(fn, np.zeros((1, 1, D)), w_u, b_u=b_u)


def test_kl_at_a_centred_logit_change_of_exactly_600_is_free_of_cancellation():
    """z = [0, 0, -640] moved by dz = [a, -a, 600] (a = 1e-6): p_0 = p_1 exactly, so <p, dz> =
    p_2 600 ~ 1e-276 and the centred change d is dz bit for bit, max d = 600 exactly. KL =
    log(cosh a + e^-40 / 2) - log(1 + e^-640 / 2) ~ 5e-13, which the cancellation-free form gets
    to 1e-10 relative (the logsumexp form, for d > 600 only, is off by ~1e-4 here)."""
    a = 1e-6
    w_u = np.zeros((D, 3))
    w_u[0] = [0.0, 0.0, -640.0]
    w_u[1] = [a, -a, 600.0]
    problem = _problem(_identity, {}, w_u)
    v, u = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    z, z2 = observe(problem, v, "logits"), observe(problem, v + u, "logits")
    np.testing.assert_array_equal(z2.ravel(), [a, -a, -40.0])
    p = np.exp(observe(problem, v, "logprobs"))
    dz = z2 - z
    d = dz - np.sum(p * dz, axis=-1, keepdims=True)
    assert np.max(d) == 600.0  # the documented threshold, exactly
    with mpmath.workdps(50):
        closed = mpmath.log(mpmath.cosh(a) + mpmath.exp(-40) / 2) - mpmath.log(
            1 + mpmath.exp(-640) / 2
        )
    kl = kl_divergences(problem, v, u, [1.0])
    assert kl[0] > 0
    assert abs(kl[0] / float(closed) - 1) < 1e-10


def test_t3c_kl_gate_passes_where_the_fisher_form_underflows_to_zero_at_positive_rank():
    """b_U = [0, -800]: p_1 = 1 / (1 + e^{z_0 - z_1}) ~ e^-800 and F = p_0 p_1 (w_0 - w_1)
    (w_0 - w_1)^T (w_i the columns of W_U) has rank 1 with singular value sqrt(p_0 p_1)
    |w_0 - w_1| ~ 1e-174; for the random u, u^T F u ~ 1e-348 is 0 in float64 and so is KL at
    every step. The KL gate is the documented "KL = 0 at every step passes" (margin inf), no
    ratio is formed, and T3(c) holds."""
    rng = np.random.default_rng(2)
    w_u = rng.standard_normal((D, 2))
    problem = _problem(_identity, {}, w_u, b_u=np.array([0.0, -800.0]))
    v = rng.standard_normal(D)
    fisher = local_spectrum(problem, v, "probs")
    mpmath.mp.dps = 50
    z0, z1 = (mpmath.mpf(float(x)) for x in observe(problem, v, "logits").ravel())
    p1 = 1 / (1 + mpmath.exp(z0 - z1))
    s_exact = mpmath.sqrt((1 - p1) * p1) * float(np.linalg.norm(w_u[:, 0] - w_u[:, 1]))
    assert fisher.rank == 1 and fisher.certified
    assert abs(fisher.singular_values[0] / float(s_exact) - 1) < 1e-6
    cert = check_t3c(problem, v, "logits")
    d = cert.details
    assert d["uFu"] == 0.0 and not np.any(d["kl"])
    assert d["gate_margins"]["kl"] == math.inf
    assert "kl_all" not in d["gate_margins"] and "kl_ratio" not in d
    assert cert.verdict is Verdict.HOLDS, cert.reason


def test_t3c_gate_with_margin_exactly_one_passes():
    """A linear model read through probs: the outside slope deviates from 1 by some delta > 0
    (softmax curvature); with slope_tol = delta its gate margin is delta / delta = 1 exactly,
    which passes (margin >= 1 iff the gate passes): T3(c) holds with margin 1."""
    rng = np.random.default_rng(0)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    v = rng.standard_normal(D)
    problem = _problem(_identity, {}, w_u)
    first = check_t3c(problem, v, "probs")
    delta = abs(first.details["outside_slope"] - 1.0)
    assert 0 < delta < 0.2
    cert = check_t3c(problem, v, "probs", slope_tol=delta)
    gates = cert.details["gate_margins"]
    assert gates["outside_slope"] == 1.0
    assert all(m >= 1 for m in gates.values())
    assert cert.verdict is Verdict.HOLDS, cert.reason
    assert cert.margin == 1.0


def _power_along(p, h):
    """y = h + kappa |h . n|^power e, with n W_U = 0: along n only the power term reaches the
    logits, and its derivative at h . n = 0 is 0, so n is in ker J."""
    t = jnp.abs(h @ p["n"])
    return h + p["kappa"] * t[..., None] ** p["power"] * p["e"]


def test_t3c_null_slope_from_exactly_two_steps_above_round_off_catches_order_one_and_a_half():
    """eps = [1e-12, 1e-3, 1e-2] along a null direction that moves like kappa eps^1.5 |e W_U|: the
    first change (~1e-18) is round-off, the other two are not, so the slope is the chord slope
    log(c_3 / c_2) / log(10) = 1.5 (not inf, which is for fewer than two), below 2 - slope_tol:
    a violation naming the null gate."""
    rng = np.random.default_rng(4)
    w_u = rng.standard_normal((D, 2)) @ rng.standard_normal((2, 5))
    n = np.linalg.svd(w_u.T)[2][-1]
    e = rng.standard_normal(D)
    v = rng.standard_normal(D)
    v -= (v @ n) * n
    params = {"n": n, "e": e, "kappa": 0.7, "power": 1.5}
    problem = _problem(_power_along, params, w_u)
    eps = np.array([1e-12, 1e-3, 1e-2])
    cert = check_t3c(problem, v, "logits", eps=eps, kl=False)
    d = cert.details
    scale = max(float(np.linalg.norm(observe(problem, v, "logits"))), 1.0)
    seen = np.asarray(d["null_changes"]) > ROUNDOFF_CHANGE * scale
    assert cert.rank == 2 and abs(abs(cert.witness["u_null"] @ n) - 1) < 1e-12
    assert seen.tolist() == [False, True, True]
    expected = 0.7 * eps[1:] ** 1.5 * np.linalg.norm(e @ w_u)
    np.testing.assert_allclose(np.asarray(d["null_changes"])[1:], expected, rtol=1e-6)
    assert abs(d["null_slope"] - 1.5) < 1e-5
    assert cert.verdict is Verdict.VIOLATED and "null_slope" in cert.reason


@pytest.mark.parametrize("gap", [730.0, 740.0, 745.0])
def test_t3c_forms_no_kl_ratio_below_the_fisher_floor(gap):
    w_u = np.zeros((D, 2))
    w_u[0] = [0.0, -gap]
    w_u[1:] = 0.01 * np.random.default_rng(3).standard_normal((2, 2))
    cert = check_t3c(_problem(_identity, {}, w_u), np.array([1.0, 0.0, 0.0]), "logits")
    steps = cert.details["eps"]
    assert 0.5 * steps[0] ** 2 * cert.details["uFu"] < FISHER_FLOOR
    assert "kl_ratio" not in cert.details and "kl" not in cert.details["gate_margins"]
    assert cert.verdict is Verdict.UNDECIDED and "KL ratio undefined" in cert.reason
