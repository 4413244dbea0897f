"""Figure of T6 on linear readouts: the phase diagram of identifiability from E Gaussian
environments of rank r, against the prediction E = ceil(d/r)."""

from __future__ import annotations

from pathlib import Path

from theory.environments import environments_needed, phase_diagram

from . import _save, figure, plt


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
    caption = (
        f"Fraction of {trials} draws of E Gaussian readouts of rank r (d = {d}) whose stack has "
        "rank d: the boundary sits on E = ceil(d/r) (dashed)."
    )
    return [(path, caption)]
