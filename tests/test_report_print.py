"""Every report page prints: the ``@media print`` rules live in one place (``rackwright.report.html``) and reach
each page it writes or draws charts for, and the site report's pages."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from rackwright.report.html import PRINT_HEAD, PRINT_STYLE, figure_html, write_html
from rackwright.site.report import STYLE as SITE_STYLE

SRC = Path(__file__).resolve().parents[1] / "src" / "rackwright"


def test_the_print_rules_are_written_in_one_place():
    """The page rules (paper, page breaks, widths, links) are in report/html.py alone; the other pages take them."""
    holders = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if "break-before:page" in p.read_text()]
    assert holders == ["report/html.py"]
    for rule in ("background:#fff", "position:static", "break-before:page", "max-width:100%", "attr(href)"):
        assert rule in PRINT_STYLE


def test_a_written_page_carries_the_print_rules_in_its_head(tmp_path):
    path = tmp_path / "page.html"
    write_html(go.Figure(go.Bar(x=[1], y=[2])), path)
    page = path.read_text(encoding="utf-8")
    head = page[page.index("<head>") : page.index("</head>")]
    assert PRINT_HEAD in head and page.count("@media print") == 1
    assert (tmp_path / "plotly.min.js").is_file()


def test_a_page_of_charts_carries_the_print_rules_once_and_each_chart_is_a_block():
    charts = [figure_html(go.Figure(), load_plotly=i == 0) for i in range(3)]
    assert [PRINT_HEAD in c for c in charts] == [True, False, False]
    assert all(c.startswith("<div class='chart'>") and c.endswith("</div>") for c in charts)


def test_the_site_pages_style_has_the_print_rules():
    assert SITE_STYLE.endswith(PRINT_STYLE)
