"""Verdicts from gates: each gate is a margin m, evidence over threshold oriented so that m >= 1
means the gate is cleared (``theory.certificate``'s one orientation).

``needs`` must clear for any decision (a certified rank); ``claims`` are what the theorem asserts of
the witness (clear: holds; any not clear: violated, margin 1/m of the clearest failure);
``holds_needs`` must clear for a holds verdict only (a step out of the class that is visible above
round-off: without it a passing member shows nothing). Anything short: undecided.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .certificate import Verdict


def over(evidence: float, threshold: float) -> float:
    """``evidence / threshold`` for a 'big is good' quantity: >= 1 iff evidence >= threshold;
    infinite when threshold is 0 and evidence is not, 0 when both are 0 (nothing was seen)."""
    if evidence < 0 or threshold < 0:
        raise ValueError(f"over needs non-negative numbers, got {evidence!r}, {threshold!r}")
    if threshold == 0:
        return math.inf if evidence > 0 else 0.0
    return evidence / threshold


def inverse(m: float) -> float:
    """1/m: the margin by which a failed gate (m < 1) failed (infinite for m = 0)."""
    return math.inf if m == 0 else 1.0 / m


def decide(
    claims: Mapping[str, float],
    needs: Mapping[str, float] | None = None,
    holds_needs: Mapping[str, float] | None = None,
) -> tuple[Verdict, float | None, str]:
    """(verdict, margin, reason) from the gates' margins; reason names the gates that were short."""
    needs, holds_needs = dict(needs or {}), dict(holds_needs or {})
    for name, m in {**needs, **claims, **holds_needs}.items():
        if math.isnan(m) or m < 0:
            raise ValueError(f"gate {name!r} has margin {m!r}; margins are >= 0")
    base = min(needs.values(), default=math.inf)
    short = [n for n, m in needs.items() if m < 1]
    if short:
        return Verdict.UNDECIDED, base, f"not cleared: {', '.join(short)}"
    failed = {n: m for n, m in claims.items() if m < 1}
    if failed:
        worst = max(inverse(m) for m in failed.values())
        return Verdict.VIOLATED, min(base, worst), f"failed: {', '.join(failed)}"
    passed = min(base, min(claims.values(), default=math.inf))
    short = [n for n, m in holds_needs.items() if m < 1]
    if short:
        margin = min(passed, min(holds_needs.values()))
        return Verdict.UNDECIDED, margin, f"not cleared: {', '.join(short)}"
    return Verdict.HOLDS, min(passed, min(holds_needs.values(), default=math.inf)), ""


def refute(gates: Mapping[str, float]) -> tuple[Verdict, float | None, str]:
    """(verdict, margin, reason) of a counterexample: violated iff every gate it rests on clears
    (its rank decision, its re-runs); otherwise undecided, naming the gates that were short."""
    for name, m in gates.items():
        if math.isnan(m) or m < 0:
            raise ValueError(f"gate {name!r} has margin {m!r}; margins are >= 0")
    margin = min(gates.values(), default=math.inf)
    short = [n for n, m in gates.items() if m < 1]
    if short:
        return Verdict.UNDECIDED, margin, f"counterexample not verified: {', '.join(short)}"
    return Verdict.VIOLATED, margin, ""
