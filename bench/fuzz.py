"""A longer fuzzing campaign than the suite's: the fuzzing tests of the CLI and of the public
``theory`` functions with every example count multiplied by ``--scale``; counts the inputs tried
(and, for ``theory``, the valid results and the refusals) and writes ``bench/results/fuzz.md``.

Usage: ``python bench/fuzz.py [--scale K] [--workers W]``; exit status that of pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MODULES = ["tests/test_fuzz_cli.py", "tests/test_fuzz_theory.py"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=int, default=10, help="multiplier of each test's examples")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    if args.scale < 1 or args.workers < 1:
        p.error("--scale and --workers must be >= 1")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / "fuzz.jsonl"
    report.unlink(missing_ok=True)
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "ci",
        "STEERID_FUZZ_SCALE": str(args.scale),
        "STEERID_FUZZ_REPORT": str(report),
    }
    t = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", str(args.workers), *MODULES], cwd=ROOT, env=env
    )
    seconds = time.perf_counter() - t
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if report.exists():
        for line in report.read_text().splitlines():
            row = json.loads(line)
            module = row.pop("module")
            row.pop("scale")
            for key, value in row.items():
                totals[module][key] += value
    lines = [
        "# Fuzzing campaign",
        "",
        f"Scale {args.scale} (each test's examples x {args.scale}), {seconds:.0f} s, "
        f"pytest exit status {run.returncode}.",
        "",
        "| module | counter | inputs |",
        "|---|---|---|",
    ]
    for module in sorted(totals):
        for key, value in totals[module].items():
            lines.append(f"| {module} | {key} | {value} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "fuzz.md").write_text(text)
    print(text)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
