"""T6 on the toy transformers: environments are prompt distributions over disjoint token families;
stacking their Jacobians (summing Fisher information) shrinks the local class by N|A| per
environment, down to the all-ones direction on the LayerNorm model and to {v} on the RMSNorm
model."""

from __future__ import annotations

import functools

from theory.certificate import Certificate, Verdict, min_margin, verdict_from

from ..model_checks import environments_certificate
from ..registry import NUMERIC, check

# 4 prompts x 2 strengths = 8 trait rows per environment; d = 32
LAYER, N_PROMPTS, N_FAMILIES = 1, 4, 5


@functools.lru_cache(maxsize=32)
def env_certificate(name: str, n_envs: int, seed: int) -> Certificate:
    return environments_certificate(
        name, LAYER, n_envs, "trait", N_PROMPTS, seed, n_families=N_FAMILIES
    )


@check(
    "T6",
    NUMERIC,
    "tiny-ln / tiny-rms, trait channel, token-family environments: class dim 24, 16, 8, then 1 / 0",
)
def numeric_t6_transformer(seed: int = 0) -> Certificate:
    """Prediction: each environment adds N|A| = 8 independent rows, so the class dimension is
    max(32 - 8E, floor) with floor 1 for LayerNorm (the all-ones direction, re-run through the model
    in every environment) and 0 for RMSNorm (identifiable from E = 4 = ceil(32/8))."""
    rows, ok = [], True
    for name, floor in (("tiny-ln", 1), ("tiny-rms", 0)):
        dims = [env_certificate(name, E, seed).dim for E in range(1, N_FAMILIES + 1)]
        predicted = [max(32 - 8 * E, floor) for E in range(1, N_FAMILIES + 1)]
        last = env_certificate(name, N_FAMILIES, seed)
        good = dims == predicted
        if floor:
            good &= (
                last.symmetries == ("layernorm-mean",)
                and last.residual is not None
                and last.residual < 1e-6
            )
        else:
            good &= last.verdict is Verdict.HOLDS
        ok &= good
        rows.append(
            {
                "model": name,
                "dims": dims,
                "predicted": predicted,
                "symmetries": list(last.symmetries),
            }
        )
    ln = env_certificate("tiny-ln", N_FAMILIES, seed)
    used = [env_certificate(n, E, seed) for n in ("tiny-ln", "tiny-rms") for E in range(1, 6)]
    margin = min_margin(*(c.margin for c in used))
    return Certificate(
        theorem="T6",
        verdict=verdict_from(ok, margin),
        claim=(
            "adding environments shrinks the local class to the symmetry (LayerNorm) "
            "or {v} (RMSNorm)"
        ),
        dim=ln.dim,
        rank=ln.rank,
        margin=margin,
        tolerance=ln.tolerance,
        residual=ln.residual,
        residual_tolerance=ln.residual_tolerance,
        witness={"common_null_direction_tiny_ln": ln.witness["common_null_direction"]},
        details={
            "by_model": rows,
            "witness_rerun_ratio_tiny_ln": ln.residual,
        },
    )
