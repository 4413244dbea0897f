"""``steerid paper``: E1-E7 on both trained models, and a report beside the paper's claim.

Writes ``paper.md`` (the table: does the claim hold here, and what the certified counterpart adds),
``paper.json`` (every experiment's JSON, scores included) and four figures: E1's score
distributions, E2's alpha sweep with T5's first-order prediction, E4's spectra with the 5% line, and
E7's class dimension against the number of environments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from synthetic.trained_zoo import TRAINED_NAMES

from .result import ExperimentResult
from .runner import EXPERIMENT_NAMES, run_experiment
from .setup import make_setup

PAPER_CLAIM = (
    "orthogonal perturbations achieve 95-100% of the original steering efficacy with negligible "
    "effect sizes"
)


def run_paper(
    out: Path,
    seed: int = 0,
    models: tuple[str, ...] = TRAINED_NAMES,
    progress: Callable[[str, str, ExperimentResult], None] | None = None,
) -> dict[str, Path]:
    """Run every experiment on every model of ``models`` and write the report into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: dict[str, dict[str, ExperimentResult]] = {}
    for model in models:
        setup = make_setup(model, seed=seed)
        results[model] = {}
        for name in EXPERIMENT_NAMES:
            r = run_experiment(name, model, setup=setup)
            results[model][name] = r
            if progress is not None:
                progress(model, name, r)
    total = time.perf_counter() - t0
    figures = draw_figures(results, out)
    (out / "paper.json").write_text(
        json.dumps(
            {
                "seconds": total,
                "results": {
                    m: {n: r.to_dict() for n, r in rs.items()} for m, rs in results.items()
                },
            },
            allow_nan=False,
        )
    )
    (out / "paper.md").write_text(report_markdown(results, figures, total))
    return {"md": out / "paper.md", "json": out / "paper.json"}


def _f(x: Any, fmt: str = ".3f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, fmt)


def summary_rows(results: dict[str, dict[str, ExperimentResult]]) -> list[list[str]]:
    """One row per (model, experiment): verdict of the paper's claim, the paper's numbers, and
    what the certified counterpart adds."""
    rows = []
    for model, rs in results.items():
        e1, e2, e3, e4 = (rs[n] for n in EXPERIMENT_NAMES[:4])
        e5, e6, e7 = (rs[n] for n in EXPERIMENT_NAMES[4:])
        m, c = e1.metrics, e1.counterpart
        rows.append(
            [
                model,
                "E1 orthogonal",
                e1.certificate.verdict.value,
                f"efficacy ratio {_f(m['generation.efficacy_ratio'])}, "
                f"d = {_f(m['generation.cohens_d'])}, r = {_f(m['generation.pearson_r'])}",
                f"exact twin: cos {_f(c.get('twin_cosine'))}, re-run residual "
                f"{_f(c.get('twin_residual'), '.1e')}, held-out residual "
                f"{_f(c.get('held_out_residual'), '.3f')}; T5 90% band "
                f"[{_f(c['t5_band_90'][0])}, {_f(c['t5_band_90'][1])}]",
            ]
        )
        rows.append(
            [
                model,
                "E2 alpha-sweep",
                e2.certificate.verdict.value,
                "gap " + ", ".join(_f(g) for g in e2.metrics["generation.gap"]) + " at alpha 0-2",
                "first order off by > 50% from alpha = "
                + str(e2.counterpart["t5_breaks_at_alpha"] or "never (up to 2)"),
            ]
        )
        rows.append(
            [
                model,
                "E3 logit-distance",
                e3.certificate.verdict.value,
                f"d(i)/d(ii) = {_f(e3.metrics['ratio_perp_random'])}, "
                f"d(i)/d(iii) = {_f(e3.metrics['ratio_perp_other'])}",
                (
                    f"logits class dim {e3.counterpart['class_dim']}, exact twin's L2 distance "
                    + _f(e3.counterpart.get("twin.l2"), ".1e")
                    if e3.counterpart["class_dim"]
                    else "logits class {v}: no direction is null for the next-token logits"
                ),
            ]
        )
        mid = e4.counterpart[f"layer_{e4.certificate.layer}"]
        rows.append(
            [
                model,
                "E4 nullspace",
                e4.certificate.verdict.value,
                f"5% rule rank {mid['float16']['effective_rank']} (float16), "
                f"null fraction {_f(mid['float16']['null_fraction'])}",
                f"certified rank {mid['certified_rank']} of d "
                + ("(certified); " if mid["certified"] else "(undecided); ")
                + f"{mid['exact_below_5pct']} true singular values under the 5% line",
            ]
        )
        rows.append(
            [
                model,
                "E5 spanning",
                e5.certificate.verdict.value,
                f"max d alone {_f(e5.metrics['generation.alone.max_cohens_d'])}, "
                f"span-50 d {_f(e5.metrics['generation.span_50.cohens_d'])}",
                "certified null dim of span_k: "
                + ", ".join(f"{k[5:]}:{v['null_dim']}" for k, v in e5.counterpart["spans"].items()),
            ]
        )
        rows.append(
            [
                model,
                "E6 vector-equivalence",
                e6.certificate.verdict.value,
                f"cos(CAA, PCA) {_f(e6.metrics['pca.cosine'])}, "
                f"d {_f(e6.metrics['generation.pca.cohens_d'])}; "
                f"probe cos {_f(e6.metrics['probe.cosine'])}",
                "read one block early: cos "
                + f"{_f(e6.metrics['read_early.cosine'])}, efficacy ratio "
                f"{_f(e6.metrics['generation.read_early.efficacy_ratio'])}; T4 class dim "
                f"{e6.counterpart['caa']['class_dim']}",
            ]
        )
        rows.append(
            [
                model,
                "E7 multi-env",
                e7.certificate.verdict.value,
                "fraction of environments with \\|d\\| < 0.3: "
                + _f(e7.metrics["generation.fraction_small_d"]),
                "T6 class dim by environments "
                + ", ".join(str(x) for x in e7.counterpart["class_dim_by_environments"]),
            ]
        )
    return rows


def report_markdown(
    results: dict[str, dict[str, ExperimentResult]], figures: list[Path], total: float
) -> str:
    lines = [
        "# The paper's experiments on the trained zoo",
        "",
        f"The paper's claim: *{PAPER_CLAIM}*. Each row: does the claim (or the experiment's "
        "reading of it) hold on a model whose truth is known, the paper's metrics, and what the "
        "certified counterpart adds.",
        "",
        "| model | experiment | claim here | paper's metrics | certified counterpart |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(results)]
    lines += ["", "Time per experiment (seconds):", ""]
    lines += [
        "| model | " + " | ".join(EXPERIMENT_NAMES) + " |",
        "|---|" + "---|" * len(EXPERIMENT_NAMES),
    ]
    for model, rs in results.items():
        lines.append(
            f"| {model} | " + " | ".join(f"{rs[n].seconds:.1f}" for n in EXPERIMENT_NAMES) + " |"
        )
    lines += ["", f"Total: {total:.1f} s.", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    return "\n".join(lines) + "\n"


def draw_figures(results: dict[str, dict[str, ExperimentResult]], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(results)
    paths = []
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        s = results[model]["orthogonal"].scores
        bins = np.linspace(-1, 1, 19)
        for label, data in (
            ("v", s["v"]["generation"]),
            ("v + v_perp", s["v_plus_perp"]["generation"][0]),
            ("v_perp", s["v_perp"]["generation"][0]),
            ("unsteered", s["unsteered"]["generation"]),
        ):
            ax.hist(data, bins=bins, histtype="step", label=label)
        ax.set(title=f"E1 {model}", xlabel="generation score (S+ - S-)/n")
        ax.legend(fontsize=7)
    paths.append(_save(fig, out / "e1_scores.png"))

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        r = results[model]["alpha-sweep"]
        alphas = r.metrics["alphas"]
        ax.plot(alphas, r.metrics["trait.gap"], "o-", label="measured trait gap")
        ax.plot(alphas, np.abs(r.counterpart["t5_first_order_gap"]), "s--", label="T5 first order")
        ax.plot(alphas, r.metrics["generation.gap"], "^-", label="generation gap")
        ax.set(title=f"E2 {model}", xlabel="alpha", ylabel="|s(a(v+u)) - s(a v)|")
        ax.legend(fontsize=7)
    paths.append(_save(fig, out / "e2_alpha_sweep.png"))

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        r = results[model]["nullspace"]
        key = f"layer_{r.certificate.layer}"
        for p in ("float16", "float32", "float64"):
            fd = np.asarray(r.scores[key][p])
            ax.semilogy(fd / fd.max(), label=f"finite differences, {p}")
        exact = np.asarray(r.counterpart[key]["exact_singular_values"])
        ax.semilogy(exact / exact.max(), "k.", label="exact Jacobian (float64)")
        ax.axhline(0.05, color="r", lw=0.8, label="5% line")
        ax.set(
            title=f"E4 {model}, layer {r.certificate.layer}",
            xlabel="index",
            ylabel="sigma / sigma_max",
            ylim=(1e-18, 2),
        )
        ax.legend(fontsize=6)
    paths.append(_save(fig, out / "e4_spectra.png"))

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for model in models:
        dims = results[model]["multi-env"].counterpart["class_dim_by_environments"]
        ax.plot(range(1, len(dims) + 1), dims, "o-", label=model)
    ax.set(title="E7 / T6: class dimension", xlabel="environments stacked", ylabel="dim")
    ax.legend(fontsize=7)
    paths.append(_save(fig, out / "e7_class_dim.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
