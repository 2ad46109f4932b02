"""Regenerate the pictures of the docs (docs/tutorial.md, site.md, programme.md, cli.md, perf-model.md, factory.md,
reliability.md, explore.md, roadmap.md, sourcing.md): run the commands, screenshot what they draw.

    .venv/bin/python scripts/make-doc-images.py                     # every picture
    .venv/bin/python scripts/make-doc-images.py site-fabric ...     # only these (names of PICTURES)

The commands (each the docs page's own example, its -o pointed into out/tutorial/) write there; Chromium
(Debian's /usr/bin/chromium, which scripts/test-deps.sh installs; CHROMIUM=... for another) opens each page through
Playwright, as the browser tests do, and the PNGs go to docs/images/<name>.png. Each picture is cropped to one
figure (a report page of the other docs pages: its top, the title block with headline and inputs, then the first
figure) and must stay under MAX_BYTES; a page whose figure is missing (its locator finds nothing) stops the script
with the page's name. A command may exit 1 (a rule broken: check, reliability qualify); it still writes its report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "tutorial"
IMAGES = ROOT / "docs" / "images"
RACKWRIGHT = Path(sys.executable).parent / "rackwright"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MAX_BYTES = 300_000
#: The tutorial's commands that write the pages pictured (docs/tutorial.md runs the same).
COMMANDS = [
    ["elevation", "examples/tutorial-gb300-w40.yaml", "-o", "out/tutorial/gb300-w40"],
    ["bom", "examples/tutorial-gb300-w40.yaml", "--racks", "14", "-o", "out/tutorial/bom"],
    ["site", "plan", "examples/tutorial-site.yaml", "-o", "out/tutorial/site"],
    ["roadmap", "plan", "examples/tutorial-roadmap.yaml", "-o", "out/tutorial/roadmap"],
    ["site", "plan", "examples/site-100mw.yaml", "-o", "out/tutorial/site-100mw"],
    ["programme", "plan", "examples/programme-small.yaml", "-o", "out/tutorial/programme"],
    [
        "programme", "whatif", "examples/programme-small.yaml", "--sweep",
        "generations.e1.first_ship=2027-01-01,2027-04-01", "-o", "out/tutorial/programme-sweep",
    ],
    # The report pages of docs/cli.md, perf-model.md, factory.md, reliability.md, explore.md, roadmap.md, sourcing.md
    [
        "evaluate", "examples/gb200-nvl72.yaml", "examples/gb300-nvl72.yaml", "--no-delivery",
        "-o", "out/tutorial/evaluate",
    ],
    ["check", "examples/gb200-nvl72.yaml", "examples/meta-catalina.yaml", "-o", "out/tutorial/check"],
    ["compare", "examples/gb200-nvl72.yaml", "examples/gb300-nvl72.yaml", "-o", "out/tutorial/compare"],
    ["catalog", "show", "nvidia-b200-gb200", "-o", "out/tutorial/catalog-show"],
    [
        "perf", "train", "--model", "llama3-70b", "--system", "examples/gb200-nvl72.yaml", "--racks", "2",
        "--global-batch", "576", "--tp", "8", "--pp", "2", "--train-tokens", "1.5e13", "-o", "out/tutorial/perf-train",
    ],
    [
        "perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64",
        "--global-batch", "128", "--seq-len", "32768", "--top", "5", "-o", "out/tutorial/perf-search",
    ],
    [
        "perf", "infer", "--model", "llama3-70b", "--system", "dgx-h100-ndr", "--batch", "32",
        "--input-tokens", "2048", "--output-tokens", "512", "-o", "out/tutorial/perf-infer",
    ],
    [
        "factory", "simulate", "examples/line-us.yaml", "--design", "examples/gb200-nvl72.yaml", "--weeks", "3",
        "--warmup", "2", "--replications", "2", "--seed", "7", "-o", "out/tutorial/factory",
    ],
    [
        "factory", "capacity", "examples/line-us.yaml", "--design", "examples/gb200-nvl72.yaml",
        "--target", "100/week", "-o", "out/tutorial/factory-capacity",
    ],
    [
        "reliability", "job", "--design", "examples/hgx-h100-air.yaml", "--accelerators", "16384",
        "--also", "examples/gb300-nvl72.yaml", "-o", "out/tutorial/reliability-job",
    ],
    [
        "reliability", "spares", "--design", "examples/gb200-nvl72.yaml", "--racks", "228", "--repair-days", "14",
        "-o", "out/tutorial/reliability-spares",
    ],
    [
        "reliability", "qualify", "examples/gb200-nvl72.yaml", "examples/qualification-gb200.csv",
        "-o", "out/tutorial/reliability-qualify",
    ],
    ["explore", "examples/space-vera-rubin.yaml", "-o", "out/tutorial/explore"],
    [
        "roadmap", "risk", "examples/roadmap-10gw.yaml", "--samples", "100", "--seed", "3",
        "-o", "out/tutorial/roadmap-risk",
    ],
    [
        "sourcing", "whatif", "examples/gb200-nvl72.yaml", "examples/sourcing-us-power-cabling.yaml",
        "--sweep", "substitutions[3].price_change=0:0.5:6", "-o", "out/tutorial/sourcing-sweep",
    ],
]


@dataclass(frozen=True)
class Picture:
    name: str  # docs/images/<name>.png
    page: str  # under out/tutorial/
    locator: str  # Playwright selector of the element pictured
    max_height: int | None = None  # crop the element to its top this many CSS pixels
    viewport_height: int = 1600  # tall enough for the element (plotly charts fill the height of the window)
    viewport_width: int = 1280  # narrower for the report tops, which keeps their PNGs small


def report_top(name: str, height: int, width: int = 1000) -> Picture:
    """The top ``height`` CSS pixels of the report page of out/tutorial/``name``/: its title block (headline,
    inputs) and the first figures; ``width`` wide enough for the headline's line."""
    return Picture(f"report-{name}", f"{name}/report.html", "body", max_height=height, viewport_width=width)


PICTURES = [
    Picture("tutorial-elevation", "gb300-w40/elevation.svg", "svg"),
    Picture("tutorial-bom", "bom/report.html", ".plotly-graph-div", viewport_height=800, max_height=450),
    Picture("tutorial-site-floor-plan", "site/report.html", "h2:has-text('Floor plan') + svg"),
    Picture(
        "tutorial-site-charts", "site/report.html", "h2:has-text('Charts') ~ div .plotly-graph-div", max_height=400
    ),
    Picture("tutorial-roadmap", "roadmap/report.html", "body", max_height=1375, viewport_width=1000),
    Picture("site-hall-plan", "site-100mw/hall-01.html", "svg", max_height=760),
    Picture("site-hall-partly-filled", "site-100mw/hall-02.html", "svg"),  # the last hall, sized to its rows
    Picture("site-fabric", "site-100mw/report.html", "svg#fabric-diagram"),
    Picture("site-power-oneline", "site-100mw/report.html", "svg#power-one-line"),
    Picture("site-pue-heatmap", "site-100mw/report.html", "h2#pue + p + div .plotly-graph-div", viewport_height=800),
    Picture("programme-dashboard", "programme/report.html", ".plotly-graph-div", max_height=1100),
    Picture("programme-sweep", "programme-sweep/report.html", ".plotly-graph-div", max_height=900),
    report_top("evaluate", 900),
    report_top("check", 560),
    report_top("compare", 900),
    report_top("catalog-show", 660),
    report_top("perf-train", 880, width=1280),
    report_top("perf-search", 610, width=1280),
    report_top("perf-infer", 730),
    report_top("factory", 770),
    report_top("factory-capacity", 760),
    report_top("reliability-job", 900),
    report_top("reliability-spares", 900),
    report_top("reliability-qualify", 860),
    report_top("explore", 830),
    report_top("roadmap-risk", 870),
    report_top("sourcing-sweep", 590),
]


def run_commands(pages: set[str]) -> None:
    """Run the commands that write the folders of ``pages``."""
    for args in COMMANDS:
        written = Path(args[-1]).relative_to("out/tutorial").as_posix()
        if not any(page == written or page.startswith(f"{written}/") for page in pages):
            continue
        result = subprocess.run([str(RACKWRIGHT), "-q", *args], cwd=ROOT, capture_output=True, text=True)
        if result.returncode not in (0, 1):
            sys.exit(f"rackwright {' '.join(args)} exited {result.returncode}:\n{result.stderr}")


def shoot(browser, picture: Picture) -> Path:
    """Open the page and save the PNG of its element, cropped to ``max_height``."""
    page = browser.new_page(viewport={"width": picture.viewport_width, "height": picture.viewport_height})
    page.goto((OUT / picture.page).as_uri())
    element = page.locator(picture.locator).first
    element.wait_for(timeout=30_000)
    if element.evaluate("e => e.classList.contains('plotly-graph-div')"):
        page.wait_for_selector(".plotly-graph-div .main-svg", timeout=30_000)
    page.wait_for_load_state("networkidle")
    element.evaluate("e => e.scrollIntoView()")
    box = element.bounding_box()  # in the viewport, which is tall enough for each picture
    if box is None:
        sys.exit(f"{picture.page}: {picture.locator} is not displayed")
    height = box["height"] if picture.max_height is None else min(box["height"], picture.max_height)
    target = IMAGES / f"{picture.name}.png"
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": height}
    page.screenshot(path=target, clip=clip)
    page.close()
    if target.stat().st_size > MAX_BYTES:
        sys.exit(f"{target.relative_to(ROOT)} is {target.stat().st_size:,} bytes, over {MAX_BYTES:,}: crop it")
    return target


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        sys.exit(f"{CHROMIUM} is missing: run scripts/test-deps.sh (it installs Debian's chromium) or set CHROMIUM")
    wanted = set(sys.argv[1:])
    unknown = wanted - {p.name for p in PICTURES}
    if unknown:
        sys.exit(f"no picture named {', '.join(sorted(unknown))}: choose from {', '.join(p.name for p in PICTURES)}")
    pictures = [p for p in PICTURES if not wanted or p.name in wanted]
    run_commands({p.page for p in pictures})
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for picture in pictures:
            target = shoot(browser, picture)
            print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size:,} bytes)")
        browser.close()


if __name__ == "__main__":
    main()
