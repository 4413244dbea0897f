"""The Donoho-Tanner phase transition of basis pursuit (docs/theorems.md T7(c)).

``phase_transition`` measures the success probability of basis pursuit on Gaussian A over a grid of
(delta = m/p, rho = k/m) (m and k rounded half up); ``weak_threshold(delta)`` is the asymptotic
curve, computed two independent ways (``statistical_dimension_threshold``), and
``WEAK_THRESHOLD_TABLE`` holds its values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special

from theory.validation import InputError

from .bp_recovery import RECOVERY_TOL, BasisPursuitError, relative_error, solve_bp
from .validation import as_fraction, as_int, as_positive_int, as_real_tuple, as_seed, as_vector


@dataclasses.dataclass(frozen=True)
class PhaseTransition:
    """Empirical success probability of basis pursuit on Gaussian A (m x p), k-sparse codes.

    success[i, j] over ``trials`` draws at m = m_rows[i] = round(deltas[i] p) and
    k = k[i, j] = round(rhos[j] m); ``rho_eff = k / m`` are the rhos actually realised.
    """

    p: int
    deltas: np.ndarray
    rhos: np.ndarray
    m_rows: np.ndarray
    k: np.ndarray
    success: np.ndarray
    trials: int
    seed: int

    @property
    def rho_eff(self) -> np.ndarray:
        return self.k / self.m_rows[:, None]

    def curve(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(rho_eff, success) at deltas[i], one point per distinct k (rhos that round to the same k
        pool their trials), increasing in rho."""
        i = as_int("i", i, low=0, high=len(self.deltas) - 1)
        ks = np.unique(self.k[i])
        prob = np.array([self.success[i][self.k[i] == kk].mean() for kk in ks])
        return ks / self.m_rows[i], prob

    def crossing(self, level: float = 0.5) -> np.ndarray:
        """Empirical ``level`` crossing rho at each delta (``crossing_rho`` on ``curve(i)``)."""
        level = as_fraction("level", level)
        return np.array([crossing_rho(*self.curve(i), level) for i in range(len(self.deltas))])


def _as_fractions(name: str, x: Any) -> np.ndarray:
    """A non-empty sequence of reals in (0, 1], as a float64 array."""
    return np.array(as_real_tuple(name, x, low=0.0, high=1.0, low_open=True))


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5 + 1e-12))


def phase_transition(
    p: int, deltas: Sequence[float], rhos: Sequence[float], trials: int, seed: int = 0
) -> PhaseTransition:
    """Empirical P(basis pursuit recovers a) for A with iid N(0, 1/m) entries (m = round(delta p))
    and a with k = round(rho m) nonzeros on a uniform random support, iid N(0, 1) values; success is
    relative error <= 1e-6. Each (delta, rho) cell has its own seeded stream, so a cell's result
    does not depend on the rest of the grid. Cost: ``len(deltas) len(rhos) trials`` LPs."""
    p = as_int("p", p, low=2)
    delta_grid = _as_fractions("deltas", deltas)
    rho_grid = _as_fractions("rhos", rhos)
    trials = as_positive_int("trials", trials)
    seed = as_seed("seed", seed)
    m_rows = np.array([_round_half_up(d * p) for d in delta_grid])
    if np.any(m_rows < 1):
        raise InputError(
            f"deltas: delta * p rounds to 0 rows for delta = {delta_grid[m_rows < 1].tolist()} "
            f"(p = {p})"
        )
    k = np.array([[_round_half_up(r * m) for r in rho_grid] for m in m_rows])
    if np.any(k < 1):
        i, j = np.argwhere(k < 1)[0]
        raise InputError(
            f"rhos: rho * m rounds to 0 nonzeros for rho = {rho_grid[j]} at delta = "
            f"{delta_grid[i]} "
            f"(m = {m_rows[i]}); use larger rhos or p"
        )
    success = np.zeros(k.shape)
    for i, m in enumerate(m_rows):
        for j in range(len(rho_grid)):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i, j)))
            wins = 0
            for _ in range(trials):
                A = rng.standard_normal((m, p)) / math.sqrt(m)
                a = np.zeros(p)
                a[rng.choice(p, size=k[i, j], replace=False)] = rng.standard_normal(k[i, j])
                try:
                    wins += relative_error(solve_bp(A, A @ a).code, a) <= RECOVERY_TOL
                except BasisPursuitError:
                    pass
            success[i, j] = wins / trials
    for arr in (delta_grid, rho_grid, m_rows, k, success):
        arr.setflags(write=False)
    return PhaseTransition(
        p=p,
        deltas=delta_grid,
        rhos=rho_grid,
        m_rows=m_rows,
        k=k,
        success=success,
        trials=trials,
        seed=seed,
    )


def crossing_rho(rhos: Any, success: Any, level: float = 0.5) -> float:
    """The rho where the success curve first falls below ``level``, by linear interpolation between
    the last grid point at or above it and the next one; NaN when it never starts at or above the
    level or never falls below it."""
    r = as_vector("rhos", rhos)
    s = as_vector("success", success, r.shape[0], "rhos")
    level = as_fraction("level", level)
    if s[0] < level:
        return math.nan
    below = np.flatnonzero(s < level)
    if below.size == 0:
        return math.nan
    j = int(below[0])
    r0, r1, s0, s1 = r[j - 1], r[j], s[j - 1], s[j]
    return float(r0 + (s0 - level) / (s0 - s1) * (r1 - r0))


def _soft_threshold_risk(z: float) -> float:
    """J(z) = (1 + z^2) Phi(-z) - z phi(z) = E (|g| - z)_+^2 / 2 for g ~ N(0, 1)."""
    return (1 + z * z) * scipy.special.ndtr(-z) - z * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


#: Smallest delta the thresholds accept: below it the optimal z (about sqrt(2 ln(1/delta)) > 37)
#: puts J(z) among the subnormals and both formulas go wrong (1e-307 gives 2.7x the curve).
MIN_DELTA = 1e-300


def _as_delta(delta: Any) -> float:
    """delta = m / p in [MIN_DELTA, 1), else an InputError naming delta."""
    delta = as_fraction("delta", delta)
    if delta < MIN_DELTA:
        raise InputError(f"delta must be >= {MIN_DELTA:g} (J underflows below it), got {delta!r}")
    return delta


def weak_threshold(delta: float) -> float:
    """Asymptotic Donoho-Tanner weak threshold rho_W(delta), delta in [MIN_DELTA, 1), for l1 / the
    cross-polytope (signed codes), J as in ``_soft_threshold_risk``:

        rho_W(delta) = max_{z >= 0} [1 - (2/delta) J(z)] / [1 + z^2 - 2 J(z)].

    This is the minimax-MSE formula of Donoho, Maleki & Montanari (PNAS 2009; IEEE Trans. IT 2011,
    "The noise-sensitivity phase transition in compressed sensing"), which they show is identical to
    the Donoho-Tanner weak phase transition of l1 minimisation (Donoho 2006, DCG; Donoho & Tanner
    2009, JAMS and Phil. Trans. R. Soc. A "Observed universality...").
    ``statistical_dimension_threshold`` computes the same curve independently (Amelunxen, Lotz,
    McCoy & Tropp 2014).
    """
    delta = _as_delta(delta)

    def neg(z: float) -> float:
        J = _soft_threshold_risk(z)
        return -(1 - 2 * J / delta) / (1 + z * z - 2 * J)

    res = scipy.optimize.minimize_scalar(
        neg, bounds=(0.0, 40.0), method="bounded", options={"xatol": 1e-12}
    )
    return float(-res.fun)


def statistical_dimension_threshold(delta: float) -> float:
    """The same curve from conic geometry: rho solving ``delta = psi(rho delta)`` with the l1
    descent-cone statistical dimension per coordinate
    ``psi(eps) = inf_{tau >= 0} eps (1 + tau^2) + (1 - eps) 2 J(tau)`` (Amelunxen, Lotz, McCoy &
    Tropp 2014, "Living on the edge", Prop. 4.5)."""
    delta = _as_delta(delta)

    def psi(eps: float) -> float:
        f = lambda t: eps * (1 + t * t) + (1 - eps) * 2 * _soft_threshold_risk(t)
        return float(
            scipy.optimize.minimize_scalar(
                f, bounds=(0.0, 40.0), method="bounded", options={"xatol": 1e-12}
            ).fun
        )

    return float(
        scipy.optimize.brentq(lambda rho: psi(rho * delta) - delta, 1e-9, 1 - 1e-9, xtol=1e-14)
    )


#: rho_W(delta) at delta = 0.05, 0.10, ..., 0.95, computed with ``weak_threshold`` (the DMM
#: minimax formula) and agreeing with ``statistical_dimension_threshold`` to 1e-14; an independent
#: evaluation of Donoho's (2006) angle-exponent criterion (face-count, internal- and external-angle
#: exponents) gives the same rho_W(0.5) = 0.38569 to 5 digits. Values rounded to 6 decimals.
WEAK_THRESHOLD_TABLE: dict[float, float] = {
    0.05: 0.154361,
    0.10: 0.189429,
    0.15: 0.217792,
    0.20: 0.243301,
    0.25: 0.267384,
    0.30: 0.290784,
    0.35: 0.313980,
    0.40: 0.337326,
    0.45: 0.361131,
    0.50: 0.385690,
    0.55: 0.411320,
    0.60: 0.438391,
    0.65: 0.467360,
    0.70: 0.498843,
    0.75: 0.533712,
    0.80: 0.573313,
    0.85: 0.619943,
    0.90: 0.678169,
    0.95: 0.760105,
}
