"""The factory line simulation: queueing theory agreement, reproducibility, yield, DFM, capacity, bad input."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rackwright.cli.app import app
from rackwright.errors import InputError
from rackwright.factory import (
    WorkCalendar,
    WorkContent,
    capacity_search,
    erlang_c,
    expected_visits,
    first_guess,
    littles_law,
    load_line,
    mmc,
    simulate,
    validate_line,
    work_content,
)
from rackwright.rack.evaluation import sound_design
from test_cli import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
LINE = EXAMPLES / "line-us.yaml"
GB200 = EXAMPLES / "gb200-nvl72.yaml"
ALWAYS = {"shifts_per_day": 1, "hours_per_shift": "24 h", "days_per_week": 7}
RACK = WorkContent(trays=10, compute_trays=4, switch_trays=2, cables=40, liquid_connections=20)
runner = CliRunner()


def one_station(servers=3, mean="1 h", dist="exponential", rate=378.0, yield_=1.0, rework=None, **extra):
    station = {"id": "s", "level": "L11", "resources": servers, "process_time": {"dist": dist, "mean": mean},
               "yield": yield_, "hours": "continuous", **extra}
    if rework:
        station["rework"] = rework
    return validate_line({"name": "test", "calendar": ALWAYS, "arrival": {"racks_per_week": rate},
                          "stations": [station]}).line


def write(tmp_path: Path, data: dict, name="line.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML
    return path


# --- queueing theory ---------------------------------------------------------------------

def test_erlang_c_known_values():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook: c = 2, A = 1
    m = mmc(arrival_rate=2.25, service_rate=1.0, servers=3)
    assert m["utilisation"] == pytest.approx(0.75)
    assert m["wq"] == pytest.approx(erlang_c(3, 2.25) / (3 - 2.25))
    assert m["lq"] == pytest.approx(littles_law(throughput=2.25, cycle_time=m["wq"]))
    assert littles_law(wip=10, throughput=2) == 5 and littles_law(wip=10, cycle_time=5) == 2
    assert 0 < erlang_c(400, 380.0) < 1  # stable for hundreds of servers
    assert mmc(4, 1, 3)["wq"] == math.inf


def test_simulation_agrees_with_erlang_c():
    """M/M/3 at ρ = 0.75 (Poisson arrivals, exponential service, one station, 24/7): W_q within the 95 % CI."""
    lam, mu, c = 0.75 * 3, 1.0, 3  # per hour
    line = one_station(servers=c, mean="1 h", rate=lam * 168)
    result = simulate(line, RACK, weeks=30, replications=10, seed=2024, warmup_weeks=2)
    waits = np.array([r.wait_mean[0] for r in result.replications])
    half = 2.262 * waits.std(ddof=1) / math.sqrt(len(waits))  # t(0.975, 9)
    theory = mmc(lam, mu, c)
    assert abs(waits.mean() - theory["wq"]) < half, (waits.mean(), theory["wq"], half)
    queue = np.array([r.queue_mean[0] for r in result.replications])
    assert queue.mean() == pytest.approx(theory["lq"], rel=0.1)
    utilisation = np.array([r.utilisation[0] for r in result.replications])
    assert utilisation.mean() == pytest.approx(0.75, abs=0.01)


def test_littles_law_on_the_example_line():
    line = load_line(LINE).line
    work = work_content(sound_design(GB200).model)
    summary = simulate(line, work, weeks=6, replications=2, seed=5, warmup_weeks=2).summary()
    throughput_per_hour = summary["racks_per_week_mean"] / 168.0
    assert summary["wip_mean"] == pytest.approx(littles_law(throughput=throughput_per_hour,
                                                            cycle_time=summary["cycle_time_h"]["mean"]), rel=0.05)


# --- reproducibility and engines -----------------------------------------------------

def small_line(**arrival):
    return validate_line({
        "name": "small", "calendar": {"shifts_per_day": 2, "hours_per_shift": "8 h", "days_per_week": 5},
        "arrival": {"racks_per_week": 30, **arrival},
        "stations": [
            {"id": "build", "level": "L11", "resources": 4, "operators": 3, "per": "tray", "setup": "30 min",
             "process_time": {"dist": "lognormal", "mean": "20 min", "cv": 0.3}},
            {"id": "test", "level": "L11", "resources": 6, "hours": "continuous", "yield": 0.8,
             "process_time": {"dist": "triangular", "min": "4 h", "mode": "6 h", "max": "10 h"},
             "rework": {"to": "build", "time": {"dist": "exponential", "mean": "2 h"}}},
            {"id": "pack", "level": "L11", "resources": 1, "process_time": {"dist": "fixed", "mean": "30 min"}},
        ]}).line


def test_same_seed_same_results_different_seed_differs():
    line = small_line()
    a = simulate(line, RACK, weeks=4, replications=3, seed=7).summary()
    b = simulate(line, RACK, weeks=4, replications=3, seed=7).summary()
    c = simulate(line, RACK, weeks=4, replications=3, seed=8).summary()
    assert a == b
    assert a["racks_per_week_mean"] != c["racks_per_week_mean"] or a["cycle_time_h"] != c["cycle_time_h"]
    assert a["seed"] == 7 and a["replications"] == 3
    assert a["racks_per_week_p05"] <= a["racks_per_week_mean"] <= a["racks_per_week_p95"]


def test_parallel_replications_match_serial():
    line = small_line()
    serial = simulate(line, RACK, weeks=3, replications=2, seed=11).summary()
    parallel = simulate(line, RACK, weeks=3, replications=2, seed=11, workers=2).summary()
    assert serial == parallel


def test_fast_engine_matches_simpy_resources():
    """The bay-heap booking equals simpy.Resource request/release (FCFS), shifts and rework included."""
    line = small_line()
    fast = simulate(line, RACK, weeks=4, replications=2, seed=3).summary()
    slow = simulate(line, RACK, weeks=4, replications=2, seed=3, engine="resource").summary()
    assert fast["racks_per_week_mean"] == slow["racks_per_week_mean"]
    assert fast["cycle_time_h"]["mean"] == pytest.approx(slow["cycle_time_h"]["mean"], rel=1e-9)
    for sid in fast["stations"]:
        assert fast["stations"][sid]["utilisation"] == pytest.approx(slow["stations"][sid]["utilisation"], rel=1e-9)


def test_calendar_converts_working_time():
    cal = WorkCalendar(hours_per_day=16, days_per_week=5)
    assert cal.finish(0.0, 10.0) == 10.0
    assert cal.finish(10.0, 10.0) == 24.0 + 4.0  # 6 h today, 4 h tomorrow
    assert cal.finish(4 * 24 + 10.0, 10.0) == 168.0 + 4.0  # Friday → Monday
    assert cal.finish(20.0, 1.0) == 25.0  # starts off-shift: waits for the next shift
    assert cal.work(168.0) == 80.0 and cal.wall(80.0) == 4 * 24 + 16.0
    assert np.allclose(cal.next_open_array([5.0, 20.0, 5 * 24 + 1.0]), [5.0, 24.0, 168.0])


# --- yield, rework, DFM -------------------------------------------------------------------

def test_yield_increases_visits_and_utilisation():
    rate = 100.0
    perfect = simulate(one_station(servers=2, rate=rate), RACK, weeks=20, replications=3, seed=1, warmup_weeks=1)
    line = one_station(servers=2, rate=rate, yield_=0.8)
    lossy = simulate(line, RACK, weeks=20, replications=3, seed=1, warmup_weeks=1)
    assert expected_visits(line)[0][0] == pytest.approx(1.25)
    visits = sum(r.visits[0] for r in lossy.replications) / sum(r.released for r in lossy.replications)
    assert visits == pytest.approx(1 / 0.8, rel=0.03)
    u0 = np.mean([r.utilisation[0] for r in perfect.replications])
    u1 = np.mean([r.utilisation[0] for r in lossy.replications])
    assert u0 == pytest.approx(rate / 168 / 2, rel=0.05)
    assert u1 / u0 == pytest.approx(1 / 0.8, rel=0.05)
    assert lossy.summary()["stations"]["s"]["rework_count"] > 0


def test_rework_loop_back_multiplies_visits():
    line = small_line()
    visits, rework = expected_visits(line)
    assert visits == pytest.approx([1.0, 1.25, 1.0])  # reworked at "build" (instead of its process), retested
    assert rework == pytest.approx([0.25, 0.0, 0.0])  # reworked at "build"
    loads_guess = first_guess(line, RACK, 30)
    assert all(c >= 1 for c in loads_guess)


def test_work_content_of_the_examples():
    gb200 = work_content(sound_design(GB200).model)
    assert (gb200.trays, gb200.compute_trays, gb200.switch_trays) == (37, 18, 9)
    assert gb200.cables == 72 + 35 + 1 and gb200.cartridges == 1  # optics + patch + NVLink spine
    assert gb200.liquid_connections == 2 * (18 + 9) + 2  # liquid-cooled trays + manifold
    air = work_content(sound_design(EXAMPLES / "hgx-h100-air.yaml").model)
    assert air.switch_trays == 0 and air.liquid_connections == 2  # only the rear door's hoses


def test_fewer_cables_more_output_on_a_cable_bound_line(tmp_path):
    lean = write(tmp_path, {"extends": str(GB200), "name": "GB200 lean cabling", "network": {"links": [
        {"id": "mgmt-cabling", "part": "generic-cat6-utp-patch-3m", "count": 5, "from_slot": "compute-lower",
         "to_slot": "mgmt"}]}}, "lean.yaml")  # 5 management cables instead of 35; every NIC keeps its optic (NET004)
    full, less = work_content(sound_design(GB200).model), work_content(sound_design(lean).model)
    # 72 optics + 35 or 5 patch cables + the NVLink copper spine
    assert (full.cables, less.cables) == (108, 78) and less.trays == full.trays
    line = validate_line({"name": "cable-bound", "calendar": ALWAYS, "arrival": {"racks_per_week": 200},
                          "stations": [{"id": "cabling", "level": "L11", "resources": 2, "per": "cable",
                                        "process_time": {"dist": "lognormal", "mean": "6 min", "cv": 0.2}}]}).line
    a = simulate(line, full, weeks=4, replications=2, seed=1, warmup_weeks=1).summary()
    b = simulate(line, less, weeks=4, replications=2, seed=1, warmup_weeks=1).summary()
    assert a["stations"]["cabling"]["utilisation"] > 0.95  # saturated
    # both saturated: racks/week scale as 1 / cables per rack, 108 / 78 = 1.38 (±10 % for the random process times)
    assert b["racks_per_week_mean"] / a["racks_per_week_mean"] == pytest.approx(108 / 78, rel=0.10)


def test_supply_delay_starves_the_line():
    line = small_line(from_supply=True, racks_per_week=10, parts_ordered_weeks_before=50)
    late = WorkContent(trays=10, cables=5, longest_lead_time_weeks=52.0, longest_lead_part="late-gpu")
    result = simulate(line, late, weeks=6, replications=1, seed=0)
    assert result.summary()["supply_delay_weeks"] == 2.0
    assert result.replications[0].weekly[:2].sum() == 0 and result.replications[0].shipped > 0


# --- capacity ------------------------------------------------------------------------

def test_capacity_search_meets_its_target():
    line = small_line()
    found = capacity_search(line, RACK, target=60.0, weeks=5, warmup_weeks=1, replications=2, seed=0)
    assert found.met
    assert found.result.racks_per_week().mean() >= 60.0 * 0.99
    assert all(s >= g for s, g in zip(found.servers, found.first_guess))
    assert found.summary()["stations"]["test"]["resources"] == found.servers[1]


def test_capacity_cli(tmp_path):
    result = run("factory", "capacity", LINE, "--design", GB200, "--target", "200/week", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["met"] and doc["achieved_racks_per_week"] >= 198
    assert [s["station"] for s in doc["stations"]] == [s.id for s in load_line(LINE).line.stations]
    assert run("factory", "capacity", LINE, "--design", GB200, "--target", "lots").exit_code == 2


def test_simulate_cli_json():
    result = run("factory", "simulate", LINE, "--design", GB200, "--weeks", "2", "--replications", "2",
                    "--seed", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"racks_per_week_mean", "racks_per_week_p05", "racks_per_week_p95", "cycle_time_h", "wip_mean",
            "stations", "bottleneck", "replications", "seed"} <= set(doc)
    assert set(doc["cycle_time_h"]) == {"mean", "p50", "p90"}
    burn_in = next(s for s in doc["stations"] if s["station"] == "burn-in")
    assert {"utilisation", "mean_queue", "rework_count"} <= set(burn_in)
    assert doc["seed"] == 1 and doc["replications"] == 2


# --- bad input -----------------------------------------------------------------------

def base_line() -> dict:
    return {"name": "bad", "arrival": {"racks_per_week": 10}, "stations": [
        {"id": "a", "level": "L11", "resources": 1, "process_time": {"dist": "fixed", "mean": "1 h"}},
        {"id": "b", "level": "L11", "resources": 1, "process_time": {"dist": "fixed", "mean": "1 h"},
         "yield": 0.9, "rework": {"to": "a", "time": {"dist": "fixed", "mean": "1 h"}}}]}


def mutate(path, value):
    data = base_line()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(("path", "value", "where"), [
    (("stations", 1, "rework", "to"), "nowhere", "stations[1].rework.to"),
    (("stations", 0, "rework"), {"to": "b", "time": {"dist": "fixed", "mean": "1 h"}}, "stations[0].rework.to"),
    (("stations", 1, "yield"), 1.5, "stations[1].yield"),
    (("stations", 1, "yield"), 0, "stations[1].yield"),
    (("stations", 0, "process_time", "mean"), "-2 h", "stations[0].process_time.mean"),
    (("stations", 0, "process_time", "mean"), "0 min", "stations[0].process_time.mean"),
    (("stations", 0, "process_time", "mean"), "3 kg", "stations[0].process_time.mean"),
    (("stations", 0, "resources"), 0, "stations[0].resources"),
    (("stations", 0, "colour"), "red", "stations[0].colour"),
    (("stations", 1, "id"), "a", "stations[1].id"),
    (("stations", 1, "yield"), 0.0001, "stations[1].rework"),
    (("calendar",), {"shifts_per_day": 3, "hours_per_shift": "10 h"}, "calendar"),
    (("arrival", "racks_per_week"), -5, "arrival.racks_per_week"),
])
def test_bad_line_files_name_the_field(tmp_path, path, value, where):
    file = write(tmp_path, mutate(path, value))
    with pytest.raises(InputError) as caught:
        load_line(file)
    text = str(caught.value)
    assert where in text, text
    assert str(file) in text
    result = run("factory", "simulate", file, "--design", GB200, "--weeks", "1", "--replications", "1")
    assert result.exit_code == 2 and where in result.output


def test_nested_rework_loops_that_never_terminate(tmp_path):
    stations = [{"id": f"s{i}", "level": "L11", "resources": 1, "yield": 0.05,
                 "process_time": {"dist": "fixed", "mean": "1 h"},
                 "rework": {"to": "s0", "time": {"dist": "fixed", "mean": "1 h"}}} for i in range(4)]
    with pytest.raises(InputError, match="never terminate"):
        validate_line({"name": "loops", "arrival": {"racks_per_week": 1}, "stations": stations})


def test_yaml_positions_in_messages(tmp_path):
    file = tmp_path / "line.yaml"
    file.write_text("name: x\narrival: {racks_per_week: 5}\nstations:\n"
                    "  - {id: a, level: L11, resources: 1, process_time: {dist: fixed, mean: 1 h},\n"
                    "     yield: 0.9, rework: {to: zz, time: {dist: fixed, mean: 1 h}}}\n")
    with pytest.raises(InputError) as caught:
        load_line(file)
    problem = caught.value.problems[0]
    assert problem.path == "stations[0].rework.to" and problem.line == 5


def test_cli_bad_options():
    assert run("factory", "simulate", LINE, "--design", GB200, "--weeks", "2", "--warmup", "3").exit_code == 2
    assert run("factory", "simulate", LINE, "--design", EXAMPLES / "none.yaml").exit_code == 2
    assert run("factory", "simulate", EXAMPLES / "none.yaml", "--design", GB200).exit_code == 2


VALID_TIME = st.sampled_from(["1 h", "45 min", "2 h", "10 min", "30 s"])
BAD_VALUES = st.sampled_from(["0 h", "-1 h", "abc", "3 kg", 5, None, 0, -2, 1.5, "x", [], {}, "L9", "gamma"])
VALID_DIST = st.one_of(
    st.builds(lambda m: {"dist": "fixed", "mean": m}, VALID_TIME),
    st.builds(lambda m: {"dist": "exponential", "mean": m}, VALID_TIME),
    st.builds(lambda m, cv: {"dist": "lognormal", "mean": m, "cv": cv}, VALID_TIME, st.sampled_from([0.0, 0.3, 2.0])),
    st.just({"dist": "triangular", "min": "10 min", "mode": "30 min", "max": "2 h"}))


@st.composite
def line_data(draw):
    """A valid line, then up to two fields replaced by bad values (about half the examples stay valid)."""
    count = draw(st.integers(1, 3))
    stations = []
    for i in range(count):
        station = {"id": f"s{i}", "level": draw(st.sampled_from(["L10", "L11", "L12"])),
                   "resources": draw(st.integers(1, 4)), "process_time": draw(VALID_DIST),
                   "hours": draw(st.sampled_from(["shift", "continuous"])),
                   "per": draw(st.sampled_from(["rack", "tray", "cable", "liquid_connection", "switch_tray"])),
                   "yield": draw(st.sampled_from([1.0, 0.95, 0.7, 0.3]))}
        if draw(st.booleans()):
            station["operators"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            station["setup"] = draw(VALID_TIME)
        if draw(st.booleans()):
            station["rework"] = {"to": f"s{draw(st.integers(0, i))}", "time": draw(VALID_DIST)}
        stations.append(station)
    data = {"name": "fuzz", "stations": stations,
            "calendar": {"shifts_per_day": draw(st.integers(1, 3)), "hours_per_shift": "8 h",
                         "days_per_week": draw(st.integers(1, 7))},
            "arrival": {"racks_per_week": draw(st.sampled_from([1, 5, 40])), "from_supply": draw(st.booleans()),
                        "start_delay_weeks": draw(st.sampled_from([0, 0.5]))}}
    for _ in range(draw(st.integers(0, 2))):
        section = draw(st.sampled_from(["station", "dist", "calendar", "arrival", "top"]))
        value = draw(BAD_VALUES)
        if section == "station":
            key = draw(st.sampled_from(["id", "level", "resources", "operators", "hours", "per", "yield", "setup",
                                        "rework", "process_time", "unknown"]))
            draw(st.sampled_from(stations))[key] = value
        elif section == "dist":
            key = draw(st.sampled_from(["dist", "mean", "cv", "min", "mode", "max"]))
            station = draw(st.sampled_from(stations))
            if isinstance(station.get("process_time"), dict):  # an earlier mutation may have replaced it
                station["process_time"][key] = value
        elif section in ("calendar", "arrival") and isinstance(data[section], dict):
            data[section][draw(st.sampled_from(sorted(data[section]) + ["unknown"]))] = value
        elif section == "top":
            data[draw(st.sampled_from(["name", "stations", "calendar", "arrival", "unknown"]))] = value
    return data


LINE_DATA = line_data()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=LINE_DATA)
def test_fuzzed_line_files_exit_cleanly(data):
    with tempfile.TemporaryDirectory() as tmp:
        file = write(Path(tmp), copy.deepcopy(data))
        result = run("factory", "simulate", file, "--design", GB200, "--weeks", "1", "--replications", "1",
                        "--seed", "0", "--json")
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 0:
        assert "racks_per_week_mean" in json.loads(result.stdout)


def test_html_report(tmp_path):
    """``-o DIR`` writes simulate.json (what --json prints) and report.html; ``--report FILE`` is gone."""
    args = ["factory", "simulate", str(LINE), "--design", str(GB200), "--weeks", "2", "--replications", "2", "--seed",
            "3"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "factory"), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "factory" / "simulate.json").read_text(encoding="utf-8") == result.stdout
    html = (tmp_path / "factory" / "report.html").read_text()
    assert "plotly" in html and "Racks shipped per week" in html and "Station utilisation" in html
    older = runner.invoke(app, [*args, "--report", str(tmp_path / "factory.html")])
    assert older.exit_code == 2 and "--report" in older.output and not (tmp_path / "factory.html").exists()
