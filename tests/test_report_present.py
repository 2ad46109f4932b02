"""How figures are shown, from the figure table: shares, changes, counts, money, units; every delivery figure
labelled."""

from __future__ import annotations

from pathlib import Path

import rackwright
from rackwright.cli.app import _with_delivery
from rackwright.report.present import DELIVERY, figure_format, format_value

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_shares_counts_money_and_units():
    assert figure_format("power.efficiency").value(0.975) == "97.5%"
    assert figure_format("thermal.liquid_share").change(0.058) == "+5.8 pp"  # a change of a share, in points
    assert figure_format("compute.accelerators").value(72.0) == "72"
    assert figure_format("cost.bom_usd").value(1_728_000.0) == "1,728,000"
    assert figure_format("cost.bom_usd").unit == "USD" and figure_format("cost.bom_usd").label == "Bill of materials"
    assert figure_format("thermal.tcs_supply_c").unit == "°C"
    assert figure_format("mechanical.floor_load_kg_m2").unit == "kg/m²"
    assert figure_format("thermal.coolant_flow_lpm").unit == "L/min"  # as written, not pint's l/min
    assert format_value(float("nan")) == "–" and format_value(None) == "–"
    assert format_value(1.0977) == "1.10" and format_value(123.44) == "123.4"


def test_every_delivery_figure_has_a_label():
    rack = _with_delivery(rackwright.evaluate(EXAMPLES / "gb200-nvl72.yaml"))
    keys = {key.split(".", 1)[1] for key in rack.extra}
    assert keys and keys <= set(DELIVERY)
