"""Figure of T9: the local class dimension against the number of layers steered at."""

from __future__ import annotations

from pathlib import Path

from ..checks.cross_layer import ALPHAS, N_PROMPTS, layer_certificate
from . import figure, stacked_dimension_figure


@figure("T9")
def t9_layers(seed: int, out: Path):
    layer_sets = [(1,), (0, 1), (0, 1, 2)]
    series = {
        f"{name}{', propagated T' if prop else ', T = I'}": (
            [layer_certificate(name, ls, prop, seed).dim for ls in layer_sets],
            style,
        )
        for name, prop, style in (
            ("tiny-ln", False, "o-"),
            ("tiny-ln", True, "s--"),
            ("tiny-rms", False, "^-"),
        )
    }
    path = stacked_dimension_figure(
        [1, 2, 3],
        series,
        N_PROMPTS * len(ALPHAS),
        32,
        "number of layers K observed",
        r"$d - K N|A|$ (generic)",
        "T9: cross-layer consistency (trait channel, 6 prompts x 2 strengths)",
        out / "t9_layers.png",
    )
    caption = (
        "Class dimension against the number of layers at which the same concept is steered: it "
        "falls by N|A| = 12 per layer until it hits 1 (the all-ones direction) on the LayerNorm "
        "model and 0 on the RMSNorm model."
    )
    return [(path, caption)]
