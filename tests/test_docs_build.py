"""The documentation site builds (mkdocs.yml, as `make docs` builds it): offline, in strict mode, with the API
reference generated from the docstrings and the links from docs/ to repository files working in the site."""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rackwright

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def text_of(page: Path) -> str:
    """The visible text of an HTML page, tags stripped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_the_api_page_shows_the_docstring_of_evaluate(site):
    first_line = inspect.getdoc(rackwright.evaluate).splitlines()[0]
    page = site / "api" / "rackwright" / "index.html"
    assert first_line in text_of(page)
    assert 'id="rackwright.evaluate"' in page.read_text(encoding="utf-8")


def test_sphinx_roles_in_docstrings_become_links(site):
    # rackwright/rack/__init__.py: ":mod:`.design` reads and validates design files" links to that module's entry.
    page = (site / "api" / "rack" / "index.html").read_text(encoding="utf-8")
    assert re.search(
        r'<a class="autorefs autorefs-internal"[^>]*href="#rackwright\.rack\.design"><code>design</code>', page
    )
    assert ":mod:`" not in page and ":func:`" not in page
    # rackwright/factory/__init__.py ends its bullet list with a "::" paragraph before the example: no stray colon.
    factory = (site / "api" / "factory" / "index.html").read_text(encoding="utf-8")
    assert "<p>:</p>" not in factory and "from rackwright.factory import load_line" in factory


def test_links_to_repository_files_reach_a_copy_in_the_site(site):
    # docs/explore.md links ../examples/space-gb300.yaml: the site carries the file and the page links to it.
    copy = site / "repo" / "examples" / "space-gb300.yaml"
    assert copy.read_bytes() == (ROOT / "examples" / "space-gb300.yaml").read_bytes()
    assert 'href="../repo/examples/space-gb300.yaml"' in (site / "explore" / "index.html").read_text(encoding="utf-8")


def test_the_site_loads_no_script_or_style_from_the_network(site):
    remote = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//', re.IGNORECASE)
    offenders = [p.relative_to(site) for p in site.rglob("*.html") if remote.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_the_pictures_are_small_and_shown():
    # docs/images/ holds screenshots (scripts/make-doc-images.py): each under 300 kB and used by a page.
    pages = "".join(page.read_text(encoding="utf-8") for page in (ROOT / "docs").glob("*.md"))
    pictures = sorted((ROOT / "docs" / "images").glob("*.png"))
    assert pictures
    for picture in pictures:
        assert picture.stat().st_size < 300_000, picture.name
        assert f"images/{picture.name}" in pages, f"{picture.name} is not shown on any page"
