"""Figure of T5: efficacy ratios measured on the toy transformer against the first-order law."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.efficacy import efficacy_law

from ..checks.efficacy_transformer import LAYER, MODEL, t5_samples
from . import _save, figure, plt


@figure("T5")
def t5_histograms(seed: int, out: Path):
    samples = t5_samples(seed)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.3))
    for ax, sample in zip(axes, (samples[0], samples[2])):
        R, rho = sample.ratios, sample.rho
        ax.hist(R, bins=40, density=True, color="C0", alpha=0.6, label=f"measured ({R.size} draws)")
        law = efficacy_law(sample.d, rho * sample.slope)
        lo, hi = law.ppf([1e-4, 1 - 1e-4])
        xs = np.linspace(min(lo, R.min()), max(hi, R.max()), 400)
        ax.plot(xs, law.pdf(xs), color="C3", lw=1.8, label="first-order Beta law")
        ax.set_xlabel("efficacy ratio R")
        ax.set_ylabel("density")
        ax.set_title(f"rho = {rho}: KS = {sample.ks_statistic:.3f}")
        ax.legend(fontsize=7)
    fig.suptitle(
        f"T5 on {MODEL} (d = {samples[0].d}, theta = 60 deg, layer {LAYER})", fontsize=10, y=1.03
    )
    path = _save(fig, out / "t5_efficacy.png")
    caption = (
        "Efficacy ratio R of orthogonal perturbations, measured by running the model, against the "
        "first-order Beta law: they agree at rho = 0.05 and part ways at rho = 1."
    )
    return [(path, caption)]
