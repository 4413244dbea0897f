"""Checks of T6 on linear readouts: exact stacked ranks and Gaussian environments (the phase
diagram against the ceil(d/r) prediction is in ``proofs_check.figures.environments_linear``)."""

from __future__ import annotations

import numpy as np
import sympy

from theory.certificate import Certificate, Verdict, min_margin
from theory.environments import check_t6, environments_needed, stack_readouts

from ..registry import EXACT, NUMERIC, check


@check("T6", EXACT, "stacked rational readouts: rank grows to d, common null vector exact before")
def exact_t6(seed: int = 0, claimed_rank=lambda E: E) -> Certificate:
    """d = 4, environments of rank 1 (rational rows): after E < 4 environments an exact common null
    vector u satisfies L_e u = 0 for every e; at E = 4 (rows independent) the stacked rank is 4."""
    rows = [
        sympy.Matrix([[1, 2, 0, 1]]),
        sympy.Matrix([[0, 1, 1, 0]]),
        sympy.Matrix([[2, 0, 1, 1]]),
        sympy.Matrix([[1, 1, 1, 3]]),
    ]
    evidence, ok = [], True
    for E in range(1, 5):
        stack = stack_readouts(rows[:E])
        null = stack.nullspace()
        common = all((R * u).is_zero_matrix for R in rows[:E] for u in null)
        ok &= stack.rank() == claimed_rank(E) and len(null) == 4 - claimed_rank(E) and common
        evidence.append(
            {"E": E, "stacked_rank": stack.rank(), "common_null": [str(list(u)) for u in null]}
        )
    return Certificate(
        theorem="T6",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="class dimension d - rank of the stack, exact; identifiable at E = d / r",
        dim=0,
        rank=4,
        details={"evidence": evidence},
    )


@check(
    "T6",
    NUMERIC,
    "Gaussian readouts d=12, r=3: not identifiable at E=3 (witness), identifiable at E=4",
)
def numeric_t6(seed: int = 0) -> Certificate:
    """check_t6 at E = ceil(d/r) - 1 environments must be violated (its common null direction
    re-verified environment by environment inside check_t6, and once more here) and at E =
    ceil(d/r) hold (v recovered). undecided if either sub-check is."""
    rng = np.random.default_rng(seed)
    d, r = 12, 3
    need = environments_needed(d, r)
    envs = [rng.standard_normal((5, r)) @ rng.standard_normal((r, d)) for _ in range(need)]
    v = rng.standard_normal(d)
    short = check_t6(envs[: need - 1], v)
    full = check_t6(envs, v)
    u = short.witness.get("common_null_direction")
    reverified = u is not None and all(
        np.allclose(R @ (v + u), R @ v, atol=1e-10) for R in envs[: need - 1]
    )
    margin = min_margin(short.margin, full.margin)
    if Verdict.UNDECIDED in (short.verdict, full.verdict):
        verdict = Verdict.UNDECIDED
    else:
        ok = short.verdict is Verdict.VIOLATED and reverified and full.verdict is Verdict.HOLDS
        verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    return Certificate(
        theorem="T6",
        verdict=verdict,
        claim=f"identifiable exactly from ceil(d/r) = {need} generic environments",
        dim=full.dim,
        rank=full.rank,
        d=d,
        margin=margin,
        tolerance=full.tolerance,
        singular_values=full.singular_values,
        ambiguous=full.ambiguous,
        residual=full.residual,
        residual_tolerance=full.residual_tolerance,
        reason="; ".join(x for x in (short.reason, full.reason) if x),
        witness={
            "common_null_direction_at_E_minus_1": u if u is not None else np.zeros(d),
            "recovered_at_E": full.witness["recovered"],
        },
        details={
            "needed": need,
            "dim_at_E_minus_1": short.dim,
            "witness_reverified": reverified,
        },
    )
