"""``-o DIR`` of the rack commands (evaluate, check, compare, catalog list|show, sourcing build-date): the folder holds
``NAME.json``, the very document ``--json`` prints, and ``report.html``, whose page opens with the numbers the
terminal prints and links nowhere outside its folder.

The numbers are hand-checked: examples/gb200-nvl72.yaml draws 121.4 kW of IT load from 132 kW of conversion capacity
left after N+N redundancy (121.448 / 132 = 92.0 %), its bill of materials is 3,130,825 USD and GB300's 3,791,425 USD
(+21.1 %); Meta Catalina breaks THM002 (51.8 kW to liquid against a 40 kW share of its CDUs) and warns MEC007 on four
19-inch parts; the Vertiv CoolChip CDU 1350 is 250,000 USD with a 36-week lead time.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackwright.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GB200, GB300, CATALINA = (str(EXAMPLES / f"{n}.yaml") for n in ("gb200-nvl72", "gb300-nvl72", "meta-catalina"))
SCENARIO = str(EXAMPLES / "sourcing-us-power-cabling.yaml")

#: (name, command line, its exit code, NAME.json, what the terminal and the page's headline both show)
COMMANDS = [
    ("evaluate", ["evaluate", GB200, "--no-delivery"], 0, "evaluate.json", ["121.4", "3,130,825"]),
    ("check", ["check", GB200, CATALINA], 1, "check.json", ["THM002", "MEC007"]),
    ("compare", ["compare", GB200, GB300], 0, "compare.json", ["3,130,825", "3,791,425", "+21.1%"]),
    ("catalog-list", ["catalog", "list", "--kind", "cdu"], 0, "catalog.json", ["250,000"]),
    ("catalog-show", ["catalog", "show", "vertiv-coolchip-cdu-1350"], 0, "part.json", ["CoolChip CDU 1350", "36"]),
    (
        "build-date",
        ["sourcing", "build-date", GB200, "--order-date", "2026-12-01", "--racks", "1000", "--scenario", SCENARIO],
        0,
        "build-date.json",
        ["2027-12-14", "2027-12-21"],
    ),
]
IDS = [c[0] for c in COMMANDS]
#: The pages made of HTML tables only (rackwright.report.pages).
TABLES_ONLY = {"catalog-list"}


def invoke(argv: list[str]):
    return CliRunner().invoke(app, argv)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each command run three ways: printed, as --json, and with -o into a folder of its own."""
    runs = {}
    for name, argv, _, _, _ in COMMANDS:
        folder = tmp_path_factory.mktemp(name)
        runs[name] = (invoke(argv), invoke([*argv, "--json"]), invoke([*argv, "-o", str(folder)]), folder)
    return runs


@pytest.mark.parametrize(("name", "argv", "code", "document", "numbers"), COMMANDS, ids=IDS)
def test_o_writes_the_json_document_and_a_page(written, name, argv, code, document, numbers):
    printed, as_json, _, folder = written[name]
    assert printed.exit_code == as_json.exit_code == code, printed.stdout + printed.stderr
    assert json.loads((folder / document).read_text(encoding="utf-8")) == json.loads(as_json.stdout)
    charts = [] if name in TABLES_ONLY else ["plotly.min.js"]  # a page of tables loads no plotly.js
    assert sorted(p.name for p in folder.iterdir()) == sorted([document, "report.html", *charts])
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "http" not in page  # no external address: plotly.js is beside the page, sources stay in the JSON
    for number in numbers:
        assert number in printed.stdout
        assert number in page


@pytest.mark.parametrize(("name", "argv", "code", "document", "numbers"), COMMANDS, ids=IDS)
def test_o_keeps_the_terminal_output(written, name, argv, code, document, numbers):
    printed, _, with_folder, folder = written[name]
    assert with_folder.exit_code == code
    wrote = f"wrote {folder / document}, {folder / 'report.html'}\n"
    assert wrote in with_folder.stdout
    assert with_folder.stdout.replace(wrote, "", 1) == printed.stdout  # the same table, the note on what was written


@pytest.mark.parametrize(("name", "argv", "code", "document", "numbers"), COMMANDS, ids=IDS)
def test_o_naming_a_file_is_bad_input(tmp_path, name, argv, code, document, numbers):
    file = tmp_path / "a-file"
    file.write_text("", encoding="utf-8")
    result = invoke([*argv, "-o", str(file)])
    assert result.exit_code == 2
    assert "is a file; give a folder" in re.sub(r"[\s│╭╮╰╯─]+", " ", result.stderr)  # unboxed, unwrapped


def test_budget_use_against_hand_figures():
    import rackwright
    from rackwright.report.rack_pages import budget_use

    use = budget_use(rackwright.evaluate(EXAMPLES / "gb200-nvl72.yaml").figures)
    assert use["PWR001: IT load / usable conversion capacity"] == pytest.approx(121.448 / 132.0, rel=1e-6)
    assert use["PWR003: busbar current / rating"] == pytest.approx(121_448 / 50 / 3100, rel=1e-3)  # 50 V busbar
    assert use["MEC001: rack units used / available"] == pytest.approx(37 / 48, rel=1e-9)
    # 1,459.22 kg in a 220 kg NVIDIA MGX rack rated for a 1,500 kg payload
    assert use["MEC002: payload / enclosure rating"] == pytest.approx((1459.22 - 220) / 1500, rel=1e-6)
    air = budget_use(rackwright.evaluate(EXAMPLES / "hgx-h100-air.yaml").figures)  # no CDU, no busbar: no budget
    assert not [b for b in air if b.startswith(("THM001", "THM002", "THM003", "PWR003"))]


def test_the_check_page_counts_rules_by_outcome():
    import rackwright
    from rackwright.rack.rules import SUMMARIES
    from rackwright.report.rack_pages import check_figure

    racks = [rackwright.evaluate(EXAMPLES / n) for n in ("gb200-nvl72.yaml", "meta-catalina.yaml")]
    bars = {t.name: list(t.y) for t in check_figure(racks).data if t.type == "bar"}
    rules = len(SUMMARIES)
    # Meta Catalina: THM002 broken (error), MEC007 broken on four slots (one rule, a warning); neither rack has a
    # rear-door heat exchanger (THM008 n/a), GB200's MGX rack is no Open Rack (MEC007 n/a), Catalina's sidecar CDU
    # states no maximum facility supply (THM005 n/a)
    assert bars == {"pass": [rules - 2, rules - 4], "warning": [0, 1], "error": [0, 1], "n/a": [2, 2]}


def test_the_check_page_says_why_a_rule_does_not_apply():
    """examples/hgx-h100-air.yaml is air-cooled (rear door, no CDU): the CDU rules read n/a with the reason, and the
    headline counts its 28 rules as 16 passed, 0 broken, 12 not applicable; GB200 NVL72 passes them."""
    import rackwright
    from rackwright.report.rack_pages import check_figure

    racks = [rackwright.evaluate(EXAMPLES / n) for n in ("hgx-h100-air.yaml", "gb200-nvl72.yaml")]
    figure = check_figure(racks)
    table = next(t for t in figure.data if t.type == "table" and "<b>code</b>" in t.header.values)
    cells = {row[0]: row[2:] for row in zip(*table.cells.values, strict=True)}
    assert cells["THM001"] == ("n/a: the design names no CDU (cooling.cdu)", "pass")
    assert cells["THM008"] == ("pass", "n/a: no rear-door heat exchanger in the rack")
    title = figure.layout.title.text
    assert "DGX H100 air-cooled rack: 16 passed, 0 broken, 12 not applicable" in title
    assert "GB200 NVL72: 26 passed, 0 broken, 2 not applicable" in title


def test_every_chart_axis_is_titled():
    """Each page's x and y axes carry a title (with its unit where the axis has one)."""
    import rackwright
    from rackwright.catalog import load_catalog
    from rackwright.rack.compare import field_changes, figure_changes
    from rackwright.rack.evaluation import sound_model
    from rackwright.rack.sourcing import build_dates
    from rackwright.report import rack_pages

    gb200, gb300 = (rackwright.evaluate(EXAMPLES / n) for n in ("gb200-nvl72.yaml", "gb300-nvl72.yaml"))
    catalog = load_catalog()
    doc = build_dates(sound_model(gb200, "sourcing"), date(2026, 12, 1), 10)
    figures = {
        "evaluate": rack_pages.evaluate_figure([gb200, gb300], delivery=False),
        "check": rack_pages.check_figure([gb200]),
        "compare": rack_pages.compare_figure(gb200, gb300, field_changes({}, {}), figure_changes(gb200, gb300)),
        "catalog show": rack_pages.part_figure(catalog.get("nvidia-b200-gb200")),
        "build-date": rack_pages.build_date_figure(doc, None),
    }
    for name, figure in figures.items():
        axes = [key for key in figure.layout.to_plotly_json() if key.startswith(("xaxis", "yaxis"))]
        assert axes, name
        untitled = [key for key in axes if not figure.layout[key].title.text]
        assert not untitled, f"{name}: {untitled}"


def test_catalog_show_page_labels_each_figure_and_writes_its_unit_as_pint_does(tmp_path):
    """The CDU's figures as its YAML states them (1350 kW, 2000 L/min, 32 degC, 1500 kg), shown with thousands
    separators and pint's pretty units under a readable label, the YAML field beside; no pint string, no dict (the
    assumptions' prose stays as the catalog words it)."""
    result = invoke(["catalog", "show", "vertiv-coolchip-cdu-1350", "-o", str(tmp_path)])
    assert result.exit_code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    table = re.search(r'"cells":\{"align":"left","values":(\[\[.*?\]\])', page)
    assert table
    rows = {row[0]: (row[1], row[3]) for row in zip(*json.loads(table.group(1)), strict=True)}
    assert rows["Capacity"] == ("1,350 kW", "capacity")
    assert rows["Max flow"] == ("2,000 L/min", "max_flow")
    assert rows["Max facility supply"] == ("32 °C", "max_facility_supply")
    assert rows["Weight"] == ("1,500 kg", "weight")
    assert rows["Price"] == ("250,000 USD", "price_usd")
    assert rows["Annual failure rate (AFR)"] == ("2.0%", "afr")
    assert rows["Lead time"] == ("36 weeks", "lead_time_weeks")
    assert not [v for v, _ in rows.values() if re.search(r"deg|\*\*|\{", v)]


def test_catalog_show_page_shows_each_value_as_the_terminal_prints_it(tmp_path):
    """The page's value of each YAML field is the text ``catalog show`` prints after that field's name: the GB200's
    price 30000 is ``30,000 USD``, its lead time 52 ``52 weeks``, its AFR 0.05 ``5.0%`` (catalog/data); the CDU's
    capacity 1350 kW ``1,350 kW`` and its 32 degC ``32 °C``."""
    for part, expected in (
        ("nvidia-b200-gb200", {"price_usd": "30,000 USD", "lead_time_weeks": "52 weeks", "afr": "5.0%"}),
        ("vertiv-coolchip-cdu-1350", {"capacity": "1,350 kW", "max_facility_supply": "32 °C", "weight": "1,500 kg"}),
    ):
        folder = tmp_path / part
        result = CliRunner().invoke(app, ["catalog", "show", part, "--wide", "-o", str(folder)])
        assert result.exit_code == 0, result.output
        figures = result.stdout.split("\nsource:")[0]  # the specs and the part's own figures, before its sources
        printed = dict(re.findall(r"^ *(\w+): (.+)$", figures, re.M))
        page = (folder / "report.html").read_text(encoding="utf-8")
        table = re.search(r'"cells":\{"align":"left","values":(\[\[.*?\]\])', page)
        shown = {row[3]: row[1] for row in zip(*json.loads(table.group(1)), strict=True)}
        assert {field: printed[field] for field in expected} == expected
        assert {field: shown[field] for field in expected} == expected
        numbers = [f for f in shown if f not in ("origin", "peak_flops")]  # these two print as mappings
        assert {f: shown[f] for f in numbers} == {f: printed[f] for f in numbers}, part


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("unit_pitch", "44.45 mm", "44.45 mm"),  # every digit the catalog states, not 3 significant figures
        ("max_facility_supply", "40 degC", "40 °C"),
        ("switching_capacity", "51200 Gb/s", "51,200 Gb/s"),
        ("efficiency", 0.9995, "99.95%"),
        ("cop", 5.5, "5.5"),
        ("psu_redundancy", "1+1", "1+1"),
        (
            "peak_flops",
            {"bf16_dense": "2.5 PFLOP/s", "fp64_dense": "40 TFLOP/s"},
            "BF16 dense: 2.5 PFLOP/s; FP64 dense: 40 TFLOP/s",
        ),
    ],
)
def test_spec_text(name, value, shown):
    from rackwright.report.present import spec_text
    from rackwright.report.rack_pages import spec_label

    assert spec_text(name, value) == shown
    assert spec_label("hbm_bandwidth") == "HBM bandwidth"


def test_o_with_json_prints_only_the_document(tmp_path):
    """Under --json the note on what was written goes to stderr, so that stdout stays the one JSON document."""
    argv = ["sourcing", "build-date", GB200, "--order-date", "2026-12-01", "--json", "-o", str(tmp_path)]
    result = invoke(argv)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads((tmp_path / "build-date.json").read_text(encoding="utf-8"))
    assert f"wrote {tmp_path / 'build-date.json'}" in result.stderr


def _cells(page: str, first: str) -> list[str]:
    """The cells after ``first`` in the table row whose first cell is ``first``."""
    match = re.search(rf"<tr><td[^>]*>{re.escape(first)}</td>(.*?)</tr>", page)
    assert match, first
    return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))


@pytest.mark.parametrize("kind", ["cdu", None])
def test_catalog_list_page_groups_the_parts_by_kind(tmp_path, kind):
    """A row per kind under its category with the kind's count and price range in USD (as catalog.json has them),
    then each kind's parts, every id whole in a cell of its own; a short list opens every kind, the whole catalog
    folds each under its count."""
    result = invoke(["catalog", "list", "-o", str(tmp_path)] + (["--kind", kind] if kind else []))
    assert result.exit_code == 0
    parts = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))["parts"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    kinds = {p["kind"]: [q for q in parts if q["kind"] == p["kind"]] for p in parts}
    for name, chosen in kinds.items():
        prices = sorted(p["price_usd"] for p in chosen)
        cells = _cells(page, chosen[0]["category"] + "</td><td class='id'>" + name)
        assert cells[0] == str(len(chosen))
        assert (cells[1], cells[3]) == (f"{prices[0]:,.0f} USD", f"{prices[-1]:,.0f} USD")
        assert f"<summary>{name} ({chosen[0]['category']}): {len(chosen)} part(s)</summary>" in page
    assert all(f"<td class='id'>{p['id']}</td>" in page for p in parts)
    assert page.count("<details") == len(kinds) and page.count(" open>") == (len(kinds) if kind else 0)
    if kind == "cdu":  # the Vertiv CoolChip CDU 1350: 250,000 USD, 36 weeks
        assert "<td class='id'>vertiv-coolchip-cdu-1350</td>" in page and "250,000 USD" in page


def test_compare_page_shows_every_figure_as_compare_prints_it(tmp_path):
    """The compare page's table of figures is the table ``rackwright compare`` prints, cell for cell, and each share's
    bar is labelled with its printed change: Rack AFR 0.999496 → 0.999594 (gb200 → gb300) is 99.95 % → 99.96 %,
    +0.01 pp (at one decimal 99.9594 % would show as 100.0 %), not +0.0098 pp of the unrounded values."""
    result = CliRunner().invoke(app, ["compare", GB200, GB300, "--wide", "-o", str(tmp_path)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    printed = result.stdout.split("Figures that differ", 1)[1]
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in printed.splitlines() if line.startswith("│")]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    tables = [json.loads(t) for t in re.findall(r'"cells":\{"align":"left","values":(\[\[.*?\]\])', page)]
    [figures] = [t for t in tables if len(t) == 6]
    assert [list(row) for row in zip(*figures, strict=True)] == rows
    afr = next(row for row in rows if row[0].startswith("Rack AFR"))
    assert afr[1:5] == ["%", "99.95%", "99.96%", "+0.01 pp"]
    bars = [json.loads(t) for t in re.findall(r'"text":(\[[^\]]*\]),"textposition":"outside"', page)]
    assert bars[1] == [row[4] for row in rows if row[4].endswith(" pp")]  # the shares, in the table's order
    assert "+0.01 pp" in bars[1] and bars[0] == [row[5] for row in rows if not row[4].endswith(" pp")]
