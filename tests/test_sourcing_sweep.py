"""rackwright.rack.sourcing.sweep, called from Python: a field path it cannot read is a ValueError naming the path."""

import json
import re
from pathlib import Path

import pytest

import rackwright
from rackwright.rack.chain import resolve
from rackwright.rack.sourcing import load_scenario, sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["substitutions.0.price_change", "nonsense", "substitutions[99].price_change"])
def test_sweep_refuses_a_path_it_cannot_read(path):
    model = resolve(rackwright.load_design(ROOT / "examples" / "gb200-nvl72.yaml"))
    scenario = load_scenario(ROOT / "examples" / "sourcing-us-power-cabling.yaml")
    with pytest.raises(ValueError, match=re.escape(f"the scenario has no field {path!r}")):
        sweep(model, scenario, path, [0.0, 0.1])


def test_sweep_page_opens_with_the_headline_numbers_of_whatif_json(tmp_path):
    """The page's headline is whatif.json's numbers, formatted here by hand: the US content at the sweep's first
    value (its base), the range over the sweep in percentage points, the largest tariff bill per rack; both axes
    are titled with their unit."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.rack.sourcing import sweep_figure

    design, plan = ROOT / "examples" / "gb200-nvl72.yaml", ROOT / "examples" / "sourcing-us-power-cabling.yaml"
    path = "substitutions[0].price_change"
    args = ["sourcing", "whatif", str(design), str(plan), "--sweep", f"{path}=0:0.3:4", "-o", str(tmp_path)]
    assert CliRunner().invoke(app, args).exit_code == 0
    rows = json.loads((tmp_path / "whatif.json").read_text())["rows"]
    page = (tmp_path / "report.html").read_text()
    shares = [r["us_content_share"] for r in rows]
    worst = max(rows, key=lambda r: r["tariff_usd_per_rack"])
    expected = [
        f"US content {shares[0]:.1%} at {path} = 0 (base)",
        f"{min(shares):.1%} to {max(shares):.1%} over the sweep ({100 * (max(shares) - min(shares)):.1f} pp)",
        f"largest tariff exposure {worst['tariff_usd_per_rack']:,.0f} USD per rack at {path} = {worst['value']:g}",
    ]
    assert all(text in page for text in expected), [text for text in expected if text not in page]
    model = resolve(rackwright.load_design(design))
    scenario = load_scenario(plan)
    layout = sweep_figure(sweep(model, scenario, path, [0.0, 0.3]), path, scenario, "GB200 NVL72").layout
    titles = [layout.xaxis.title.text, layout.yaxis.title.text]
    assert titles == ["US content (% of cost)", "cost per rack, tariffs included (USD)"]


def test_sweep_page_states_the_scenario_and_the_tariffs_in_force():
    """Issue 22: under the headline, the page names the design, the scenario and the swept field, and each tariff
    in force on the scenario's date (2027-01-01) with its basis, as examples/sourcing-us-power-cabling.yaml gives
    them: China 25 % since 2018-09-24 (USTR Section 301, a source), Taiwan 20 % on networking and Thailand 19 %
    since 2025-08-07 (assumptions); 4 substitutions, no second source."""
    from rackwright.rack.sourcing import sweep_figure
    from report_axes import untitled_axes

    model = resolve(rackwright.load_design(ROOT / "examples" / "gb200-nvl72.yaml"))
    scenario = load_scenario(ROOT / "examples" / "sourcing-us-power-cabling.yaml")
    path = "substitutions[0].price_change"
    figure = sweep_figure(sweep(model, scenario, path, [0.0, 0.15, 0.3]), path, scenario, "GB200 NVL72")
    title = figure.layout.title.text.replace("<br>", " ")
    assert "Design GB200 NVL72; scenario US power and cabling" in title
    assert f"{path} swept from 0 to 0.3 in 3 steps" in title
    assert "4 substitution(s), 0 second source(s)" in title
    assert "Tariffs in force on 2027-01-01 (the scenario's date)" in title
    assert "CN 25% from 2018-09-24 (source: USTR Section 301 tariff actions on China" in title
    assert "TW 20% on networking from 2025-08-07 (assumption: 2025 reciprocal tariff rate" in title
    assert "TH 19% from 2025-08-07 (assumption:" in title
    assert figure.layout.margin.t > 110 and untitled_axes(figure) == []


def test_a_single_whatif_writes_its_json_and_a_page_with_the_changes_as_the_terminal_prints_them(tmp_path):
    """Issue 22: ``sourcing whatif -o DIR`` without --sweep writes whatif.json equal to --json and report.html,
    whose headline is each figure's baseline, what-if and change as the terminal's table prints them (the change in
    US content in percentage points, formatted here by hand), whose inputs name both files, and whose axes are
    all titled."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.rack.sourcing import whatif, whatif_figure
    from report_axes import title_text, untitled_axes

    design, plan = ROOT / "examples" / "gb200-nvl72.yaml", ROOT / "examples" / "sourcing-us-power-cabling.yaml"
    args = ["sourcing", "whatif", str(design), str(plan)]
    runner = CliRunner()
    printed = runner.invoke(app, [*args, "--json"])
    table = runner.invoke(app, args, env={"COLUMNS": "120"})
    written = runner.invoke(app, [*args, "-o", str(tmp_path)])
    assert printed.exit_code == table.exit_code == written.exit_code == 0, written.output
    doc = json.loads((tmp_path / "whatif.json").read_text())
    assert doc == json.loads(printed.stdout)
    before, after = doc["baseline"], doc["what_if"]
    share = (100 * before["us_content_share"], 100 * after["us_content_share"])
    change = share[1] - share[0]
    shown = [
        f"US content (share of cost): {share[0]:.1f}% → {share[1]:.1f}% ({change:+.1f} pp)",
        f"Cost per rack, tariffs included: {before['usd_per_rack']:,.0f} → {after['usd_per_rack']:,.0f} USD "
        f"({after['usd_per_rack'] - before['usd_per_rack']:+,.0f})",
    ]
    page = title_text((tmp_path / "report.html").read_text())
    assert all(text in page for text in shown), page
    assert f"{change:+.1f} pp" in table.stdout and f"{after['usd_per_rack']:,.0f}" in table.stdout
    assert f"design file {design}, scenario file {plan}" in page and "Tariffs in force on 2027-01-01" in page
    model = resolve(rackwright.load_design(design))
    scenario = load_scenario(plan)
    assert untitled_axes(whatif_figure(whatif(model, scenario), scenario)) == []
