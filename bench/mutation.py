"""Mutation testing of ``theory/``: a seeded, stratified random sample of first-order mutants.

Why not mutmut or cosmic-ray: both drive one full test run per mutant (cosmic-ray) or rewrite
every function into a trampoline that runs in forked workers (mutmut 3); JAX does not survive a
fork after its runtime has started, and a full run here is minutes per mutant. This script keeps
what those tools do right (one syntactic change per mutant, only the tests that reach the mutated
line are run, a timeout counts as killed) with the standard libraries:

1. Map: the test suite runs once under coverage with one context per test (pytest-cov,
   ``--cov-context=test``), so every line of ``theory/`` knows the tests that execute it.
2. Sites: every operator (+ - * / // % **, @ left alone), comparison (< <= > >= == != is in),
   boolean operator (and/or), ``not``, and numeric or boolean literal outside docstrings, error
   messages and annotations is a site; a mutant changes one site (``<`` to ``<=``, ``*`` to ``/``,
   ``k`` to ``k + 1``, ``and`` to ``or``, ``not x`` to ``x``, ...), written by ``ast.unparse``.
3. Sample: ``--per-module`` sites drawn per module with ``random.Random(seed)`` (all of a module's
   sites when it has fewer), so every module gets a score.
4. Run: each mutant runs the tests that cover its line, fastest first by their time in the map
   run, up to ``--budget`` seconds of that measured time (``pytest -x``, ci profile, in a private
   copy of the tree); no covering test means survived without a run. A mutant that outlives the
   tests within the budget counts as survived, so the score is a lower bound. A line the map
   records under no test ran at import time (a default argument, a module constant, a decorator):
   its mutant runs the tests that reach any line of its module or whose file imports it (a
   dataclass's generated methods leave no trace in the map); a module constant's mutant first
   runs the tests whose source names the constant (a test can read it, or state its value, without
   running a line of its module). A module whose tests run it in a subprocess
   (``SUBPROCESS_TESTS``: the two-device engine) runs those tests first. A mutant listed in
   ``bench/mutation_equivalent.json`` (with its reason) is equivalent and leaves the score.

Score = killed / (killed + survived) over non-equivalent mutants, per module and over ``theory/``
(stratified: each module weighted by its number of sites), with a 95% Wilson interval per module.
Writes ``bench/results/mutation.md`` and ``mutation.json``.

Usage: ``python bench/mutation.py [--per-module K] [--seed S] [--workers W] [--modules a,b]``;
``--again`` reruns the last sample's survivors; ``--try KEY --tests T ...`` runs one mutant
against the given tests (does a new test kill it?).
"""

from __future__ import annotations

import argparse
import ast
import collections
import copy
import dataclasses
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EQUIVALENT = ROOT / "bench" / "mutation_equivalent.json"
COVERAGE = RESULTS / "mutation.coverage"
DURATIONS = RESULTS / "mutation.junit.xml"
SKIP_MODULES = {"__init__", "lazy_exports"}  # re-export tables, no mathematics
# modules that tests run in a subprocess (JAX fixes its device count at start), which the coverage
# map of the parent process cannot see
_TWO_DEVICES = "tests/test_claims_walk_engine.py::test_two_devices_spread_the_prompts_and_keep_the_one_device_numbers"  # noqa: E501
SUBPROCESS_TESTS = {
    "jacobian_sharding": [
        "tests/test_sharding.py::test_two_devices_give_the_one_device_singular_values",
        _TWO_DEVICES,
    ],
    "jacobian": [_TWO_DEVICES],
}

BINOPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
CMPOPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Site:
    module: str
    index: int  # position in the module's walk order (stable for unchanged source)
    line: int
    col: int
    change: str
    end: int | None = None  # end column, named only where line, col and change are shared

    @property
    def key(self) -> str:
        tail = "" if self.end is None else f"~{self.end}"
        return f"{self.module}:{self.line}:{self.col}:{self.change}{tail}"


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes not to mutate: docstrings, f-strings, raise statements (messages),
    annotations, and ``__all__``."""
    skip: set[int] = set()

    def mark(node: ast.AST) -> None:
        for sub in ast.walk(node):
            skip.add(id(sub))

    for node in ast.walk(tree):
        if isinstance(node, (ast.JoinedStr, ast.Raise)):
            mark(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                if a.annotation is not None:
                    mark(a.annotation)
            if node.returns is not None:
                mark(node.returns)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            mark(node)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
    return skip


def _changes(node: ast.AST) -> list[str]:
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        return [f"{type(node.op).__name__}->{BINOPS[type(node.op)].__name__}"]
    if isinstance(node, ast.Compare):
        return [
            f"{i}:{type(op).__name__}->{CMPOPS[type(op)].__name__}"
            for i, op in enumerate(node.ops)
            if type(op) in CMPOPS
        ]
    if isinstance(node, ast.BoolOp):
        return ["And->Or" if isinstance(node.op, ast.And) else "Or->And"]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ["drop-not"]
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return ["bool-flip"]
        if isinstance(v, (int, float)):
            return ["const+1" if v == 0 else "const*2"] if isinstance(v, float) else ["int+1"]
    return []


def sites(module: str, source: str) -> list[Site]:
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    out = []
    ends = {}
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        for change in _changes(node):
            out.append(Site(module, index, node.lineno, node.col_offset, change))
            ends[index] = node.end_col_offset
    # a * b * c: both products start at a's column, so their keys also carry the end column
    shared = collections.Counter(site.key for site in out)
    return [
        dataclasses.replace(site, end=ends[site.index]) if shared[site.key] > 1 else site
        for site in out
    ]


def mutate(source: str, site: Site) -> str:
    tree = ast.parse(source)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == site.index)
    change = site.change
    if isinstance(node, ast.BinOp):
        node.op = BINOPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        i = int(change.split(":")[0])
        node.ops[i] = CMPOPS[type(node.ops[i])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        replacement = copy.deepcopy(node.operand)
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, replacement)
                elif isinstance(value, list):
                    for j, item in enumerate(value):
                        if item is node:
                            value[j] = replacement
    elif isinstance(node, ast.Constant):
        v = node.value
        if change == "bool-flip":
            node.value = not v
        elif change == "int+1":
            node.value = v + 1
        elif change == "const+1":
            node.value = v + 1.0
        else:
            node.value = v * 2.0
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# ---------------------------------------------------------------------------------------------
# the coverage map


def build_map(workers: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci", "COVERAGE_FILE": str(COVERAGE)}
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-n", str(workers), "--cov=theory",
        "--cov-context=test", "--cov-report=", "-p", "no:cacheprovider",
        f"--junitxml={DURATIONS}", "tests",
    ]  # fmt: skip
    t = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"coverage map: {time.perf_counter() - t:.0f} s, rc {run.returncode}", file=sys.stderr)
    if run.returncode not in (0, 1):
        raise SystemExit(f"the coverage run failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")


def covering_tests() -> dict[str, dict[int, set[str]]]:
    import coverage

    data = coverage.CoverageData(basename=str(COVERAGE))
    data.read()
    out: dict[str, dict[int, set[str]]] = {}
    for file in data.measured_files():
        path = Path(file)
        if path.parent.name != "theory":
            continue
        lines: dict[int, set[str]] = {}
        for line, contexts in data.contexts_by_lineno(file).items():
            tests = {c.rsplit("|", 1)[0] for c in contexts if c}
            if tests:
                lines[line] = tests
        out[path.stem] = lines
    return out


def test_durations() -> dict[str, float]:
    """node id -> seconds of the test in the map run (junit XML: classname ``tests.test_x`` or
    ``tests.test_x.TestC``, name ``test_f[param]``)."""

    return {node: seconds for node, seconds, _ in _junit_cases()}


def failing_tests() -> set[str]:
    """Node ids of the tests that failed (or errored) in the map run, on the unmutated code: a
    mutant's failure there would not be its kill, so they are left out of every mutant's tests."""
    return {node for node, _, failed in _junit_cases() if failed}


def _junit_cases():
    """(node id, seconds, failed) for each test case of the map run's junit XML."""
    import xml.etree.ElementTree as ET

    if not DURATIONS.exists():
        return
    for case in ET.parse(DURATIONS).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        failed = any(child.tag in ("failure", "error") for child in case)
        for cut in range(len(parts), 0, -1):  # the longest prefix that is a file
            if (ROOT / Path(*parts[:cut])).with_suffix(".py").is_file():
                node = "/".join(parts[:cut]) + ".py"
                node = "::".join([node, *parts[cut:], case.get("name", "")])
                yield node, float(case.get("time", 0.0)), failed
                break


def within_budget(tests: set[str], durations: dict[str, float], budget: float) -> list[str]:
    """The covering tests, fastest first, while their measured time stays within ``budget``
    (the fastest one always)."""
    ordered = sorted(tests, key=lambda t: (durations.get(t, budget), t))
    chosen, spent = [], 0.0
    for t in ordered:
        cost = durations.get(t, budget)
        if chosen and spent + cost > budget:
            break
        chosen.append(t)
        spent += cost
    return chosen


def constant_names(source: str, line: int) -> set[str]:
    """The names a module-level assignment covering ``line`` binds (empty for any other line)."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def tests_naming(names: set[str], durations: dict[str, float]) -> set[str]:
    """Node ids of the test functions (every parametrisation) whose source, docstring included,
    names one of ``names`` as a whole word."""
    if not names:
        return set()
    import re

    word = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    out: set[str] = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        source = path.read_text()
        if not word.search(source):
            continue
        rel = f"tests/{path.name}"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                if word.search(ast.get_source_segment(source, node) or ""):
                    out |= {
                        t
                        for t in durations
                        if t.split("::")[0] == rel and t.split("::")[-1].split("[")[0] == node.name
                    }
    return out


def tests_importing(module: str, durations: dict[str, float]) -> set[str]:
    """Node ids of the tests in the test files that import ``theory.<module>``: a line run at
    import (a decorator, a dataclass's generated methods) leaves no trace in the coverage map of
    the tests that use what it built. A file that walks the package
    (``pkgutil.iter_modules(theory.__path__)``) imports every module."""
    import re

    word = re.compile(
        rf"\btheory\.{re.escape(module)}\b|from theory import .*\b{module}\b"
        r"|pkgutil\.iter_modules\(theory\.__path__\)"
    )
    files = {
        f"tests/{path.name}"
        for path in (ROOT / "tests").glob("test_*.py")
        if word.search(path.read_text())
    }
    return {t for t in durations if t.split("::")[0] in files}


def _statement_lines(source: str) -> dict[int, int]:
    """line -> first line of the statement holding it (coverage records statements by first
    line)."""
    tree = ast.parse(source)
    first: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node,
            (
                ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef, ast.If, ast.For, ast.While,
                ast.With, ast.AsyncWith, ast.Try, ast.Match,
            ),
        ):  # fmt: skip
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                first.setdefault(line, node.lineno)
    for node in ast.walk(tree):  # the headers of compound statements
        if isinstance(node, (ast.If, ast.While, ast.For)):
            end = node.body[0].lineno - 1 if node.body else node.lineno
            for line in range(node.lineno, max(end, node.lineno) + 1):
                first[line] = node.lineno
    return first


# ---------------------------------------------------------------------------------------------
# running mutants


def _worker_tree(base: Path) -> Path:
    tree = base / "tree"
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.pyc", ".hypothesis", "site", "out", "results",
        "*.egg-info", ".pytest_cache", "node_modules",
    )  # fmt: skip
    shutil.copytree(ROOT, tree, ignore=ignore)
    where = subprocess.run(
        [sys.executable, "-c", "import theory; print(theory.__file__)"],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not where.startswith(str(tree)):  # an installed copy would shadow the mutants
        raise SystemExit(f"the worker copy imports theory from {where!r}, not from {tree}")
    return tree


def run_mutant(tree: Path, site: Site, source: str, tests: list[str], timeout: float) -> dict:
    target = tree / "theory" / f"{site.module}.py"
    target.write_text(mutate(source, site))
    env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": "ci",
        "PYTHONPATH": str(tree),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
        "--no-header", *tests,
    ]  # fmt: skip
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout
        )
        status = "killed" if proc.returncode != 0 else "survived"
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout else []
    except subprocess.TimeoutExpired:
        status, tail = "killed", ["timeout"]
    finally:
        target.write_text(source)
    return {"status": status, "seconds": time.perf_counter() - t, "tail": tail}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: centre - half is 0 or 1
    hi = 1.0 if k == n else min(1.0, centre + half)  # in exact arithmetic there
    return (lo, hi)


def _scores(rows: list[dict]) -> dict[str, float]:
    counts: dict[str, list[int]] = {}
    for r in rows:
        c = counts.setdefault(r["module"], [0, 0])
        c[0] += r["status"] == "killed"
        c[1] += r["status"] in ("killed", "survived")
    return {m: k / n for m, (k, n) in counts.items() if n}


def report(
    rows: list[dict],
    totals: dict[str, int],
    seed: int,
    per_module: int,
    budget: float,
    before: list[dict] | None = None,
) -> str:
    by_module: dict[str, dict] = {}
    for r in rows:
        m = by_module.setdefault(r["module"], {"killed": 0, "survived": 0, "equivalent": 0})
        m[r["status"]] += 1
    earlier = _scores(before) if before else {}
    lines = [
        "# Mutation score of theory/",
        "",
        f"Seeded stratified sample: seed {seed}, up to {per_module} mutants per module "
        f"({len(rows)} mutants of {sum(totals.values())} sites). Score = killed / (killed + "
        "survived), equivalent mutants excluded; 95% Wilson interval. Each mutant ran the tests "
        f"that cover its line, fastest first, up to {budget:g} s of their measured time; a "
        "survivor may fall to a slower covering test, so the score is a lower bound.",
        "",
        "| module | sites | sampled | killed | survived | equivalent | score | 95% interval |"
        + (" score before |" if before else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if before else ""),
    ]
    weighted, weight = 0.0, 0
    for module in sorted(by_module):
        m = by_module[module]
        n = m["killed"] + m["survived"]
        lo, hi = wilson(m["killed"], n)
        score = m["killed"] / n if n else float("nan")
        if n:
            weighted += score * totals[module]
            weight += totals[module]
        lines.append(
            f"| {module} | {totals[module]} | {sum(m.values())} | {m['killed']} | "
            f"{m['survived']} | {m['equivalent']} | {score:.2f} | [{lo:.2f}, {hi:.2f}] |"
            + (f" {earlier.get(module, float('nan')):.2f} |" if before else "")
        )
    k = sum(m["killed"] for m in by_module.values())
    n = k + sum(m["survived"] for m in by_module.values())
    lo, hi = wilson(k, n)
    lines += [
        "",
        f"Over theory/: {k} killed of {n} non-equivalent sampled mutants ({k / max(n, 1):.3f}, "
        f"95% interval [{lo:.3f}, {hi:.3f}]); stratified by sites per module: "
        f"{weighted / max(weight, 1):.3f}.",
    ]
    if before:
        kb = sum(r["status"] == "killed" for r in before)
        nb = sum(r["status"] in ("killed", "survived") for r in before)
        lines.append(
            f"Before (the same sample, the earlier tests): {kb} killed of {nb} "
            f"({kb / max(nb, 1):.3f})."
        )
    lines += [
        "",
        "## Survivors",
        "",
    ]
    for r in rows:
        if r["status"] == "survived":
            why = (
                "no test reaches the line"
                if not r["tests"]
                else f"{r['tests']} of {r['covering']} covering tests ran"
            )
            lines.append(f"- `{r['key']}`: {r['line_text']} ({why})")
    lines += ["", "## Equivalent", ""]
    for r in rows:
        if r["status"] == "equivalent":
            lines.append(f"- `{r['key']}`: {r['reason']}")
    return "\n".join(lines) + "\n"


def try_one(key: str, tests: list[str], timeout: float) -> int:
    """Run the mutant ``key`` against ``tests`` in a private copy of the tree; print the outcome
    (exit 0 when the tests kill it, 1 when it survives)."""
    module = key.split(":", 1)[0]
    path = ROOT / "theory" / f"{module}.py"
    if not path.exists() or not tests:
        raise SystemExit(f"--try needs a theory module's mutant key and --tests, got {key!r}")
    source = path.read_text()
    found = [site for site in sites(module, source) if site.key == key]
    if not found:
        raise SystemExit(f"no mutant {key!r} in theory/{module}.py (did the source move?)")
    with tempfile.TemporaryDirectory() as tmp:
        row = run_mutant(_worker_tree(Path(tmp) / "w"), found[0], source, tests, timeout)
    print(f"{key}: {row['status']} in {row['seconds']:.1f} s {' '.join(row['tail'])}")
    return 0 if row["status"] == "killed" else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-module", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--modules", default=None, help="comma-separated theory modules (default all)")
    p.add_argument("--reuse-map", action="store_true", help="keep an existing coverage map")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    p.add_argument(
        "--budget", type=float, default=60.0, help="measured test seconds run per mutant"
    )
    p.add_argument(
        "--again",
        action="store_true",
        help="the last run's sample once more: killed mutants stay killed (tests were only "
        "added), the survivors run again; the report shows both scores",
    )
    p.add_argument(
        "--try",
        dest="try_key",
        metavar="KEY",
        help="run one mutant (a key of the report, module:line:col:change[~end]) against --tests",
    )
    p.add_argument("--tests", nargs="+", default=[], help="with --try: test files or node ids")
    args = p.parse_args(argv)
    if args.try_key:
        return try_one(args.try_key, args.tests, args.timeout)
    if args.per_module < 1 or args.workers < 1:
        p.error("--per-module and --workers must be >= 1")
    if not (args.reuse_map and COVERAGE.exists()):
        build_map(args.workers)
    covered = covering_tests()
    durations = test_durations()
    failing = failing_tests()
    if failing:
        print(f"{len(failing)} tests failed on the unmutated code: left out", file=sys.stderr)
    equivalent = json.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    chosen = sorted(f.stem for f in (ROOT / "theory").glob("*.py") if f.stem not in SKIP_MODULES)
    if args.modules:
        wanted = set(args.modules.split(","))
        unknown = wanted - set(chosen)
        if unknown:
            p.error(f"unknown modules: {sorted(unknown)}")
        chosen = [m for m in chosen if m in wanted]
    before: list[dict] | None = None
    if args.again:
        last = RESULTS / "mutation.json"
        if not last.exists():
            p.error("--again needs an earlier run's bench/results/mutation.json")
        before = json.loads(last.read_text())
        (RESULTS / "mutation.before.json").write_text(json.dumps(before, indent=1))
        args.seed, args.per_module = before[0]["seed"], before[0]["per_module"]
    rng = random.Random(args.seed)
    sources, totals, jobs = {}, {}, []
    carried: list[dict] = []
    for module in chosen:
        source = (ROOT / "theory" / f"{module}.py").read_text()
        sources[module] = source
        all_sites = sites(module, source)
        totals[module] = len(all_sites)
        if before is None:
            sample = sorted(
                rng.sample(all_sites, min(args.per_module, len(all_sites))),
                key=lambda s: s.index,
            )
        else:
            by_key = {site.key: site for site in all_sites}
            old = [r for r in before if r["module"] == module]
            carried += [r for r in old if r["status"] == "killed"]
            missing = [r["key"] for r in old if r["status"] != "killed" and r["key"] not in by_key]
            if missing:
                raise SystemExit(f"the source moved under these mutants, rerun afresh: {missing}")
            sample = [by_key[r["key"]] for r in old if r["status"] != "killed"]
        first = _statement_lines(source)
        text = source.splitlines()
        for site in sample:
            lines = covered.get(module, {})
            line = first.get(site.line, site.line)
            reach = lines.get(line, set()) | lines.get(site.line, set())
            named: set[str] = set()
            if not reach:  # ran at import: every test that uses or imports the module reaches it
                reach = set().union(*lines.values()) if lines else set()
                reach |= tests_importing(module, durations)
                named = tests_naming(constant_names(source, site.line), durations)
            named |= set(SUBPROCESS_TESTS.get(module, ()))  # invisible to the map: run them first
            reach |= named
            reach -= failing
            named -= failing
            first_tests = within_budget(named, durations, args.budget) if named else []
            spent = sum(durations.get(t, args.budget) for t in first_tests)
            rest = within_budget(reach - set(first_tests), durations, args.budget - spent)
            tests = first_tests + [t for t in rest if spent < args.budget or not first_tests]
            jobs.append((site, tests, len(reach), text[site.line - 1].strip()))
    print(f"{len(jobs)} mutants over {len(chosen)} modules", file=sys.stderr)
    from concurrent.futures import ThreadPoolExecutor

    rows: list[dict] = list(carried)
    with tempfile.TemporaryDirectory() as tmp:
        trees = [_worker_tree(Path(tmp) / f"w{i}") for i in range(args.workers)]
        free = list(trees)
        import threading

        lock = threading.Lock()

        def one(job):
            site, tests, reach, line_text = job
            row = {
                **asdict(site), "key": site.key, "tests": len(tests), "covering": reach,
                "line_text": line_text, "seed": args.seed, "per_module": args.per_module,
            }  # fmt: skip
            if site.key in equivalent:
                return {**row, "status": "equivalent", "reason": equivalent[site.key]}
            if not tests:
                return {**row, "status": "survived", "seconds": 0.0}
            with lock:
                tree = free.pop()
            try:
                return {**row, **run_mutant(tree, site, sources[site.module], tests, args.timeout)}
            finally:
                with lock:
                    free.append(tree)

        t = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            for i, row in enumerate(pool.map(one, jobs)):
                rows.append(row)
                print(
                    f"[{i + 1}/{len(jobs)} {time.perf_counter() - t:.0f} s] {row['key']}: "
                    f"{row['status']}",
                    file=sys.stderr,
                )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(rows, indent=1))
    rows.sort(key=lambda r: (r["module"], r["index"]))
    text = report(rows, totals, args.seed, args.per_module, args.budget, before)
    if failing:
        text += (
            f"\n{len(failing)} tests failed on the unmutated code in the map run and were left out "
            "of every mutant's tests (a failure there is not a kill): "
            + ", ".join(f"`{t}`" for t in sorted(failing))
            + "\n"
        )
    (RESULTS / "mutation.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
