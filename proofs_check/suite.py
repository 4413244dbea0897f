"""Run registered checks, timing each one; the rows feed the CLI table, the report and the tests."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

from theory.certificate import Certificate, Verdict

from .registry import Check


@dataclasses.dataclass(frozen=True)
class SuiteRow:
    check: Check
    certificate: Certificate
    seconds: float


def run_checks(
    checks: Iterable[Check],
    seed: int = 0,
    progress: Callable[[Check, SuiteRow], None] | None = None,
) -> list[SuiteRow]:
    rows = []
    for c in checks:
        start = time.perf_counter()
        cert = c.run(seed)
        row = SuiteRow(check=c, certificate=cert, seconds=time.perf_counter() - start)
        rows.append(row)
        if progress is not None:
            progress(c, row)
    return rows


def any_violated(rows: Iterable[SuiteRow]) -> bool:
    return any(r.certificate.verdict is Verdict.VIOLATED for r in rows)


def format_margin(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def table(rows: list[SuiteRow], with_seconds: bool = True) -> str:
    """Plain-text table: theorem, kind, verdict, dim, margin, seconds, check name."""
    head = (
        ["theorem", "kind", "verdict", "dim", "margin"]
        + (["seconds"] if with_seconds else [])
        + ["check"]
    )
    body = []
    for r in rows:
        c = r.certificate
        line = [
            c.theorem,
            r.check.kind,
            c.verdict.value,
            "-" if c.dim is None else str(c.dim),
            format_margin(c.margin),
        ]
        if with_seconds:
            line.append(f"{r.seconds:.2f}")
        body.append(line + [r.check.name])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body])
