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
    layout = sweep_figure(sweep(model, load_scenario(plan), path, [0.0, 0.3]), path, "s").layout
    titles = [layout.xaxis.title.text, layout.yaxis.title.text]
    assert titles == ["US content (% of cost)", "cost per rack, tariffs included (USD)"]
