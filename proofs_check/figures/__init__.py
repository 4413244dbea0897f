"""Figures of the report, drawn from certificates and the toolkit's own objects (matplotlib,
Agg)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from theory.linear import equivalence_class, ray_member  # noqa: E402

# theorem id -> functions (seed, out_dir) -> list of (png path, caption); the modules of this
# package register their makers with ``@figure(theorem)``, and ``registry.load_all`` imports them.
FigureMaker = Callable[[int, Path], list[tuple[Path, str]]]
FIGURE_MAKERS: dict[str, list[FigureMaker]] = {}


def figure(theorem: str) -> Callable[[FigureMaker], FigureMaker]:
    """Register ``fn(seed, out_dir) -> [(path, caption), ...]`` as a figure of ``theorem``."""

    def decorate(fn: FigureMaker) -> FigureMaker:
        FIGURE_MAKERS.setdefault(theorem, [])
        if fn not in FIGURE_MAKERS[theorem]:
            FIGURE_MAKERS[theorem].append(fn)
        return fn

    return decorate


plt.rcParams.update(
    {
        "figure.dpi": 120,
        "font.size": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "svg.hashsalt": "steerid",
        "savefig.bbox": "tight",
    }
)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def spectrum_figure(
    singular_values, tolerance: float, band_top: float, path: Path, title: str
) -> Path:
    """Singular values on a log scale with the zero tolerance tau and the grey band (tau, sqrt(tau
    s_1))."""
    s = np.asarray(singular_values, dtype=float)
    floor = max(tolerance * 1e-3, 1e-300)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.semilogy(
        np.arange(1, s.size + 1), np.maximum(s, floor), "o-", color="C0", label="singular values"
    )
    ax.axhline(tolerance, color="C3", ls="--", label=r"tolerance $\tau$")
    ax.axhspan(tolerance, band_top, color="0.85", label=r"grey band $(\tau, \sqrt{\tau\sigma_1})$")
    ax.set_xlabel("index i")
    ax.set_ylabel(r"$\sigma_i$")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def cosine_ray_figure(L, v, path: Path) -> Path:
    """cos(v, v_id - s k/|k|) against s/|v|, falling to the T1b infimum -|k|/|v| (dashed)."""
    cls = equivalence_class(L, v)
    nv = float(np.linalg.norm(v))
    k = cls.kernel_part
    inf = -float(np.linalg.norm(k)) / nv
    s = np.geomspace(1e-2, 1e3, 200)
    ray = np.stack([ray_member(cls, si * nv) for si in s])
    cos = ray @ cls.vector / (np.linalg.norm(ray, axis=1) * nv)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.semilogx(s, cos, color="C0", label=r"$\cos(v, v_{id} - s\,k/|k|)$")
    ax.axhline(inf, color="C3", ls="--", label=r"infimum $-|k|/|v|$ (never attained)")
    ax.axhline(1.0, color="0.5", ls=":", label="sup = 1 (at w = v)")
    ax.set_xlabel(r"distance along the ray, $s/|v|$")
    ax.set_ylabel("cosine to v")
    ax.set_title("T1b: equivalent vectors can point almost opposite")
    ax.legend(fontsize=8)
    return _save(fig, path)


def stacked_dimension_figure(
    counts,
    series: dict,
    rows_per_unit: int,
    d: int,
    xlabel: str,
    generic_label: str,
    title: str,
    path: Path,
) -> Path:
    """Local class dimension against the number of stacked problems (layers, environments): one line
    per model in ``series`` ({label: (dims, style)}), the generic prediction max(d - k * rows, 0),
    and the LayerNorm floor span(1)."""
    k = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, (dims, style) in series.items():
        ax.plot(k, dims, style, label=label)
    ax.plot(k, np.maximum(d - rows_per_unit * k, 0), ":", color="0.4", label=generic_label)
    ax.axhline(1, color="C3", lw=0.8, ls="-.", label="LayerNorm floor: span(1)")
    ax.set_xticks(k)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("local class dimension")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return _save(fig, path)
