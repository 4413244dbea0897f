"""The checkout stands alone: no file of the project refers to a path outside it.

A user's ``git clone`` with nothing beside it must build, test and document itself. So no text file
of the project (those ``git ls-files`` lists, plus new files git does not ignore; binary files are
skipped) may name the workplace's directories, a home directory, the sibling ``shared`` folder, or
the specification that lives there; no path in the build and code files (Makefile, .ci/, pyproject,
mkdocs.yml, Python) may climb above the repository root; and no relative link of a Markdown page
may leave the checkout.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]

#: Text that names a place outside the checkout. Spelled so that this file does not match itself.
OUTSIDE = {
    "the sibling shared/ folder": re.compile(r"\.\./shared\b"),
    "the workplace directory": re.compile(r"/wor[k]/"),
    "a home directory": re.compile(r"/home/[\w.-]+|/Users/[\w.-]+|/roo[t]/|[A-Z]:\\Users\\"),
    "the specification outside the checkout (docs/theorems.md is the project's)": re.compile(
        r"THEOR[Y]\.md"
    ),
}

#: Build and code files whose paths are read from the repository root (make, CI, pytest run there).
BUILD = re.compile(r"^(Makefile|\.ci/.*|pyproject\.toml|mkdocs\.yml|.*\.py)$")
#: ``$(dirname "$0")`` and friends: the directory of the script itself.
SCRIPT_DIR = re.compile(r'\$\(dirname\s+"?\$(?:0|\{BASH_SOURCE\[0\]\})"?\)')
#: A path-like token of a shell, make or TOML file.
TOKEN = re.compile(r"[^\s\"'`()=,;:<>|&{}\[\]]+")
#: Targets of Markdown links and images, and of HTML src/href attributes inside Markdown.
MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|(?:src|href)=\"([^\"]+)\"")


@cache
def project_files() -> tuple[str, ...]:
    """Tracked files and new, non-ignored ones, relative to the root (deleted ones left out)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return tuple(sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()}))


def text_of(rel: str) -> str | None:
    """The file's text, or None for a binary file (a NUL byte, or not UTF-8)."""
    data = (ROOT / rel).read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def climbs(start: int, path: str) -> bool:
    """Whether the relative ``path``, walked from ``start`` levels below the root, goes above it."""
    if path.startswith("/"):
        return False
    depth = start
    for seg in path.split("/"):
        if seg == os.pardir:
            depth -= 1
            if depth < 0:
                return True
        elif seg not in ("", "."):
            depth += 1
    return False


def shell_climbs(rel: str, text: str) -> list[str]:
    """Paths of a Makefile, CI script or config file that climb above the root from the root
    (the script's own directory where it says ``$(dirname "$0")``)."""
    here = "./" + str(PurePosixPath(rel).parent)
    bad = []
    for n, line in enumerate(text.splitlines(), 1):
        line = SCRIPT_DIR.sub(here, line)
        for token in TOKEN.findall(line):
            if os.pardir in token.split("/") and climbs(0, token):
                bad.append(f"{rel}:{n}: {token}")
    return bad


class PythonPaths(ast.NodeVisitor):
    """Depth below the root of path expressions built from ``__file__`` (``Path(__file__)``,
    ``.resolve()``, ``.parent``, ``.parents[k]``, ``/ "x"``, ``os.path.dirname``/``join``) and of
    names bound to them; records every expression that reaches above the root, and every string
    literal with a ``..`` segment that, read from the root, climbs above it."""

    def __init__(self, rel: str) -> None:
        self.file_depth = len(PurePosixPath(rel).parts)
        self.names: dict[str, int] = {}
        self.used: set[int] = set()  # ids of string constants joined to a __file__ path
        self.bad: list[int] = []

    def depth(self, node: ast.AST) -> int | None:
        """Levels below the root of the path ``node`` denotes, None if it is not file-derived."""
        match node:
            case ast.Name(id="__file__"):
                return self.file_depth
            case ast.Name(id=name):
                return self.names.get(name)
            case ast.Attribute(value=base, attr="parent"):
                d = self.depth(base)
                return None if d is None else d - 1
            case ast.Subscript(
                value=ast.Attribute(value=base, attr="parents"), slice=ast.Constant(value=k)
            ) if isinstance(k, int):
                d = self.depth(base)
                return None if d is None else d - (k + 1)
            case ast.BinOp(left=base, op=ast.Div(), right=ast.Constant(value=str())):
                return self.joined(base, [node.right])
            case ast.Call(func=func, args=args):
                name = ast.unparse(func)
                if name in ("Path", "pathlib.Path", "PurePath", "PurePosixPath") and args:
                    return self.depth(args[0])
                if name.endswith((".resolve", ".absolute")) and isinstance(func, ast.Attribute):
                    return self.depth(func.value)
                if name in ("os.path.abspath", "os.path.realpath") and args:
                    return self.depth(args[0])
                if name == "os.path.dirname" and args:
                    d = self.depth(args[0])
                    return None if d is None else d - 1
                if name in ("os.path.join", "os.path.normpath") and args:
                    return self.joined(args[0], args[1:])
        return None

    def joined(self, base: ast.AST, parts: list[ast.AST]) -> int | None:
        d = self.depth(base)
        if d is None:
            return None
        for part in parts:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                return None
            self.used.add(id(part))
            for seg in part.value.split("/"):
                d += -1 if seg == os.pardir else (0 if seg in ("", ".") else 1)
                if d < 0:
                    return d
        return d

    def visit_Assign(self, node: ast.Assign) -> None:
        d = self.depth(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and d is not None:
                self.names[target.id] = d
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        d = self.depth(node) if isinstance(node, ast.expr) else None
        if d is not None and d < 0:
            self.bad.append(node.lineno)
        super().generic_visit(node)


def python_climbs(rel: str, text: str) -> list[str]:
    tree = ast.parse(text, filename=rel)
    paths = PythonPaths(rel)
    paths.visit(tree)
    bad = [f"{rel}:{n}: a path above the root" for n in sorted(set(paths.bad))]
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in paths.used and re.search(r"(^|/)\.\.(/|$)", node.value):
                if climbs(0, node.value):
                    bad.append(f"{rel}:{node.lineno}: {node.value!r}")
    return bad


def markdown_climbs(rel: str, text: str) -> list[str]:
    """Relative link targets of a Markdown page that, from the page's folder, leave the checkout."""
    start = len(PurePosixPath(rel).parts) - 1
    bad = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in MD_LINK.finditer(line):
            target = (m.group(1) or m.group(2)).split("#")[0]
            if "://" not in target and climbs(start, target):
                bad.append(f"{rel}:{n}: {target}")
    return bad


def test_the_checkout_is_a_git_work_tree_with_files():
    files = project_files()
    assert "Makefile" in files and "pyproject.toml" in files and len(files) > 20


def test_no_text_file_names_a_place_outside_the_checkout():
    offending = []
    for rel in project_files():
        text = text_of(rel)
        if text is None:
            continue
        for what, pattern in OUTSIDE.items():
            for n, line in enumerate(text.splitlines(), 1):
                if pattern.search(line):
                    offending.append(f"{rel}:{n}: {what}: {line.strip()[:80]}")
    assert not offending, "references outside the checkout:\n" + "\n".join(offending)


def test_no_build_or_code_path_climbs_above_the_root():
    offending = []
    for rel in project_files():
        text = text_of(rel)
        if text is None or not BUILD.match(rel):
            continue
        offending += python_climbs(rel, text) if rel.endswith(".py") else shell_climbs(rel, text)
    assert not offending, "paths above the repository root:\n" + "\n".join(offending)


def test_no_markdown_link_leaves_the_checkout():
    offending = []
    for rel in project_files():
        text = text_of(rel) if rel.endswith(".md") else None
        if text is not None:
            offending += markdown_climbs(rel, text)
    assert not offending, "Markdown links out of the checkout:\n" + "\n".join(offending)


def test_the_detectors_catch_what_they_are_for():
    """Each rule fires on a planted case and stays quiet on the legitimate idioms beside it."""
    planted = "ROOT = Path(__file__).resolve().parents[1]\nSPEC = ROOT.parent / 'x'\n"
    assert python_climbs("tests/t.py", planted)
    assert not python_climbs("tests/t.py", "R = Path(__file__).resolve().parents[1] / 'docs'\n")
    assert python_climbs("tests/t.py", "D = os.path.join(os.path.dirname(__file__), '..', '..')\n")
    assert python_climbs("theory/m.py", "P = Path('..' + '/x')\nQ = '../data/x.csv'\n")
    assert not python_climbs("theory/m.py", "from .. import figures\nx = 'a..b'\n")
    assert shell_climbs("Makefile", "docs:\n\tcp ../notes/x.md docs/\n")
    assert not shell_climbs(".ci/run", 'cd "$(dirname "$0")/.."\n')
    assert shell_climbs(".ci/run", 'cd "$(dirname "$0")/../.."\n')
    assert markdown_climbs("docs/a.md", "see [it](../../x.md)")
    assert not markdown_climbs("docs/a.md", "see [readme](../README.md) and [b](b.md#t1)")
    assert OUTSIDE["the sibling shared/ folder"].search("ROOT / '../" + "shared/x'")
