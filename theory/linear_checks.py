"""Certificates for the linear theorems T1, T1a, T1b, and the class report behind ``steerid class``.

Each check re-runs its witnesses through a behaviour map (default ``w -> L w``) and compares
behaviours against the map's own sensitivity (``theory.residual.compare_behaviours``): a member
must move the behaviour by no more than round-off plus what the dropped singular values allow,
while a step of the same length out of the class must move it clearly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from .certificate import Certificate, Verdict
from .linear import (
    EPS,
    EquivalenceClass,
    NoTwinError,
    UndecidedRankError,
    _numeric_class,
    cosine_range_of,
    kernel_split,
    ray_cosine,
    ray_member,
    split_error,
    twin_of,
)
from .residual import compare_behaviours
from .validation import as_matrix, as_tolerance, as_vector

Behaviour = Callable[[np.ndarray], Any]

RESIDUAL_TOL = 1e-10


def undecided_certificate(
    theorem: str, claim: str, cls: EquivalenceClass, matrix: str = "L", reason: str | None = None
) -> Certificate:
    """The certificate of a check whose rank decision on ``matrix`` was not certified."""
    return Certificate(
        theorem=theorem,
        verdict=Verdict.UNDECIDED,
        claim=claim,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        details={
            "reason": reason or f"rank of {matrix} not certified: singular values in the grey band",
            **cls.decision.summary(),
        },
    )


def allowed_residual(cls: EquivalenceClass) -> float:
    """How much a member may move the behaviour, in units of the map's sensitivity: round-off
    (1e-10), or, when the rank was decided at a tolerance tau, what the dropped singular values
    (<= tau) allow relative to the largest: ``10 tau / s_1``."""
    s = cls.decision.singular_values
    s1 = float(s[0]) if s.size and s[0] > 0 else 1.0
    return max(RESIDUAL_TOL, 10.0 * cls.decision.tolerance / s1)


def _prepare(L: Any, v: Any, tol: Any, behaviour: Behaviour | None, scale: float | None = None):
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    cls = _numeric_class(Lf, vf, as_tolerance("tol", tol), scale)
    if behaviour is not None and not callable(behaviour):
        raise ValueError(
            f"behaviour must be a callable v -> B(v) or None, got {type(behaviour).__name__}"
        )
    B = behaviour if behaviour is not None else (lambda w: Lf @ w)
    return Lf, vf, cls, B


def _unit(rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
    z = rng.standard_normal(basis.shape[1])
    u = basis @ z
    return u / np.linalg.norm(u)


def _row_step(cls: EquivalenceClass, length: float, rng: np.random.Generator) -> np.ndarray | None:
    """A step of the given length out of the class (along the row space), None when rank L = 0."""
    return length * _unit(rng, cls.row_basis) if cls.rank else None


def _split_tolerance(cls: EquivalenceClass) -> float:
    """Relative round-off of quantities built from the split (orthogonality, norms)."""
    return 1e3 * max(split_error(cls), cls.d * EPS)


T1_CLAIM = "[v] = v + ker L, dim [v] = d - rank L, minimum-norm member L^+ L v"


def check_t1(
    L: Any,
    v: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    seed: int = 0,
    *,
    scale: float | None = None,
) -> Certificate:
    """Check T1 on (L, v): a member of v + ker L at distance |v| (1 when v = 0) steers identically (re-run through ``behaviour``, default ``w -> L w``); a step of the same length along
    the row space does not; ``point`` agrees with the minimum-norm least-squares solution of
    ``L x = L v`` computed independently (scipy.linalg.lstsq at the same cut-off)."""
    Lf, vf, cls, B = _prepare(L, v, tol, behaviour, scale)
    if not cls.certified:
        return undecided_certificate("T1", T1_CLAIM, cls)
    rng = np.random.default_rng(seed)
    nv = float(np.linalg.norm(vf))
    length = nv if nv > 0 else 1.0
    member = vf + length * _unit(rng, cls.basis) if cls.dim else vf.copy()
    cmp = compare_behaviours(B, vf, member, _row_step(cls, length, rng))
    s = cls.decision.singular_values
    lstsq_point = (
        scipy.linalg.lstsq(Lf, Lf @ vf, cond=cls.decision.tolerance / s[0])[0]
        if cls.rank
        else np.zeros_like(vf)
    )
    point_gap = float(np.linalg.norm(cls.point - lstsq_point)) / max(nv, np.finfo(float).tiny)
    ok = cmp.equivalent(allowed_residual(cls)) and point_gap <= _split_tolerance(cls)
    verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    if ok and cls.rank and not cmp.separated():
        verdict = (
            Verdict.UNDECIDED
        )  # a step out of the class is lost in round-off: nothing is shown
    return Certificate(
        theorem="T1",
        verdict=verdict,
        claim=T1_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        witness={"v": vf, "member": member, "point": cls.point},
        details={
            "identifiable": cls.dim == 0,
            "member_change": cmp.inside,
            "row_step_change": cmp.outside,
            "evaluation_noise": cmp.noise,
            "member_residual": cmp.ratio,
            "point_vs_lstsq": point_gap,
            "singular_values": cls.decision.singular_values,
        },
    )


T1A_CLAIM = (
    "k = v - L^+ L v != 0 => v - (|v|^2/|k|^2) k ~ v, is orthogonal to v, has norm |v||v_id|/|k|"
)


def check_t1a(
    L: Any, v: Any, behaviour: Behaviour | None = None, tol: float | None = None, seed: int = 0
) -> Certificate:
    """Check T1a: build the orthogonal twin, re-run it through ``behaviour``, check orthogonality and
    the predicted norm; when k = 0, check that no twin is produced and that members keep
    ``<v, w> = |v|^2``."""
    Lf, vf, cls, B = _prepare(L, v, tol, behaviour)
    if not cls.certified:
        return undecided_certificate("T1a", T1A_CLAIM, cls)
    common = dict(
        theorem="T1a",
        claim=T1A_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
    )
    rng = np.random.default_rng(seed)
    nv = float(np.linalg.norm(vf))
    rel = _split_tolerance(cls)
    try:
        twin = twin_of(cls)
    except UndecidedRankError as exc:
        return undecided_certificate("T1a", T1A_CLAIM, cls, reason=str(exc))
    except NoTwinError as exc:
        member = vf + max(nv, 1.0) * _unit(rng, cls.basis) if cls.dim else vf.copy()
        inner_gap = abs(float(member @ vf) - nv**2) / max(
            nv * float(np.linalg.norm(member)), np.finfo(float).tiny
        )
        ok = inner_gap <= rel
        return Certificate(
            verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
            witness={"v": vf, "member": member},
            details={"twin": None, "reason": str(exc), "inner_product_gap": inner_gap},
            **common,
        )
    split = kernel_split(cls)
    predicted = nv * float(np.linalg.norm(split.v_id)) / float(np.linalg.norm(split.k))
    length = float(np.linalg.norm(twin - vf))
    cmp = compare_behaviours(B, vf, twin, _row_step(cls, length, rng))
    nt = float(np.linalg.norm(twin))
    cos = abs(float(twin @ vf)) / max(nv * max(nt, nv), np.finfo(float).tiny)
    norm_err = abs(nt - predicted) / max(predicted, nv)
    ok = cmp.equivalent(allowed_residual(cls)) and cos <= rel and norm_err <= rel
    return Certificate(
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        witness={"v": vf, "twin": twin},
        details={
            "behaviour_residual": cmp.ratio,
            "abs_cosine": cos,
            "twin_norm": nt,
            "predicted_norm": predicted,
            "norm_error": norm_err,
        },
        **common,
    )


T1B_CLAIM = "cos(v, w) over [v] fills (-|k|/|v|, 1], infimum approached along v_id - s k/|k|, never attained"


def check_t1b(
    L: Any,
    v: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    seed: int = 0,
    samples: int = 256,
) -> Certificate:
    """Check T1b: sampled members' cosines lie in the predicted interval; along the ray
    ``v_id - s k/|k|`` the measured cosines follow ``ray_cosine`` (whose strict decrease and limit
    are proved exactly in proofs_check); ray members are re-run through ``behaviour``."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"samples must be a positive int, got {samples!r}")
    Lf, vf, cls, B = _prepare(L, v, tol, behaviour)
    if not cls.certified:
        return undecided_certificate("T1b", T1B_CLAIM, cls)
    try:
        lo, hi, attained = cosine_range_of(cls)
        split = kernel_split(cls)
    except UndecidedRankError as exc:
        return undecided_certificate("T1b", T1B_CLAIM, cls, reason=str(exc))
    rng = np.random.default_rng(seed)
    nv = float(np.linalg.norm(vf))
    rel = _split_tolerance(cls)
    details: dict[str, Any] = {"inf": lo, "sup": hi, "inf_attained": attained}
    witness = {"v": vf}
    ok = True
    if cls.dim:
        z = rng.standard_normal((samples, cls.dim)) * np.geomspace(1e-2, 1e3, samples)[:, None] * nv
        members = vf + z @ cls.basis.T
        cos = members @ vf / (np.linalg.norm(members, axis=1) * nv)
        below = lo - rel if attained else lo - rel
        ok &= bool(np.all(cos <= hi + rel) and np.all(cos >= below))
        details["sampled_min_cosine"] = float(cos.min())
    if not split.k_zero and not split.vid_zero:
        a, b = float(np.linalg.norm(split.v_id)), float(np.linalg.norm(split.k))
        s = nv * np.geomspace(1e-2, 1e6, 50)
        ray = np.stack([ray_member(cls, si) for si in s])
        measured = ray @ vf / (np.linalg.norm(ray, axis=1) * nv)
        curve_gap = float(np.max(np.abs(measured - ray_cosine(a, b, s))))
        limit_gap = abs(float(ray_cosine(a, b, 1e300)) - lo)
        residual = 0.0
        for w in ray[[0, len(ray) // 2, -1]]:
            length = float(np.linalg.norm(w - vf))
            cmp = compare_behaviours(B, vf, w, _row_step(cls, length, rng))
            residual = max(residual, cmp.ratio)
            ok &= cmp.equivalent(allowed_residual(cls))
        details.update(ray_curve_gap=curve_gap, ray_limit_gap=limit_gap, ray_residual=residual)
        witness["ray_far_member"] = ray[-1]
        ok &= curve_gap <= rel * 10 and limit_gap <= 1e-12
    return Certificate(
        theorem="T1b",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=T1B_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        witness=witness,
        details=details,
    )


CLASS_CLAIM = "[v] = v + ker L: every member steers like v, and nothing else does"


def class_certificate(
    L: Any,
    v: Any,
    tol: float | None = None,
    theorem: str = "T1",
    claim: str = CLASS_CLAIM,
    scale: float | None = None,
) -> Certificate:
    """The class of v under readout L as a certificate: witness ``point``, ``basis`` (orthonormal,
    (d, k)) and ``orthogonal_twin`` when one exists; details hold the cosine range (T1b) and, when no
    twin exists, the reason. Verdict: holds when the rank is certified, a member and the twin steer
    like v through L while a row-space step does not, and ``point`` matches an independent
    least-squares solution (``check_t1``); undecided when the rank is not certified."""
    Lf, vf, cls, _ = _prepare(L, v, tol, None, scale)
    witness: dict[str, Any] = {"point": cls.point, "basis": cls.basis}
    details: dict[str, Any] = {"d": cls.d, **cls.decision.summary()}
    common = dict(
        theorem=theorem,
        claim=claim,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
    )
    if not cls.certified:
        details.update(orthogonal_twin=None, twin_reason="rank undecided", cosine_range=None)
        return Certificate(verdict=Verdict.UNDECIDED, witness=witness, details=details, **common)
    try:
        twin = twin_of(cls)
        witness["orthogonal_twin"] = twin
        details["twin_reason"] = None
    except (NoTwinError, UndecidedRankError) as exc:
        twin = None
        details["twin_reason"] = str(exc)
    try:
        lo, hi, attained = cosine_range_of(cls)
        details["cosine_range"] = {"inf": lo, "sup": hi, "inf_attained": attained}
    except (ValueError, UndecidedRankError) as exc:  # v = 0, or the split is in the grey band
        details["cosine_range"] = None
        details["cosine_range_reason"] = str(exc)
    t1 = check_t1(Lf, vf, tol=tol, scale=scale)
    ok = t1.verdict is Verdict.HOLDS
    if twin is not None:
        rng = np.random.default_rng(1)
        cmp = compare_behaviours(
            lambda w: Lf @ w, vf, twin, _row_step(cls, float(np.linalg.norm(twin - vf)), rng)
        )
        details["twin_residual"] = cmp.ratio
        ok &= cmp.equivalent(allowed_residual(cls))
    details.update(
        member_residual=t1.details["member_residual"], point_vs_lstsq=t1.details["point_vs_lstsq"]
    )
    return Certificate(
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        witness=witness,
        details=details,
        **common,
    )
