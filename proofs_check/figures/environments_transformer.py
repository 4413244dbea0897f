"""T6 figure on the toy transformers: local class dimension against the number of environments."""

from __future__ import annotations

from pathlib import Path

from ..checks.environments_transformer import N_FAMILIES, env_certificate
from . import figure, stacked_dimension_figure


@figure("T6")
def t6_environments(seed: int, out: Path):
    E = list(range(1, N_FAMILIES + 1))
    series = {
        name: ([env_certificate(name, e, seed).dim for e in E], style)
        for name, style in (("tiny-ln", "o-"), ("tiny-rms", "^-"))
    }
    path = stacked_dimension_figure(
        E,
        series,
        8,
        32,
        "number of environments E (token families)",
        r"$d - E\,N|A|$",
        "T6 on the toy transformers (trait channel, 4 prompts x 2 strengths each)",
        out / "t6_environments.png",
    )
    return [
        (
            path,
            "Local class dimension of v against the number of environments (prompt distributions "
            "over "
            "disjoint token families), from the stacked Jacobians: it falls by N|A| = 8 per "
            "environment "
            "and stops at 1 on the LayerNorm model (the all-ones direction survives) and at 0 on "
            "RMSNorm.",
        )
    ]
