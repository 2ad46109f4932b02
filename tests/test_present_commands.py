"""The CLI tables of ``sourcing whatif``, ``site plan`` and ``roadmap plan|risk`` show each figure as
rackwright.report.present gives it: shares in per cent, their changes in percentage points, counts as integers,
money with thousands separators; a probability near 1 is not rounded onto 100 %.

Expected strings are written out here (the scenario makes cabling and power all US-made: 0 % → 100 % is
+100.0 pp, docs/json.md) and compared with what report.present gives for the same figure.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.cli.roadmap import _plan_tables, _risk_lines
from rackwright.cli.site import _summary_table
from rackwright.report.present import figure_format, format_value

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def printed(*renderables) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def row(text: str, label: str) -> list[str]:
    """The cells of the table row whose first cell is ``label``."""
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in\n{text}")


def test_whatif_shows_shares_in_per_cent_and_their_changes_in_points():
    args = [str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "sourcing-us-power-cabling.yaml")]
    result = runner.invoke(app, ["sourcing", "whatif", *args], env={"COLUMNS": "160"})
    doc = json.loads(runner.invoke(app, ["sourcing", "whatif", *args, "--json"]).stdout)
    assert result.exit_code == 0, result.output
    cabling = row(result.stdout, "US content: cabling")
    assert cabling == ["US content: cabling", "%", "0.0%", "100.0%", "+100.0 pp"]
    shown = figure_format("whatif.us_share_by_category.cabling")
    assert cabling[4] == shown.change(1.0)
    us = row(result.stdout, "US content (share of cost)")
    before, after = doc["baseline"]["us_content_share"], doc["what_if"]["us_content_share"]
    share = figure_format("whatif.us_share")
    assert us[1:] == ["%", share.value(before), share.value(after), share.change(after - before)]
    assert us[4].endswith(" pp") and us[2].endswith("%")
    cost = row(result.stdout, "Cost per rack, tariffs included")
    assert cost[1] == "USD" and re.fullmatch(r"\d{1,3}(,\d{3})+", cost[2]) and cost[4].startswith(("+", "-"))
    assert row(result.stdout, "Longest lead time")[1:3] == ["weeks", "52"]  # a count, not 52.0


SUMMARY = {
    "site": "hand-made site",
    "racks": 803.0,
    "accelerators": 57816.0,
    "it_power_mw": 103.587,
    "facility_power_mw": 142.036,
    "pue": 1.0977,
    "annual_energy_gwh": 796.872,
    "water_use_m3_per_year": 0.0,
    "halls": 2,
    "switches": {"leaf": 904, "spine": 960, "super_spine": 512},
    "links": 177112,
    "cable_length_km": 5164.152,
    "transformers": {"substation": 3, "mv_lv": 52},
    "generators": 74,
    "cdus": 101,
    "heat_rejection_units": 56,
    "chillers": 72,
    "capex_usd": {"it_racks": 2514052475.0, "building": 700163290.0},
    "us_content_share": 0.2339,
}


def test_site_summary_has_labels_units_and_per_cent():
    text = printed(_summary_table(SUMMARY))
    assert row(text, "US content (share of cost)")[1:] == ["%", "23.4%"]
    assert row(text, "US content (share of cost)")[2] == figure_format("site.us_content_share").value(0.2339)
    assert row(text, "Accelerators")[1:] == ["", "57,816"]  # a count: not 57,816.0
    assert row(text, "Switches: Leaf")[1:] == ["", "904"]
    assert row(text, "Switches: Super-spine")[1:] == ["", "512"]
    assert row(text, "Transformers: MV/LV")[1:] == ["", "52"]
    assert row(text, "Capex: IT racks")[1:] == ["USD", "2,514,052,475"]
    assert row(text, "Capex: Total")[1:] == ["USD", "3,214,215,765"]  # 2,514,052,475 + 700,163,290
    assert row(text, "Cable length")[1:] == ["km", "5,164.2"]
    assert row(text, "IT power (rated)")[1:] == ["MW", figure_format("site.it_power_mw").value(103.587)]
    assert "us_content_share" not in text and "0.2339" not in text  # no raw key, no fraction
    assert not any(key in text for key in ("it_racks", "mv_lv", "super_spine", "_mw", "_usd"))


def test_roadmap_tables_show_shares_in_per_cent_and_counts_whole():
    quarters = ["2027Q1", "2027Q2"]
    doc = {
        "roadmap": "hand-made",
        "feasible": True,
        "goal": {"it_power_gw": 1.0, "by": "2027-06-30"},
        "quarters": quarters,
        "gw_by_quarter": dict(zip(quarters, [0.5, 1.0], strict=True)),
        "accelerators_by_quarter": dict(zip(quarters, [7056.0, 14112.0], strict=True)),
        "peak_eflops_by_quarter": dict(zip(quarters, [17.6, 35.2], strict=True)),
        "delivered_eflops_by_quarter": dict(zip(quarters, [9.1, 18.2], strict=True)),
        "capex_usd_by_quarter": dict(zip(quarters, [420346704.0, 0.0], strict=True)),
        "domestic_share_by_quarter": dict(zip(quarters, [0.9996, None], strict=True)),
        "binding_constraints": [],
    }
    text = printed(*_plan_tables(doc))
    # Delivered compute beside peak, three significant figures as peak: 9.1 -> "9.10".
    assert row(text, "2027Q1")[1:] == ["0.500", "7,056", "17.6", "9.10", "420,346,704", "99.96%"]  # not 100 %
    assert row(text, "2027Q1")[6] == figure_format("roadmap.us_integrated_share").value(0.9996)
    assert row(text, "2027Q2")[6] == "–"
    assert "Integrated in US factories (%)" in text and "domestic" not in text
    risk = {
        "roadmap": "hand-made",
        "goal": doc["goal"],
        "p_goal": 0.9995,
        "samples": 1000,
        "seed": 1,
        "gw_by_date": {"p10": 0.95, "p50": 1.02, "p90": 1.1, "mean": 1.01},
        "solve_time_s": 1.0,
        "workers": 1,
    }
    lines = _risk_lines(risk)
    assert "= 99.95% over 1,000 samples" in lines and format_value(0.9995, "share") == "99.95%"
    assert "P10 0.950, P50 1.02, P90 1.10" in lines


def test_a_reliability_near_one_is_not_rounded_to_100_per_cent():
    afr = figure_format("reliability.afr_rack")
    assert afr.value(0.999594) == "99.96%" and afr.value(1.0) == "100.0%" and afr.value(0.5) == "50.0%"
    assert format_value(0.0004, "share") == "0.04%" and format_value(0.0, "share") == "0.0%"
    assert afr.change(0.00001) == "+0.001 pp"  # a change in points, not rounded to nothing
    assert format_value(1 - 1e-12, "share") == "100.0%"  # float noise on 1 is 1


def page_text(folder: Path) -> str:
    """The text of a ``-o`` folder's report page, with the characters plotly's JSON escapes (``/``, ``×``) back."""
    page = (folder / "report.html").read_text(encoding="utf-8")
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m[1], 16)), page)


def test_factory_simulate_table_and_page_show_the_same_figures(tmp_path):
    """``factory simulate``: shares in %, the weekly output, the median cycle time and the bottleneck's
    utilisation as its page's headline shows them (report.html.factory_figure)."""
    args = ["factory", "simulate", str(EXAMPLES / "line-us.yaml"), "--design", str(EXAMPLES / "gb200-nvl72.yaml"),
            "--weeks", "3", "--warmup", "2", "--replications", "2", "--seed", "7"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "simulate.json").read_text())
    stations = {s["station"]: s for s in doc["stations"]}
    mean = row(result.stdout, "Racks shipped per week, mean")
    assert mean == ["Racks shipped per week, mean", format_value(doc["racks_per_week_mean"]), "racks/week"]
    median = row(result.stdout, "Cycle time, median")
    assert median[1:] == [format_value(doc["cycle_time_h"]["p50"]), "h"]
    bottleneck = doc["bottleneck"]
    utilisation = row(result.stdout, bottleneck)[2]
    assert utilisation == format_value(stations[bottleneck]["utilisation"], "share") and utilisation.endswith("%")
    assert row(result.stdout, "Replications")[1] == "2"  # a count, not 2.0
    page = page_text(tmp_path)
    assert f"{mean[1]} racks shipped per week" in page
    assert f"busiest station {bottleneck} at {utilisation}" in page
    assert f"median cycle time {median[1]} h" in page


def test_factory_simulate_only_one_section():
    args = ["factory", "simulate", str(EXAMPLES / "line-us.yaml"), "--design", str(EXAMPLES / "gb200-nvl72.yaml"),
            "--weeks", "2", "--warmup", "1", "--replications", "1", "--seed", "7"]
    stations = runner.invoke(app, [*args, "--only", "stations"], env={"COLUMNS": "160"})
    assert stations.exit_code == 0 and "l10-tray" in stations.stdout and "Cycle time" not in stations.stdout
    bad = runner.invoke(app, [*args, "--only", "station"])
    assert bad.exit_code == 2 and "summary, stations" in bad.output


def test_reliability_job_table_and_page_show_the_same_figures(tmp_path):
    """``reliability job``: goodput in %, interruptions per day, MTBI and the checkpoint interval as its page's
    headline shows them (report.html.reliability_figure); each cause's share in %."""
    args = ["reliability", "job", "--design", str(EXAMPLES / "gb200-nvl72.yaml"), "--accelerators", "16384",
            "--checkpoint-write-s", "60"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    [doc] = json.loads((tmp_path / "job.json").read_text())["designs"]
    goodput = row(result.stdout, "Goodput (ETTR)")
    assert goodput == ["Goodput (ETTR)", format_value(doc["goodput"], "share"), ""] and goodput[1].endswith("%")
    per_day = row(result.stdout, "Interruptions per day")[1]
    mtbi = row(result.stdout, "Mean time between interruptions")
    interval = row(result.stdout, "Checkpoint interval (Daly)")
    assert mtbi[2] == "h" and interval[2] == "min" and row(result.stdout, "Hot spares")[1] == f"{doc['spares']:,}"
    page = page_text(tmp_path)
    assert f"goodput {goodput[1]}, {per_day} interruptions per day (one every {mtbi[1]} h)" in page
    assert f"checkpoint every {interval[1]} min" in page
    # the cause by its label (the JSON keeps "hbm"), its share in the column's format: 6.079 of 13.937 interruptions
    # per day is 43.619 %; the column's least non-zero share, liquid cooling's 0.00236 of 13.937 (0.0169 %), would
    # show as 0.0 % at one decimal, so every share shows two
    hbm = next(c for c in doc["causes"] if c["cause"] == "hbm")
    assert abs(hbm["interruptions_per_day"] / doc["interruptions_per_day"] - 0.43619) < 5e-6
    assert row(result.stdout, "HBM memory errors")[1:5:3] == ["GPU", "43.62%"]
    assert row(result.stdout, "Management network")[4] == "0.00%"
    shares = [cells[4] for line in result.stdout.splitlines() if len(cells := re.split(r"│", line)[1:-1]) == 6]
    assert len(shares) == len(doc["causes"]) and all(re.fullmatch(r"\d+\.\d\d%", s.strip()) for s in shares), shares
    # the per-day column in one format too: liquid cooling's 0.00236 needs 5 decimals, so HBM's 6.079 shows 6.07931
    # (not 6.08 above 0.00236) and management's 0 shows 0.00000
    rates = [cells[3].strip() for line in result.stdout.splitlines() if len(cells := re.split(r"│", line)[1:-1]) == 6]
    assert all(re.fullmatch(r"\d\.\d{5}", r) for r in rates if r), rates
    assert abs(hbm["interruptions_per_day"] - 6.07931) < 5e-6 and row(result.stdout, "HBM memory errors")[3] == "6.07931"
    assert row(result.stdout, "Management network")[3] == "0.00000"
    only = runner.invoke(app, [*args, "--only", "summary"], env={"COLUMNS": "160"})
    assert only.exit_code == 0 and "Goodput (ETTR)" in only.stdout and "HBM memory" not in only.stdout


def test_factory_simulate_failed_tests_are_a_mean_with_one_decimal():
    """The stations' failed tests are a mean over the replications: the header and title say so, each value keeps
    one decimal, and twice it (2 replications of whole counts) is a whole number of failed tests."""
    args = ["factory", "simulate", str(EXAMPLES / "line-us.yaml"), "--design", str(EXAMPLES / "gb200-nvl72.yaml")]
    args += ["--weeks", "3", "--warmup", "2", "--replications", "2", "--seed", "7", "--only", "stations"]
    result = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "fails: mean of 2 replications" in result.stdout and "fails mean" in result.stdout
    for station in ("l10-tray", "burn-in", "pack"):
        fails = row(result.stdout, station)[-1]
        assert re.fullmatch(r"[\d,]+\.\d", fails), fails
        assert (2 * float(fails.replace(",", ""))).is_integer()


def test_qualify_metrics_are_labelled_in_the_terminal_and_on_the_page(tmp_path):
    """``qualify`` names each metric as present.QUALIFY does, not by the results CSV's key."""
    args = ["qualify", str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "qualification-gb200.csv")]
    result = runner.invoke(app, [*args, "-o", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 1, result.output  # one measurement fails
    assert re.search(r"│ R03\s+│ Coolant flow\s+│\s+118 │", result.stdout)
    page = page_text(tmp_path)
    assert "Coolant flow (L/min)" in page and "Burn-in failures" in page
    for shown in (result.stdout, page):
        raw = {"power_at_load", "coolant_flow", "burn_in_failures", "coolant_delta_t"}
        assert not raw & set(re.findall(r"\w+", shown))


# Issue 22's audit, at 80 columns and piped (CliRunner's output is not a terminal): each command's exact strings.
NARROW = {"COLUMNS": "80"}
PAIR = [str(EXAMPLES / "gb200-nvl72.yaml"), str(EXAMPLES / "gb300-nvl72.yaml")]


def wrapped_row(text: str, start: str) -> list[str]:
    """The cells of the first line of a table row whose label (wrapped at 80 columns) starts with ``start``."""
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if cells and cells[0].startswith(start):
            return cells
    raise AssertionError(f"no row starting {start!r} in\n{text}")


def test_compare_and_evaluate_show_a_share_row_with_one_number_of_decimals():
    """Rack AFR 0.999496 (gb200) → 0.999594 (gb300), from the JSON: 99.9594 % rounds onto 100.0 % at 1 decimal,
    so both show 2 (99.95 %, 99.96 %, not 99.9 % beside 99.96 %) and the change is 99.96 − 99.95 = +0.01 pp."""
    result = runner.invoke(app, ["compare", *PAIR], env=NARROW)
    assert result.exit_code == 0, result.output
    assert wrapped_row(result.stdout, "Rack AFR")[1:5] == ["%", "99.95%", "99.96%", "+0.01 pp"]
    evaluated = runner.invoke(app, ["evaluate", *PAIR, "--only", "reliability"], env=NARROW)
    assert evaluated.exit_code == 0, evaluated.output
    assert wrapped_row(evaluated.stdout, "Rack AFR")[1:] == ["%", "99.95%", "99.96%"]


def test_compare_and_evaluate_name_precisions_not_their_keys():
    """``compare`` and ``evaluate`` of the GB200 and GB300 examples at 80 columns: peak PFLOP/s by precision as
    ``FP64 dense``, never a key's ``_dense``/``_sparse`` (FP64 2.880 → 0.100 PFLOP/s: 72 GPUs × 40 and × 1.39
    TFLOP/s, the catalog's)."""
    compared = runner.invoke(app, ["compare", *PAIR], env=NARROW)
    evaluated = runner.invoke(app, ["evaluate", *PAIR, "--only", "compute"], env=NARROW)
    assert compared.exit_code == evaluated.exit_code == 0, compared.output + evaluated.output
    for text in (compared.stdout.split("Figures that differ", 1)[1], evaluated.stdout):
        assert not re.search(r"_(dense|sparse)\b", text), text
    labels = " ".join(c[0] for c in (re.split(r"│", line)[1:-1] for line in compared.stdout.splitlines()) if c)
    assert "Peak PFLOP/s: FP64 dense" in " ".join(labels.split())  # its label wraps over two lines
    assert wrapped_row(compared.stdout, "Peak PFLOP/s: FP64")[1:4] == ["PFLOP/s", "2.880", "0.100"]
    assert wrapped_row(evaluated.stdout, "Peak PFLOP/s: BF16 sparse")[1:] == ["PFLOP/s", "360", "360"]


def test_compare_change_takes_the_row_format():
    """Tokens/s in the hundred thousands print whole, and so does their change: 365,065 − 354,320 = +10,745 and
    667,791 − 681,578 = −13,787 (not +10,745.4 and −13,786.5)."""
    result = runner.invoke(app, ["compare", *PAIR, "--only", "delivery"], env=NARROW)
    assert result.exit_code == 0, result.output
    assert wrapped_row(result.stdout, "DeepSeek-V3")[2:5] == ["354,320", "365,065", "+10,745"]
    assert wrapped_row(result.stdout, "Llama 3 70B")[2:5] == ["681,578", "667,791", "-13,787"]


def test_build_date_writes_the_rack_count_with_separators_and_right_aligns_units():
    """1,000 racks of 9 NVLink switch trays each: 9,000 trays, right-aligned under ``units``."""
    args = ["sourcing", "build-date", PAIR[0], "--order-date", "2026-12-01", "--racks", "1000"]
    result = runner.invoke(app, args, env=NARROW)
    assert result.exit_code == 0, result.output
    assert "rack 1,000: " in result.stdout and "rack 1000" not in result.stdout
    line = next(line for line in result.stdout.splitlines() if "nvidia-nvlink5-switch-tray" in line)
    assert re.split(r"│", line)[2] == "  9,000 "  # right-aligned in a column as wide as 18,000


def test_catalog_show_prints_money_weeks_rates_and_units_through_present():
    result = runner.invoke(app, ["catalog", "show", "nvidia-b200-gb200"], env=NARROW)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert {"price_usd: 30,000 USD", "lead_time_weeks: 52 weeks", "afr: 5.0%"} <= set(lines)  # 0.05 is 5.0 %
    assert not {"price_usd: 30000.0", "lead_time_weeks: 52.0", "afr: 0.05"} & set(lines)
    cdu = runner.invoke(app, ["catalog", "show", "vertiv-coolchip-cdu-1350"], env=NARROW)
    assert "  max_facility_supply: 32 °C" in cdu.stdout.splitlines()  # the catalog's 32 degC, as pint writes it


def test_sourcing_sweep_shows_a_price_change_as_a_signed_percentage():
    """price_change 0:0.3:4 is 0, 0.1, 0.2 and 0.3: +0.0 %, +10.0 %, +20.0 %, +30.0 %."""
    args = ["sourcing", "whatif", PAIR[0], str(EXAMPLES / "sourcing-us-power-cabling.yaml")]
    result = runner.invoke(app, [*args, "--sweep", "substitutions[0].price_change=0:0.3:4"], env=NARROW)
    assert result.exit_code == 0, result.output
    firsts = [cells[0] for line in result.stdout.splitlines() if len(cells := re.split(r"│", line)[1:-1]) > 1]
    assert [c.strip() for c in firsts] == ["+0.0%", "+10.0%", "+20.0%", "+30.0%"]
    assert "Price" in result.stdout and "│   0.1 │" not in result.stdout


def test_factory_visits_column_has_one_format():
    """Each station's visits per rack with 2 decimals: a station no rack fails at is visited once, 1.00."""
    args = ["factory", "simulate", str(EXAMPLES / "line-us.yaml"), "--design", PAIR[0], "--weeks", "4"]
    result = runner.invoke(app, [*args, "--replications", "3", "--seed", "1", "--only", "stations"], env=NARROW)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "visits" in line)
    column = [c.strip() for c in re.split(r"[│┃]", header)[1:-1]].index("visits")
    rows = [re.split(r"│", line)[1:-1] for line in result.stdout.splitlines() if line.startswith("│")]
    visits = [r[column].strip() for r in rows]
    assert len(visits) == 10 and all(re.fullmatch(r"\d\.\d\d", v) for v in visits), visits
    assert visits[[r[0].strip() for r in rows].index("l11-integration")] == "1.00"


def test_reliability_job_names_causes_and_bases_in_the_table_and_on_the_page(tmp_path):
    args = ["reliability", "job", "--design", PAIR[1], "--accelerators", "16384"]
    result = runner.invoke(app, [*args, "--only", "causes", "-o", str(tmp_path)], env=NARROW)
    assert result.exit_code == 0, result.output
    text, page = result.stdout, page_text(tmp_path)
    for label in ("Scale-up switch", "Fabric links", "Liquid cooling", "Unplanned host", "Llama 3"):
        assert label in text, label
    for key in ("host_maintenance", "scale_up_switch", "cdu_leak", "fabric_link", "llama3"):
        assert key not in text, key
    categories = {c.strip() for line in text.splitlines() if len(c := (re.split(r"│", line) + [""] * 3)[2]) > 1}
    assert {"GPU", "Host", "Network", "Software", "Unknown"} <= categories  # Llama 3's categories, not gpu, host
    assert not {"gpu", "host", "network", "software", "unknown"} & categories
    assert '"Unplanned host maintenance","Host software"' in page  # the cause axis, as the table names them
    doc = json.loads((tmp_path / "job.json").read_text())
    assert "host_maintenance" in {c["cause"] for c in doc["designs"][0]["causes"]}  # the JSON keeps the keys


def test_perf_search_note_keeps_a_hyphenated_header_whole():
    args = ["perf", "search", "--model", "llama3-8b", "--system", "dgx-h100-ndr", "--accelerators", "64"]
    result = runner.invoke(app, [*args, "--global-batch", "64", "--top", "3"], env=NARROW)
    assert result.exit_code == 0, result.output
    note = " ".join(result.stdout.split("Left out to fit 80 characters:")[1].split())
    assert note.startswith("micro-batch, recompute, ") and "micro- batch" not in result.stdout
