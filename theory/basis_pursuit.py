"""Basis pursuit, the null-space property and the Donoho-Tanner phase transition (THEORY.md T7(c)).

- ``basis_pursuit(A, y)``: min |a|_1 subject to A a = y, as the linear program
  min 1^T (a+ + a-) s.t. [A, -A] (a+, a-) = y, a+- >= 0 (scipy ``linprog``, HiGHS).
- ``dual_certificate(A, a)`` / ``bp_recovery_certificate(A, a)``: a is the *unique* l1 minimiser with behaviour A a iff A_S is
  injective and some w has ``A_S^T w = sign(a_S)`` and ``|A_{S^c}^T w|_inf < 1`` (Fuchs 2004; Zhang,
  Yin & Cheng 2015); the least such sup-norm comes from one LP, and ``1 - it`` is the margin.
- ``null_space_property(A, k)``: NSP(k) holds iff ``|n_S|_1 < |n_{S^c}|_1`` for every nonzero n in
  ker A and every |S| <= k; basis pursuit recovers every k-sparse code iff NSP(k) holds. Decided
  exactly (for small p) as ``worst = max_{n, S} |n_S|_1 / |n_{S^c}|_1 < 1``, by two methods.
- ``phase_transition``: the empirical success probability of basis pursuit on Gaussian A over a grid
  of (delta = m/p, rho = k/m) (m and k rounded half up), and ``weak_threshold(delta)``, the asymptotic Donoho-Tanner curve.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special

from .certificate import Certificate, Verdict
from .rank import decide_rank, decide_rank_from_singular_values
from .spark import _as_count, _combinations, _normalised_columns, as_sparsity
from .validation import as_matrix, as_tolerance, as_vector

TINY = float(np.finfo(np.float64).tiny)
#: Success criterion of a recovery: relative error |a_hat - a| / |a| at most this.
RECOVERY_TOL = 1e-6


class BasisPursuitError(ValueError):
    """The basis-pursuit LP did not reach an optimum (HiGHS message attached)."""


class InfeasibleError(BasisPursuitError):
    """y is not in the range of A: no code a has A a = y."""


# --------------------------------------------------------------------------------------------
# Basis pursuit


@dataclasses.dataclass(frozen=True)
class BasisPursuitResult:
    """code: the minimiser (p,); l1: its l1 norm; residual: |A code - y| / max(|y|, tiny)."""

    code: np.ndarray
    l1: float
    residual: float
    status: str
    message: str


def _bp(A: np.ndarray, y: np.ndarray) -> BasisPursuitResult:
    p = A.shape[1]
    res = scipy.optimize.linprog(
        np.ones(2 * p), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs"
    )
    if res.status == 2:
        raise InfeasibleError(
            f"y is not in the range of A: no code a satisfies A a = y (HiGHS: {res.message})"
        )
    if res.status != 0:
        raise BasisPursuitError(f"basis pursuit LP failed with status {res.status}: {res.message}")
    code = res.x[:p] - res.x[p:]
    code.setflags(write=False)
    residual = float(np.linalg.norm(A @ code - y) / max(float(np.linalg.norm(y)), TINY))
    return BasisPursuitResult(
        code=code,
        l1=float(np.abs(code).sum()),
        residual=residual,
        status="optimal",
        message=str(res.message),
    )


def basis_pursuit(A: Any, y: Any) -> BasisPursuitResult:
    """min |a|_1 subject to A a = y (linprog, HiGHS, with a = a+ - a-).

    Raises ``InfeasibleError`` when y is not in the range of A and ``BasisPursuitError`` (both
    ValueErrors) on any other solver failure.
    """
    A = as_matrix("A", A)
    y = _vector_of_length("y", y, A.shape[0], "the number of rows of A")
    return _bp(A, y)


def _vector_of_length(name: str, x: Any, length: int, what: str) -> np.ndarray:
    v = as_vector(name, x)
    if v.shape[0] != length:
        raise ValueError(f"{name} must have length {length} ({what}), got {v.shape[0]}")
    return v


def relative_error(a_hat: np.ndarray, a: np.ndarray) -> float:
    """|a_hat - a| / |a| (absolute error when a = 0)."""
    na = float(np.linalg.norm(a))
    return float(np.linalg.norm(a_hat - a) / (na if na > 0 else 1.0))


# --------------------------------------------------------------------------------------------
# Uniqueness of one l1 minimiser (dual certificate)


def dual_certificate(A: np.ndarray, a: np.ndarray):
    """(t*, w, injective): t* = min |A_{S^c}^T w|_inf over w with A_S^T w = sign(a_S) (inf if none),
    w its minimiser, and whether A_S has full column rank (certified). a is the unique l1 minimiser
    of ``{x : A x = A a}`` iff injective and t* < 1."""
    m, p = A.shape
    S = np.flatnonzero(a)
    Sc = np.setdiff1d(np.arange(p), S)
    if S.size == 0:
        return 0.0, np.zeros(m), True
    dec = decide_rank(A[:, S], name="A_S")
    injective = dec.certified and dec.rank == S.size
    if Sc.size == 0:
        return 0.0, np.linalg.lstsq(A[:, S].T, np.sign(a[S]), rcond=None)[0], injective
    # variables (w, t): min t  s.t.  A_S^T w = sign(a_S),  +-A_{S^c}^T w - t <= 0
    B = A[:, Sc].T
    A_ub = np.block([[B, -np.ones((Sc.size, 1))], [-B, -np.ones((Sc.size, 1))]])
    c = np.zeros(m + 1)
    c[-1] = 1.0
    res = scipy.optimize.linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(2 * Sc.size),
        A_eq=np.hstack([A[:, S].T, np.zeros((S.size, 1))]),
        b_eq=np.sign(a[S]),
        bounds=[(None, None)] * m + [(0, None)],
        method="highs",
    )
    if res.status == 2:
        return math.inf, np.zeros(m), injective
    if res.status != 0:
        raise BasisPursuitError(
            f"dual-certificate LP failed with status {res.status}: {res.message}"
        )
    w = res.x[:m]
    return float(np.max(np.abs(B @ w))), w, injective


BP_CLAIM = "basis pursuit (min |a|_1 s.t. A a = y) returns the planted code a from y = A a"


def bp_recovery_certificate(A: Any, a: Any, decision_tol: float = 1e-7) -> Certificate:
    """Basis pursuit on y = A a: *holds* iff the LP returns a (relative error <= 1e-6) and a dual
    certificate proves a is the unique l1 minimiser (``t* < 1 - decision_tol``; margin ``1 - t*``);
    *violated* iff BP returns a different code with l1 norm at most |a|_1 (witness) and t* > 1 +
    decision_tol; *undecided* otherwise (the two disagree or t* is within decision_tol of 1)."""
    A = as_matrix("A", A)
    a = _vector_of_length("a", a, A.shape[1], "the number of columns of A")
    decision_tol = as_tolerance("decision_tol", decision_tol)
    y = A @ a
    bp = _bp(A, y)
    err = relative_error(bp.code, a)
    t, w, injective = dual_certificate(A, a)
    recovered = err <= RECOVERY_TOL
    unique = injective and t < 1 - decision_tol
    not_unique = (not injective) or t > 1 + decision_tol
    details = {
        "relative_error": err,
        "dual_sup_norm": t,
        "A_S_injective": injective,
        "support": np.flatnonzero(a),
        "k": int(np.count_nonzero(a)),
        "l1_planted": float(np.abs(a).sum()),
        "l1_returned": bp.l1,
        "lp_residual": bp.residual,
    }
    witness = {"code": a, "recovered": bp.code, "dual_vector": w}
    if recovered and unique:
        verdict = Verdict.HOLDS
    elif not recovered and not_unique and bp.l1 <= float(np.abs(a).sum()) * (1 + 1e-9):
        verdict = Verdict.VIOLATED
    else:
        verdict = Verdict.UNDECIDED
        details["reason"] = (
            "LP answer and dual certificate disagree, or the dual sup-norm is within decision_tol of 1"
        )
    return Certificate(
        theorem="T7",
        verdict=verdict,
        claim=BP_CLAIM,
        margin=1.0 - t,
        tolerance=decision_tol,
        witness=witness,
        details=details,
    )


# --------------------------------------------------------------------------------------------
# Null-space property


#: Default limits of the exact NSP decision (checked before any work).
MAX_NSP_SUBSETS = 1 << 16
MAX_NSP_LPS = 4096


def _top_k_ratio(n: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """max_{|S| <= k} |n_S|_1 / |n_{S^c}|_1 (attained by the k largest |n_i|) and that S."""
    mag = np.abs(n)
    order = np.argsort(-mag, kind="stable")
    S = np.sort(order[:k])
    top = float(mag[order[:k]].sum())
    rest = float(mag[order[k:]].sum())
    if rest <= 1e-14 * max(top, TINY):
        return math.inf, S
    return top / rest, S


def _kernel(A: np.ndarray, tol: float | None):
    _, s, vt = scipy.linalg.svd(A, full_matrices=True)
    dec = decide_rank_from_singular_values(s, A.shape, tol)
    return vt[dec.rank :].T, dec


def _nsp_circuits(A: np.ndarray, k: int, tol: float | None, max_subsets: int):
    """Max over the vertices of P = ker A  ∩  {|n|_1 <= 1}. A vertex of P is an l1-normalised circuit
    vector (a null vector whose support T has dim ker A_T = 1), and ``n -> sum of the k largest
    |n_i|`` is convex, so its maximum over P is attained at one: enumerate subsets T with
    |T| <= rank A + 1 and nullity(A_T) = 1 (certified). Cost: ``sum_{s <= r+1} C(p, s)`` small SVDs."""
    m, p = A.shape
    An, norms = _normalised_columns(A)
    if np.any(norms == 0):
        j = int(np.flatnonzero(norms == 0)[0])
        n = np.zeros(p)
        n[j] = 1.0
        return math.inf, n, 0, None
    full = decide_rank(An, tol=tol, name="A")
    if not full.certified:
        return None, None, 0, ("the rank of A is in the grey band", full.ambiguous)
    r = full.rank
    if r == p:
        return 0.0, None, 0, None
    tau = full.tolerance
    need = sum(math.comb(p, s) for s in range(1, r + 2))
    if need > max_subsets:
        raise ValueError(
            f"A is too large for the exact NSP check by circuits: {need} column subsets "
            f"(p = {p}, rank {r}) exceed max_subsets = {max_subsets}"
        )
    worst, arg, count = -1.0, None, 0
    for s in range(1, r + 2):
        for chunk in _combinations(p, s):
            count += len(chunk)
            X = An[:, chunk].transpose(1, 0, 2)
            _, sv, vt = np.linalg.svd(X, full_matrices=True)
            if s > sv.shape[1]:  # s = m + 1 columns: one structural zero singular value
                sv = np.concatenate([sv, np.zeros((sv.shape[0], s - sv.shape[1]))], axis=1)
            kept = sv > tau
            rank = kept.sum(axis=1)
            band_top = np.sqrt(tau * sv[:, 0])
            ambiguous = (kept & (sv < band_top[:, None])).any(axis=1)
            if ambiguous.any():
                i = int(np.argmax(ambiguous))
                return (
                    None,
                    None,
                    count,
                    (
                        f"rank of columns {tuple(int(c) for c in chunk[i])} is in the grey band",
                        sv[i],
                    ),
                )
            for i in np.flatnonzero(rank == s - 1):
                z = vt[i, -1] / norms[chunk[i]]
                n = np.zeros(p)
                n[chunk[i]] = z
                n /= np.abs(n).sum()
                ratio, _ = _top_k_ratio(n, k)
                if ratio > worst:
                    worst, arg = ratio, n
    return worst, arg, count, None


def _nsp_lp(A: np.ndarray, k: int, tol: float | None, max_lps: int):
    """For each |S| = k and each sign pattern s on S (s_0 = +1: n and -n give the same ratio),
    the LP  max <s, n_S>  s.t.  n = N z (N an orthonormal basis of ker A), |n_{S^c}|_1 <= 1
    (with n_{S^c} = u - w, u, w >= 0). Its optimum is max |n_S|_1 over that sign orthant; the max
    over patterns is theta_S = sup |n_S|_1 / |n_{S^c}|_1. An unbounded LP is a null vector supported
    in S (found first from the rank of N_{S^c}). Cost: C(p, k) 2^(k-1) LPs."""
    m, p = A.shape
    N, dec = _kernel(A, tol)
    if not dec.certified:
        return None, None, 0, ("the rank of A is in the grey band", dec.ambiguous)
    q = N.shape[1]
    if q == 0:
        return 0.0, None, 0, None
    if k == p:  # S = everything: any nonzero null vector has ratio infinity
        n = N[:, 0] / np.abs(N[:, 0]).sum()
        return math.inf, n, 0, None
    n_lps = math.comb(p, k) * 2 ** (k - 1)
    if n_lps > max_lps:
        raise ValueError(
            f"A is too large for the exact NSP check by LPs: C({p}, {k}) 2^{k - 1} = {n_lps} LPs "
            f"exceed max_lps = {max_lps}"
        )
    worst, arg, count = -1.0, None, 0
    for S in itertools.combinations(range(p), k):
        S = np.array(S)
        Sc = np.setdiff1d(np.arange(p), S)
        sub = decide_rank(N[Sc], name="N_Sc")
        if sub.rank < q:  # a null vector vanishing off S: ratio infinite
            _, _, vt = scipy.linalg.svd(N[Sc])
            n = N @ vt[-1]
            return math.inf, n / np.abs(n).sum(), count, None
        if not sub.certified:
            return (
                None,
                None,
                count,
                (
                    f"rank of the kernel basis rows off S = {tuple(S)} is in the grey band",
                    sub.ambiguous,
                ),
            )
        r = Sc.size
        A_eq = np.hstack([N[Sc], -np.eye(r), np.eye(r)])
        A_ub = np.concatenate([np.zeros(q), np.ones(2 * r)])[None, :]
        bounds = [(None, None)] * q + [(0, None)] * (2 * r)
        for signs in itertools.product((1.0, -1.0), repeat=k - 1):
            s = np.array((1.0,) + signs)
            c = np.concatenate([-(s @ N[S]), np.zeros(2 * r)])
            res = scipy.optimize.linprog(
                c, A_ub=A_ub, b_ub=[1.0], A_eq=A_eq, b_eq=np.zeros(r), bounds=bounds, method="highs"
            )
            count += 1
            if res.status != 0:
                raise BasisPursuitError(f"NSP LP failed with status {res.status}: {res.message}")
            n = N @ res.x[:q]
            ratio, _ = _top_k_ratio(n, k) if np.any(n) else (0.0, None)
            if ratio > worst:
                worst, arg = ratio, n / max(np.abs(n).sum(), TINY)
    return worst, arg, count, None


NSP_CLAIM = (
    "NSP(k): |n_S|_1 < |n_{S^c}|_1 for all nonzero n in ker A and |S| <= k "
    "(basis pursuit recovers every k-sparse code)"
)


def null_space_property(
    A: Any,
    k: Any,
    method: str = "circuits",
    tol: float | None = None,
    decision_tol: float = 1e-9,
    max_subsets: int = MAX_NSP_SUBSETS,
    max_lps: int = MAX_NSP_LPS,
) -> Certificate:
    """Exact NSP(k) decision for small A: ``worst = max_{n in ker A \\ 0, |S| <= k} |n_S|_1 / |n_{S^c}|_1``.

    *holds* iff ``worst < 1`` (margin ``1 - worst``); *violated* iff ``worst > 1``, with witness
    the kernel vector n, the k-sparse code ``a = n_S`` that basis pursuit fails to recover and the
    code ``-n_{S^c}`` with the same behaviour and l1 norm <= |a|_1; *undecided* within
    ``decision_tol`` of 1 (use >= 1e-6 with the LP method, whose solver tolerance is about 1e-7) or
    when a rank is in the grey band.

    method "circuits": maximum over the vertices of ker A ∩ B_1 (the normalised circuit vectors),
    ``sum_{s <= rank A + 1} C(p, s)`` small SVDs, at most ``max_subsets``. method "lp": for each
    |S| = k and sign pattern, one LP over the kernel, ``C(p, k) 2^(k-1)`` LPs, at most ``max_lps``.
    """
    A = as_matrix("A", A)
    p = A.shape[1]
    k = as_sparsity("k", k, p)
    if method not in ("circuits", "lp"):
        raise ValueError(f"method must be 'circuits' or 'lp', got {method!r}")
    tol = as_tolerance("tol", tol)
    decision_tol = as_tolerance("decision_tol", decision_tol)
    max_subsets = _as_count("max_subsets", max_subsets)
    max_lps = _as_count("max_lps", max_lps)
    if method == "circuits":
        worst, n, count, why = _nsp_circuits(A, k, tol, max_subsets)
    else:
        worst, n, count, why = _nsp_lp(A, k, tol, max_lps)
    details: dict[str, Any] = {"k": k, "p": p, "method": method, "evaluated": count}
    common = dict(theorem="T7", claim=NSP_CLAIM, tolerance=decision_tol)
    if worst is None:
        details.update(reason=why[0], ambiguous_singular_values=np.asarray(why[1], dtype=float))
        return Certificate(verdict=Verdict.UNDECIDED, details=details, **common)
    details["worst_ratio"] = worst
    margin = 1.0 - worst
    if n is None:  # trivial kernel
        details["kernel_trivial"] = True
        return Certificate(verdict=Verdict.HOLDS, margin=margin, details=details, **common)
    _, S = _top_k_ratio(n, k)
    inS = np.zeros(p, dtype=bool)
    inS[S] = True
    code = np.where(inS, n, 0.0)
    cheaper = np.where(inS, 0.0, -n)
    details["S"] = S
    witness = {"kernel_vector": n, "code": code, "cheaper_code": cheaper}
    if worst < 1 - decision_tol:
        verdict = Verdict.HOLDS
    elif worst > 1 + decision_tol:
        verdict = Verdict.VIOLATED
    else:
        verdict = Verdict.UNDECIDED
        details["reason"] = "worst ratio within decision_tol of 1"
    return Certificate(verdict=verdict, margin=margin, witness=witness, details=details, **common)


# --------------------------------------------------------------------------------------------
# Phase transition


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
        ks = np.unique(self.k[i])
        prob = np.array([self.success[i][self.k[i] == kk].mean() for kk in ks])
        return ks / self.m_rows[i], prob

    def crossing(self, level: float = 0.5) -> np.ndarray:
        """Empirical ``level`` crossing rho at each delta (``crossing_rho`` on ``curve(i)``)."""
        return np.array([crossing_rho(*self.curve(i), level) for i in range(len(self.deltas))])


def _as_fractions(name: str, x: Any) -> np.ndarray:
    v = as_vector(name, x)
    if np.any(v <= 0) or np.any(v > 1):
        raise ValueError(f"{name} must lie in (0, 1], got {v.tolist()}")
    return v


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5 + 1e-12))


def phase_transition(
    p: int, deltas: Sequence[float], rhos: Sequence[float], trials: int, seed: int = 0
) -> PhaseTransition:
    """Empirical P(basis pursuit recovers a) for A with iid N(0, 1/m) entries (m = round(delta p))
    and a with k = round(rho m) nonzeros on a uniform random support, iid N(0, 1) values; success is
    relative error <= 1e-6. Each (delta, rho) cell has its own seeded stream, so a cell's result
    does not depend on the rest of the grid. Cost: ``len(deltas) len(rhos) trials`` LPs."""
    p = _as_count("p", p, low=2)
    deltas = _as_fractions("deltas", deltas)
    rhos = _as_fractions("rhos", rhos)
    trials = _as_count("trials", trials)
    seed = _as_count("seed", seed, low=0)
    m_rows = np.array([_round_half_up(d * p) for d in deltas])
    if np.any(m_rows < 1):
        raise ValueError(
            f"deltas: delta * p rounds to 0 rows for delta = {deltas[m_rows < 1].tolist()} (p = {p})"
        )
    k = np.array([[_round_half_up(r * m) for r in rhos] for m in m_rows])
    if np.any(k < 1):
        i, j = np.argwhere(k < 1)[0]
        raise ValueError(
            f"rhos: rho * m rounds to 0 nonzeros for rho = {rhos[j]} at delta = {deltas[i]} "
            f"(m = {m_rows[i]}); use larger rhos or p"
        )
    success = np.zeros(k.shape)
    for i, m in enumerate(m_rows):
        for j in range(len(rhos)):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i, j)))
            wins = 0
            for _ in range(trials):
                A = rng.standard_normal((m, p)) / math.sqrt(m)
                a = np.zeros(p)
                a[rng.choice(p, size=k[i, j], replace=False)] = rng.standard_normal(k[i, j])
                try:
                    wins += relative_error(_bp(A, A @ a).code, a) <= RECOVERY_TOL
                except BasisPursuitError:
                    pass
            success[i, j] = wins / trials
    for arr in (deltas, rhos, m_rows, k, success):
        arr.setflags(write=False)
    return PhaseTransition(
        p=p, deltas=deltas, rhos=rhos, m_rows=m_rows, k=k, success=success, trials=trials, seed=seed
    )


def crossing_rho(rhos: Any, success: Any, level: float = 0.5) -> float:
    """The rho where the success curve first falls below ``level``, by linear interpolation between
    the last grid point at or above it and the next one; NaN when it never starts at or above the
    level or never falls below it."""
    r = as_vector("rhos", rhos)
    s = _vector_of_length("success", success, r.shape[0], "the length of rhos")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
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


def weak_threshold(delta: float) -> float:
    """Asymptotic Donoho-Tanner weak threshold rho_W(delta) for l1 / the cross-polytope (signed codes):

        rho_W(delta) = max_{z >= 0} [1 - (2/delta) J(z)] / [1 + z^2 - 2 J(z)],  J as in _soft_threshold_risk.

    This is the minimax-MSE formula of Donoho, Maleki & Montanari (PNAS 2009; IEEE Trans. IT 2011,
    "The noise-sensitivity phase transition in compressed sensing"), which they show is identical to
    the Donoho-Tanner weak phase transition of l1 minimisation (Donoho 2006, DCG; Donoho & Tanner
    2009, JAMS and Phil. Trans. R. Soc. A "Observed universality..."). ``statistical_dimension_threshold``
    computes the same curve independently (Amelunxen, Lotz, McCoy & Tropp 2014).
    """
    delta = float(delta)
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")

    def neg(z: float) -> float:
        J = _soft_threshold_risk(z)
        return -(1 - 2 * J / delta) / (1 + z * z - 2 * J)

    res = scipy.optimize.minimize_scalar(
        neg, bounds=(0.0, 12.0), method="bounded", options={"xatol": 1e-12}
    )
    return float(-res.fun)


def statistical_dimension_threshold(delta: float) -> float:
    """The same curve from conic geometry: rho solving ``delta = psi(rho delta)`` with the l1 descent-cone
    statistical dimension per coordinate ``psi(eps) = inf_{tau >= 0} eps (1 + tau^2) + (1 - eps) 2 J(tau)``
    (Amelunxen, Lotz, McCoy & Tropp 2014, "Living on the edge", Prop. 4.5)."""
    delta = float(delta)
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")

    def psi(eps: float) -> float:
        f = lambda t: eps * (1 + t * t) + (1 - eps) * 2 * _soft_threshold_risk(t)
        return float(
            scipy.optimize.minimize_scalar(
                f, bounds=(0.0, 12.0), method="bounded", options={"xatol": 1e-12}
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
