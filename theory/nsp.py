"""The null-space property, decided exactly for small A (docs/theorems.md T7(c)).

NSP(k) holds iff ``|n_S|_1 < |n_{S^c}|_1`` for every nonzero n in ker A and every |S| <= k; basis
pursuit recovers every k-sparse code iff NSP(k) holds. ``null_space_property`` decides
``worst = max_{n, S} |n_S|_1 / |n_{S^c}|_1 < 1`` by one of two methods (the normalised circuits of
A, or one LP per support and sign pattern), then re-runs the maximising kernel vector.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from theory.validation import InputError

from .bp_recovery import TINY, BasisPursuitError
from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .rank import decide_rank, decide_rank_from_singular_values
from .spark_base import as_sparsity, combinations
from .spark_float import normalised_columns
from .validation import as_choice, as_count, as_fraction, as_matrix, as_tolerance

#: Default limits of the exact NSP decision (compared with the work needed before any is done).
MAX_NSP_SUBSETS = 1 << 16
MAX_NSP_LPS = 4096

NSP_CLAIM = (
    "NSP(k): |n_S|_1 < |n_{S^c}|_1 for all nonzero n in ker A and |S| <= k "
    "(basis pursuit recovers every k-sparse code)"
)


@dataclasses.dataclass(frozen=True)
class NSPSearch:
    """What a method found: ``worst`` ratio (None: undecided, see ``reason``/``ambiguous``), the
    maximising kernel vector (None for a trivial kernel), the number of subsets or LPs evaluated,
    the margin of the rank decisions it rests on, and ``tau_rel``, the rank tolerance relative to
    sigma_1 (it sets how closely the kernel vector must re-run; nsp_by_lps: 1 for A = 0)."""

    worst: float | None
    vector: np.ndarray | None
    count: int
    rank_margin: float | None
    tau_rel: float
    reason: str = ""
    ambiguous: np.ndarray | None = None


def _top_k_ratio(n: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """max_{|S| <= k} |n_S|_1 / |n_{S^c}|_1 (attained by the k largest |n_i|) and that S; infinite
    when |n_{S^c}|_1 <= 1e-14 |n_S|_1 (the rest is round-off), so the ratio is scale-free."""
    mag = np.abs(n)
    order = np.argsort(-mag, kind="stable")
    S = np.sort(order[:k])
    top = float(mag[order[:k]].sum())
    rest = float(mag[order[k:]].sum())
    if rest <= 1e-14 * max(top, TINY):
        return math.inf, S
    return top / rest, S


def _undecided(reason: str, ambiguous: Any, count: int, tau_rel: float) -> NSPSearch:
    amb = np.asarray(ambiguous, dtype=float)
    return NSPSearch(None, None, count, None, tau_rel, reason=reason, ambiguous=amb)


def nsp_by_circuits(A: np.ndarray, k: int, tol: float | None, max_subsets: int) -> NSPSearch:
    """Max over the vertices of P = ker A  ∩  {|n|_1 <= 1}. A vertex of P is an l1-normalised
    circuit vector (a null vector whose support T has dim ker A_T = 1), and ``n -> sum of the k
    largest |n_i|`` is convex, so its maximum over P is attained at one: enumerate subsets T with
    |T| <= rank A + 1 and nullity(A_T) = 1 (certified). Cost: ``sum_{s <= r+1} C(p, s)`` SVDs."""
    p = A.shape[1]
    An, norms = normalised_columns(A)
    if np.any(norms == 0):
        n = np.zeros(p)
        n[int(np.flatnonzero(norms == 0)[0])] = 1.0
        return NSPSearch(math.inf, n, 0, math.inf, 0.0)
    full = decide_rank(An, tol=tol, name="A")
    tau = full.tolerance
    tau_rel = tau / float(full.singular_values[0])
    if not full.certified:
        return _undecided("the rank of A is in the grey band", full.ambiguous, 0, tau_rel)
    r = full.rank
    if r == p:
        return NSPSearch(0.0, None, 0, full.margin, tau_rel)
    need = sum(math.comb(p, s) for s in range(1, r + 2))
    if need > max_subsets:
        raise InputError(
            f"A is too large for the exact NSP check by circuits: {need} column subsets "
            f"(p = {p}, rank {r}) exceed max_subsets = {max_subsets}"
        )
    worst, arg, count, margin = -1.0, None, 0, full.margin
    for s in range(1, r + 2):
        for chunk in combinations(p, s):
            count += len(chunk)
            _, sv, vt = np.linalg.svd(An[:, chunk].transpose(1, 0, 2), full_matrices=True)
            if s > sv.shape[1]:  # s = m + 1 columns: one structural zero singular value
                sv = np.concatenate([sv, np.zeros((sv.shape[0], s - sv.shape[1]))], axis=1)
            kept = sv > tau
            rank = kept.sum(axis=1)
            band_top = np.sqrt(tau * sv[:, 0])
            ambiguous = (kept & (sv < band_top[:, None])).any(axis=1)
            if ambiguous.any():
                i = int(np.argmax(ambiguous))
                cols = tuple(int(c) for c in chunk[i])
                reason = f"rank of columns {cols} is in the grey band"
                return _undecided(reason, sv[i], count, tau_rel)
            with np.errstate(divide="ignore", invalid="ignore"):
                smallest_kept = np.where(kept, sv, np.inf).min(axis=1) / band_top
            margin = min(margin, float(np.min(smallest_kept)))
            for i in np.flatnonzero(rank == s - 1).tolist():
                n = np.zeros(p)
                n[chunk[i]] = vt[i, -1] / norms[chunk[i]]
                n /= np.abs(n).sum()
                ratio, _ = _top_k_ratio(n, k)
                if ratio > worst:
                    worst, arg = ratio, n
    return NSPSearch(worst, arg, count, margin, tau_rel)


def nsp_by_lps(A: np.ndarray, k: int, tol: float | None, max_lps: int) -> NSPSearch:
    """For each |S| = k and each sign pattern s on S (s_0 = +1: n and -n give the same ratio),
    the LP  max <s, n_S>  s.t.  n = N z (N an orthonormal basis of ker A), |n_{S^c}|_1 <= 1
    (with n_{S^c} = u - w, u, w >= 0). Its optimum is max |n_S|_1 over that sign orthant; the max
    over patterns is theta_S = sup |n_S|_1 / |n_{S^c}|_1. An unbounded LP is a null vector
    supported in S (found first from the rank of N_{S^c}). Cost: C(p, k) 2^(k-1) LPs."""
    p = A.shape[1]
    _, s, vt = scipy.linalg.svd(A, full_matrices=True)
    dec = decide_rank_from_singular_values(s, A.shape, tol)
    tau_rel = dec.tolerance / float(dec.singular_values[0]) if dec.singular_values[0] > 0 else 1.0
    if not dec.certified:
        return _undecided("the rank of A is in the grey band", dec.ambiguous, 0, tau_rel)
    N = vt[dec.rank :].T
    q = N.shape[1]
    if q == 0:
        return NSPSearch(0.0, None, 0, dec.margin, tau_rel)
    if k == p:  # S = everything: any nonzero null vector has ratio infinity
        return NSPSearch(math.inf, N[:, 0] / np.abs(N[:, 0]).sum(), 0, dec.margin, tau_rel)
    n_lps = math.comb(p, k) * 2 ** (k - 1)
    if n_lps > max_lps:
        raise InputError(
            f"A is too large for the exact NSP check by LPs: C({p}, {k}) 2^{k - 1} = {n_lps} LPs "
            f"exceed max_lps = {max_lps}"
        )
    worst, arg, count, margin = -1.0, None, 0, dec.margin
    for subset in itertools.combinations(range(p), k):
        S = np.array(subset)
        Sc = np.setdiff1d(np.arange(p), S)
        sub = decide_rank(N[Sc], name="N_Sc")
        if sub.rank < q:  # a null vector vanishing off S: ratio infinite
            n = N @ scipy.linalg.svd(N[Sc])[2][-1]
            return NSPSearch(math.inf, n / np.abs(n).sum(), count, margin, tau_rel)
        if not sub.certified:
            reason = f"rank of the kernel basis rows off S = {tuple(S)} is in the grey band"
            return _undecided(reason, sub.ambiguous, count, tau_rel)
        margin = min(margin, sub.margin)
        r = Sc.size
        A_eq = np.hstack([N[Sc], -np.eye(r), np.eye(r)])
        A_ub = np.concatenate([np.zeros(q), np.ones(2 * r)])[None, :]
        bounds = [(None, None)] * q + [(0, None)] * (2 * r)
        for signs in itertools.product((1.0, -1.0), repeat=k - 1):
            sgn = np.array((1.0,) + signs)
            c = np.concatenate([-(sgn @ N[S]), np.zeros(2 * r)])
            res = scipy.optimize.linprog(
                c, A_ub=A_ub, b_ub=[1.0], A_eq=A_eq, b_eq=np.zeros(r), bounds=bounds, method="highs"
            )
            count += 1
            if res.status != 0:
                raise BasisPursuitError(f"NSP LP failed with status {res.status}: {res.message}")
            n = N @ res.x[:q]
            ratio = _top_k_ratio(n, k)[0] if np.any(n) else 0.0
            if ratio > worst:
                worst, arg = ratio, n / max(np.abs(n).sum(), TINY)
    return NSPSearch(worst, arg, count, margin, tau_rel)


def kernel_residual(A: np.ndarray, n: np.ndarray) -> float:
    """|A n|_2 / (|A|_2 |n|_2): how far n is from ker A, relative to the scale of A."""
    scale = float(np.linalg.norm(A, 2)) * float(np.linalg.norm(n))
    return float(np.linalg.norm(A @ n)) / max(scale, TINY)


def nsp_certificate(
    A: np.ndarray, k: int, search: NSPSearch, decision_tol: float, details: dict
) -> Certificate:
    """The NSP(k) verdict on a search's result, after re-running its kernel vector n: n must be
    in ker A (``kernel_residual`` <= 10 sqrt(p) tau_rel, at least 1e-12), and its own ratio
    ``|n_S|_1 / |n_{S^c}|_1`` (S its k largest entries) must be the reported worst one (to
    ``1e-9 max(1, |worst|)``); otherwise the verdict is undecided."""
    common = dict(theorem="T7", claim=NSP_CLAIM, tolerance=decision_tol, d=A.shape[1])
    if search.worst is None:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            reason=search.reason,
            ambiguous=search.ambiguous,
            details=details,
            **common,
        )
    worst = search.worst
    details["worst_ratio"] = worst
    if search.vector is None:  # trivial kernel
        details["kernel_trivial"] = True
        margin = min_margin(math.inf, search.rank_margin)
        return Certificate(verdict=Verdict.HOLDS, margin=margin, details=details, **common)
    n = search.vector
    ratio, S = _top_k_ratio(n, k)
    residual = kernel_residual(A, n)
    kernel_tol = max(1e-12, 10 * math.sqrt(A.shape[1]) * search.tau_rel)
    inS = np.zeros(A.shape[1], dtype=bool)
    inS[S] = True
    details.update(S=S, witness_ratio=ratio)
    fields = dict(
        witness={
            "kernel_vector": n,
            "code": np.where(inS, n, 0.0),
            "cheaper_code": np.where(inS, 0.0, -n),
        },
        residual=residual,
        residual_tolerance=kernel_tol,
        details=details,
        **common,
    )
    same = ratio == worst or abs(ratio - worst) <= 1e-9 * max(1.0, abs(worst))
    rerun = min_margin(ratio_margin(kernel_tol, residual), search.rank_margin)
    if residual > kernel_tol or not same:
        reason = "the maximising kernel vector failed its re-run (not in ker A, or another ratio)"
        return Certificate(verdict=Verdict.UNDECIDED, margin=rerun, reason=reason, **fields)
    if worst < 1 - decision_tol:
        margin = min_margin(rerun, ratio_margin(1 - decision_tol, worst))
        return Certificate(verdict=Verdict.HOLDS, margin=margin, **fields)
    if ratio > 1 + decision_tol:
        margin = min_margin(rerun, ratio / (1 + decision_tol))
        return Certificate(verdict=Verdict.VIOLATED, margin=margin, **fields)
    reason = "worst ratio within decision_tol of 1"
    return Certificate(verdict=Verdict.UNDECIDED, margin=rerun, reason=reason, **fields)


def null_space_property(
    A: Any,
    k: Any,
    method: str = "circuits",
    tol: float | None = None,
    decision_tol: float = 1e-9,
    max_subsets: int = MAX_NSP_SUBSETS,
    max_lps: int = MAX_NSP_LPS,
) -> Certificate:
    """Exact NSP(k) for small A: ``worst = max_{n in ker A \\ 0, |S| <= k} |n_S|_1 / |n_{S^c}|_1``.

    *holds* iff ``worst < 1 - decision_tol`` (margin ``(1 - decision_tol) / worst``, with the rank
    decisions' margins and the re-run of the maximising kernel vector, see ``nsp_certificate``);
    *violated* iff the re-run kernel vector n has ratio ``> 1 + decision_tol`` (margin
    ``ratio / (1 + decision_tol)``), with witness n, the k-sparse code ``a = n_S`` that basis
    pursuit fails to recover and the code ``-n_{S^c}`` with the same behaviour and l1 norm
    <= |a|_1; *undecided* within ``decision_tol`` of 1 (use >= 1e-6 with the LP method, whose
    solver tolerance is about 1e-7), when a rank is in the grey band, or when n fails its re-run.

    method "circuits": maximum over the vertices of ker A ∩ B_1 (the normalised circuit vectors),
    ``sum_{s <= rank A + 1} C(p, s)`` small SVDs, at most ``max_subsets`` (2^16). method "lp":
    one LP per |S| = k and sign pattern, ``C(p, k) 2^(k-1)`` LPs, at most ``max_lps`` (4096).
    """
    A = as_matrix("A", A)
    p = A.shape[1]
    k = as_sparsity("k", k, p)
    method = as_choice("method", method, ("circuits", "lp"))
    tol = as_tolerance("tol", tol)
    decision_tol = as_fraction("decision_tol", decision_tol)
    max_subsets = as_count("max_subsets", max_subsets)
    max_lps = as_count("max_lps", max_lps)
    if method == "circuits":
        search = nsp_by_circuits(A, k, tol, max_subsets)
    else:
        search = nsp_by_lps(A, k, tol, max_lps)
    details: dict[str, Any] = {"k": k, "p": p, "method": method, "evaluated": search.count}
    return nsp_certificate(A, k, search, decision_tol, details)
