"""The class of v under a readout L as one certificate: the report behind ``steerid class``.

Witness ``point`` (minimum-norm member), ``basis`` (orthonormal (d, k) basis of ker L) and
``orthogonal_twin`` (T1a) when one exists; typed fields: d, the spectrum and its grey band, the
cosine range (T1b), the twin's cosine to v, and in ``reason`` why there is no twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .certificate import Certificate, CosineRange, Verdict
from .gates import decide
from .linear import NoTwinError, UndecidedRankError, cosine_range_of, twin_of
from .linear_evidence import allowed_residual, class_fields, member_gate, prepare, t1_evidence
from .validation import InputError

CLASS_CLAIM = "[v] = v + ker L: every member steers like v, and nothing else does"


def class_certificate(
    L: Any,
    v: Any,
    tol: float | None = None,
    theorem: str = "T1",
    claim: str = CLASS_CLAIM,
    scale: float | None = None,
) -> Certificate:
    """The class of v under readout L. Verdict: holds when the rank is certified and every gate
    clears: a member and the twin steer like v through L, ``point`` matches an independent
    least-squares solution (T1's gates), and a row-space step is seen above round-off; violated
    when a member or the twin moves ``L w``; undecided when the rank is not certified or the
    row-space step is lost in round-off."""
    if not isinstance(theorem, str) or not isinstance(claim, str):
        raise InputError(f"theorem and claim must be strings, got {theorem!r}, {claim!r}")
    Lf, vf, cls, B = prepare(L, v, tol, None, scale)
    witness: dict[str, Any] = {"point": cls.point, "basis": cls.basis}
    common = dict(theorem=theorem, claim=claim, witness=witness, **class_fields(cls))
    if not cls.certified:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            margin=cls.decision.margin,
            reason="rank not certified: singular values in the grey band, so no twin either",
            details={"band_top": cls.decision.band_top},
            **common,
        )
    details: dict[str, Any] = {"band_top": cls.decision.band_top}
    twin_reason, cosine = "", None
    try:
        twin = twin_of(cls)
    except (NoTwinError, UndecidedRankError) as exc:
        twin, twin_reason = None, str(exc)
    cosine_range = None
    try:
        cosine_range = CosineRange(*cosine_range_of(cls))
    except (ValueError, UndecidedRankError) as exc:  # v = 0, or the split is in the grey band
        details["cosine_range_reason"] = str(exc)
    rng = np.random.default_rng(0)
    t1 = t1_evidence(Lf, vf, cls, B, rng)
    claims = dict(t1.claims)
    if twin is not None:
        witness["orthogonal_twin"] = twin
        cmp, claims["twin steers like v"] = member_gate(B, vf, twin, cls, rng)
        details["twin_residual"] = cmp.ratio
        nt, nv = float(np.linalg.norm(twin)), float(np.linalg.norm(vf))
        cosine = float(twin @ vf) / (nt * nv) if nt > 0 else None
    verdict, margin, gate_reason = decide(claims, {"rank": cls.decision.margin}, t1.holds_needs)
    details.update(point_vs_lstsq=t1.point_gap)
    return Certificate(
        verdict=verdict,
        margin=margin,
        residual=t1.cmp.ratio,
        residual_tolerance=allowed_residual(cls),
        cosine=cosine,
        cosine_range=cosine_range,
        reason="; ".join(r for r in (twin_reason, gate_reason) if r),
        details=details,
        **common,
    )
