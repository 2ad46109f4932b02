"""Fleet reliability: closed forms by hand, Monte Carlo agreement, the Llama 3 validation, spares, qualification."""

from __future__ import annotations

import json
import math
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackwright.errors import InputError
from rackwright.fleet import (
    checkpoint_bytes,
    checkpoint_write_time,
    compound_poisson_cdf,
    daly_interval,
    fabric_counts,
    goodput_exponential,
    goodput_first_order,
    hot_spares_needed,
    idle_capacity_fraction,
    interruptions_per_day,
    inventory,
    job_causes,
    job_report,
    load_failure_modes,
    lost_fraction,
    mtbi_hours,
    poisson_cdf,
    poisson_quantile,
    qualify,
    series_rate,
    simulate_goodput,
    spares_report,
    wait_probability,
    young_interval,
)
from rackwright.fleet.qualify import METRICS
from rackwright.fleet.validation import LLAMA3_CASE, case_markdown, compare_case
from rackwright.models.reliability import rate_from_afr
from rackwright.perf.workload import load_model
from rackwright.rack.evaluation import sound_design
from test_cli import run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GB200, H100 = EXAMPLES / "gb200-nvl72.yaml", EXAMPLES / "hgx-h100-air.yaml"
GB200_RACK, H100_RACK = sound_design(GB200), sound_design(H100)  # the fleet models take evaluated racks
QUAL_CSV = EXAMPLES / "qualification-gb200.csv"
HEADER = "rack_id,generation,test,metric,value,unit,timestamp\n"


# --- closed forms by hand -----------------------------------------------------------------

def test_series_rate_and_interruptions_by_hand():
    counts = np.array([8.0, 2.0, 10.0])
    rates = np.array([1e-5, 2e-6, 5e-7])
    assert series_rate(counts, rates) == pytest.approx(8e-5 + 4e-6 + 5e-6)
    # vectorised over designs (rows)
    assert series_rate(np.stack([counts, 2 * counts]), rates) == pytest.approx([8.9e-5, 1.78e-4])
    per_day = interruptions_per_day(counts, rates, [2.0, 1.0, 1.0], [1.0, 0.5, 1.0])
    assert per_day == pytest.approx(24 * np.array([1.6e-4, 2e-6, 5e-6]))
    assert mtbi_hours(1.0 / 3.0) == pytest.approx(3.0) and math.isinf(mtbi_hours(0.0))


def test_young_daly_and_lost_fraction_by_hand():
    tau = young_interval(60.0, 3 * 3600.0)
    assert tau == pytest.approx(math.sqrt(2 * 60 * 10800), rel=1e-12) and round(float(tau)) == 1138
    x = 60.0 / (2 * 10800)
    assert daly_interval(60.0, 10800.0) == pytest.approx(1138.42 * (1 + math.sqrt(x) / 3 + x / 9) - 60, abs=0.01)
    assert daly_interval(3000.0, 1000.0) == pytest.approx(1000.0)  # δ ≥ 2M: checkpoint once per MTBI
    lost = lost_fraction(1138.42, 60.0, 10800.0, 600.0)
    assert lost == pytest.approx(60 / 1138.42 + (569.21 + 600) / 10800, rel=1e-9)  # = 0.16097
    assert goodput_first_order(1138.42, 60.0, 10800.0, 600.0) == pytest.approx(1 - lost)
    # the exponential form tends to the first-order one when δ, τ, R ≪ M
    assert goodput_exponential(600.0, 1.0, 1e6, 10.0) == pytest.approx(goodput_first_order(600.0, 1.0, 1e6, 10.0), abs=1e-5)
    # Daly's interval maximises the exponential goodput
    taus = np.linspace(200, 3000, 2801)
    best = taus[np.argmax(goodput_exponential(taus, 60.0, 10800.0, 600.0))]
    assert best == pytest.approx(float(daly_interval(60.0, 10800.0)), abs=5.0)


def test_checkpoint_write_time_from_model_size():
    params = load_model("llama3-405b").total_params
    nbytes = checkpoint_bytes(params)  # 14 B/parameter: bf16 weights + fp32 master + two fp32 moments
    assert nbytes == pytest.approx(14 * params) and 5.6e12 < nbytes < 5.8e12
    assert checkpoint_write_time(nbytes, 2e12) == pytest.approx(nbytes / 2e12)
    report = job_report(H100_RACK, 32)
    assert report["checkpoint"]["write_s"] == pytest.approx(nbytes / 2e12)
    assert job_report(H100_RACK, 32, checkpoint_write_s=60)["checkpoint"]["write_s"] == 60


def test_fabric_counts():
    tiers, links, switches = fabric_counts([64, 2048, 16384], 64, 1.0)
    assert list(tiers) == [1, 2, 3] and list(links) == [0, 1, 2]
    assert switches[1] * 2048 == pytest.approx(64 + 32)  # 64 leaves + 32 spines
    _, links7, _ = fabric_counts(16384, 64, 7.0)
    assert links7 == pytest.approx(1 + 1 / 7)


def test_job_causes_by_hand_on_one_rack():
    inv = inventory(H100_RACK)
    causes = {c.kind: c for c in job_causes(inv, 32)}
    gpu = causes["accelerator"]
    assert gpu.units == 32 and gpu.rate_per_unit_hour == pytest.approx(float(rate_from_afr(0.04)))
    assert gpu.per_hour == pytest.approx(32 * float(rate_from_afr(0.04)) * 1.47)  # Crusoe: (41.5 + 19.5) / 41.5
    assert gpu.blast_accelerators == 8  # the DGX's NVLink domain
    # Delta: 17 DBEs in 608 GPUs x 146 d x 24 h on 96 GB of HBM3; an 80 GB H100 sees 80/96 of it, every DBE stops the job
    assert causes["hbm"].per_hour == pytest.approx(32 * 80 / 96 * 17 / (608 * 146 * 24))
    # the NIC-side optic carries Alibaba HPN's NIC-ToR link rate, 0.057 %/month: AFR 1 - exp(-12 x 0.00057) = 0.68 %
    assert causes["optics"].rate_per_unit_hour == pytest.approx(float(rate_from_afr(0.0068)))
    assert float(rate_from_afr(0.0068)) == pytest.approx(0.00057 * 12 / 8766, rel=0.01)
    assert causes["power"].interrupt_share == 0.02  # N+N PDUs
    assert "fabric_link" not in causes  # 32 endpoints fit one switch
    gb = {c.kind: c for c in job_causes(inventory(GB200_RACK), 72)}
    assert gb["accelerator"].blast_accelerators == 72 and gb["hbm"].rate_per_unit_hour == pytest.approx(186 / 96 * 17 / (608 * 146 * 24))  # usable HBM (issue 20)
    assert gb["scale_up_cable"].category == "gpu" and gb["management"].interrupt_share == 0.0


def test_every_rate_is_documented():
    modes = load_failure_modes()
    for name, mode in modes.modes.items():
        if mode.rate.from_ is None:
            assert mode.rate.basis and len(mode.rate.note) > 20, name
        for figure in (mode.events_per_failure, mode.interrupt_share, mode.repair_h):
            assert figure is None or len(figure.note) > 3, name
    assert {"accelerator", "hbm", "cpu", "nic", "scale_out_switch", "optics", "cable", "power", "cdu_leak",
            "host_software", "host_other"} <= set(modes.modes)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("rate: {per_hour: 1.2056e-5", "rate: {per_hour: -1.2056e-5",
     "modes.host_maintenance.rate.per_hour: Input should be greater than or equal to 0"),
    ("    rate: {per_hour: 2.637e-6, basis: llama3, source: llama3, ", "    rate: {basis: llama3, source: llama3, ",
     "modes.host_software.rate: give `from: catalog` or exactly one of per_hour, mtbf_h, afr, per_month"),
    ("mtbf_h: 125319.5294", "mtbf_h: 0", "modes.hbm.rate.mtbf_h: Input should be greater than 0"),
    ("rate: {per_hour: 7.803e-7, basis: independent, source: alibaba_hpn,", "rate: {per_hour: 7.803e-7, source: alibaba_hpn,",
     "modes.fabric_link.rate: a rate figure needs a basis and a note"),
    ("source: alibaba_hpn, note: \"0.057", "source: nowhere, note: \"0.057", "source 'nowhere' is not in references"),
])
def test_bad_failure_modes_name_the_field(tmp_path, old, new, message):
    from rackwright.fleet.failures import DATA_FILE

    text = DATA_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "modes.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_failure_modes(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_catalog_rate_needs_design_units(tmp_path):
    from rackwright.fleet.failures import DATA_FILE
    from rackwright.yamlio import read_yaml, to_plain

    doc = to_plain(read_yaml(DATA_FILE))
    doc["modes"]["hbm"]["rate"] = {"from": "catalog"}  # hbm counts per accelerator: the catalog has no such rate
    path = tmp_path / "modes.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML
    with pytest.raises(InputError) as info:
        load_failure_modes(path)
    assert "modes.hbm" in str(info.value) and "needs `units: design`" in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(["hbm", "fabric_link", "host_software", "accelerator"]),
       field=st.sampled_from(["per_hour", "mtbf_h", "afr", "per_month", "from", "basis", "note"]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5), st.text(max_size=6),
                       st.none(), st.lists(st.integers(), max_size=2)))
def test_fuzzed_rates_give_clear_errors(tmp_path, mode, field, value):
    from rackwright.fleet.failures import DATA_FILE
    from rackwright.yamlio import read_yaml, to_plain

    doc = to_plain(read_yaml(DATA_FILE))
    doc["modes"][mode]["rate"][field] = value
    path = tmp_path / f"fuzz-{uuid.uuid4().hex}.yaml"  # a new name each example: loaded files are cached by path
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")  # JSON is YAML
    try:
        modes = load_failure_modes(path)
    except InputError as exc:
        assert str(path) in str(exc) and f"modes.{mode}.rate" in str(exc)
    else:
        hourly = modes.modes[mode].rate.hourly
        assert hourly is None or hourly >= 0


# --- Monte Carlo --------------------------------------------------------------------------

@pytest.mark.parametrize(("tau", "delta", "mtbi", "restart", "dist", "p_wait"), [
    (1138.42 / 3600, 60 / 3600, 3.0, 10 / 60, "constant", 0.0),
    (0.5, 0.1, 2.0, 0.5, "exponential", 0.1),
    (4.3 / 60, 2.8 / 3600, 3.37, 10 / 60, "constant", 0.0),
])
def test_monte_carlo_agrees_with_closed_form(tau, delta, mtbi, restart, dist, p_wait):
    result = simulate_goodput(tau, delta, mtbi, restart, samples=2000, failures=400, restart_distribution=dist,
                              p_wait=p_wait, wait=1.0, seed=2)
    low, high = result.ci95
    assert low <= result.closed_form <= high, (result.mean, result.stderr, result.closed_form)
    assert result.stderr < 0.001


# --- the Llama 3 validation ----------------------------------------------------------------

@pytest.fixture(scope="module")
def llama3():
    return compare_case(LLAMA3_CASE, ROOT)


#: Validated rows outside their a-priori tolerance with the independent rates, and why (docs/reliability.md).
#: Strict xfails: a model change that brings one inside makes its test fail until this list is updated.
OUTSIDE: dict[str, str] = {}  # none since the NIC and CPU rates count failures of the part (2026-11-26)


def _within_or_known_miss(row):
    if row.quantity in OUTSIDE:
        assert not row.within, f"{row.quantity} is now within tolerance: update OUTSIDE and docs/reliability.md"
        pytest.xfail(OUTSIDE[row.quantity])
    assert row.within, f"{row.quantity}: {row.predicted:.3f} vs {row.published:.3f}"


def test_llama3_unexpected_interruptions_within_15_percent(llama3):
    row = llama3.row("unexpected interruptions")
    assert row.published == 419 and row.tolerance == 0.15
    # honest: about half the predicted events still rest on rates set from (or catalog AFRs that cite) Llama 3
    assert 0.4 < row.independent < 0.6
    # by hand: Delta's 17 H100 DBEs in 2,130,432 GPU-hours of 96 GB HBM3, for 16,384 x 80 GB x 1,296 h = 141.2
    hbm = next(g for g in llama3.groups if g.quantity == "GPU HBM3 memory")
    assert 608 * 146 * 24 / 24 == 88768  # Delta's headline MTBE counts 24 events: 17 DBEs + 7 correctable-triggered remaps
    assert hbm.predicted == pytest.approx(16384 * 54 * 24 * 80 / 96 * 17 / (608 * 146 * 24), rel=1e-9)
    _within_or_known_miss(row)


@pytest.mark.parametrize("category", ["gpu", "network", "host", "software"])
def test_llama3_cause_mix_within_stated_tolerances(llama3, category):
    row = llama3.row(f"{category} share")
    assert row.tolerance == pytest.approx(2 * (row.published * (1 - row.published) / 419) ** 0.5)
    _within_or_known_miss(row)


def test_llama3_independent_rows_are_marked(llama3):
    causes = llama3.report["by_cause"]
    assert causes["accelerator"]["llama3_derived"] and causes["host_software"]["llama3_derived"]
    assert not causes["hbm"]["llama3_derived"] and not causes["fabric_link"]["llama3_derived"]
    assert not causes["optics"]["llama3_derived"] and causes["accelerator"]["events_per_failure"] == 1.47
    assert llama3.row("software share").independent == 0.0
    hbm = next(g for g in llama3.groups if g.quantity == "GPU HBM3 memory")
    assert hbm.independent == 1.0 and hbm.published == 72  # the independent Delta rate over-predicts (shown)
    # independent cross-check: Meta's research-cluster rates bracket the prediction (and the published count)
    assert llama3.cross_check["RSC2"] < llama3.predicted < llama3.cross_check["RSC1"]
    # independent per-cause cross-check: StepFun's node faults per server-day, scaled to 2,048 hosts x 54 days
    assert llama3.cause_check["CPU"] == pytest.approx(2 * 2048 * 54 / (400 * 348))
    assert llama3.cause_check["NIC"] == pytest.approx(9 * 2048 * 54 / (400 * 348))
    assert llama3.cause_check["GPU HBM3 memory"] == pytest.approx(60 * 2048 * 54 / (400 * 348))
    assert llama3.row("effective training time (lower bound)").within


def test_reliability_doc_has_the_current_validation_table(llama3):
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- llama3-table -->\n(.*?)<!-- /llama3-table -->", page, re.S)
    assert match, "docs/reliability.md lacks the <!-- llama3-table --> block"
    assert match.group(1).strip() == case_markdown(llama3).strip(), "docs/reliability.md table is stale"


# --- spares ---------------------------------------------------------------------------------

def test_poisson_spares_by_hand():
    assert poisson_cdf(0, 2.0) == pytest.approx(math.exp(-2))
    assert poisson_cdf(2, 2.0) == pytest.approx(math.exp(-2) * (1 + 2 + 2))
    assert poisson_cdf(5, 2.0) == pytest.approx(0.98343639, abs=1e-8)
    assert poisson_quantile(2.0, 0.99) == 6  # P(D ≤ 5) = 0.983 < 0.99 ≤ P(D ≤ 6) = 0.995
    assert list(poisson_quantile(np.array([0.0, 0.5, 2.0]), 0.999)) == [0, 4, 8]
    assert poisson_quantile(1000.0, 0.5) in (999, 1000)  # large means stay finite
    cdf = compound_poisson_cdf([1, 2], [0.5, 0.25], 2)
    e = math.exp(-0.75)
    assert cdf == pytest.approx([e, e * 1.5, e * (1 + 0.5 + 0.125 + 0.25)])


def test_hot_spares_and_domain_size():
    # one kind of blast 8 with 0.5 units out on average: P(Y ≤ 3) = 0.99825 < 0.999 ≤ P(Y ≤ 4) = 0.99986,
    # so 4 nodes out (32 accelerators) plus room for the next failure (8)
    assert hot_spares_needed([8], [0.5], 0.999) == 40
    assert wait_probability(0, [8], [0.5], [8.0]) == pytest.approx(1.0)
    assert wait_probability(8, [8], [0.5], [8.0]) == pytest.approx([1 - math.exp(-0.5)])
    assert idle_capacity_fraction([0.1, 0.2], [72, 8], [24, 8], 1000) == pytest.approx((0.1 * 72 * 24 + 0.2 * 64) / 1000)
    dgx, nvl = job_report(H100_RACK, 16384), job_report(GB200_RACK, 16384)
    assert nvl["idle_capacity_fraction"] > 5 * dgx["idle_capacity_fraction"]  # 72- vs 8-GPU blast radius
    waiting = job_report(H100_RACK, 16384, spares=0)
    assert waiting["goodput"] < dgx["goodput"] and waiting["restart_min"] > dgx["restart_min"]


def test_spares_report_matches_poisson():
    doc = spares_report(GB200_RACK, 10, 14, 0.999)
    gpu = next(r for r in doc["parts"] if r["kind"] == "accelerator")
    mean = 720 * float(rate_from_afr(0.05)) * 14 * 24
    assert gpu["installed"] == 720 and gpu["mean_demand_in_window"] == pytest.approx(mean)
    assert gpu["spares"] == poisson_quantile(mean, 0.999) and gpu["availability_achieved"] >= 0.999
    with pytest.raises(InputError):
        spares_report(GB200_RACK, 10, 0, 0.999)


# --- qualification --------------------------------------------------------------------------

def _write(tmp_path, rows: str, name="results.csv") -> Path:
    path = tmp_path / name
    path.write_text(rows, encoding="utf-8")
    return path


def test_example_qualification_has_passes_a_warn_and_a_fail():
    doc = qualify(GB200_RACK, QUAL_CSV)
    assert doc["summary"] == {"pass": 9, "warn": 1, "fail": 1}
    verdicts = {(r["rack_id"], r["metric"]): r["verdict"] for r in doc["measurements"]}
    assert verdicts[("R02", "power_at_load")] == "warn" and verdicts[("R03", "coolant_flow")] == "fail"
    assert any("link efficiency 0.73 vs the 0.80 assumed" in hint for hint in doc["calibration"])


def test_qualification_verdicts_on_crafted_results(tmp_path):
    power = 124.562  # power.input_kw of the GB200 NVL72 example
    rows = HEADER + "".join(f"R1,gb200,t,{metric},{value},{unit},2026-01-01T00:00:00Z\n" for metric, value, unit in [
        ("power_at_load", power * 1.04, "kW"),        # pass (4 %)
        ("power_at_load", power * 1.07 * 1000, "W"),  # warn (7 %), other unit
        ("power_at_load", power * 0.88, "kW"),        # fail (-12 %)
        ("bus_bandwidth", 900, "GB/s"),               # above 720 expected: pass (only lower counts)
        ("bus_bandwidth", 560, "GB/s"),               # -22 %: fail
        ("inlet_temperature", 30, "degC"),            # colder than 36 °C: pass
        ("inlet_temperature", 39, "degC"),            # +3 K: warn
        ("burn_in_failures", 1, "failures/48 h"),     # p = 1 - exp(-0.043) = 0.042: warn
        ("burn_in_failures", 2, "failures/2 d"),      # p ≈ 0.0009: fail
    ])
    doc = qualify(GB200_RACK, _write(tmp_path, rows))
    assert [r["verdict"] for r in doc["measurements"]] == ["pass", "warn", "fail", "pass", "fail", "pass", "warn",
                                                          "warn", "fail"]
    burn = doc["measurements"][7]
    mu = burn["expected"]
    assert burn["p_value"] == pytest.approx(1 - math.exp(-mu)) and burn["hours"] == 48
    assert doc["measurements"][8]["hours"] == 48
    json_path = _write(tmp_path, json.dumps({"results": [
        {"rack_id": "R1", "generation": "gb200", "test": "llama3-8b-tp8", "metric": "step_time", "value": 0.5,
         "unit": "s", "timestamp": "2026-01-01"}]}), "results.json")
    assert qualify(GB200_RACK, json_path)["measurements"][0]["verdict"] == "pass"  # faster than the model


@pytest.mark.parametrize(("row", "where"), [
    ("R1,gb200,t,power_draw,120,kW,2026-01-01", "row 2: unknown metric 'power_draw'"),
    ("R1,gb200,t,power_at_load,120,L/min,2026-01-01", "row 2: 'L/min' is not a unit of power"),
    ("R1,gb200,t,power_at_load,abc,kW,2026-01-01", "row 2: value 'abc' is not a finite number"),
    ("R1,gb200,t,power_at_load,120,kW,yesterday", "row 2: timestamp 'yesterday' is not ISO 8601"),
    ("R1,gb300,t,power_at_load,120,kW,2026-01-01", "row 2: rack 'R1' is of generation 'gb300'"),
    ("R9,gb200,t,power_at_load,120,kW,2026-01-01", "row 2: unknown rack 'R9'"),
    ("R1,gb200,t,burn_in_failures,1,failures,2026-01-01", "row 2: 'failures' is not a burn-in unit"),
    ("R1,gb200,nope,step_time,1,s,2026-01-01", "row 2: unknown reference run 'nope'"),
])
def test_bad_results_name_the_row(tmp_path, row, where):
    good = "R1,gb200,t,power_at_load,120,kW,2026-01-01\n"
    path = _write(tmp_path, HEADER + good + row + "\n")
    with pytest.raises(InputError) as info:
        qualify(GB200_RACK, path, racks=["R1"])
    text = str(info.value)
    assert where in text, text
    assert f"{path}:3:" in text  # the CSV line of row 2


def test_bad_results_files(tmp_path):
    cases = {
        "empty.csv": "",
        "header.csv": "rack_id,metric,value\nR1,power_at_load,3\n",
        "short.csv": HEADER + "R1,gb200,t,power_at_load,120\n",
        "bad.json": "[{\"rack_id\": 1,",
        "list.json": "{\"rows\": 3}",
        "results.txt": HEADER,
    }
    for name, text in cases.items():
        with pytest.raises(InputError):
            qualify(GB200_RACK, _write(tmp_path, text, name))
    with pytest.raises(InputError, match="no liquid cooling"):
        qualify(H100_RACK, _write(tmp_path, HEADER + "R1,h100,t,coolant_flow,100,L/min,2026-01-01\n"))


def test_cli_exit_codes_and_json(tmp_path):
    result = run("reliability", "qualify", GB200, QUAL_CSV, "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["summary"]["fail"] == 1
    passing = _write(tmp_path, HEADER + "R1,gb200,t,power_at_load,124,kW,2026-01-01\n")
    assert run("reliability", "qualify", GB200, passing).exit_code == 0
    bad = run("reliability", "qualify", H100, QUAL_CSV)
    assert bad.exit_code == 2 and "row 1" in bad.stderr
    job = run("reliability", "job", "--design", H100, "--accelerators", 16384, "--json")
    [doc] = json.loads(job.stdout)["designs"]  # one design: a list of one record (docs/json.md)
    assert job.exit_code == 0 and {"interruptions_per_day", "causes", "mtbi_h", "checkpoint_interval_min", "goodput",
                                   "lost_hours_per_day"} <= set(doc)
    assert run("reliability", "job", "--design", H100, "--accelerators", 0).exit_code == 2
    assert run("reliability", "job", "--design", H100, "--accelerators", 8, "--storage-bandwidth", "fast").exit_code == 2
    spares = run("reliability", "spares", "--design", GB200, "--racks", 8, "--repair-days", 7, "--json")
    assert spares.exit_code == 0 and json.loads(spares.stdout)["parts"]
    assert run("reliability", "spares", "--design", GB200, "--racks", 8, "--repair-days", 7,
               "--availability", 1.5).exit_code == 2


# --- fuzz: no exception escapes the CLI ------------------------------------------------------

_cell = st.one_of(st.sampled_from(["R1", "R2", "gb200", "gb300", "", "t", "burn-in", "llama3-8b-tp8"]),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6))
_metric = st.one_of(st.sampled_from(sorted(METRICS)), st.text(max_size=8))
_value = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-5, 500).map(str),
                   st.text(max_size=5))
_unit = st.sampled_from(["kW", "W", "L/min", "K", "degC", "GB/s", "Gb/s", "s", "ms", "failures/48 h", "count/2 d",
                         "", "m", "kg", "degC/s", "%", "1/0"])
_stamp = st.sampled_from(["2026-01-01", "2026-01-01T10:00:00Z", "", "01/02/2026", "2026-13-01"])
_random_row = st.tuples(st.sampled_from(["R1", "R2", ""]), st.sampled_from(["gb200", "gb200", "h100"]), _cell, _metric,
                        _value, _unit, _stamp)
_UNITS = {"power_at_load": "kW", "coolant_flow": "L/min", "coolant_delta_t": "K", "inlet_temperature": "degC",
          "bus_bandwidth": "GB/s", "step_time": "s", "burn_in_failures": "failures/48 h"}
_valid_row = st.builds(
    lambda rack, metric, value: (rack, "gb200", "llama3-8b-tp8", metric,
                                 str(int(value) % 4) if metric == "burn_in_failures" else repr(value),
                                 _UNITS[metric], "2026-01-01T10:00:00Z"),
    st.sampled_from(["R1", "R2"]), st.sampled_from(sorted(_UNITS)), st.floats(0.1, 1000.0))
_row = st.integers(0, 7).flatmap(lambda i: _random_row if i == 0 else _valid_row)  # mostly valid rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=6), header=st.sampled_from([True, True, True, False]), as_json=st.booleans())
def test_fuzzed_results_never_crash_the_cli(tmp_path, rows, header, as_json):
    import csv
    import io

    if as_json:
        path = tmp_path / "fuzz.json"
        keys = ["rack_id", "generation", "test", "metric", "value", "unit", "timestamp"]
        path.write_text(json.dumps([dict(zip(keys, row)) for row in rows]), encoding="utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if header:
            writer.writerow(["rack_id", "generation", "test", "metric", "value", "unit", "timestamp"])
        writer.writerows(rows)
        path = tmp_path / "fuzz.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("reliability", "qualify", GB200, path, "--json")
    assert result.exit_code in (0, 1, 2)
    if result.exit_code in (0, 1):
        doc = json.loads(result.stdout)
        assert (result.exit_code == 1) == (doc["summary"]["fail"] > 0)


def test_html_report_plots_each_generation(tmp_path):
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    result = CliRunner().invoke(app, ["reliability", "job", "--design", str(ROOT / "examples" / "hgx-h100-air.yaml"),
                                      "--accelerators", "8192", "--also", str(ROOT / "examples" / "gb200-nvl72.yaml"),
                                      "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "job.json").read_text(encoding="utf-8") == result.stdout
    html = (tmp_path / "report.html").read_text()
    assert "Goodput vs job size" in html and "GB200 NVL72" in html and "DGX H100" in html
    older = CliRunner().invoke(app, ["reliability", "job", "--design", str(H100), "--accelerators", "8192", "--report",
                                     str(tmp_path / "page.html")])
    assert older.exit_code == 2 and "--report" in older.output and not (tmp_path / "page.html").exists()


def test_also_runs_the_same_job_on_each_design_in_the_table_and_the_json():
    """16,384 accelerators on DGX H100 racks (examples/hgx-h100-air.yaml: 4 DGX × 8 = 32 a rack) take 16,384 / 32 =
    512 racks; on GB300 NVL72 (72 a rack) ⌈16,384 / 72⌉ = 228 racks. --json: one record per design, in the order
    given, each the job that design alone gives; the terminal: each design's causes and a value column each."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    gb300 = EXAMPLES / "gb300-nvl72.yaml"
    args = ["reliability", "job", "--design", H100, "--accelerators", 16384]
    both = json.loads(run(*args, "--also", gb300, "--json").stdout)["designs"]
    assert [(d["design"], d["racks"]) for d in both] == [("DGX H100 air-cooled rack", 512), ("GB300 NVL72", 228)]
    alone = json.loads(run("reliability", "job", "--design", gb300, "--accelerators", 16384, "--json").stdout)
    assert alone["designs"] == both[1:]
    table = CliRunner().invoke(app, [str(a) for a in (*args, "--also", gb300)], env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    assert "DGX H100 air-cooled rack: job of 16,384 accelerators (512 racks" in table.stdout
    assert "GB300 NVL72: job of 16,384 accelerators (228 racks" in table.stdout
    goodput = next(line for line in table.stdout.splitlines() if "Goodput (ETTR)" in line)
    assert [f"{d['goodput']:.1%}" in goodput for d in both] == [True, True]


def test_job_units_are_whole_units_by_hand():
    """GB200 NVL72 (examples/gb200-nvl72.yaml): 18 compute trays of 4 B200 + 2 Grace = 72 accelerators and 36 CPUs a
    rack, one NVLink copper spine, one rack manifold and an in-row CDU serving 8 racks (1 + 1/8 cdu_leak units a rack);
    the scale-up domain is the rack (72), a tray idles its 4 accelerators."""
    inv = inventory(GB200_RACK)
    whole = {c.kind: c.units for c in job_causes(inv, 1152)}  # 1,152 / 72 = 16 racks exactly
    assert whole["accelerator"] == 16 * 72 == 1152 and whole["cpu"] == 16 * 36 == 576
    assert whole["host_other"] == 16 * 18 and whole["scale_up_cable"] == 16
    assert whole["cdu_leak"] == 16 + 2  # 16 manifolds, 16 / 8 = 2 CDUs
    part = {c.kind: c.units for c in job_causes(inv, 1000)}  # ⌈1000 / 72⌉ = 14 racks, the 14th holds 64 of them
    assert part["accelerator"] == 14 * 72  # a failed B200 takes its NVLink domain (the rack) down, the job's or not
    assert part["hbm"] == 1000  # the job's own accelerators' memory
    assert part["cpu"] == 2 * 250 and part["host_other"] == 250  # ⌈1000 / 4⌉ = 250 trays
    assert part["scale_up_cable"] == 14 and part["cdu_leak"] == 14 + 2  # 14 manifolds, ⌈14 / 8⌉ = 2 CDUs
    assert all(isinstance(units, int) for units in (*whole.values(), *part.values()))
    [job] = json.loads(run("reliability", "job", "--design", GB200, "--accelerators", 1000, "--json").output)["designs"]
    assert job["racks"] == 14 and {c["cause"]: c["units"] for c in job["causes"]} == part
