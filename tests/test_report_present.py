"""How figures are shown, from the figure table: shares, changes, counts, money, units; every delivery figure
labelled."""

from __future__ import annotations

from pathlib import Path

import rackwright
from rackwright.cli.app import _with_delivery
from rackwright.report.present import (
    DELIVERY,
    MONEY,
    QUANTITY,
    RELATIVE,
    SHARE,
    Format,
    basis_label,
    cause_label,
    figure_format,
    format_value,
    media_label,
    part_shown,
    precision_label,
    spec_text,
    tier_label,
)

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


def test_a_row_shows_every_value_with_the_same_decimals_and_the_change_as_shown():
    """Rack AFR 0.999496 → 0.999594 (gb200 → gb300): 99.9496 % and 99.9594 %; at 1 decimal the second rounds onto
    100.0 %, so the row takes 2: 99.95 % and 99.96 %, a change of 99.96 − 99.95 = 0.01 pp."""
    afr = figure_format("reliability.afr_rack")
    assert afr.row([0.999496, 0.999594], change=True) == ["99.95%", "99.96%", "+0.01 pp"]
    assert afr.row([0.5, 0.999594]) == ["50.00%", "99.96%"]  # one value needs 2 decimals: the row has 2
    share = Format("US content", "", SHARE)
    assert share.row([0.0751, 0.0753], change=True) == ["7.51%", "7.53%", "+0.02 pp"]  # 7.5 % twice would hide it
    assert share.row([0.0751, 0.0753], distinct=False) == ["7.5%", "7.5%"]  # a column: 1 decimal is enough
    # tokens/s in the hundred thousands print whole; the change is 205,309 − 200,365 = 4,944, not 4,944.2
    tokens = Format("DeepSeek-V3 training per rack", "tokens/s", QUANTITY)
    assert tokens.row([200_365.2, 205_309.4], change=True) == ["200,365", "205,309", "+4,944"]
    # the change of the values as shown: 134.3 − 121.4 = 12.9 (121.44 → 134.26 is 12.82)
    assert Format("IT load", "kW", QUANTITY).row([121.44, 134.26], change=True) == ["121.4", "134.3", "+12.9"]
    assert Format("Bill of materials", "USD", MONEY).row([3_130_825.4, 3_791_425.2], change=True) == [
        "3,130,825",
        "3,791,425",
        "+660,600",
    ]
    visits = Format("Visits per rack", "", QUANTITY)
    assert visits.row([1.03, 1.0, 1.004], distinct=False) == ["1.03", "1.00", "1.00"]  # not 1 beside 1.00
    assert Format("Price change", "", RELATIVE).row([0.0, 0.1]) == ["+0.0%", "+10.0%"]


def test_causes_bases_tiers_media_and_part_figures_have_labels():
    assert cause_label("host_maintenance") == "Unplanned host maintenance" and cause_label("cdu_leak").startswith(
        "Liquid cooling"
    )
    assert basis_label("llama3") == "Llama 3" and basis_label("catalog", True) == "catalog (cites Llama 3)"
    assert [tier_label(t) for t in (1, 2, 3)] == ["Leaf", "Spine", "Super-spine"]
    assert media_label("aoc") == "AOC" and media_label("dac") == "DAC"
    assert figure_format("cabling.cables.utp").label == "Cables by media: UTP"  # evaluate's row, not "utp"
    # precisions by name, not by key (the JSON keeps fp64_dense ...): compare's, evaluate's and the explorer's rows
    assert figure_format("compute.peak_pflops.fp64_dense").label == "Peak PFLOP/s: FP64 dense"
    assert figure_format("compute.peak_pflops.int8_sparse").label == "Peak PFLOP/s: INT8 sparse"
    assert figure_format("cost.usd_per_pflop.fp8_sparse").label == "BOM cost per peak PFLOP/s, FP8 sparse"
    assert precision_label("bf16_dense") == "BF16 dense" and precision_label("fp16_dense") == "fp16 dense"
    assert spec_text("peak_flops", {"bf16_dense": "2.5 PFLOP/s"}) == "BF16 dense: 2.5 PFLOP/s"
    part = {"price_usd": 30000.0, "lead_time_weeks": 52.0, "afr": 0.05, "specs": {"supply": "32 degC", "n": 18}}
    assert part_shown(part) == {
        "price_usd": "30,000 USD",
        "lead_time_weeks": "52 weeks",
        "afr": "5.0%",
        "specs": {"supply": "32 °C", "n": 18},
    }
