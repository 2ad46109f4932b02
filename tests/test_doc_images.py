"""scripts/make-doc-images.py and the pictures of the docs: every picture it takes is in docs/images/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("make_doc_images", ROOT / "scripts" / "make-doc-images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_picture_of_the_script_is_in_the_docs_images():
    script = _script()
    missing = [p.name for p in script.PICTURES if not (ROOT / "docs" / "images" / f"{p.name}.png").is_file()]
    assert not missing


def test_the_partly_filled_hall_is_pictured_beside_its_paragraph():
    """docs/site.md shows the 100 MW site's hall 2 (hall-02.html, written by the script's site plan of
    examples/site-100mw.yaml) right after the paragraph on partly filled halls."""
    script = _script()
    [picture] = [p for p in script.PICTURES if p.name == "site-hall-partly-filled"]
    assert picture.page == "site-100mw/hall-02.html"
    assert ["site", "plan", "examples/site-100mw.yaml", "-o", "out/tutorial/site-100mw"] in script.COMMANDS
    paragraphs = (ROOT / "docs" / "site.md").read_text(encoding="utf-8").split("\n\n")
    [at] = [i for i, p in enumerate(paragraphs) if p.startswith("Both examples end in a partly filled hall")]
    assert "(images/site-hall-partly-filled.png)" in paragraphs[at + 1]
