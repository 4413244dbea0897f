"""mkdocs hook: serve MathJax from the built site itself, so that no page fetches anything.

The MathJax 3 distribution comes from the PyPI package ``django-static-mathjax`` (the official es5
build; its Python side is an empty module, Django is not needed). At build time the hook adds, under
``javascripts/mathjax/``, the combined component ``tex-mml-chtml.js`` and every directory of the
distribution (TeX extensions loaded on demand, the CHTML web fonts, the accessibility and menu
modules), so ``mkdocs build`` and ``mkdocs serve`` both ship them with the pages.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

#: Where the MathJax files live in the built site (``extra_javascript`` points here).
DEST = "javascripts/mathjax"
#: The one combined component the pages load; the other bundles of the distribution are not used.
BUNDLE = "tex-mml-chtml.js"


def mathjax_root() -> Path:
    """The es5 folder of the installed MathJax distribution."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as err:
        raise PluginError(
            "MathJax is not installed: install the docs extra (pip install -e '.[docs]'), "
            "which brings django-static-mathjax"
        ) from err
    if not (root / BUNDLE).is_file():
        raise PluginError(f"{root / BUNDLE} is missing: the mathjax package is not MathJax 3's")
    return root


def vendored(root: Path) -> list[Path]:
    """The bundle and every file under a sub-directory of ``root``, relative to ``root``."""
    files = [Path(BUNDLE)]
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and len(rel.parts) > 1 and "__pycache__" not in rel.parts:
            files.append(rel)
    return files


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add the MathJax files to the site under ``DEST``."""
    root = mathjax_root()
    for rel in vendored(root):
        files.append(
            File.generated(config, f"{DEST}/{rel.as_posix()}", abs_src_path=str(root / rel))
        )
    return files
