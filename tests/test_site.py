"""Site planner end to end: hand calculations, the 100 MW example, the CLI and bad input."""

import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.site.cables import Ends, choose_media, routed_length
from rackwright.site.cooling import trim_share
from rackwright.site.planner import plan_site
from rackwright.site.power import stage_flows, units_for_load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "site-100mw.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def plan():
    return plan_site(EXAMPLE)


def _site(tmp_path: Path, **changes) -> Path:
    """A copy of the 100 MW example (design path made absolute) with dotted-path changes."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["target"]["generations"][0]["design"] = str(ROOT / "examples" / "gb200-nvl72.yaml")
    for path, value in changes.items():
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(keys[-1]) if isinstance(node, list) else keys[-1]] = value
    target = tmp_path / "site.yaml"
    target.write_text(yaml.safe_dump(data))
    return target


def test_units_for_load_redundancy():
    assert units_for_load(10e6, 3e6, "N") == 4
    assert units_for_load(10e6, 3e6, "N+1") == 5
    assert units_for_load(10e6, 3e6, "2N") == 8


def test_stage_flows_hand_calculation():
    # 100 MW IT, busway 0.995, no UPS, 5 MW mechanical, transformers 0.99, switchgear 0.9995, substation 0.997
    flows = stage_flows(100e6, 5e6, {"distribution": 0.995, "transformers": 0.99, "switchgear": 0.9995,
                                     "substation": 0.997})
    expected = (100e6 / 0.995 + 5e6) / 0.99 / 0.9995 / 0.997
    assert float(flows["utility"]) == pytest.approx(expected, rel=1e-12)


def test_cable_length_and_media_by_reach():
    z = np.zeros(3, dtype=np.int32)
    a = Ends(z, z, z, z, z, np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0]))
    b = Ends(z, z, z, z, z, np.array([3.0, 40.0, 300.0]), np.array([4.0, 50.0, 400.0]))
    length = routed_length(a, b, drop=2.0, service_loop=1.0, slack=0.1)
    assert length == pytest.approx([(7 + 5) * 1.1, (90 + 5) * 1.1, (700 + 5) * 1.1], rel=1e-6)
    # 13.2 m → first rule; 104.5 m is beyond 100 m → the 500 m rule; 775.5 m → none
    assert list(choose_media(length, [30.0, 100.0, 500.0])) == [0, 2, -1]


def test_leaf_spine_links_are_short_with_the_mda_in_the_middle(plan):
    # 100 MW example: 803 racks, floor(55 MW / 124.6 kW) = 441 a hall, 16 a row: 28 compute rows a hall in two
    # halves of 14, each C C C C U C C C C U N C C C C U C C U N (a CDU row every 4 and after the last, a network row
    # every 8 and after the last: 20 rows), the second mirrored (its network row first); between them the MDA, 3 rows
    # (as many as its fullest hall needs): 43 rows
    half = "CCCCUCCCCUNCCCCUCCUN"
    assert "".join("CUNM"[k] for k in plan.grid.pattern) == half + "MMM" + half[::-1]
    assert plan.grid.depth == pytest.approx(43 * 2.4 + 1.2)
    # a leaf stands in a network row (rows 11, 20, 24 and 33), a spine in MDA row 21 or 22: the farthest apart are
    # rows 33 and 21, 12 rows × 2.4 m = 28.8 m, plus at most 15 racks × 0.6 m = 9 m along the rows, two 2 m drops,
    # a 1 m service loop and 10 % slack: (28.8 + 9 + 4 + 1) × 1.1 = 47.08 m for every leaf-spine link in a hall
    # (the second half unmirrored, its network rows 34 and 43, row 43 was 22 rows from row 21: 73.48 m)
    tier2 = plan.cables.filter((pl.col("tier") == 2) & (pl.col("a_hall") == pl.col("b_hall")))
    assert tier2.height and float(tier2["length_m"].max()) <= 47.08 + 1e-3
    # within the 30 m AOC rule are exactly the links of the network rows beside the MDA, 20 and 24: at most 3 rows and
    # 15 racks from a spine, (7.2 + 9 + 5) × 1.1 = 23.32 m; rows 11 and 33 are at least 10 rows off, (24 + 5) × 1.1
    # = 31.9 m
    first = tier2.filter(pl.col("a_hall") == 1)
    short = first["length_m"].to_numpy() <= 30.0
    assert short.any() and (short == first["a_row"].is_in([20, 24]).to_numpy()).all()


def test_the_partly_filled_last_hall_is_sized_to_its_rows(plan):
    # 100 MW example: 803 racks, 441 in hall 1 and 362 in hall 2: ceil(362 / 16) = 23 compute rows in halves of 12
    # and 11. The first, C C C C U C C C C U N C C C C U N (a CDU row after every 4th and the last, a network row
    # after the 8th and the last: 17 rows); the second, 11 rows, C C C C U C C C C U N C C C U N (16 rows) mirrored;
    # the MDA between them, as many rows as hall 2's own switches need (3)
    first, second = "CCCCUCCCCUNCCCCUN", "CCCCUCCCCUNCCCUN"
    assert "".join("CUNM"[k] for k in plan.grid.patterns[1]) == first + "MMM" + second[::-1]
    # 17 + 3 + 16 = 36 rows: 36 × 2.4 m + a 1.2 m cold aisle = 87.6 m deep, 16 × 0.6 + 2 × 1.2 = 12.0 m wide;
    # the floor drawn, with hall 1's 43 rows (104.4 m): 12.0 × (104.4 + 87.6) = 2,304.0 m²
    assert plan.grid.depths.tolist() == pytest.approx([104.4, 87.6])
    assert plan.summary()["floor_area_m2"] == pytest.approx(12.0 * (104.4 + 87.6))
    # its compute racks stand in its own rows (1-based 1-4, 6-9 and 12-15 in the first half), its leaves in its
    # network rows 11, 17, 21 and 26 beside them: hall 2's NIC-leaf links are on average no longer than hall 1's
    nic = plan.cables.filter((pl.col("tier") == 1) & (pl.col("a_hall") == pl.col("b_hall")))
    mean = dict(nic.group_by("a_hall").agg(pl.col("length_m").mean()).rows())
    assert mean[2] <= mean[1]
    leaf_rows = nic.filter(pl.col("a_hall") == 2)["b_row"].unique().sort().to_list()
    assert leaf_rows == [11, 17, 21, 26]


def test_every_cable_is_within_its_mediums_reach(plan):
    # the first media rule that reaches and applies to the tier: no link left without a medium, none too long
    from rackwright.catalog import load_catalog

    catalog = load_catalog()
    longest = plan.cables.group_by("part").agg(pl.col("length_m").max()).rows()
    assert "none" not in {str(part) for part, _ in longest}
    for part, length in longest:
        assert length <= catalog.get(str(part)).value("reach"), part


def test_trim_share():
    assert list(trim_share(np.array([300.0, 305.0, 320.0]), 305.15, 10.0)) == pytest.approx([0, 0, 1])


def test_example_counts(plan):
    s = plan.summary()
    racks = s["racks"]["GB200 NVL72"]
    assert racks == round(100e6 / 124562.05)  # the rack's evaluated input power
    assert s["accelerators"] == 72 * racks
    # cable counts: 72 NIC links per rack, every leaf and spine uplink cabled once
    tiers = plan.cables.group_by("tier").len().sort("tier")["len"].to_list()
    f = plan.fabric
    assert tiers == [72 * racks, f.leaves * f.leaf_up, f.spines * f.spine_up]
    assert plan.cables["id"].n_unique() == plan.cables.height
    # rail-optimised leaves: ceil(18·racks / 64) per rail, 4 rails
    assert f.leaves == 4 * -(-18 * racks // 64)
    assert s["violations"] == []
    assert 1.03 < s["pue"] < 1.25


def test_constant_ambient_pue_hand_calculation(tmp_path):
    # 15 °C constant: free cooling every hour, so the facility power is the same each hour and equals
    # the stage chain over IT + fans + pumps + CDUs + air fans + misc, computed here by hand.
    plan = plan_site(_site(tmp_path, **{"cooling.ambient": "constant 15 degC"}))
    s = plan.summary()
    assert s["free_cooling_hours"] == 8760 and s["chillers"] == 0
    pue = plan.hourly["facility_power"] / plan.hourly["it_power"]
    assert np.ptp(pue) < 1e-9
    from CoolProp.CoolProp import PropsSI

    g = plan.generations[0]
    u = 0.8
    switch_w = plan.cooling["switch_power_w"]
    it = g.racks * g.input_power + switch_w
    losses = it / 0.995 - it  # busway losses heat the halls
    heat = (g.racks * (g.heat_to_water + g.heat_to_air) + switch_w + losses) * u
    rho, cp = (PropsSI(p, "T", 305.15 + 5, "P", 3e5, "Water") for p in ("D", "C"))
    pumps = heat / (rho * cp * 10) * 300e3 / 0.75
    fans = np.ceil(heat / 2e6) * 40e3
    cdus = np.ceil(g.racks / 8) * 15e3 * u
    air = 0.03 * (g.racks * g.heat_to_air + switch_w) * u
    misc = 0.01 * it * u
    facility = ((it * u / 0.995) + pumps + fans + cdus + air + misc) / 0.99 / 0.9995 / 0.997
    assert s["pue"] == pytest.approx(facility / (it * u), abs=1e-4)


def test_cli_plan_and_netbox(tmp_path):
    out = tmp_path / "plan"
    result = runner.invoke(app, ["site", "plan", str(EXAMPLE), "-o", str(out), "--json", "--no-report"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (out / "summary.json").read_text(encoding="utf-8") == result.stdout  # summary.json: the same document
    for key in ("racks", "accelerators", "it_power_mw", "facility_power_mw", "pue", "switches", "links",
                "cable_length_km", "transformers", "generators", "cdus", "heat_rejection_units", "capex_usd",
                "us_content_share", "generations", "media"):
        assert key in summary
    cables = pl.read_parquet(out / "cables.parquet")
    assert cables.height == summary["links"] == sum(m["links"] for m in summary["media"])
    assert (out / "bom.csv").exists()
    result = runner.invoke(app, ["site", "cables", str(out), "--netbox"])
    assert result.exit_code == 0, result.output
    netbox = pl.read_csv(out / "netbox-cables.csv")
    assert netbox.height == cables.height
    assert netbox.columns[:8] == ["side_a_site", "side_a_device", "side_a_type", "side_a_name", "side_b_site",
                                  "side_b_device", "side_b_type", "side_b_name"]
    assert netbox["side_a_site"][0] == "Example 100 MW GB200 site"  # the name: what NetBox's cable import looks up
    # every switch port carries exactly one cable
    ends = pl.concat([netbox.select(pl.col("side_a_device").alias("d"), pl.col("side_a_name").alias("n")),
                      netbox.select(pl.col("side_b_device").alias("d"), pl.col("side_b_name").alias("n"))])
    assert ends.unique().height == ends.height
    # -o DIR: the summary as records (cables.json) and the NetBox CSV, in a folder of its own
    result = runner.invoke(app, ["site", "cables", str(out), "--netbox", "-o", str(tmp_path / "cables")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "cables" / "cables.json").read_text())
    assert doc["command"] == "site cables" and doc["cables"] == cables.height == sum(r["cables"] for r in doc["totals"])
    assert sum(r["length_m"] for r in doc["totals"]) == pytest.approx(math.fsum(cables["length_m"].to_list()), rel=1e-12)
    assert pl.read_csv(tmp_path / "cables" / "netbox-cables.csv").equals(netbox)


@pytest.mark.parametrize(("changes", "code"), [
    ({"fabric.switch": "nvidia-sn5600", "fabric.tiers": 2}, "SITE001"),
    ({"power.substation.count": 1}, "SITE004"),
    ({"cooling.heat_rejection.chiller": None}, "SITE005"),
    ({"fabric.media": [{"part": "generic-qsfp112-400g-aoc-30m"}]}, "SITE003"),
    ({"cooling.facility_supply": "45 degC"}, "SITE006"),
    ({"power.distribution.part": "generic-800vdc-row-rectifier-1mw"}, "SITE012"),
    ({"fabric.link_speed": "800 Gb/s"}, "SITE002"),
])
def test_violations(tmp_path, changes, code):
    result = runner.invoke(app, ["site", "plan", str(_site(tmp_path, **changes)), "-o", str(tmp_path / "o"),
                                 "--json", "--no-report"])
    assert result.exit_code == 1, result.output
    assert code in {v["code"] for v in json.loads(result.stdout)["violations"]}


@pytest.mark.parametrize(("changes", "text"), [
    ({"target.generations.0.design": "missing.yaml"}, "target.generations[0].design"),
    ({"fabric.switch": "nvidia-sn560"}, "fabric.switch"),
    ({"fabric.switch": "generic-dry-cooler-2mw"}, "not a scale_out_switch"),
    ({"layout.rack_pitch": "3 kg"}, "layout.rack_pitch"),
    ({"cooling.ambient": "nowhere.csv"}, "cooling.ambient"),
    ({"target.generations.0.share": 0.5}, "shares add up"),
])
def test_bad_input_exit_2(tmp_path, changes, text):
    result = runner.invoke(app, ["site", "plan", str(_site(tmp_path, **changes)), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert text in result.output


def test_cables_without_plan(tmp_path):
    result = runner.invoke(app, ["site", "cables", str(tmp_path), "--netbox"])
    assert result.exit_code == 2 and "run `rackwright site plan" in result.output


_values = st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=12),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
_paths = st.sampled_from(["name", "target.it_power", "target.generations", "layout.racks_per_row", "layout.rack_pitch",
                          "fabric.tiers", "fabric.link_speed", "fabric.oversubscription", "fabric.media", "fabric.rails",
                          "power.substation", "power.distribution.redundancy", "cooling.ambient",
                          "cooling.heat_rejection.part", "economics.electricity_usd_per_kwh", "economics", "extra"])


def _set(data: dict, path: str, value) -> None:
    """Set the value at a dotted path (``layout.racks_per_row``) of a nested mapping."""
    *parents, last = path.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=_paths, value=_values)
def test_fuzz_site_file_is_never_a_traceback(tmp_path, path, value):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["target"]["generations"][0]["design"] = str(ROOT / "examples" / "gb200-nvl72.yaml")
    _set(data, path, value)
    site = tmp_path / "fuzz.yaml"
    site.write_text(yaml.safe_dump(data))
    try:
        from rackwright.site.schema import load_site

        load_site(site)
    except InputError as exc:
        assert str(exc)


_knobs = st.fixed_dictionaries({
    "layout.racks_per_row": st.integers(1, 40),
    "layout.compute_rows_per_network_row": st.integers(1, 10),
    "layout.compute_rows_per_cdu_row": st.integers(1, 10),
    "layout.switches_per_network_rack": st.integers(1, 64),
    "layout.hall_max_it_power": st.sampled_from(["1 W", "200 kW", "1 MW", "50 MW"]),
    "fabric.tiers": st.sampled_from([2, 3]),
    "fabric.rails": st.integers(1, 64),
    "fabric.rail_optimised": st.booleans(),
    "fabric.planes": st.integers(1, 8),
    "fabric.oversubscription": st.lists(st.floats(1, 16), min_size=1, max_size=2),
    "fabric.link_speed": st.sampled_from(["1 Gb/s", "100 Gb/s", "400 Gb/s", "1.6 Tb/s", "100 Tb/s"]),
    "cooling.ambient": st.sampled_from(["constant -40 degC", "constant 45 degC", "miami-fl-tmy2"]),
    "power.distribution.count": st.one_of(st.none(), st.integers(0, 5)),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(knobs=_knobs)
def test_fuzz_planner_is_never_a_traceback(tmp_path, knobs):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["target"] = {"generations": [{"design": str(ROOT / "examples" / "gb200-nvl72.yaml"), "racks": 12}]}
    for path, value in knobs.items():
        _set(data, path, value)
    site = tmp_path / "knobs.yaml"
    site.write_text(yaml.safe_dump(data))
    try:
        plan = plan_site(site)
    except InputError as exc:
        assert str(exc)
        return
    summary = plan.summary()
    assert summary["accelerators"] == 12 * 72
    assert all(np.isfinite(plan.hourly["facility_power"]))
    json.dumps(summary, allow_nan=False)


def test_report_html(plan, tmp_path):
    import xml.dom.minidom

    from rackwright.site.report import floor_plan_svg, write_report

    svg = floor_plan_svg(plan)
    xml.dom.minidom.parseString(svg)  # well-formed
    # every rack drawn (a closed subpath each in the racks paths), and a network rack where switches stand
    racks = "".join(re.findall(r'd="([^"]+)" class="racks"', svg)).count("z")
    assert racks > plan.layout.racks
    page = write_report(plan, tmp_path).read_text()
    assert "<svg" in page and "plotly" in page.lower() and "Hourly PUE" in page


def test_rack_design_breaking_its_rules_is_refused(tmp_path):
    import os

    parent = os.path.relpath(ROOT / "examples" / "gb200-nvl72.yaml", tmp_path)
    (tmp_path / "weak.yaml").write_text(
        f"extends: {parent}\nname: weak GB200\ngeneration: weak\n"
        "slots:\n  - {id: power-lower, part: nvidia-mgx-33kw-power-shelf, count: 1, position: 12}\n"
        "  - {id: power-upper, part: nvidia-mgx-33kw-power-shelf, count: 1, position: 43}\n")
    site = _site(tmp_path, **{"target.generations.0.design": str(tmp_path / "weak.yaml")})
    with pytest.raises(InputError) as caught:
        plan_site(site)
    assert caught.value.file == str(tmp_path / "weak.yaml") and "PWR001" in str(caught.value)


def test_generation_mix_by_share(tmp_path):
    site = _site(tmp_path, **{"target.generations": [
        {"design": str(ROOT / "examples" / "gb200-nvl72.yaml"), "share": 0.5},
        {"design": str(ROOT / "examples" / "gb300-nvl72.yaml"), "share": 0.5}], "target.it_power": "20 MW"})
    plan = plan_site(site)
    power = {g.name: g.input_power for g in plan.generations}
    assert {g.name: g.racks for g in plan.generations} == {n: round(10e6 / p) for n, p in power.items()}
    summary = plan.summary()
    assert summary["accelerators"] == 72 * sum(summary["racks"].values())
    assert plan.cables.filter(pl.col("tier") == 1).height == 72 * plan.layout.racks
    # the halls hold racks in generation order: the first generation's racks come first
    assert plan.layout.hall[0] == 0


def test_nic_links_on_whole_cables_warn(tmp_path):
    plan = plan_site(_site(tmp_path, **{"fabric.media.1": {"part": "generic-qsfp112-400g-aoc-30m"}}))
    warnings = [v for v in plan.violations if v.code == "SITE013"]
    assert warnings and warnings[0].severity == "warning" and not plan.errors


def test_redundancy_per_hall(plan):
    halls = plan.layout.halls
    stages = {s.name: s for s in plan.stages}
    gens = stages["generators"]
    assert gens.units == halls * (int(np.ceil(gens.load / halls / 2e6)) + 1)  # N+1 per hall, 2 MW sets
    sub = stages["substation"]
    assert sub.units == int(np.ceil(sub.load / (100e6 * 0.95))) + 1  # N+1 site-wide, 100 MVA at PF 0.95
    assert plan.summary()["heat_rejection_units"] == halls * (int(np.ceil(plan.cooling["design_heat_w"] / halls / 2e6)) + 1)


def test_multi_plane_ports_used_once(tmp_path):
    site = _site(tmp_path, **{"target": {"generations": [{"design": str(ROOT / "examples" / "gb200-nvl72.yaml"),
                                                           "racks": 40}]},
                              "fabric.planes": 2, "fabric.link_speed": "200 Gb/s"})
    plan = plan_site(site)
    cables = plan.cables
    assert cables.height == 2 * sum(plan.fabric.links_by_tier.values())
    keys = ["hall", "row", "rack", "slot", "port"]
    ends = pl.concat([cables.filter(pl.col("tier") > 1).select([pl.col(f"a_{k}").alias(k) for k in keys]),
                      cables.select([pl.col(f"b_{k}").alias(k) for k in keys])])
    assert ends.unique().height == ends.height  # every switch port carries one cable
    nic = cables.filter(pl.col("tier") == 1).select([pl.col(f"a_{k}").alias(k) for k in keys])
    assert nic.unique().height == nic.height == 2 * 72 * 40  # each NIC port carries one link per plane


def test_cables_json_report_and_table_add_up_by_hand(tmp_path):
    """`site cables` on a cable plan of five cables: the counts and lengths summed by hand, --json what cables.json
    holds, the page opening with that headline and every axis titled, the table's total row."""
    from rackwright.report.site_pages import cables_figure
    from report_axes import title_text, untitled_axes

    plan = tmp_path / "plan"
    plan.mkdir()
    pl.DataFrame({"tier": [1, 1, 2, 2, 2], "media": ["optical", "optical", "aoc", "aoc", "optical"],
                  "length_m": [10.0, 20.0, 3.0, 4.0, 100.0]}).write_parquet(plan / "cables.parquet")
    printed = runner.invoke(app, ["site", "cables", str(plan), "--json"])
    assert printed.exit_code == 0, printed.output
    doc = json.loads(printed.stdout)
    assert (doc["command"], doc["cables"], doc["cable_length_km"]) == ("site cables", 5, 0.137)  # 137 m
    assert doc["media"] == [{"media": "aoc", "cables": 2, "cable_length_km": 0.007},
                            {"media": "optical", "cables": 3, "cable_length_km": 0.13}]
    assert [(r["tier"], r["media"], r["cables"], r["length_m"], r["longest_m"]) for r in doc["totals"]] == [
        (1, "optical", 2, 30.0, 20.0), (2, "aoc", 2, 7.0, 4.0), (2, "optical", 1, 100.0, 100.0)]
    result = runner.invoke(app, ["site", "cables", str(plan), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report" / "cables.json").read_text(encoding="utf-8") == printed.stdout
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "5 cables, 0.137 km; by medium: aoc 2 (0.007 km), optical 3 (0.130 km)" in title_text(page)
    assert (tmp_path / "report" / "plotly.min.js").is_file() and "cdn.plot.ly" not in page
    assert untitled_axes(cables_figure(doc)) == []
    total = next(line for line in result.stdout.splitlines() if "all" in line)
    assert re.findall(r"[\d.,]+", total) == ["5", "0.137", "100"]


def test_power_chain_sides_of_the_100mw_site_by_hand(plan):
    """The 100 MW example's A and B sides (summary.json ``power_chain.distribution.halls``): 102 busway units of
    3.0 MW (catalog: 4000 A at 480 V) over 2 halls = 51 a hall, 26 on A (the odd one) and 25 on B. Every rack is fed
    A and B (GB200 NVL72 N+N, SN5600 PSUs 1+1): 2N, as many feeds on each side as racks. Each side carries its hall's
    whole load alone; over both halls 803 racks x 124.6 kW + 2,376 switches (904 + 960 + 512) x 1.5 kW = 103.6 MW,
    the distribution stage's peak (IT with the switches); 26 x 3.0 = 78 MW > hall 1's ~56.8 MW. A network rack of 16
    SN5600s: 24 kW / (480 V x 0.8 x 1.732) = 36.1 A -> 40 A (NEC 240.6(A))."""
    from rackwright.site.summary import distribution_halls

    halls = distribution_halls(plan)
    assert [h["hall"] for h in halls] == [1, 2] and {h["topology"] for h in halls} == {"2N"}
    for hall in halls:
        a, b = hall["sides"]
        assert (a["panels"], b["panels"], a["capacity_mw"], b["capacity_mw"]) == (26, 25, 78.0, 75.0)
        assert a["feeds"] == b["feeds"] == hall["racks"] and hall["single_fed_racks"] == 0
        assert a["load_alone_mw"] == b["load_alone_mw"] == pytest.approx(2 * a["normal_load_mw"], abs=0.002)
        assert a["carries_alone"] and b["carries_alone"]
        assert 40 in [r["amperes"] for r in a["ratings"]] and a["ratings"] == b["ratings"]
    total = sum(h["sides"][0]["load_alone_mw"] for h in halls)
    assert total == pytest.approx(803 * 0.1246 + (904 + 960 + 512) * 0.0015, abs=0.1)
    assert sum(h["racks"] for h in halls) - 803 == len(plan.cables.select("b_hall", "b_row", "b_rack").unique())


def test_power_one_line_lists_each_halls_a_and_b_feeds(plan):
    """The one-line's feeds box: a line per side of each hall (the most common rating first), halls past the third
    left to summary.json; the 100 MW example's two halls, both sides of each, are drawn."""
    from rackwright.site.diagrams import feed_lines, power_one_line_svg

    side = {"side": "A", "panels": 26, "feeds": 521, "load_alone_mw": 56.834,
            "ratings": [{"amperes": 30, "feeds": 3}, {"amperes": 200, "feeds": 441}, {"amperes": 40, "feeds": 77}]}
    hall = {"hall": 1, "topology": "2N", "sides": [side, {**side, "side": "B", "panels": 25}]}
    assert feed_lines([hall]) == [
        "Hall 1 (2N) A: 26 panels, 521 feeds (441 × 200 A, 77 × 40 A, 3 × 30 A), 56.8 MW alone",
        "Hall 1 (2N) B: 25 panels, 521 feeds (441 × 200 A, 77 × 40 A, 3 × 30 A), 56.8 MW alone"]
    assert feed_lines([hall] * 4)[-1] == "… 1 more halls in summary.json" and len(feed_lines([hall] * 4)) == 7
    svg = power_one_line_svg(plan)
    assert "A and B feeds to the racks" in svg
    assert re.findall(r">(Hall \d \(2N\) [AB]): (\d+) panels", svg) == [
        ("Hall 1 (2N) A", "26"), ("Hall 1 (2N) B", "25"), ("Hall 2 (2N) A", "26"), ("Hall 2 (2N) B", "25")]
