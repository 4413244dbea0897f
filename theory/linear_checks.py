"""Certificates for the linear theorems T1, T1a, T1b (the class report behind ``steerid class`` is
``theory.class_report``, re-exported here).

Each check re-runs its witnesses through a behaviour map (default ``w -> L w``) and compares
behaviours against the map's own sensitivity (``theory.residual.compare_behaviours``): a member
must move the behaviour by no more than round-off plus what the dropped singular values allow,
while a step of the same length out of the class must move it clearly. Every comparison is a gate
of the verdict (``theory.gates.decide``): a member that moves the behaviour violates the claim.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .certificate import Certificate, CosineRange, ratio_margin
from .class_report import CLASS_CLAIM, class_certificate
from .gates import decide
from .linear import (
    NoTwinError,
    UndecidedRankError,
    cosine_range_of,
    kernel_split,
    ray_cosine,
    ray_member,
    twin_of,
)
from .linear_evidence import (
    RESIDUAL_TOL,
    Behaviour,
    allowed_residual,
    class_fields,
    member_gate,
    prepare,
    split_tolerance,
    t1_evidence,
    undecided_certificate,
    unit,
)
from .validation import InputError, as_sample_size, as_seed

__all__ = [
    "CLASS_CLAIM",
    "RESIDUAL_TOL",
    "allowed_residual",
    "check_t1",
    "check_t1a",
    "check_t1b",
    "class_certificate",
    "undecided_certificate",
]

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
    """Check T1 on (L, v): a member of v + ker L at distance |v| (1 when v = 0) steers identically
    (re-run through ``behaviour``, default ``w -> L w``); a step of the same length along the row
    space does not (else undecided: nothing is shown); ``point`` agrees with the minimum-norm
    least-squares solution of ``L x = L v`` computed independently (scipy.linalg.lstsq at the same
    cut-off)."""
    seed = as_seed("seed", seed)
    Lf, vf, cls, B = prepare(L, v, tol, behaviour, scale)
    if not cls.certified:
        return undecided_certificate("T1", T1_CLAIM, cls)
    ev = t1_evidence(Lf, vf, cls, B, np.random.default_rng(seed))
    verdict, margin, reason = decide(ev.claims, {"rank": cls.decision.margin}, ev.holds_needs)
    return Certificate(
        theorem="T1",
        verdict=verdict,
        claim=T1_CLAIM,
        margin=margin,
        witness={"v": vf, "member": ev.member, "point": cls.point},
        residual=ev.cmp.ratio,
        residual_tolerance=allowed_residual(cls),
        reason=reason,
        details={
            "identifiable": cls.dim == 0,
            "member_change": ev.cmp.inside,
            "row_step_change": ev.cmp.outside,
            "evaluation_noise": ev.cmp.noise,
            "point_vs_lstsq": ev.point_gap,
        },
        **class_fields(cls),
    )


def _norm_of_v(v: np.ndarray) -> float:
    """|v|, refusing a nonzero v whose norm underflows to 0 in float64 (|v|^2 < 2^-1074)."""
    nv = float(np.linalg.norm(v))
    if nv == 0.0 and v.any():
        raise InputError(
            f"v is nonzero (largest entry {float(np.max(np.abs(v))):.3g}) but its norm underflows "
            "to 0 in float64; rescale v"
        )
    return nv


T1A_CLAIM = (
    "k = v - L^+ L v != 0 => v - (|v|^2/|k|^2) k ~ v, is orthogonal to v, has norm |v||v_id|/|k|"
)


def check_t1a(
    L: Any, v: Any, behaviour: Behaviour | None = None, tol: float | None = None, seed: int = 0
) -> Certificate:
    """Check T1a: build the orthogonal twin, re-run it through ``behaviour``, check orthogonality
    and the predicted norm (each a gate: a twin that fails one violates the claim); when k = 0,
    check that no twin is produced and that a member keeps ``<v, w> = |v|^2``."""
    seed = as_seed("seed", seed)
    Lf, vf, cls, B = prepare(L, v, tol, behaviour)
    if not cls.certified:
        return undecided_certificate("T1a", T1A_CLAIM, cls)
    try:
        split = kernel_split(cls)
    except UndecidedRankError as exc:
        return undecided_certificate("T1a", T1A_CLAIM, cls, reason=str(exc))
    needs = {"rank": cls.decision.margin, "zero-or-not split of v": split.margin}
    rng = np.random.default_rng(seed)
    nv = _norm_of_v(vf)
    rel = split_tolerance(cls)
    tiny = np.finfo(float).tiny
    try:
        twin = twin_of(cls)
    except NoTwinError as exc:
        member = vf + max(nv, 1.0) * unit(rng, cls.basis) if cls.dim else vf.copy()
        inner_gap = abs(float(member @ vf) - nv**2) / max(nv * float(np.linalg.norm(member)), tiny)
        verdict, margin, _ = decide({"<v, w> = |v|^2": ratio_margin(rel, inner_gap)}, needs)
        return Certificate(
            theorem="T1a",
            verdict=verdict,
            claim=T1A_CLAIM,
            margin=margin,
            witness={"v": vf, "member": member},
            reason=str(exc),
            details={"inner_product_gap": inner_gap},
            **class_fields(cls),
        )
    predicted = nv * float(np.linalg.norm(split.v_id)) / float(np.linalg.norm(split.k))
    cmp, equivalence = member_gate(B, vf, twin, cls, rng)
    nt = float(np.linalg.norm(twin))
    inner = abs(float(twin @ vf)) / max(nv * max(nt, nv), tiny)
    norm_err = abs(nt - predicted) / max(predicted, nv)
    claims = {
        "twin steers like v": equivalence,
        "twin orthogonal to v": ratio_margin(rel, inner),
        "twin norm |v||v_id|/|k|": ratio_margin(rel, norm_err),
    }
    verdict, margin, reason = decide(claims, needs)
    return Certificate(
        theorem="T1a",
        verdict=verdict,
        claim=T1A_CLAIM,
        margin=margin,
        witness={"v": vf, "twin": twin},
        residual=cmp.ratio,
        residual_tolerance=allowed_residual(cls),
        cosine=float(twin @ vf) / (nt * nv) if nt > 0 else None,
        reason=reason,
        details={
            "scaled_inner_product": inner,
            "twin_norm": nt,
            "predicted_norm": predicted,
            "norm_error": norm_err,
        },
        **class_fields(cls),
    )


T1B_CLAIM = (
    "cos(v, w) over [v] fills (-|k|/|v|, 1], infimum approached along v_id - s k/|k|, "
    "never attained"
)


def check_t1b(
    L: Any,
    v: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    seed: int = 0,
    samples: int = 256,
) -> Certificate:
    """Check T1b: sampled members' cosines lie in the predicted interval (members v + z, z in
    ker L at scales up to 1e3 |v|, so the sample reaches within ~1e-3 of the infimum when
    ker L is a line); along the ray
    ``v_id - s k/|k|`` the measured cosines follow ``ray_cosine`` (decrease and limit proved in
    proofs_check), whose value at s = 1e300 is the infimum within 1e-12 (margin 1e-12 / gap); three
    ray members are re-run through ``behaviour`` and must steer like v. Each gates the verdict."""
    seed = as_seed("seed", seed)
    Lf, vf, cls, B = prepare(L, v, tol, behaviour)
    samples = as_sample_size("samples", samples, Lf.shape[1])
    if not cls.certified:
        return undecided_certificate("T1b", T1B_CLAIM, cls)
    try:
        lo, hi, attained = cosine_range_of(cls)
        split = kernel_split(cls)
    except UndecidedRankError as exc:
        return undecided_certificate("T1b", T1B_CLAIM, cls, reason=str(exc))
    needs = {"rank": cls.decision.margin, "zero-or-not split of v": split.margin}
    rng = np.random.default_rng(seed)
    nv = _norm_of_v(vf)
    rel = split_tolerance(cls)
    details: dict[str, Any] = {}
    witness = {"v": vf}
    claims: dict[str, float] = {}
    residual = None
    if cls.dim:
        z = rng.standard_normal((samples, cls.dim)) * np.geomspace(1e-2, 1e3, samples)[:, None] * nv
        members = vf + z @ cls.basis.T
        cos = members @ vf / (np.linalg.norm(members, axis=1) * nv)
        claims["sampled cosines <= sup"] = ratio_margin(rel, max(0.0, float(cos.max()) - hi))
        claims["sampled cosines >= inf"] = ratio_margin(rel, max(0.0, lo - float(cos.min())))
        details["sampled_min_cosine"] = float(cos.min())
    if not split.k_zero and not split.vid_zero:
        a, b = float(np.linalg.norm(split.v_id)), float(np.linalg.norm(split.k))
        s = nv * np.geomspace(1e-2, 1e6, 50)
        ray = np.stack([ray_member(cls, si) for si in s])
        measured = ray @ vf / (np.linalg.norm(ray, axis=1) * nv)
        curve_gap = float(np.max(np.abs(measured - ray_cosine(a, b, s))))
        limit_gap = abs(float(ray_cosine(a, b, 1e300)) - lo)
        reruns = [member_gate(B, vf, w, cls, rng) for w in ray[[0, len(ray) // 2, -1]]]
        residual = max(cmp.ratio for cmp, _ in reruns)
        claims["ray members steer like v"] = min(m for _, m in reruns)
        claims["ray follows ray_cosine"] = ratio_margin(10 * rel, curve_gap)
        claims["ray tends to the infimum"] = ratio_margin(1e-12, limit_gap)
        details.update(ray_curve_gap=curve_gap, ray_limit_gap=limit_gap)
        witness["ray_far_member"] = ray[-1]
    verdict, margin, reason = decide(claims, needs)
    return Certificate(
        theorem="T1b",
        verdict=verdict,
        claim=T1B_CLAIM,
        margin=margin,
        witness=witness,
        residual=residual,
        residual_tolerance=allowed_residual(cls) if residual is not None else None,
        cosine_range=CosineRange(lo, hi, attained),
        reason=reason,
        details=details,
        **class_fields(cls),
    )
