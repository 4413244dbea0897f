"""The built documentation loads nothing from the network: every script, stylesheet, font and image
a page asks for is a file of the site itself, and the math is typeset by a MathJax copied into it.

The site is built once (``mkdocs build --strict``) into a temporary folder, from a copy of docs/.
``STEERID_SITE=site`` checks an already built site instead (``make docs`` does, after its build).
The figures are drawn by ``steerid figures``, which is slow; a figure that has not been drawn is
stood in for, in the copy only, by a blank PNG: a local image cannot make a page fetch anything.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = "javascripts/mathjax/tex-mml-chtml.js"
#: <link> relations that are navigation only: the browser fetches nothing for them.
NAVIGATION = {"canonical", "alternate", "prev", "next", "author", "license", "help", "search"}
#: Attributes through which an element makes the browser fetch a resource.
FETCHING = {"src", "srcset", "data", "poster"}
FIGURE = re.compile(r"\]\((figures/[\w.-]+\.png)\)")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""")


def external(url: str) -> bool:
    """Whether the browser would go to the network for ``url`` (a scheme, or a ``//host`` path);
    ``data:`` URLs are inline."""
    url = url.strip()
    if url.startswith("//"):
        return True
    m = re.match(r"^([a-zA-Z][\w+.-]*):", url)
    return bool(m) and m.group(1).lower() not in ("data", "blob", "about")


class Requests(HTMLParser):
    """Every URL a page makes the browser fetch: script/img/iframe/source/... sources, stylesheets
    and other non-navigation <link>s, and url()/@import inside inline styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and not set(a.get("rel", "").lower().split()) <= NAVIGATION:
            self.urls.append((f"<link rel={a.get('rel')}>", a.get("href", "")))
        for key in FETCHING & a.keys():
            for part in a[key].split(",") if key == "srcset" else [a[key]]:
                if part.strip():
                    self.urls.append((f"<{tag} {key}>", part.split()[0]))
        if "style" in a:
            self.urls += [(f"<{tag} style>", u) for u in css_urls(a["style"])]
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.urls += [("<style>", u) for u in css_urls(data)]


def css_urls(css: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in CSS_URL.finditer(css)]


def blank_png() -> bytes:
    """A valid 1 x 1 white PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site: $STEERID_SITE if set, else a strict build of a copy of the docs."""
    if os.environ.get("STEERID_SITE"):
        built = Path(os.environ["STEERID_SITE"]).resolve()
        assert (built / "index.html").is_file(), f"{built} is not a built site"
        return built
    work = tmp_path_factory.mktemp("docs_build")
    shutil.copy(ROOT / "mkdocs.yml", work / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", work / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    for page in (work / "docs").glob("*.md"):
        for name in FIGURE.findall(page.read_text()):
            target = work / "docs" / name
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(blank_png())
    out = work / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", "mkdocs.yml", "-d", out],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}{build.stderr}"
    return out


def pages(site: Path) -> list[Path]:
    found = sorted(site.rglob("*.html"))
    assert len(found) > 10, f"only {len(found)} pages in {site}"
    return found


def test_no_page_fetches_from_the_network(site):
    offending = []
    for page in pages(site):
        parser = Requests()
        parser.feed(page.read_text())
        offending += [f"{page.relative_to(site)}: {w} {u}" for w, u in parser.urls if external(u)]
    assert not offending, "external resources:\n" + "\n".join(offending)


def test_every_local_resource_of_a_page_is_in_the_site(site):
    """A relative script, stylesheet or image a page loads exists in the built site."""
    missing = []
    for page in pages(site):
        parser = Requests()
        parser.feed(page.read_text())
        for what, url in parser.urls:
            path = url.split("#")[0].split("?")[0]
            if path and not external(url) and not path.startswith("/"):
                if not (page.parent / path).resolve().is_file():
                    missing.append(f"{page.relative_to(site)}: {what} {url}")
    assert not missing, "missing local resources:\n" + "\n".join(missing)


def test_stylesheets_fetch_from_the_site_only(site):
    offending = []
    for sheet in sorted(site.rglob("*.css")):
        offending += [
            f"{sheet.relative_to(site)}: {u}" for u in css_urls(sheet.read_text()) if external(u)
        ]
    assert not offending, "stylesheets with external urls:\n" + "\n".join(offending)


def test_math_is_typeset_by_the_mathjax_in_the_site(site):
    """Every page with math loads MathJax from the site, and MathJax's CHTML fonts are there."""
    bundle = site / MATHJAX
    assert bundle.is_file() and bundle.stat().st_size > 500_000, f"{MATHJAX} not vendored"
    fonts = site / "javascripts/mathjax/output/chtml/fonts/woff-v2"
    assert (fonts / "MathJax_Main-Regular.woff").is_file()
    assert (fonts / "MathJax_Math-Italic.woff").is_file()
    assert "://" not in (site / "javascripts/mathjax.js").read_text(), "MathJax config names a URL"
    with_math = [p for p in pages(site) if 'class="arithmatex"' in p.read_text()]
    assert site / "theorems" / "index.html" in with_math and len(with_math) > 10
    for page in with_math:
        parser = Requests()
        parser.feed(page.read_text())
        scripts = {(page.parent / u).resolve() for w, u in parser.urls if w == "<script src>"}
        assert bundle.resolve() in scripts, f"{page.relative_to(site)} does not load {MATHJAX}"


def test_the_detector_sees_external_resources():
    """The parser reports a CDN script, a web-font stylesheet, a preconnect and a remote image,
    and passes links, inline data and relative files."""
    parser = Requests()
    parser.feed(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        '<link rel="preconnect" href="https://fonts.example">'
        '<img src="http://example/a.png"><div style="background: url(https://e/x.png)"></div>'
        '<a href="https://example">a link</a><link rel="next" href="https://example/2">'
        '<img src="data:image/png;base64,AA"><script src="../assets/b.js"></script>'
    )
    flagged = [u for _, u in parser.urls if external(u)]
    assert flagged == [
        "https://cdn.example/x.js",
        "//fonts.example/css",
        "https://fonts.example",
        "http://example/a.png",
        "https://e/x.png",
    ]
    assert not external("assets/b.js") and not external("data:image/png;base64,AA")
