"""Evidence shared by the linear certificates (T1, T1a, T1b, the class report, T2c, T4, T6): the
typed fields of a class, the undecided certificate of an uncertified rank, and the gates that
re-run a member through a behaviour map against a step of the same length out of the class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from .certificate import Certificate, Verdict, ratio_margin
from .linear import EPS, EquivalenceClass, _numeric_class, split_error
from .residual import BehaviourComparison, compare_behaviours
from .validation import InputError, as_matrix, as_real, as_tolerance, as_vector

Behaviour = Callable[[np.ndarray], Any]

RESIDUAL_TOL = 1e-10


def class_fields(cls: EquivalenceClass) -> dict[str, Any]:
    """The typed certificate fields a numeric class fills: dim, rank, d, tolerance, spectrum."""
    return dict(
        dim=cls.dim,
        rank=cls.rank,
        d=cls.d,
        tolerance=cls.decision.tolerance,
        singular_values=cls.decision.singular_values,
        ambiguous=cls.decision.ambiguous,
    )


def undecided_certificate(
    theorem: str, claim: str, cls: EquivalenceClass, matrix: str = "L", reason: str | None = None
) -> Certificate:
    """The certificate of a check whose rank decision on ``matrix`` was not certified (or whose
    zero-or-not split of v fell in its grey band: ``reason`` says so)."""
    return Certificate(
        theorem=theorem,
        verdict=Verdict.UNDECIDED,
        claim=claim,
        margin=cls.decision.margin,
        reason=reason or f"rank of {matrix} not certified: singular values in the grey band",
        details={"band_top": cls.decision.band_top},
        **class_fields(cls),
    )


def allowed_residual(cls: EquivalenceClass) -> float:
    """How much a member may move the behaviour, in units of the map's sensitivity: round-off
    (1e-10), or, when the rank was decided at a tolerance tau, what the dropped singular values
    (<= tau) allow relative to the largest: ``10 tau / s_1``."""
    s = cls.decision.singular_values
    s1 = float(s[0]) if s.size and s[0] > 0 else 1.0
    return max(RESIDUAL_TOL, 10.0 * cls.decision.tolerance / s1)


def prepare(L: Any, v: Any, tol: Any, behaviour: Behaviour | None, scale: Any = None):
    """(L, v, class, behaviour) with every argument checked; behaviour defaults to ``w -> L w``."""
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    tol = as_tolerance("tol", tol)
    scale = None if scale is None else as_real("scale", scale, low=0.0)
    if behaviour is not None and not callable(behaviour):
        raise InputError(
            f"behaviour must be a callable v -> B(v) or None, got {type(behaviour).__name__}"
        )
    cls = _numeric_class(Lf, vf, tol, scale)
    B = behaviour if behaviour is not None else (lambda w: Lf @ w)
    return Lf, vf, cls, B


def unit(rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
    """A random unit vector of span(basis)."""
    u = basis @ rng.standard_normal(basis.shape[1])
    return u / np.linalg.norm(u)


def row_step(cls: EquivalenceClass, length: float, rng: np.random.Generator) -> np.ndarray | None:
    """A step of the given length out of the class (along the row space), None when rank L = 0."""
    length = as_real("length", length, low=0.0)
    return length * unit(rng, cls.row_basis) if cls.rank else None


def split_tolerance(cls: EquivalenceClass) -> float:
    """Relative round-off of quantities built from the split (orthogonality, norms): 1e3 times
    the Wedin bound ``split_error``, at least 1e3 d eps."""
    return 1e3 * max(split_error(cls), cls.d * EPS)


def member_gate(
    B: Behaviour,
    v: np.ndarray,
    w: np.ndarray,
    cls: EquivalenceClass,
    rng: np.random.Generator,
    length: float | None = None,
) -> tuple[BehaviourComparison, float]:
    """Re-run the claimed member w through B against a row-space step of ``length`` (default
    |w - v|); the margin is >= 1 iff w steers like v
    (``BehaviourComparison.equivalent(allowed_residual(cls))``)."""
    length = float(np.linalg.norm(w - v)) if length is None else as_real("length", length, low=0.0)
    cmp = compare_behaviours(B, v, w, row_step(cls, length, rng))
    return cmp, cmp.equivalence_margin(allowed_residual(cls))


@dataclasses.dataclass(frozen=True)
class T1Evidence:
    """A member re-run through B, the point against least squares, and their gates."""

    member: np.ndarray
    cmp: BehaviourComparison
    point_gap: float
    claims: dict[str, float]
    holds_needs: dict[str, float]


def t1_evidence(
    L: np.ndarray,
    v: np.ndarray,
    cls: EquivalenceClass,
    B: Behaviour,
    rng: np.random.Generator,
) -> T1Evidence:
    """T1's gates: a member at distance |v| (1 when v = 0) steers like v; ``point`` is the
    minimum-norm least-squares solution of ``L x = L v`` (scipy.linalg.lstsq at the same cut-off);
    for a holds verdict, the row-space step must be seen above round-off."""
    nv = float(np.linalg.norm(v))
    length = nv if nv > 0 else 1.0
    member = v + length * unit(rng, cls.basis) if cls.dim else v.copy()
    cmp, equivalence = member_gate(B, v, member, cls, rng, length)
    s = cls.decision.singular_values
    lstsq_point = (
        scipy.linalg.lstsq(L, L @ v, cond=cls.decision.tolerance / s[0])[0]
        if cls.rank
        else np.zeros_like(v)
    )
    point_gap = float(np.linalg.norm(cls.point - lstsq_point)) / max(nv, np.finfo(float).tiny)
    claims = {
        "member steers like v": equivalence,
        "point = least-squares solution": ratio_margin(lstsq_tolerance(cls, L.shape[0]), point_gap),
    }
    holds_needs = {"row-space step seen": cmp.separation_margin()} if cls.rank else {}
    return T1Evidence(member, cmp, point_gap, claims, holds_needs)


def lstsq_tolerance(cls: EquivalenceClass, rows: int) -> float:
    """Relative round-off of a least-squares solve of an (rows, d) system ``L x = L v`` (T1's
    ``point``, T6's recovered v): its forward error is about ``max(M, d) eps s_1 / s_r`` (M = rows,
    s_r the smallest retained singular value), also when the split is trivial (rank d, where
    ``split_error`` is 0); ``1e3`` times that, and at least ``1e3 d eps``."""
    s, r = cls.decision.singular_values, cls.rank
    cond = max(rows, cls.d) * EPS * float(s[0] / s[r - 1]) if r else 0.0
    return 1e3 * max(cond, cls.d * EPS)
