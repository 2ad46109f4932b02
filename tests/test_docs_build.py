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


def _subpackages_with_all() -> dict[str, list[str]]:
    """Every package under src/rackwright that declares its public names (``__all__``), read from the source (ast):
    ``rackwright.catalog`` → its ``__all__``."""
    import ast

    found = {}
    src = ROOT / "src"
    for init in sorted((src / "rackwright").rglob("__init__.py")):
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                found[".".join(init.parent.relative_to(src).parts)] = list(ast.literal_eval(node.value))
    return found


def test_every_subpackage_with_public_names_has_a_reference_page():
    # a subpackage that declares __all__ has a docs/api page that renders it (`::: rackwright.catalog`) in the nav
    pages = {page.name: page.read_text(encoding="utf-8") for page in (ROOT / "docs" / "api").glob("*.md")}
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    packages = _subpackages_with_all()
    assert {"rackwright.catalog", "rackwright.programme", "rackwright.roadmap"} <= set(packages)
    for package in packages:
        rendering = [name for name, text in pages.items() if re.search(rf"^::: {re.escape(package)}\s*$", text, re.M)]
        assert rendering, f"{package} declares __all__ but no docs/api page renders it (::: {package})"
        assert any(f"api/{name}" in nav for name in rendering), f"the page of {package} is not in mkdocs.yml's nav"


def test_the_reference_shows_every_public_class_and_function(site):
    # each class and function a subpackage exports (__all__) has its entry on its package's page: under the package
    # (rackwright.catalog.load_catalog) or, where a submodule of the same name hides it from the package's entry
    # (rackwright.factory.simulate, the function, of the module rackwright.factory.simulate), under its module
    import importlib

    pages = {p.parent.name: p.read_text(encoding="utf-8") for p in (site / "api").glob("*/index.html")}
    for package, names in _subpackages_with_all().items():
        if package == "rackwright":  # the top-level page lists its members by hand (api/rackwright.md)
            continue
        module = importlib.import_module(package)
        shown = next(text for text in pages.values() if f'id="{package}"' in text)
        for name in names:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                ids = (f'id="{package}.{name}"', f'id="{obj.__module__}.{obj.__qualname__}"')
                assert any(i in shown for i in ids), f"{package}.{name} is missing from the API reference"
