"""Checks of T6 on linear readouts: exact stacked ranks, Gaussian environments, and the phase
diagram of identifiability against the ceil(d/r) prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy

from theory.certificate import Certificate, Verdict
from theory.environments import check_t6, environments_needed, identifiable_fraction, stack_readouts

from ..figures import _save, plt
from ..registry import EXACT, NUMERIC, check
from ..report import figure


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
    ok = (
        short.verdict is Verdict.VIOLATED
        and reverified
        and full.verdict is Verdict.HOLDS
        and full.details["recovery_error"] < 1e-10
    )
    return Certificate(
        theorem="T6",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=f"identifiable exactly from ceil(d/r) = {need} generic environments",
        dim=full.dim,
        rank=full.rank,
        margin=full.margin,
        tolerance=full.tolerance,
        witness={
            "common_null_direction_at_E_minus_1": u if u is not None else np.zeros(d),
            "recovered_at_E": full.witness["recovered"],
        },
        details={
            "needed": need,
            "dim_at_E_minus_1": short.dim,
            "recovery_error_at_E": full.details["recovery_error"],
            "witness_reverified": reverified,
        },
    )


def phase_diagram(d: int, ranks, max_env: int, trials: int, seed: int) -> np.ndarray:
    """fraction[i, j]: share of Gaussian draws of (j + 1) environments of rank ranks[i] that identify v."""
    rng = np.random.default_rng(seed)
    return np.array(
        [
            [identifiable_fraction(d, r, E, trials, rng) for E in range(1, max_env + 1)]
            for r in ranks
        ]
    )


@figure("T6")
def t6_phase_diagram(seed: int, out: Path):
    d, ranks, max_env, trials = 12, list(range(1, 13)), 13, 8
    frac = phase_diagram(d, ranks, max_env, trials, seed)
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    im = ax.imshow(
        frac,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0.5, max_env + 0.5, ranks[0] - 0.5, ranks[-1] + 0.5),
    )
    fig.colorbar(im, ax=ax, label="fraction identifiable")
    xs, ys = [], []
    for r in ranks:  # left edge of the first predicted-identifiable cell in each row
        x = environments_needed(d, r) - 0.5
        xs += [x, x]
        ys += [r - 0.5, r + 0.5]
    ax.plot(xs, ys, color="w", lw=2, ls="--", label=r"prediction $E = \lceil d/r \rceil$")
    ax.set_xlabel("number of environments E")
    ax.set_ylabel("readout rank r per environment")
    ax.set_title(f"T6: identifiability from E Gaussian environments (d = {d}, {trials} draws)")
    ax.legend(loc="upper right", fontsize=8, facecolor="0.35", labelcolor="w")
    path = _save(fig, out / "t6_phase_diagram.png")
    return [
        (
            path,
            f"Fraction of {trials} draws of E Gaussian readouts of rank r (d = {d}) whose stack has "
            "rank d: the boundary sits on E = ceil(d/r) (dashed).",
        )
    ]
