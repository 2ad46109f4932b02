"""The HTML reports in a real browser (Debian's Chromium driven by Playwright, as the web UI's tests do).

The commands write their pages into one folder, as a user would; each page must be small (plotly.js is one
``plotly.min.js`` beside the pages, not 4.6 MB inlined in each), load nothing from outside the folder, log no
console error and draw its charts. Screenshots go to ``out/screenshots/report-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app
from test_server_web_browser import browser  # noqa: F401 (the fixture: Chromium under Playwright)

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "out" / "screenshots"
EXAMPLES = ROOT / "examples"
#: The most a page may weigh once plotly.js is out of it.
MAX_PAGE_BYTES = 1_000_000
#: (screenshot name, command writing into the folder {out}, the page it writes)
REPORTS = [
    ("bom", ["bom", str(EXAMPLES / "gb200-nvl72.yaml"), "--racks", "8", "-o", "{out}/bom"], "bom/report.html"),
    (
        "reliability",
        [
            "reliability",
            "job",
            "--design",
            str(EXAMPLES / "hgx-h100-air.yaml"),
            "--accelerators",
            "16384",
            "--also",
            str(EXAMPLES / "gb300-nvl72.yaml"),
            "-o",
            "{out}/reliability",
        ],
        "reliability/report.html",
    ),
    (
        "factory",
        [
            "factory",
            "simulate",
            str(EXAMPLES / "line-us.yaml"),
            "--design",
            str(EXAMPLES / "gb200-nvl72.yaml"),
            "--weeks",
            "4",
            "--warmup",
            "2",
            "--replications",
            "3",
            "--seed",
            "1",
            "-o",
            "{out}/factory",
        ],
        "factory/report.html",
    ),
    ("roadmap", ["roadmap", "plan", str(EXAMPLES / "roadmap-10gw.yaml"), "-o", "{out}/roadmap"], "roadmap/report.html"),
    (
        "roadmap-risk",
        ["roadmap", "risk", str(EXAMPLES / "roadmap-10gw.yaml"), "--samples", "40", "--seed", "1", "-o", "{out}/risk"],
        "risk/report.html",
    ),
    ("explore", ["explore", str(EXAMPLES / "space-gb300-small.yaml"), "-o", "{out}/explore"], "explore/report.html"),
    (
        "sourcing-sweep",
        [
            "sourcing",
            "whatif",
            str(EXAMPLES / "gb200-nvl72.yaml"),
            str(EXAMPLES / "sourcing-us-power-cabling.yaml"),
            "--sweep",
            "substitutions[0].price_change=0:0.3:4",
            "-o",
            "{out}/sweep",
        ],
        "sweep/report.html",
    ),
    (
        "programme-risk",
        ["programme", "risk", str(EXAMPLES / "programme-small.yaml"), "--samples", "20", "--seed", "1",
         "-o", "{out}/programme-risk"],
        "programme-risk/report.html",
    ),
    (
        "programme-sweep",
        ["programme", "whatif", str(EXAMPLES / "programme-small.yaml"),
         "--sweep", "generations.e1.first_ship=2027-01-01,2027-04-01", "-o", "{out}/programme-sweep"],
        "programme-sweep/report.html",
    ),
]


def open_page(chromium, path: Path, screenshot: str, ready: str) -> tuple[list[str], list[str]]:
    """Open a file in a fresh page, wait for ``ready``, save a full-page screenshot; the requests that left the
    file system and the console errors."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else outside.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(ready, timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    page.close()
    return outside, errors


#: What each page's title tells before any chart (its headline numbers), by report.
HEADLINES = {
    "bom": "USD per rack, US content",
    "reliability": "interruptions per day (one every",
    "factory": "racks shipped per week (mean over weeks and replications); busiest station",
    "roadmap": "GW of IT power by 2029-12-31 (goal 10 GW); goal met in",
    "roadmap-risk": "Why the median can lie above the plan",
}


@pytest.mark.parametrize(("name", "argv", "page"), REPORTS, ids=[r[0] for r in REPORTS])
def test_report_pages_are_small_offline_and_draw(browser, tmp_path, name, argv, page):  # noqa: F811 (the fixture)
    result = CliRunner().invoke(app, [a.format(out=tmp_path) for a in argv])
    assert result.exit_code == 0, result.stdout + result.stderr
    path = tmp_path / page
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size < MAX_PAGE_BYTES
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["plotly.min.js"]  # loaded once, from beside it
    assert HEADLINES.get(name, "") in html
    assert (path.parent / "plotly.min.js").stat().st_size > 3_000_000  # the whole of plotly.js, once
    outside, errors = open_page(browser, path, f"report-{name}.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []


def test_the_programme_dashboard_draws_a_legend_beside_each_chart(browser, tmp_path):  # noqa: F811 (the fixture)
    argv = ["programme", "plan", str(EXAMPLES / "programme-small.yaml"), "-o", str(tmp_path)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.stdout + result.stderr
    outside, errors = open_page(browser, tmp_path / "report.html", "report-programme.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg")
    names = ["legend", *(f"legend{k}" for k in range(2, 9))]
    entries = page.evaluate(
        "names => names.map(n => { const g = document.querySelector('g.' + n); return g ? "
        "g.querySelectorAll('.traces').length : 0 })",
        names,
    )
    page.close()
    # generations and the goal; generations, sites, lines; delivered and peak; two US shares; capex, tariffs (the
    # example names a sourcing scenario since 685c78b) and energy; failures; the spare pools of its two sites (Abilene
    # and Milam hold racks); the site plant (four series: the example names no transformer or CDU supply line): each
    # chart's own names, none of another's
    assert entries == [3, 3, 2, 2, 3, 1, 2, 4]


def test_one_bundle_for_the_pages_of_a_folder(tmp_path):
    """Two reports into one folder share one plotly.min.js, written once (not rewritten by the second); the second
    command's report.html replaces the first's, and says so on stderr."""
    runner = CliRunner()
    bom = ["bom", str(EXAMPLES / "gb200-nvl72.yaml"), "-o", str(tmp_path)]
    assert runner.invoke(app, bom).exit_code == 0
    bundle = tmp_path / "plotly.min.js"
    written = bundle.stat().st_mtime_ns
    job = ["reliability", "job", "--design", str(EXAMPLES / "gb200-nvl72.yaml"), "--accelerators", "72"]
    result = runner.invoke(app, [*job, "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert bundle.stat().st_mtime_ns == written
    assert "the report of `rackwright bom`, is replaced by that of `rackwright reliability job`" in result.stderr
    assert "use a separate -o folder to keep both" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bom.json", "job.json", "plotly.min.js", "report.html"]


#: The most a chart of a page may be high to print on one A4 landscape page with its heading [CSS px]: 186 mm of
#: paper inside 12 mm margins is 703 px at 96 px per inch, less about 50 px for the heading.
PRINTED_CHART_PX = 650


def test_roadmap_plan_page_is_a_chart_per_heading_each_whole_on_screen_and_paper(browser, tmp_path):  # noqa: F811
    """Issue 22 audit: the plan page was one 3,669 px figure whose axis titles ran into the next chart's title, whose
    last tick read "2029Q" and which printed cut over 6-7 pages. Now every chart stands under its own heading, its
    tick labels inside its frame, and, laid out for print, each chart fits one A4 landscape page."""
    argv = ["roadmap", "plan", str(EXAMPLES / "roadmap-10gw.yaml"), "-o", str(tmp_path)]
    assert CliRunner().invoke(app, argv).exit_code == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg")
    # every tick label inside the chart; a quarter's under the plot area, clear of the y axis's labels
    charts = """[...document.querySelectorAll('div.chart')].map(c => {
        const box = e => e.getBoundingClientRect(), frame = box(c.querySelector('.main-svg'));
        const plot = box(c.querySelector('.bglayer .bg, .heatmaplayer image'));
        const ticks = [...c.querySelectorAll('.xtick text, .ytick text')].map(box);
        const quarters = [...c.querySelectorAll('.xtick text')].filter(t => /Q[1-4]$/.test(t.textContent)).map(box);
        return {heading: c.previousElementSibling.tagName + ' ' + c.previousElementSibling.textContent,
                inside: ticks.every(t => t.left >= frame.left && t.right <= frame.right + 0.5),
                quarters: quarters.every(t => t.left >= plot.left - 0.5 && t.right <= plot.right + 0.5),
                height: box(c).height}})"""
    shown = page.evaluate(charts)
    # 11 charts: 16e0b0b added "Training compute: peak and delivered" to the 10 the audit left
    assert len(shown) == 11 and all(c["heading"].startswith("H2 ") for c in shown), shown
    assert any("peak and delivered" in c["heading"] for c in shown), shown
    assert all(c["inside"] and c["quarters"] for c in shown), shown
    page.set_viewport_size({"width": 1032, "height": 703})  # the printed page, as the print rules lay it out
    page.emulate_media(media="print")
    page.evaluate("dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(500)
    printed = page.evaluate(charts)
    page.close()
    assert all(c["inside"] and c["quarters"] and c["height"] <= PRINTED_CHART_PX for c in printed), printed


ELEVATIONS = ["gb300-nvl72", "hgx-h100-air", "meta-catalina"]


@pytest.mark.parametrize("design", ELEVATIONS)
def test_elevation_draws_in_the_browser(browser, tmp_path, design):  # noqa: F811 (the fixture)
    result = CliRunner().invoke(app, ["elevation", str(EXAMPLES / f"{design}.yaml"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stdout + result.stderr
    svg = tmp_path / "elevation.svg"
    outside, errors = open_page(browser, tmp_path / "report.html", f"elevation-{design}.png", "svg text")
    assert outside == [] and errors == []
    assert svg.stat().st_size < MAX_PAGE_BYTES


def test_site_report_and_its_floor_plans_in_the_browser(browser, tmp_path):  # noqa: F811 (the fixture)
    """The 100 MW example's report: one page, plotly.js beside it, the campus and hall 1 to scale, the fabric by tier,
    the power one-line and the PUE heatmap; the campus opens each hall's page."""
    result = CliRunner().invoke(app, ["site", "plan", str(EXAMPLES / "site-100mw.yaml"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stdout + result.stderr
    path = tmp_path / "report.html"
    assert path.stat().st_size < MAX_PAGE_BYTES
    assert re.findall(r'<script[^>]*src="([^"]+)"', path.read_text(encoding="utf-8")) == ["plotly.min.js"]
    outside, errors = open_page(browser, path, "report-site.png", ".plotly-graph-div .main-svg")
    assert outside == [] and errors == []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else outside.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("h2#pue + p + div .plotly-graph-div .main-svg")
    for index, name in enumerate(("site-campus.png", "site-hall-1.png")):
        page.locator("body > svg").nth(index).screenshot(path=SCREENSHOTS / name)
    page.locator("svg#fabric-diagram").screenshot(path=SCREENSHOTS / "site-fabric.png")
    page.locator("svg#power-one-line").screenshot(path=SCREENSHOTS / "site-power-oneline.png")
    heatmap = page.locator("h2#pue + p + div .plotly-graph-div")
    assert heatmap.locator(".heatmaplayer").count() == 1  # plotly drew the heatmap
    heatmap.screenshot(path=SCREENSHOTS / "site-pue-heatmap.png")
    page.locator('svg a[href="hall-02.html"] text').click()  # the campus opens hall 2's page
    page.wait_for_selector("svg#hall-plan-2 text")
    assert page.url.endswith("/hall-02.html")
    page.screenshot(path=SCREENSHOTS / "site-hall-02-page.png", full_page=True)
    page.close()
    assert outside == [] and errors == []
    assert all((SCREENSHOTS / n).stat().st_size > 5_000 for n in ("site-fabric.png", "site-power-oneline.png"))
    cables = CliRunner().invoke(app, ["site", "cables", str(tmp_path), "-o", str(tmp_path / "cables")])
    assert cables.exit_code == 0, cables.stdout + cables.stderr
    outside, errors = open_page(browser, tmp_path / "cables/report.html", "report-site-cables.png", ".main-svg")
    assert outside == [] and errors == []
