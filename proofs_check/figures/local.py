"""T3 figures: spectra of the behaviour Jacobian per channel, and first-order slopes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.jacobian import CHANNELS
from theory.local import behaviour_changes, exact_symmetries, first_order_directions, fitted_slope

from ..checks.local import LAYER, N_PROMPTS, _setup, _spectrum
from . import _save, figure, plt


@figure("T3")
def t3_spectra(seed: int, out: Path):
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.9), sharey=True)
    floor = 1e-18
    notes = []
    for ax, name in zip(axes, ("tiny-ln", "tiny-rms")):
        parts = []
        for i, channel in enumerate(CHANNELS):
            spec = _spectrum(name, seed, channel)
            s = spec.singular_values / spec.singular_values[0]
            idx = np.arange(1, s.size + 1)
            ax.semilogy(
                idx,
                np.maximum(s, floor),
                "o-",
                ms=3,
                color=f"C{i}",
                label=f"{channel}: rank {spec.rank}, null {spec.null_dim}",
            )
            ax.axhline(
                spec.decision.tolerance / spec.singular_values[0], color=f"C{i}", ls="--", lw=0.8
            )
            parts.append(f"{channel} {spec.null_dim}")
        ax.axhline(floor, color="0.5", ls=":", lw=0.8)
        ax.plot(
            [],
            [],
            color="0.3",
            ls="--",
            lw=0.8,
            label=r"tolerance $\tau/\sigma_1$ (channel colour)",
        )
        ax.plot([], [], color="0.5", ls=":", lw=0.8, label="exact zeros drawn here")
        ax.set_title(f"{name}, layer {LAYER}", fontsize=10)
        ax.set_xlabel("index i")
        ax.legend(fontsize=7, loc="center left")
        notes.append(f"{name}: null dimensions " + ", ".join(parts))
    axes[0].set_ylabel(r"$\sigma_i / \sigma_1$")
    fig.suptitle("T3: spectra of the behaviour Jacobian, from its square-root factor", y=1.0)
    fig.subplots_adjust(top=0.86)
    path = _save(fig, out / "t3_spectra.png")
    ln = _spectrum("tiny-ln", seed, "logits")
    return [
        (
            path,
            "Singular values (relative to the largest) of the logits, probs (Fisher square root) "
            f"and trait Jacobians at layer {LAYER}, d = {ln.d}, {N_PROMPTS} prompts; dashed lines "
            "are the rank tolerances (logits and probs share one: their Jacobians have the same "
            "number of rows); exact zeros are drawn on the dotted line. "
            + "; ".join(notes)
            + ". The LayerNorm model's logits and probs spectra end in one zero (the all-ones "
            "direction, T2a) that the RMSNorm model does not have; the trait channel has at most "
            f"N|A| = {N_PROMPTS} nonzero values in both (T3b).",
        )
    ]


@figure("T3")
def t3_first_order(seed: int, out: Path):
    _, _, problem, v = _setup("tiny-ln", seed)
    spec = _spectrum("tiny-ln", seed, "trait")
    symmetries, _ = exact_symmetries(spec)
    u_null, u_out = first_order_directions(spec, symmetries, seed)
    eps = max(float(np.linalg.norm(v)), 1.0) * np.geomspace(1e-5, 1e-2, 7)
    null = behaviour_changes(problem, v, u_null, "trait", eps)
    outside = behaviour_changes(problem, v, u_out, "trait", eps)
    s_null, s_out = fitted_slope(eps, null), fitted_slope(eps, outside)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.loglog(eps, outside, "o", color="C0", label=f"row direction (fitted slope {s_out:.3f})")
    ax.loglog(eps, null, "s", color="C1", label=f"null direction (fitted slope {s_null:.3f})")
    ax.loglog(eps, outside[0] * (eps / eps[0]), "-", color="C0", lw=0.8, label="slope 1")
    ax.loglog(eps, null[0] * (eps / eps[0]) ** 2, "-", color="C1", lw=0.8, label="slope 2")
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel(r"$|B(v + \varepsilon u) - B(v)|$")
    ax.set_title("T3(c): null directions are invisible to first order")
    ax.legend(fontsize=8)
    path = _save(fig, out / "t3_first_order.png")
    return [
        (
            path,
            f"tiny-ln, layer {LAYER}, trait channel: the behaviour change along a null direction "
            f"of J grows like eps^2 (fitted slope {s_null:.3f}), along the top row direction like "
            f"eps (fitted slope {s_out:.3f}); thin lines have slopes exactly 2 and 1.",
        )
    ]
