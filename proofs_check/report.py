"""The demo report: ``report.md`` (a section per theorem: statement, verdicts, margins, witness
summary, figures), ``report.json`` (the certificates) and PNG figures. Same seed, same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .figures import FIGURE_MAKERS, FigureMaker, figure  # noqa: F401  (re-exported)
from .registry import THEOREMS
from .suite import SuiteRow, format_margin


def report_json(rows: list[SuiteRow], seed: int) -> dict:
    return {
        "seed": seed,
        "results": [
            {"check": r.check.name, "kind": r.check.kind, "certificate": r.certificate.to_dict()}
            for r in rows
        ],
    }


def _witness_summary(row: SuiteRow) -> str:
    parts = []
    for name, arr in row.certificate.witness.items():
        arr = np.asarray(arr)
        if arr.ndim == 1:
            parts.append(f"`{name}` (|.| = {np.linalg.norm(arr):.4g}, {arr.size} entries)")
        else:
            parts.append(f"`{name}` (shape {arr.shape})")
    return ", ".join(parts) if parts else "none (exact identity)"


def _key_details(row: SuiteRow) -> str:
    keep = []
    for k, v in row.certificate.details.items():
        if k in ("evidence", "singular_values", "ambiguous_singular_values"):
            continue
        if isinstance(v, float):
            keep.append(f"{k} = {v:.3g}")
        elif isinstance(v, (int, bool, str)) and len(str(v)) < 80:
            keep.append(f"{k} = {v}")
    return "; ".join(keep)


def write_report(rows: list[SuiteRow], out_dir: Path, seed: int) -> dict[str, Path]:
    """Write report.md, report.json and figures into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(
        json.dumps(report_json(rows, seed), indent=1, allow_nan=False) + "\n"
    )
    lines = [
        "# steerid report",
        "",
        f"Seed {seed}. Every verdict below is a certificate in `report.json`; exact checks are "
        "proofs "
        "for their instance, numeric checks ran on the seeded synthetic models and re-ran their "
        "witnesses through the model.",
        "",
        "| theorem | kind | verdict | dim | margin | check |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.certificate
        name = r.check.name.replace("|", "\\|")  # a literal |x| would split the table cell
        lines.append(
            f"| {c.theorem} | {r.check.kind} | {c.verdict.value} | "
            f"{'-' if c.dim is None else c.dim} "
            f"| {format_margin(c.margin)} | {name} |"
        )
    for tid, thm in THEOREMS.items():
        mine = [r for r in rows if r.certificate.theorem == tid]
        if not mine:
            continue
        lines += [
            "",
            f"## {tid}",
            "",
            f"**Statement.** {thm.statement}.",
            "",
            f"Property tests: `{thm.test_module}`.",
            "",
        ]
        for r in mine:
            c = r.certificate
            lines += [
                f"- **{r.check.kind}** ({r.check.name}): **{c.verdict.value}**"
                f"{'' if c.dim is None else f', class dimension {c.dim}'}"
                f"{'' if c.margin is None else f', margin {c.margin:.4g}'}.",
                f"  Claim checked: {c.claim}.",
                f"  Witness: {_witness_summary(r)}.",
            ]
            extra = _key_details(r)
            if extra:
                lines.append(f"  Details: {extra}.")
        for make in FIGURE_MAKERS.get(tid, []):
            for path, caption in make(seed, out_dir):
                lines += ["", f"![{caption}]({path.name})", "", f"*{caption}*"]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")
    return {"md": out_dir / "report.md", "json": out_dir / "report.json"}
