"""T3(c): null directions of J are invisible to first order.

For u in ker J(v), ``|B(v + eps u) - B(v)| = O(eps^2)``; for u outside, ``O(eps)`` with coefficient
``|J u|``; and ``KL(p_v || p_{v + eps u}) = (eps^2 / 2) u^T F u + O(eps^3)`` with
``u^T F u = |R u|^2`` from the Fisher square root. ``check_t3c`` measures these by running the
model at a geometric sequence of step sizes and fitting log-log slopes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.special
from numpy.typing import ArrayLike

from theory.validation import InputError

from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .jacobian import (
    EngineOptions,
    LocalProblem,
    LocalSpectrum,
    as_channel,
    behaviour,
    local_spectrum,
    observe,
    one_blas_thread,
)
from .local_common import (
    LAYERNORM_MEAN,
    as_options,
    as_problem,
    exact_symmetries,
    labels,
    ones_direction,
    subject,
)
from .validation import as_bool, as_positive_real, as_real_tuple, as_seed, as_vector

T3C_CLAIM = (
    "u in ker J: |B(v + eps u) - B(v)| = O(eps^2), u outside: O(eps); "
    "KL(p_v || p_{v+eps u}) = (eps^2/2) u^T F u + O(eps^3)"
)

#: Tolerances of the first-order coefficient and of the KL ratio at the smallest step (and at
#: every step).
FIRST_ORDER_TOL = 1e-2
KL_TOL, KL_TOL_ALL = 1e-2, 0.5
#: A null direction's change at or below ``ROUNDOFF_CHANGE max(|B(v)|, 1)`` is round-off: its step
#: is left out of the slope fit (a linear model moves by exactly 0 along ker J).
ROUNDOFF_CHANGE = 64 * float(np.finfo(np.float64).eps)
#: The smallest (eps^2 / 2) u^T F u a KL ratio is formed with (a normal float, every digit kept).
FISHER_FLOOR = float(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)


def _steps(name: str, eps: Any, at_least: int = 1) -> np.ndarray:
    """Positive finite step sizes, at least ``at_least`` of them."""
    e = np.array(as_real_tuple(name, eps, low=0.0, low_open=True))
    if e.size < at_least:
        raise InputError(f"{name} must hold at least {at_least} step sizes, got {e.size}")
    return e


def fitted_slope(eps: Any, changes: Any) -> float:
    """Least-squares slope of log(change) against log(eps) (changes floored at 1e-300)."""
    e = _steps("eps", eps, 2)
    c = as_vector("changes", changes, e.size, "eps")
    return float(np.polyfit(np.log(e), np.log(np.maximum(c, 1e-300)), 1)[0])


def behaviour_changes(
    problem: LocalProblem, v: Any, u: Any, channel: str, eps: ArrayLike
) -> np.ndarray:
    """|B(v + eps u) - B(v)| for each eps."""
    channel = as_channel(channel)
    e = _steps("eps", eps)
    vec, dirn = problem.vector(v), problem.vector(u, "u")
    base = behaviour(problem, vec, channel)
    return np.array([np.linalg.norm(behaviour(problem, vec + x * dirn, channel) - base) for x in e])


def _exp_excess(x: np.ndarray) -> np.ndarray:
    """e^x - 1 - x (>= 0) without cancellation: its Taylor series through x^7 where |x| < 1e-2."""
    small = np.abs(x) < 1e-2
    t = np.where(small, x, 0.0)
    series = t * t / 2 * (1 + t / 3 * (1 + t / 4 * (1 + t / 5 * (1 + t / 6 * (1 + t / 7)))))
    return np.where(small, series, np.expm1(x) - x)


def kl_divergences(problem: LocalProblem, v: Any, u: Any, eps: ArrayLike) -> np.ndarray:
    """sum over (alpha, prompt, position) of KL(p_v || p_{v + eps u}) = log sum_i p_i e^{d_i} with
    d = dz - <p, dz> (dz the logit change), as log1p(sum_i p_i (e^{d_i} - 1 - d_i)) (a sum of
    non-negative terms, free of the cancellation of sum p (log p - log q)); a row with some
    d_i > 600, where e^d could overflow, as logsumexp(log p + d) (at least 0)."""
    e = _steps("eps", eps)
    vec, dirn = problem.vector(v), problem.vector(u, "u")
    z = observe(problem, vec, "logits")
    lp = observe(problem, vec, "logprobs")
    p = np.exp(lp)
    out = []
    for x in e:
        dz = observe(problem, vec + x * dirn, "logits") - z
        d = dz - np.sum(p * dz, axis=-1, keepdims=True)
        far = np.max(d, axis=-1) > 600.0
        near = np.log1p(np.sum(p * _exp_excess(np.where(far[..., None], 0.0, d)), axis=-1))
        big = np.maximum(scipy.special.logsumexp(lp + d, axis=-1), 0.0)
        out.append(float(np.sum(np.where(far, big, near))))
    return np.array(out)


def _default_eps(v: np.ndarray) -> np.ndarray:
    return max(float(np.linalg.norm(v)), 1.0) * np.geomspace(1e-5, 1e-2, 7)


def first_order_directions(spec: LocalSpectrum, symmetries: Sequence[str], seed: int = 0):
    """(u_null, u_out): a random unit null direction with the exact symmetries projected out (None
    when nothing is left) and the top right singular vector (None when rank 0)."""
    seed = as_seed("seed", seed)
    rng = np.random.default_rng(seed)
    u_null = None
    if spec.null_dim:
        basis = spec.null_basis
        if LAYERNORM_MEAN in symmetries:
            one = ones_direction(spec.d)
            basis = basis - np.outer(one, one @ basis)
        if np.linalg.matrix_rank(basis, tol=1e-8) > 0:
            u = basis @ rng.standard_normal(basis.shape[1])
            u_null = u / np.linalg.norm(u)
    u_out = spec.row_basis[:, 0].copy() if spec.rank else None
    return u_null, u_out


@one_blas_thread
def check_t3c(
    problem: LocalProblem,
    v: Any,
    channel: str = "trait",
    eps: ArrayLike | None = None,
    seed: int = 0,
    kl: bool = True,
    slope_tol: float = 0.2,
    options: EngineOptions | None = None,
) -> Certificate:
    """T3(c), each gate with margin ``tolerance / |deviation|`` (>= 1 iff it passes):

    - the fitted log-log slope of |B(v + eps u) - B(v)| for a random null direction (O(eps^2)):
      slope >= 2 - ``slope_tol`` over the steps whose change exceeds round-off
      (``ROUNDOFF_CHANGE max(|B(v)|, 1)``; inf when fewer than two do), and for the top row
      direction (order eps): |slope - 1| <= ``slope_tol``;
    - the first-order coefficient (logits, trait): |B(v + eps u_out) - B(v)| / (eps |J u_out|)
      within FIRST_ORDER_TOL of 1 at the smallest step;
    - an exact symmetry's change (LayerNorm: along 1): at most 1e-12 max(1, eps) max(|B(v)|, 1);
    - ``kl``: KL / ((eps^2/2) u^T F u) for a random u, u^T F u = |R u|^2 from the probs factor,
      within KL_TOL of 1 at the smallest step and within KL_TOL_ALL at every step; when the
      probs rank is 0 or u^T F u = 0, KL = 0 at every step passes, else the ratio is undefined
      (undecided unless another gate fails). The ratio is formed only when its denominator
      (eps_0^2 / 2) u^T F u is at least tiny / eps (~2e-292, a normal float with every digit);
      below that (a softmax so peaked that F underflows) it counts as u^T F u = 0.

    ``eps`` (default: 7 steps ``max(|v|, 1) geomspace(1e-5, 1e-2, 7)``) may come in any order; it
    is sorted ascending (``details["eps"]``), so index 0 is the smallest step. Holds when the rank
    is certified and every gate passes (margin: the smallest, with the rank's); violated when the
    rank is certified and a gate fails (margin: the largest failing |deviation| / tolerance, at
    most the rank's margin); undecided when the rank is not certified, or (margin 0) when the KL
    ratio is undefined and no gate fails.
    """
    problem = as_problem(problem)
    channel = as_channel(channel)
    seed = as_seed("seed", seed)
    kl = as_bool("kl", kl)
    slope_tol = as_positive_real("slope_tol", slope_tol)
    options = as_options(options)
    vec = problem.vector(v)
    steps = np.sort(_default_eps(vec) if eps is None else _steps("eps", eps, 3))  # ascending
    spec = local_spectrum(problem, vec, channel, None, options)
    symmetries, _ = exact_symmetries(spec)
    u_null, u_out = first_order_directions(spec, symmetries, seed)
    details: dict[str, Any] = {**labels(problem), "eps": steps, "null_dim": spec.null_dim}
    gates: dict[str, float] = {}  # name -> tolerance / |deviation|
    reason = ""
    witness = {"v": vec}
    scale = max(float(np.linalg.norm(behaviour(problem, vec, channel))), 1.0)
    if u_null is not None:
        ch = behaviour_changes(problem, vec, u_null, channel, steps)
        seen = ch > ROUNDOFF_CHANGE * scale  # O(eps^2): a slope >= 2, or round-off at every step
        slope = fitted_slope(steps[seen], ch[seen]) if seen.sum() >= 2 else math.inf
        details.update(null_changes=ch, null_slope=slope)
        gates["null_slope"] = ratio_margin(slope_tol, max(0.0, 2.0 - slope))
        witness["u_null"] = u_null
    if LAYERNORM_MEAN in symmetries:
        ch = behaviour_changes(problem, vec, ones_direction(problem.d), channel, steps)
        details["symmetry_change_max"] = change = float(ch.max() / scale)
        gates["symmetry"] = ratio_margin(1e-12 * max(1.0, float(steps.max())), change)
    if u_out is not None:
        ch = behaviour_changes(problem, vec, u_out, channel, steps)
        slope = fitted_slope(steps, ch)
        details.update(outside_changes=ch, outside_slope=slope)
        gates["outside_slope"] = ratio_margin(slope_tol, abs(slope - 1.0))
        witness["u_out"] = u_out
        if channel != "probs":
            ratio = float(ch[0] / steps[0] / spec.norm_of_image(u_out))
            details["first_order_ratio"] = ratio
            gates["first_order"] = ratio_margin(FIRST_ORDER_TOL, abs(ratio - 1.0))
    if kl:
        fisher = (
            spec if channel == "probs" else local_spectrum(problem, vec, "probs", None, options)
        )
        u = np.random.default_rng(seed + 1).standard_normal(problem.d)
        u /= np.linalg.norm(u)
        uFu = fisher.quadratic_form(u)
        kls = kl_divergences(problem, vec, u, steps)
        details.update(kl=kls, uFu=uFu)
        witness["u_kl"] = u
        if fisher.rank > 0 and 0.5 * float(steps[0]) ** 2 * uFu >= FISHER_FLOOR:
            ratios = kls / (0.5 * steps**2 * uFu)
            details.update(kl_ratios=ratios, kl_ratio=float(ratios[0]))
            details["kl_ratio_error_slope"] = fitted_slope(steps, np.abs(ratios - 1.0))
            gates["kl"] = ratio_margin(KL_TOL, abs(float(ratios[0]) - 1.0))
            gates["kl_all"] = ratio_margin(KL_TOL_ALL, float(np.max(np.abs(ratios - 1.0))))
        elif np.any(kls):  # F u = 0 (or underflowed): KL / ((eps^2/2) u^T F u) is undefined
            reason = "probs rank 0 or u^T F u = 0 (flat to first order along u): KL ratio undefined"
        else:  # KL = 0 = (eps^2/2) u^T F u at every step
            gates["kl"] = math.inf
    details["gate_margins"] = gates
    failed = [k for k, m in gates.items() if m < 1]
    dec = spec.decision
    if not dec.certified:
        verdict, margin = Verdict.UNDECIDED, min_margin(dec.margin, *gates.values())
        reason = "rank not certified: singular values in the grey band"
    elif failed:
        worst = min(gates[k] for k in failed)
        verdict = Verdict.VIOLATED
        margin = min_margin(dec.margin, 1.0 / worst if worst > 0 else math.inf)
        reason = "gates failed: " + ", ".join(failed)
    elif reason:  # the KL ratio is undefined: no evidence either way
        verdict, margin = Verdict.UNDECIDED, 0.0
    else:
        verdict, margin = Verdict.HOLDS, min_margin(dec.margin, *gates.values())
    return Certificate(
        theorem="T3",
        verdict=verdict,
        claim=T3C_CLAIM,
        dim=spec.null_dim,
        rank=spec.rank,
        margin=margin,
        tolerance=slope_tol,
        witness=witness,
        singular_values=dec.singular_values,
        ambiguous=dec.ambiguous,
        symmetries=tuple(symmetries),
        reason=reason,
        details=details,
        **subject(problem, channel),
    )
