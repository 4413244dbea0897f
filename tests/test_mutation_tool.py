"""The mutation sampler of ``bench/mutation.py``: every site yields a program that parses and
differs from the original in exactly that one place; docstrings, error messages and annotations
are never sites; the Wilson interval holds the observed fraction and narrows as the sample grows."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "bench" / "mutation.py")
assert _spec is not None and _spec.loader is not None
mutation = importlib.util.module_from_spec(_spec)
sys.modules["mutation_tool"] = mutation  # dataclasses look their module up
_spec.loader.exec_module(mutation)

SOURCE = '''"""Module docstring 1 + 2."""
def f(x: int = 3, y: float = 0.5) -> bool:
    """Docstring with 4 < 5."""
    if x < 0 or not y:
        raise ValueError(f"x must be >= {0 + 1}")
    z = x * 2.0 - y / 7
    w: Annotated[int, 9]
    return z >= 1 and x != 2 and True
'''


def _dump(tree: ast.AST) -> list[str]:
    return [ast.dump(n, include_attributes=False) for n in ast.walk(tree)]


def test_sites_skip_docstrings_messages_and_annotations():
    found = mutation.sites("m", SOURCE)
    assert {s.line for s in found} == {2, 4, 6, 8}  # not the docstrings, raise or annotation
    assert [s.change for s in found if s.line == 2] == ["int+1", "const*2"]  # the defaults only


@pytest.mark.parametrize("site", mutation.sites("m", SOURCE), ids=lambda s: s.key)
def test_each_mutant_parses_and_changes_one_node(site):
    mutant = mutation.mutate(SOURCE, site)
    assert mutant != ast.unparse(ast.parse(SOURCE)) + "\n"
    before, after = _dump(ast.parse(SOURCE)), _dump(ast.parse(mutant))
    if site.change == "drop-not":
        assert len(after) == len(before) - 2  # the UnaryOp node and its Not operator are gone
    else:
        assert len(after) == len(before)
        leaves = [
            (a, b)
            for a, b, n in zip(before, after, ast.walk(ast.parse(SOURCE)), strict=True)
            if a != b and not list(ast.iter_child_nodes(n))
        ]
        assert len(leaves) == 1, leaves  # one operator or one constant differs


def test_the_mutants_of_every_theory_module_compile():
    modules = [
        p for p in sorted((ROOT / "theory").glob("*.py")) if p.stem not in mutation.SKIP_MODULES
    ]
    assert len(modules) > 30
    for path in modules:
        source = path.read_text()
        found = mutation.sites(path.stem, source)
        if not found:  # a module that only re-exports names
            assert "import" in source and "def " not in source, path.stem
            continue
        compile(mutation.mutate(source, found[len(found) // 2]), str(path), "exec")


@given(n=st.integers(1, 500), data=st.data())
def test_wilson_interval_holds_the_observed_fraction(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = mutation.wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo4, hi4 = mutation.wilson(4 * k, 4 * n)
    assert hi4 - lo4 < hi - lo  # four times the sample, same fraction: a narrower interval


def test_within_budget_takes_the_fastest_first_and_at_least_one():
    durations = {"a": 5.0, "b": 1.0, "c": 2.0, "d": 50.0}
    assert mutation.within_budget(set(durations), durations, 8.0) == ["b", "c", "a"]
    assert mutation.within_budget({"d"}, durations, 1.0) == ["d"]


CONSTANTS = """LIMIT = 1e-2  # a comment
A, (B, C) = 1, (2, 3)
SCALE: float = 4.0


def f(x=5):
    y = 6
    return x * y
"""


def test_constant_names_are_the_names_a_module_level_assignment_binds():
    assert mutation.constant_names(CONSTANTS, 1) == {"LIMIT"}
    assert mutation.constant_names(CONSTANTS, 2) == {"A", "B", "C"}
    assert mutation.constant_names(CONSTANTS, 3) == {"SCALE"}
    assert mutation.constant_names(CONSTANTS, 6) == set()  # a default argument
    assert mutation.constant_names(CONSTANTS, 7) == set()  # a local, not a module constant


def test_tests_naming_picks_the_test_functions_that_name_the_constant():
    """This test's own source names the made-up constant below; no other test function does."""
    name = "ZZ_ONLY_NAMED_HERE"
    here = (
        "tests/test_mutation_tool.py::"
        "test_tests_naming_picks_the_test_functions_that_name_the_constant"
    )
    other = "tests/test_mutation_tool.py::test_sites_skip_docstrings_messages_and_annotations"
    durations = {here: 0.1, other: 0.1, here.replace("test_tests", "test_nothing") + "[1]": 0.1}
    assert mutation.tests_naming({name}, durations) == {here}
    assert mutation.tests_naming(set(), durations) == set()


def test_tests_that_fail_on_the_unmutated_code_are_found_in_the_junit_report(tmp_path, monkeypatch):
    """A test that failed (or errored) in the map run cannot witness a kill; passed and skipped
    ones are not listed, and each case keeps its measured time."""
    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_rank" name="test_a" time="0.5"/>'
        '<testcase classname="tests.test_rank" name="test_b[1]" time="1.5">'
        '<failure message="boom"/></testcase>'
        '<testcase classname="tests.test_rank" name="test_c" time="0.1"><error message="x"/>'
        "</testcase>"
        '<testcase classname="tests.test_rank" name="test_d" time="0.2"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    monkeypatch.setattr(mutation, "DURATIONS", xml)
    assert mutation.failing_tests() == {
        "tests/test_rank.py::test_b[1]",
        "tests/test_rank.py::test_c",
    }
    assert mutation.test_durations()["tests/test_rank.py::test_b[1]"] == 1.5
    assert len(mutation.test_durations()) == 4


def test_tests_importing_finds_the_test_files_that_import_the_module():
    """A decorator's mutant (a frozen dataclass made mutable) is reached by the tests of the files
    that import its module, though the map records none of them on the decorator's line."""
    durations = {
        "tests/test_claims_statistics.py::test_an_amari_curve_is_an_immutable_record": 0.1,
        "tests/test_mutation_tool.py::test_wilson_interval_holds_the_observed_fraction": 0.1,
    }
    found = mutation.tests_importing("amari_curves", durations)
    assert found == {"tests/test_claims_statistics.py::test_an_amari_curve_is_an_immutable_record"}
    assert mutation.tests_importing("no_such_module", durations) == set()


def test_tests_importing_counts_a_file_that_walks_the_package_as_importing_every_module():
    """A test file that imports every module of theory by walking the package (the frozen-record
    contract) reaches every module's decorators, though it names none of them."""
    walker = "tests/test_claims_contracts.py::test_every_result_record_of_theory_is_frozen"
    walks = "pkgutil.iter_modules(" + "theory.__path__)"  # split: this file must not match
    assert walks in (mutation.ROOT / walker.split("::")[0]).read_text()
    durations = {walker: 0.1, "tests/test_rank.py::test_b": 0.1}
    for module in ("amari", "estimators", "ica"):
        assert walker in mutation.tests_importing(module, durations)
    assert "tests/test_rank.py::test_b" not in mutation.tests_importing("ica", durations)


def test_every_recorded_equivalent_mutant_names_a_current_site():
    """bench/mutation_equivalent.json is keyed module:line:col:change: an entry whose key no longer
    names a site of theory/ (its source moved) would silently stop excluding its mutant."""
    recorded = json.loads((ROOT / "bench" / "mutation_equivalent.json").read_text())
    current = set()
    for module in {key.split(":")[0] for key in recorded}:
        source = (ROOT / "theory" / f"{module}.py").read_text()
        current |= {site.key for site in mutation.sites(module, source)}
    assert sorted(set(recorded) - current) == []
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in recorded.values())


def test_every_site_of_theory_has_its_own_key():
    """a * b * c holds two products that start at a's column: their keys carry the end column, so
    a key names one mutant (--try, --again and the equivalent list look mutants up by key)."""
    for path in sorted((ROOT / "theory").glob("*.py")):
        keys = [site.key for site in mutation.sites(path.stem, path.read_text())]
        assert len(keys) == len(set(keys)), path.name
    found = mutation.sites("m", "y = a * b * c\n")
    assert sorted(site.key for site in found) == ["m:1:4:Mult->Div~13", "m:1:4:Mult->Div~9"]
