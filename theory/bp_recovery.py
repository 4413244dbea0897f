"""Basis pursuit and the certificate that it recovers one planted code (docs/theorems.md T7(c)).

- ``basis_pursuit(A, y)``: min |a|_1 subject to A a = y, as the linear program
  min 1^T (a+ + a-) s.t. [A, -A] (a+, a-) = y, a+- >= 0 (scipy ``linprog``, HiGHS).
- ``dual_certificate(A, a)``: a is the *unique* l1 minimiser with behaviour A a iff A_S is
  injective and some w has ``A_S^T w = sign(a_S)`` and ``|A_{S^c}^T w|_inf < 1`` (Fuchs 2004;
  Zhang, Yin & Cheng 2015); the least such sup-norm t* comes from one LP.
- ``bp_recovery_certificate(A, a)``: the LP's answer and the dual vector (re-run by
  ``verify_dual``) decide whether basis pursuit recovers a.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import scipy.optimize

from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .rank import decide_rank
from .validation import as_fraction, as_matrix, as_vector

TINY = float(np.finfo(np.float64).tiny)
#: Success criterion of a recovery: relative error |a_hat - a| / |a| at most this.
RECOVERY_TOL = 1e-6
#: What a re-run dual vector's equality residual |A_S^T w - sign(a_S)|_inf is held to.
DUAL_TOL = 1e-9
#: What the LP answer's residual |A x - y| / |y| is held to before it counts as a competitor.
LP_TOL = 1e-9
#: Above this relative residual |A a - y| / |y| a code the LP calls optimal is refused.
SOLVE_TOL = 1e-6


class BasisPursuitError(ValueError):
    """The basis-pursuit LP did not reach an optimum (HiGHS message attached)."""


class InfeasibleError(BasisPursuitError):
    """y is not in the range of A: no code a has A a = y."""


@dataclasses.dataclass(frozen=True)
class BasisPursuitResult:
    """code: the minimiser (p,); l1: its l1 norm; residual: |A code - y| / max(|y|, tiny)."""

    code: np.ndarray
    l1: float
    residual: float
    status: str
    message: str


def solve_bp(A: Any, y: Any) -> BasisPursuitResult:
    """The LP of ``basis_pursuit``: min |a|_1 subject to A a = y, solved for A / |A|_max and
    y / |y|_max (the minimiser scales by |y|_max / |A|_max), so that HiGHS's absolute tolerances
    act relative to the data."""
    A = as_matrix("A", A)
    y = as_vector("y", y, A.shape[0], "A")
    p = A.shape[1]
    a_max, y_max = float(np.max(np.abs(A))) or 1.0, float(np.max(np.abs(y))) or 1.0
    res = scipy.optimize.linprog(
        np.ones(2 * p),
        A_eq=np.hstack([A, -A]) / a_max,
        b_eq=y / y_max,
        bounds=(0, None),
        method="highs",
    )
    if res.status == 2:
        raise InfeasibleError(
            f"y is not in the range of A: no code a satisfies A a = y (HiGHS: {res.message})"
        )
    if res.status != 0:
        raise BasisPursuitError(f"basis pursuit LP failed with status {res.status}: {res.message}")
    code = (res.x[:p] - res.x[p:]) * (y_max / a_max)
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
    ValueErrors) on any other solver failure, an "optimal" code with |A a - y| / |y| > SOLVE_TOL
    included.
    """
    bp = solve_bp(A, y)
    if bp.residual > SOLVE_TOL:
        raise BasisPursuitError(
            f"basis pursuit LP reported optimal but |A a - y| / |y| = {bp.residual:.3g} "
            f"> {SOLVE_TOL:g}"
        )
    return bp


def relative_error(a_hat: Any, a: Any) -> float:
    """|a_hat - a| / |a| (absolute error when a = 0)."""
    a = as_vector("a", a)
    a_hat = as_vector("a_hat", a_hat, a.shape[0], "a")
    na = float(np.linalg.norm(a))
    return float(np.linalg.norm(a_hat - a) / (na if na > 0 else 1.0))


# --------------------------------------------------------------------------------------------
# Uniqueness of one l1 minimiser (dual certificate)


def _support(A: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    S = np.flatnonzero(a)
    return S, np.setdiff1d(np.arange(A.shape[1]), S)


def verify_dual(A: Any, a: Any, w: Any) -> tuple[float, float]:
    """Re-run a dual vector w: ``(|A_{S^c}^T w|_inf, |A_S^T w - sign(a_S)|_inf)`` (0 for empty
    sets), S the support of a."""
    A = as_matrix("A", A)
    a = as_vector("a", a, A.shape[1], "A")
    w = as_vector("w", w, A.shape[0], "the rows of A")
    S, Sc = _support(A, a)
    t = float(np.max(np.abs(A[:, Sc].T @ w))) if Sc.size else 0.0
    eq = float(np.max(np.abs(A[:, S].T @ w - np.sign(a[S])))) if S.size else 0.0
    return t, eq


def dual_certificate(A: Any, a: Any):
    """(t*, w, injective): t* = min |A_{S^c}^T w|_inf over w with A_S^T w = sign(a_S) (inf if
    none), w its minimiser (projected onto the equality constraints in least squares, so that
    the solver's feasibility tolerance does not stay in w), and whether A_S has full column rank
    (certified). a is the unique l1 minimiser of ``{x : A x = A a}`` iff injective and t* < 1."""
    A = as_matrix("A", A)
    a = as_vector("a", a, A.shape[1], "A")
    m = A.shape[0]
    S, Sc = _support(A, a)
    if S.size == 0:
        return 0.0, np.zeros(m), True
    dec = decide_rank(A[:, S], name="A_S")
    injective = dec.certified and dec.rank == S.size
    sign = np.sign(a[S])
    if Sc.size == 0:
        return 0.0, np.linalg.lstsq(A[:, S].T, sign, rcond=None)[0], injective
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
        b_eq=sign,
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
    w = w - np.linalg.lstsq(A[:, S].T, A[:, S].T @ w - sign, rcond=None)[0]
    return float(np.max(np.abs(B @ w))), w, injective


BP_CLAIM = "basis pursuit (min |a|_1 s.t. A a = y) returns the planted code a from y = A a"


def bp_recovery_certificate(
    A: Any, a: Any, decision_tol: float = 1e-7, dual_vector: Any = None
) -> Certificate:
    """Basis pursuit on y = A a, decided by the LP's answer and a re-run dual vector.

    The dual vector w (``dual_certificate``'s, or ``dual_vector`` when given) is re-run by
    ``verify_dual``: ``t = |A_{S^c}^T w|_inf`` and the equality residual ``e`` (held to DUAL_TOL).
    *holds* iff the LP returns a (relative error <= RECOVERY_TOL), A_S is certified injective,
    ``e <= DUAL_TOL`` and ``t < 1 - decision_tol`` (a proof that a is the unique l1 minimiser);
    margin: min of RECOVERY_TOL / error, the rank margin of A_S, DUAL_TOL / e and
    (1 - decision_tol) / t.
    *violated* iff the LP returns another code x with ``|A x - y| / |y| <= LP_TOL`` and
    ``|x|_1 <= |a|_1 (1 + 1e-9)`` (the witness ``recovered``), and a is not the unique minimiser:
    A_S certified not injective, or a re-run dual vector with ``t > 1 + decision_tol``; margin: min
    of error / RECOVERY_TOL, LP_TOL / LP residual, |a|_1 (1 + 1e-9) / |x|_1 and the evidence of
    non-uniqueness (the rank margin of A_S, or ``t / (1 + decision_tol)``).
    *undecided* otherwise (the two disagree, t is within decision_tol of 1, a rank is in the grey
    band, or the dual vector fails its re-run).
    """
    A = as_matrix("A", A)
    a = as_vector("a", a, A.shape[1], "A")
    decision_tol = as_fraction("decision_tol", decision_tol)
    if dual_vector is not None:
        dual_vector = as_vector("dual_vector", dual_vector, A.shape[0], "the rows of A")
    y = A @ a
    bp = solve_bp(A, y)
    err = relative_error(bp.code, a)
    S, _ = _support(A, a)
    w = dual_certificate(A, a)[1] if dual_vector is None else dual_vector
    t, eq = verify_dual(A, a, w)
    dec = decide_rank(A[:, S], name="A_S") if S.size else None
    injective = dec is None or (dec.certified and dec.rank == S.size)
    not_injective = dec is not None and dec.certified and dec.rank < S.size
    l1_a = float(np.abs(a).sum())
    details = {
        "relative_error": err,
        "dual_sup_norm": t,
        "dual_equality_residual": eq,
        "A_S_injective": injective,
        "support": S,
        "k": int(S.size),
        "l1_planted": l1_a,
        "l1_returned": bp.l1,
        "lp_residual": bp.residual,
    }
    rank_margin = None if dec is None else dec.margin
    dual_ok = eq <= DUAL_TOL
    if err <= RECOVERY_TOL and injective and dual_ok and t < 1 - decision_tol:
        verdict = Verdict.HOLDS
        margin = min_margin(
            ratio_margin(RECOVERY_TOL, err),
            rank_margin,
            ratio_margin(DUAL_TOL, eq),
            ratio_margin(1 - decision_tol, t),
        )
    elif (
        err > RECOVERY_TOL
        and bp.residual <= LP_TOL
        and bp.l1 <= l1_a * (1 + 1e-9)
        and (not_injective or (dual_ok and t > 1 + decision_tol))
    ):
        verdict = Verdict.VIOLATED
        not_unique = rank_margin if not_injective else t / (1 + decision_tol)
        margin = min_margin(
            err / RECOVERY_TOL,
            ratio_margin(LP_TOL, bp.residual),
            ratio_margin(l1_a * (1 + 1e-9), bp.l1),
            not_unique,
        )
    else:
        verdict, margin = Verdict.UNDECIDED, None
    reason = ""
    if verdict is Verdict.UNDECIDED:
        reason = (
            "the dual vector failed its re-run"
            if not dual_ok
            else "LP answer and dual certificate disagree, or the dual sup-norm is within "
            "decision_tol of 1, or the rank of A_S is in the grey band"
        )
    return Certificate(
        theorem="T7",
        verdict=verdict,
        claim=BP_CLAIM,
        margin=margin,
        tolerance=decision_tol,
        witness={"code": a, "recovered": bp.code, "dual_vector": w},
        d=A.shape[1],
        rank=None if dec is None else dec.rank,
        residual=err,
        residual_tolerance=RECOVERY_TOL,
        ambiguous=None if dec is None else dec.ambiguous,
        reason=reason,
        details=details,
    )
