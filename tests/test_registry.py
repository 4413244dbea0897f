"""The registry: it covers exactly the theorems of the project's statement (docs/theorems.md), every
theorem has all three kinds of evidence, and the report is deterministic for a seed."""

import importlib
import json
import re
from pathlib import Path

import pytest

from proofs_check.registry import EXACT, NUMERIC, THEOREMS, load_all, select

ROOT = Path(__file__).resolve().parents[1]
STATEMENT = ROOT / "docs" / "theorems.md"

#: "### T2 Title" (a theorem), "#### T2a Title" (a part with a heading of its own), "### E1 Title".
HEADING = re.compile(r"^(?P<level>#{3,4}) (?P<id>[TE]\d+[a-c]?)\b(?P<title>.*)$", re.M)
#: A part stated inside a theorem's section: "- **(a)** ...".
PART = re.compile(r"^- \*\*\((?P<letter>[a-c])\)\*\*", re.M)


def sections() -> list[tuple[int, str, str]]:
    """(heading level, id, body up to the next id heading) of every T/E heading, in page order."""
    text = STATEMENT.read_text()
    heads = list(HEADING.finditer(text))
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        # the body of the last heading of a chapter stops at the next "## " chapter heading
        body = re.split(r"^## ", text[m.end() : end], maxsplit=1, flags=re.M)[0]
        out.append((len(m.group("level")), m.group("id"), body))
    return out


def theorem_ids() -> set[str]:
    """The ids the registry must hold: each theorem heading, or its sub-headings if it has any."""
    theorems = [(level, i) for level, i, _ in sections() if i.startswith("T")]
    groups = {
        i
        for n, (level, i) in enumerate(theorems)
        if n + 1 < len(theorems) and theorems[n + 1][0] > level
    }
    return {i for _, i in theorems} - groups


def test_the_statement_has_one_heading_per_theorem_and_experiment():
    ids = [i for _, i, _ in sections()]
    assert len(ids) == len(set(ids)), f"an id has two headings in {STATEMENT.name}: {ids}"
    numbers = {int(re.match(r"T(\d+)", i).group(1)) for i in ids if i.startswith("T")}
    assert numbers == set(range(1, 10)), f"theorems T1-T9 expected, found T{sorted(numbers)}"
    assert {i for i in ids if i.startswith("E")} == {f"E{n}" for n in range(1, 8)}


def test_the_registry_covers_exactly_the_theorems_of_the_statement():
    """A theorem heading is one registry entry (T3 with its parts (a)-(c)); a heading with
    sub-headings (T2) is one entry per sub-heading (T2a, T2b, T2c)."""
    stated = theorem_ids()
    assert not stated - set(THEOREMS), (
        f"stated but not registered: {sorted(stated - set(THEOREMS))}"
    )
    assert not set(THEOREMS) - stated, (
        f"registered but not stated: {sorted(set(THEOREMS) - stated)}"
    )


def test_parts_of_single_entries_are_stated_in_full():
    """T3 and T7 are one entry each; their sections state the parts (a), (b), (c) in order."""
    parts = {i: PART.findall(body) for _, i, body in sections()}
    assert parts["T3"] == ["a", "b", "c"] and parts["T7"] == ["a", "b", "c"]


def test_every_experiment_names_its_certified_counterpart():
    for _, i, body in sections():
        if i.startswith("E"):
            assert "**Certified counterpart" in body, f"{i}: no certified counterpart stated"


EXPECTED = {"T1", "T1a", "T1b", "T2a", "T2b", "T2c", "T3", "T4", "T5", "T6", "T7", "T8", "T9"}


def test_registry_lists_the_thirteen_theorems():
    assert set(THEOREMS) == EXPECTED and theorem_ids() == EXPECTED


@pytest.mark.parametrize("theorem", sorted(THEOREMS))
def test_each_theorem_has_exact_numeric_and_property_evidence(theorem):
    checks = [c for c in load_all() if c.theorem == theorem]
    kinds = {c.kind for c in checks}
    assert NUMERIC in kinds, f"{theorem}: no numeric check on the synthetic models"
    if THEOREMS[theorem].exact_applies:
        assert EXACT in kinds, f"{theorem}: no exact (sympy) check"
    module = ROOT / THEOREMS[theorem].test_module
    assert module.exists(), f"{theorem}: property tests {module} missing"
    assert "@given" in module.read_text(), (
        f"{theorem}: {module.name} has no hypothesis property test"
    )


@pytest.mark.parametrize("theorem", sorted(THEOREMS))
def test_each_theory_module_imports(theorem):
    """Where an entry names the module of theory/ that states it in code, that module imports."""
    name = getattr(THEOREMS[theorem], "theory_module", None)
    if name is None:
        return
    if name.endswith(".py"):  # a path such as "theory/linear.py"
        name = name[: -len(".py")].replace("/", ".")
    module = importlib.import_module(name)
    assert module.__name__ == name


def test_select_rejects_unknown_ids():
    with pytest.raises(ValueError, match="unknown theorem"):
        select("T1,T42")


def test_report_is_deterministic_for_a_seed(tmp_path):
    """Two demo reports (fast subset of checks) with the same seed are byte-identical."""
    from proofs_check.report import write_report
    from proofs_check.suite import run_checks

    outs = []
    for i in range(2):
        rows = run_checks(select("T1,T1b,T2c,T4,T6"), seed=3)
        paths = write_report(rows, tmp_path / f"run{i}", seed=3)
        outs.append((paths["json"].read_text(), paths["md"].read_text()))
    assert outs[0] == outs[1]
    data = json.loads(outs[0][0])
    assert data["seed"] == 3 and {r["certificate"]["theorem"] for r in data["results"]} == {
        "T1",
        "T1b",
        "T2c",
        "T4",
        "T6",
    }
