"""Make pytest-markdown-docs run the code in admonitions (the exercise solutions) too.

The docs write solutions as ``??? note "Solution"`` blocks whose body is indented by four spaces.
CommonMark, which pytest-markdown-docs parses with, reads such a body as an indented code block, so
the fences inside it would never be collected. The parser below removes one level of indentation
from every admonition body before parsing (line numbers are unchanged, so failures point at the
right line of the page).
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

_MARKER = re.compile(r"^(?P<indent> *)(!!!|\?\?\?\+?) ")


def unindent_admonitions(text: str) -> str:
    """Blank each admonition marker line and shift its body left by four spaces."""
    out: list[str] = []
    body: int | None = None  # indentation of the body of the admonition being read
    for line in text.split("\n"):
        if body is not None:
            if not line.strip():
                out.append("")
                continue
            if len(line) - len(line.lstrip(" ")) >= body:
                out.append(line[4:])
                continue
            body = None
        marker = _MARKER.match(line)
        if marker:
            body = len(marker.group("indent")) + 4
            out.append("")
            continue
        out.append(line)
    return "\n".join(out)


class AdmonitionAwareMarkdownIt(MarkdownIt):
    def parse(self, src: str, env=None):
        return super().parse(unindent_admonitions(src), env)


@pytest.hookimpl
def pytest_markdown_docs_markdown_it():
    return AdmonitionAwareMarkdownIt(config="commonmark")
