"""The registry: every theorem of THEORY.md has all three kinds of evidence, and the report is
deterministic for a seed."""

import json
import re
from pathlib import Path

import pytest

from proofs_check.registry import EXACT, NUMERIC, THEOREMS, load_all, select

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "THEORY.md"


def theorem_headings_in_spec() -> dict[str, list[str]]:
    """Bold theorem headings of THEORY.md with the letters of their parts "- (a) ...", if any."""
    text = SPEC.read_text()
    heads = list(re.finditer(r"\*\*(T\d[a-c]?)\b", text))
    out = {}
    for i, m in enumerate(heads):
        body = text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        out[m.group(1)] = re.findall(r"^- \(([a-c])\)", body, flags=re.M)
    return out


def test_every_theorem_of_the_spec_is_registered():
    """A heading is covered by its own id (T3 with its parts (a)-(c)) or by one id per part (T2a-c)."""
    assert SPEC.exists(), (
        f"the specification {SPEC} (../shared/THEORY.md beside the checkout) is missing"
    )
    heads = theorem_headings_in_spec()
    assert len(heads) >= 11, "theorem headings not found in THEORY.md"
    missing = [
        h
        for h, parts in heads.items()
        if h not in THEOREMS and not (parts and all(h + p in THEOREMS for p in parts))
    ]
    assert not missing, f"not registered: {missing}"


EXPECTED = {"T1", "T1a", "T1b", "T2a", "T2b", "T2c", "T3", "T4", "T5", "T6", "T7", "T8", "T9"}


def test_registry_lists_the_thirteen_theorems():
    assert set(THEOREMS) == EXPECTED


@pytest.mark.parametrize("theorem", sorted(EXPECTED))
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
