"""T7 figure: the Donoho-Tanner phase transition of basis pursuit on Gaussian A."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from theory.phase_transition import WEAK_THRESHOLD_TABLE, phase_transition, weak_threshold

from . import _save, figure, plt

PT_GRID: dict[str, Any] = dict(
    p=50,
    deltas=np.round(np.linspace(0.1, 0.9, 9), 2),
    rhos=np.round(np.linspace(0.1, 0.9, 9), 2),
    trials=10,
)


def _cell_edges(values: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Edges of cells centred on sorted ``values`` (midpoints inside, half a gap outside, clipped
    to [lo, hi]; a single value gets +-0.05)."""
    mids = (values[:-1] + values[1:]) / 2
    first = values[0] - (mids[0] - values[0] if mids.size else 0.05)
    last = values[-1] + (values[-1] - mids[-1] if mids.size else 0.05)
    return np.concatenate([[max(lo, first)], mids, [min(hi, last)]])


@figure("T7")
def t7_phase_transition(seed: int, out: Path):
    pt = phase_transition(seed=seed, **PT_GRID)
    cross = pt.crossing()
    d = pt.deltas
    fig, ax = plt.subplots(figsize=(5.8, 4.2))
    ax.set_facecolor("0.85")  # grey: no rho realised there
    # one column per delta, cells centred on the realised rho = k/m (m and k are integers)
    x_edges = _cell_edges(d, -np.inf, np.inf)
    for i in range(len(d)):
        rho, prob = pt.curve(i)
        mesh = ax.pcolormesh(
            x_edges[i : i + 2],
            _cell_edges(rho),
            prob[:, None],
            cmap="viridis",
            vmin=0,
            vmax=1,
            shading="flat",
        )
    fig.colorbar(mesh, ax=ax, label="empirical P(basis pursuit recovers a)")
    grid = np.linspace(0.05, 0.95, 91)
    ax.plot(
        grid,
        [weak_threshold(x) for x in grid],
        color="C3",
        lw=2,
        label=r"Donoho-Tanner weak threshold $\rho_W(\delta)$",
    )
    good = np.isfinite(cross)
    label = f"empirical 50% crossing (p = {pt.p})"
    ax.plot(d[good], cross[good], "o--", color="white", mec="k", label=label)
    ax.set_xlabel(r"$\delta = m/p$ (undersampling)")
    ax.set_ylabel(r"$\rho = k/m$ (sparsity)")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(0.0, 1.0)
    ax.grid(False)
    ax.set_title(f"T7(c): basis pursuit on Gaussian A, p = {pt.p}, {pt.trials} trials per cell")
    ax.legend(loc="upper left", fontsize=8)
    path = _save(fig, out / "t7_phase_transition.png")
    half = float(cross[list(d).index(0.5)]) if 0.5 in list(d) else float("nan")
    caption = (
        f"Success probability of basis pursuit (min |a|_1 s.t. A a = y) on Gaussian A with "
        f"p = {pt.p} columns over (delta = m/p, rho = k/m), {pt.trials} trials per cell (cells "
        "sit at the realised k/m; grey: not sampled). The empirical 50% crossing (white) follows "
        f"the asymptotic Donoho-Tanner weak threshold (red); at delta = 0.5 it is {half:.3f} "
        f"against rho_W(0.5) = {WEAK_THRESHOLD_TABLE[0.5]:.3f}."
    )
    return [(path, caption)]
