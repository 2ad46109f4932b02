"""Issue 17: physically impossible designs are refused wherever a design enters (files, overrides, catalog,
the Python API); consistency rules catch what engineers change; no numpy warning reaches the user."""

import copy
import json
import math
import re
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from ruamel.yaml import YAML

import rackwright
from rackwright.report.jsonout import AS_RECORDS, RENAMES
from rackwright.catalog import KINDS, SPEC_FIELDS, load_catalog
from rackwright.rack.design import Design
from rackwright.rack.figures import FIGURES
from rackwright.rack.rules import FIGURE_RULES, HINTS
from rackwright.validity import DOMAINS
from test_cli import run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DESIGNS = ("gb200-nvl72.yaml", "gb300-nvl72.yaml", "hgx-h100-air.yaml", "ethernet-800vdc.yaml", "meta-catalina.yaml")
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a numpy warning fails the test


def write_examples(tmp_path) -> None:
    for name in DESIGNS:
        (tmp_path / name).write_text((EXAMPLES / name).read_text())


def child(tmp_path, body: str, parent: str = "gb200-nvl72.yaml") -> Path:
    """A design that extends an example and changes ``body``."""
    write_examples(tmp_path)
    path = tmp_path / "child.yaml"
    path.write_text(f"name: child\ngeneration: x\nextends: {parent}\n{body}")
    return path


# --- the table ---------------------------------------------------------------------------------------------

def test_domains_by_hand():
    assert DOMAINS["efficiency"].outside([0.5, 1.0, 1.01, 0.0, math.nan]).tolist() == [False, False, True, True, True]
    assert DOMAINS["count"].outside([0, 3, 2.5, -1, 1e7]).tolist() == [False, False, True, True, True]
    assert DOMAINS["price_change"].outside([-1.0, -0.99, 0.15]).tolist() == [True, False, False]
    assert DOMAINS["origin"].outside([0, 1, math.nan, 0.5]).tolist() == [False, False, False, True]
    # −10 °C and 100 °C in kelvin are the ends of the temperature domain; absolute zero is far outside
    assert DOMAINS["temperature"].outside([263.15, 373.15, 0.0, 305.15 - 300]).tolist() == [False, False, True, True]
    assert DOMAINS["power"].problem(-1200.0) == "-1200 W is outside the domain of power: it must be ≥ 0 W and ≤ 1e+12 W"


def test_every_spec_and_parameter_has_a_domain():
    from rackwright.rack.chain import PARAMETERS

    assert {s.quantity for s in SPEC_FIELDS.values() if s.dimension != "text"} <= set(DOMAINS)
    assert set(PARAMETERS.values()) <= set(DOMAINS)


# --- issue 17, first paragraph: check refuses what it used to pass ------------------------------------------

REFUSED = {
    "negative accelerator power": 'overrides:\n  parts.accelerator.power: "-1200 W"\n',
    "NaN accelerator power": 'overrides:\n  parts.accelerator.power: "nan W"\n',
    "infinite accelerator power": 'overrides:\n  parts.accelerator.power: "inf W"\n',
    "a -500 kg tray": 'overrides:\n  parts.compute_tray.weight: "-500 kg"\n',
    "facility water at -300 degC": 'cooling:\n  facility_supply: "-300 degC"\n',
    "a negative coolant dT": 'cooling:\n  coolant_delta_t: "-10 K"\n',
    "a zero coolant dT": 'cooling:\n  coolant_delta_t: "0 K"\n',
    "a power-shelf efficiency of 2.0": "overrides:\n  parts.power_shelf.efficiency: 2.0\n",
    "a negative cable length": 'network:\n  links:\n    - {id: scale-out-optics, length: "-30 m"}\n',
    "negative HBM": 'overrides:\n  parts.accelerator.hbm: "-192 GB"\n',
    "a slot count of -1 in slots": "slots:\n  - {id: mgmt, count: -1}\n",
    "a slot count of -1 as an override": "overrides:\n  slots[mgmt].count: -1\n",
    "a fractional slot count as an override": "overrides:\n  slots[mgmt].count: 1.5\n",
    "a price change of -150 % as an override": 'overrides:\n  sourcing.power.price_change: "-150%"\n',
    "a zero feed voltage": 'power:\n  feed_voltage: "0 V"\n',
    "a zero floor rating": 'floor_rating: "0 kg/m**2"\n',
    "an infinite floor rating": 'floor_rating: "inf kg/m**2"\n',
    "duplicate slot ids in a child": "slots:\n  - {id: mgmt, count: 1}\n  - {id: mgmt, count: 2}\n",
    "duplicate link ids in a child": "network:\n  links:\n    - {id: extra, part: generic-cat6-utp-patch-3m, count: 1, "
                                     "length: \"3 m\"}\n    - {id: extra, part: generic-cat6-utp-patch-3m, count: 2, "
                                     "length: \"3 m\"}\n",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_impossible_values_are_input_errors(tmp_path, case):
    path = child(tmp_path, REFUSED[case])
    result = run("check", path)
    assert result.exit_code == 2, (case, result.output)
    assert "Warning" not in result.output and "Traceback" not in result.output
    with pytest.raises(rackwright.InputError) as raised:
        rackwright.evaluate(path)
    assert isinstance(raised.value, ValueError)
    assert f"error: {raised.value}".split() == result.output.split()  # the API's message is the CLI's


def test_a_child_refuses_duplicates_like_a_standalone_file(tmp_path):
    standalone = tmp_path / "standalone.yaml"
    standalone.write_text("name: s\ngeneration: s\nenclosure: nvidia-mgx-rack-48u\npower: {architecture: orv3-48v}\n"
                          "slots:\n  - {id: mgmt, part: nvidia-sn2201}\n  - {id: mgmt, part: nvidia-sn2201}\n")
    inherited = child(tmp_path, REFUSED["duplicate slot ids in a child"])
    messages = [str(pytest.raises(rackwright.InputError, rackwright.evaluate, p).value).split(": ", 1)[1]
                for p in (standalone, inherited)]
    for message in messages:  # each names the second item (its own index in its merged list) and the first
        assert re.fullmatch(r"slots\[\d+\]\.id: id 'mgmt' is taken by item \d+; ids must be unique", message), message


def test_a_100_kb_name_is_refused_quickly(tmp_path):
    # It took 59 s (Rich wrapped it quadratically); the alarm only guards against a hang.
    path = child(tmp_path, "")
    path.write_text(path.read_text().replace("name: child", f"name: {'x' * 100_000}"))
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a 100 KB name hangs `check`"))
    signal.alarm(30)
    try:
        result = run("check", path)
    finally:
        signal.alarm(0)
    assert result.exit_code == 2
    assert "child.yaml:1:1: name: longer than 200 characters (fix: shorten it)" in " ".join(result.output.split())


def test_a_child_may_still_override_remove_and_re_add_an_inherited_item(tmp_path):
    # gb300 overrides two inherited slots by id; removing an item and adding it again moves it to the end.
    assert run("check", EXAMPLES / "gb300-nvl72.yaml").exit_code == 0
    moved = rackwright.load_design(child(tmp_path, "slots:\n  - {id: mgmt, remove: true}\n"
                                                   "  - {id: mgmt, part: nvidia-sn2201, count: 2, position: 47}\n"))
    assert [s.id for s in moved.design.slots][-1] == "mgmt"


def test_an_empty_rack_breaks_pwr004(tmp_path):
    emptied = "".join(f"  - {{id: {s}, count: 0}}\n" for s in ("power-lower", "compute-lower", "nvswitch", "compute-upper",
                                                               "power-upper", "mgmt", "nvlink-spine"))
    path = child(tmp_path, "slots:\n" + emptied + "network:\n  links:\n    - {id: scale-out-optics, count: 0}\n"
                           "    - {id: mgmt-cabling, count: 0}\n")
    report = rackwright.evaluate(path)
    assert [v.code for v in report.errors] == ["PWR004"]
    assert report["power.it_load_kw"] == 0 and run("check", path).exit_code == 1


def test_a_catalog_part_outside_its_domain_is_refused(tmp_path):
    family = tmp_path / "bad.yaml"
    family.write_text((EXAMPLES.parent / "src/rackwright/catalog/data/power.yaml").read_text()
                      .replace("efficiency: 0.975", "efficiency: 2.0", 1))
    with pytest.raises(rackwright.InputError, match=r"spec efficiency: 2 is outside the domain of efficiency"):
        load_catalog((str(family),))


# --- issue 17, third paragraph: rules for what engineers change --------------------------------------------

def test_hvdc_architecture_with_48v_shelves_and_busbar_fails(tmp_path):
    report = rackwright.evaluate(child(tmp_path, "power:\n  architecture: hvdc-800v\n", "gb300-nvl72.yaml"))
    messages = {v.code: v.message for v in report.errors}
    assert set(messages) == {"PWR005", "PWR006"}
    assert "bus carries 50 V" in messages["PWR005"]  # hpr-50v-busbar: 50 V, at or below the 60 V SELV limit
    assert "nvidia-mgx-33kw-power-shelf takes 480 V" in messages["PWR006"]  # 480 V is 40 % below the 800 V bus


def test_hvdc_busbar_with_48v_shelves_fails_and_a_48v_busbar_under_hvdc_fails(tmp_path):
    busbar = child(tmp_path, "power:\n  architecture: hvdc-800v\n  busbar: hvdc-800v-busbar\n")
    assert [v.code for v in rackwright.evaluate(busbar).errors] == ["PWR006"]
    orv3 = child(tmp_path, "power:\n  busbar: hvdc-800v-busbar\n")
    assert "PWR005" in [v.code for v in rackwright.evaluate(orv3).errors]  # 800 V under orv3-48v
    assert rackwright.evaluate(EXAMPLES / "ethernet-800vdc.yaml").errors == []  # 800 V DC-DC on the 800 V bus


def test_boiling_coolant_breaks_thm009(tmp_path):
    # hgx-h100-air: no CDU, so the CDU ratings never fire; 95 °C facility water + 3 K approach + 10 K ΔT = 108 °C.
    report = rackwright.evaluate(child(tmp_path, 'cooling:\n  facility_supply: "95 degC"\n', "hgx-h100-air.yaml"))
    thm009 = [v for v in report.errors if v.code == "THM009"]
    assert thm009 and "returns at 108.0 °C" in thm009[0].message


def test_scale_out_ports_without_optics_break_net004(tmp_path):
    fewer = rackwright.evaluate(child(tmp_path, "network:\n  links:\n    - {id: scale-out-optics, part: nvidia-mms4x00-ns400, "
                                                "count: 60, length: 30 m}\n"))
    assert [v.code for v in fewer.errors] == ["NET004"]
    assert "72 ports but only 60 transceivers" in fewer.errors[0].message  # 18 trays × 4 ConnectX-7 ports
    none = rackwright.evaluate(child(tmp_path, "network:\n  links:\n    - {id: scale-out-optics, part: nvidia-mms4x00-ns400, "
                                               "count: 0, length: 30 m}\n"))
    assert "only 0 transceivers" in none.errors[0].message


def test_more_servers_without_more_optics_are_infeasible_in_a_batch():
    # hgx-h100-air: 4 DGX H100 × 8 ConnectX-7 ports = 32 optics; a 5th DGX (8U at unit 35-42) adds 8 ports, no optic.
    batch = rackwright.evaluate_batch(EXAMPLES / "hgx-h100-air.yaml", {"slots[dgx].count": np.array([4.0, 5.0])})
    assert batch.figures["network.scale_out_ports"].tolist() == [32.0, 40.0]
    assert batch.broken["NET004"].tolist() == [False, True] and batch.feasible.tolist() == [True, False]


def test_scale_out_optics_slower_than_the_nic_break_net005(tmp_path):
    # gb300: ConnectX-8 at 800 Gb/s per port; the 400G DR4 optic carries half.
    report = rackwright.evaluate(child(tmp_path, "network:\n  links:\n    - {id: scale-out-optics, part: nvidia-mms4x00-ns400}\n",
                                       "gb300-nvl72.yaml"))
    assert [v.code for v in report.errors] == ["NET005"]
    assert "runs at 400 Gb/s but the scale-out NIC ports run at 800 Gb/s" in report.errors[0].message
    assert "cut to 50%" in report.errors[0].message


def test_open_rack_shelves_in_an_eia_rack_break_mec006_and_eia_gear_in_an_open_rack_warns(tmp_path):
    # 3 OU = 144 mm = 3.24 EIA units (44.45 mm): an Open Rack shelf does not fit 19-inch rails.
    report = rackwright.evaluate(child(tmp_path, "slots:\n  - {id: dcdc, part: hvdc-800v-to-50v-dcdc, count: 1, position: 1}\n"))
    mec006 = [v for v in report.errors if v.code == "MEC006"]
    assert mec006 and "3 OU high, 3.24 of the enclosure's 44.45 mm U pitch" in mec006[0].message
    catalina = rackwright.evaluate(EXAMPLES / "meta-catalina.yaml")  # NVIDIA's 1 U trays in a 48 mm ORv3 frame
    assert {v.code for v in catalina.errors} == {"THM002"}
    assert "1 U (19-inch EIA) high in an Open Rack" in next(v.message for v in catalina.violations if v.code == "MEC007")


def test_an_elevation_of_a_million_trays_draws_only_what_the_rack_holds(tmp_path):
    from rackwright.report.elevation import elevation_svg

    design = child(tmp_path, "slots:\n  - {id: compute-upper, part: nvidia-gb200-compute-tray, count: 1000000}\n")
    assert "MEC004" in [v.code for v in rackwright.evaluate(design).errors]
    svg = elevation_svg(rackwright.evaluate(design)).as_svg()
    assert "compute-upper: 1000000 ×" in svg
    assert svg.count("<rect") < 200  # at most one rectangle per mounting unit of the 48 U rack per slot, not 10⁶


def _schema_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, info in model.model_fields.items():
        paths.add(prefix + name)
        inner = info.annotation
        for candidate in getattr(inner, "__args__", ()) + (inner,):
            candidate = getattr(candidate, "__args__", (candidate,))[0] if hasattr(candidate, "__origin__") else candidate
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths |= _schema_paths(candidate, f"{prefix}{name}.")
    return paths


def test_the_thm005_hint_is_achievable_with_the_catalog():
    """The hint offers W32 (32 °C): every catalog CDU rated for a warmest facility supply takes 32 °C or more."""
    ratings = [p.value("max_facility_supply") for p in load_catalog().by_kind("cdu") if "max_facility_supply" in p.specs]
    assert ratings and min(ratings) >= 273.15 + 32 and "W32" in next(r.hint for r in FIGURE_RULES if r.code == "THM005")


def test_every_fix_hint_names_fields_and_parts_that_exist():
    fields = _schema_paths(Design)
    catalog = load_catalog()
    hints = [rule.hint for rule in FIGURE_RULES]
    hints += [hint.format(kinds="cable or transceiver", path="network.links[0].part", i=0) for hint in HINTS.values()]
    for hint in hints:
        paths = {re.sub(r"\[[^\]]*\]", "", t) for t in re.findall(r"[a-z_]+(?:\[[^\]]*\])?(?:\.[a-z_]+(?:\[[^\]]*\])?)+",
                                                                    hint.replace("e.g.", ""))}
        words = set(re.findall(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]", hint))
        ids = {w for w in words if "-" in w and any(c.isdigit() for c in w)}
        assert paths <= fields, (hint, paths - fields)
        assert ids <= set(catalog.parts) | {"orv3-48v", "hvdc-800v", "ac-pdu"}, (hint, ids - set(catalog.parts))
        named = paths | (words & (set(SPEC_FIELDS) | set(KINDS) | set(catalog.parts) | fields))
        assert named, f"the hint names no field or part: {hint}"


# --- the Python API -----------------------------------------------------------------------------------------

def test_api_raises_input_error_for_wrong_types():
    gb200 = EXAMPLES / "gb200-nvl72.yaml"
    for call in (lambda: rackwright.evaluate(123), lambda: rackwright.load_design(None),
                 lambda: rackwright.evaluate(gb200, catalog="catalog"), lambda: rackwright.evaluate_batch(gb200, [1]),
                 lambda: rackwright.evaluate_batch(gb200, {"parts.accelerator.power": ["a"]}),
                 lambda: rackwright.evaluate_batch(gb200, {"parts.accelerator.power": [1.0, 2.0], "parts.cpu.power": [1.0] * 3}),
                 lambda: rackwright.evaluate_batch(gb200, {1: 2.0})):
        with pytest.raises(rackwright.InputError):
            call()


def test_batch_temperatures_are_kelvin_and_celsius_is_refused_with_a_hint():
    gb200 = EXAMPLES / "gb200-nvl72.yaml"
    with pytest.raises(rackwright.InputError, match=r'273\.15 \+ 32, or the string "32 degC"'):
        rackwright.evaluate_batch(gb200, {"cooling.facility_supply": np.array([305.15, 32.0])})
    batch = rackwright.evaluate_batch(gb200, {"cooling.facility_supply": 273.15 + 32.0})
    assert float(batch.figures["thermal.facility_supply_c"]) == pytest.approx(32.0)
    as_text = rackwright.evaluate_batch(gb200, {"cooling.facility_supply": "32 degC"})
    assert float(as_text.figures["thermal.facility_supply_c"]) == pytest.approx(32.0)


def test_batch_rows_outside_the_domain_are_infeasible_with_a_reason():
    batch = rackwright.evaluate_batch(EXAMPLES / "gb200-nvl72.yaml", {
        "parts.accelerator.power": np.array([1200.0, -1.0, math.nan, 1200.0, math.inf]),
        "slots[mgmt].count": np.array([2.0, 2.0, 2.0, 2.5, 2.0])})
    assert batch.feasible.tolist() == [True, False, False, False, False]
    assert batch.invalid["parts.accelerator.power"].tolist() == [False, True, True, False, True]
    assert batch.invalid["slots[mgmt].count"].tolist() == [False, False, False, True, False]
    assert "≥ 0 W" in batch.reasons["parts.accelerator.power"] and "whole number" in batch.reasons["slots[mgmt].count"]
    load = batch.figures["power.it_load_kw"]
    assert np.isfinite(load[0]) and np.isnan(load[1:]).all()


# --- fuzz: mutate the example designs ----------------------------------------------------------------------

yaml = YAML(typ="safe")
BASES = {name: yaml.load((EXAMPLES / name).read_text()) for name in DESIGNS}
NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$")
NOT_QUANTITIES = {"sources", "name", "generation", "description", "extends", "id", "part", "enclosure"}


def number_leaves(node, prefix=()):
    """Paths of the numbers and number-with-unit strings of a design (not ids, names or dates)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in NOT_QUANTITIES:
                yield from number_leaves(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from number_leaves(value, prefix + (i,))
    elif (isinstance(node, (int, float)) and not isinstance(node, bool)) or (isinstance(node, str) and NUMBER.match(node)):
        yield prefix


def scaled(value, how: str):
    """The leaf with its number changed; and whether that puts it outside every domain it can have."""
    number, unit = (float(value), "") if not isinstance(value, str) else (float(NUMBER.match(value)[1]), NUMBER.match(value)[2])
    new = {"negate": -number, "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "huge": number * 1e300,
           "zero": 0.0, "tiny": number * 1e-300}[how]
    temperature = "degC" in unit or "°C" in unit
    outside = how in ("nan", "inf", "-inf") or (number != 0 and how == "huge") or (
        how == "negate" and number > 0 and unit != "%" and not (temperature and number <= 10))
    return (f"{new!r} {unit}" if isinstance(value, str) else new), outside


def mutated(doc, data):
    """One mutation of ``doc``: a number scaled, a wrong type, a deletion or a duplicated item."""
    doc = copy.deepcopy(doc)
    how = data.draw(st.sampled_from(["negate", "nan", "inf", "-inf", "huge", "zero", "tiny", "type", "delete", "duplicate"]))
    lists = [items for items in (doc.get("slots"), doc.get("network", {}).get("links")) if items]
    if how == "duplicate" and lists:
        items = data.draw(st.sampled_from(lists))
        items.append(copy.deepcopy(data.draw(st.sampled_from(items))))
        return doc, True
    if not list(number_leaves(doc)):  # a child that changes no number (gb300): give it one to change
        doc["overrides"] = {"parts.accelerator.power": "1400 W"}
    leaves = list(number_leaves(doc))
    path = data.draw(st.sampled_from(leaves))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if how == "delete":
        del parent[path[-1]]
        return doc, False
    if how in ("type", "duplicate"):  # (a duplicate where the file has no slots or links of its own)
        parent[path[-1]] = data.draw(st.sampled_from([[1, 2], {"a": 1}, True, "12 parsecs", "", None]))
        return doc, False
    parent[path[-1]], outside = scaled(parent[path[-1]], how)
    return doc, outside


def in_physical_range(document: dict) -> None:
    """Every figure of an ``evaluate --json`` document is finite (or null) and within its physical range."""
    low_c, high_c = (t - 273.15 for t in (DOMAINS["temperature"].low, DOMAINS["temperature"].high))
    for figure in FIGURES:
        # the public name (evaluate --json, docs/json.md) or the Python API's (Rack.to_dict), never skipped
        renamed, factor = RENAMES.get(figure.json, (figure.json, 1.0))
        name = renamed if renamed in document[figure.section] else figure.json
        factor = factor if name == renamed else 1.0
        assert name in document[figure.section], (figure.key, name)
        value = document[figure.section][name]
        if isinstance(value, list) and name in AS_RECORDS:  # records (a data-valued mapping): their values
            value = {i: record[AS_RECORDS[name][1]] for i, record in enumerate(value)}
        for v in (value.values() if isinstance(value, dict) else [value]):
            if v is None:
                continue
            v = v / factor
            assert math.isfinite(v), (figure.key, v)
            if figure.dimension == "temperature":
                assert low_c <= v <= high_c, (figure.key, v)
            else:
                assert v >= 0, (figure.key, v)
            if figure.dimension == "share":
                assert v <= 1 + 1e-9, (figure.key, v)
    for key, v in document.get("delivery", {}).items():
        assert v is None or (math.isfinite(v) and v >= 0), (key, v)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_designs_through_the_cli(tmp_path, data):
    name = data.draw(st.sampled_from(DESIGNS))
    doc, outside = mutated(BASES[name], data)
    write_examples(tmp_path)  # the parents, for extends
    target = tmp_path / f"fuzz-{name}"
    with target.open("w") as handle:
        YAML().dump(doc, handle)
    checked = run("check", target)
    assert "Warning" not in checked.output
    if outside:
        assert checked.exit_code == 2, checked.output
    evaluated = run("evaluate", target, "--json")
    assert evaluated.exit_code == checked.exit_code, evaluated.output
    if evaluated.exit_code == 0:
        in_physical_range(json.loads(evaluated.stdout)["designs"][0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_designs_through_evaluate(tmp_path, data):
    name = data.draw(st.sampled_from(DESIGNS))
    doc, outside = mutated(BASES[name], data)
    write_examples(tmp_path)
    target = tmp_path / f"fuzz-{name}"
    with target.open("w") as handle:
        YAML().dump(doc, handle)
    try:
        report = rackwright.evaluate(target)
    except rackwright.InputError:
        return
    assert not outside, f"accepted: {doc}"
    if not report.errors:
        in_physical_range(report.to_dict())


BATCH_PATHS = ["parts.accelerator.power", "slots[compute-lower].count", "cooling.facility_supply",
               "cooling.coolant_delta_t", "parts.power_shelf.efficiency", "sourcing.power.price_change",
               "parts.accelerator.hbm", "network.scale_up.racks", "parts.compute_tray.weight", "cooling.air_inlet"]
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -1.0, 0.5, 1.0, 8.0, 2.5, 1e300]),
                   st.floats(250.0, 400.0), st.floats(0.0, 2000.0))


@settings(max_examples=40, deadline=None)
@given(overrides=st.dictionaries(st.sampled_from(BATCH_PATHS), st.lists(values, min_size=4, max_size=4), min_size=1, max_size=3))
def test_fuzzed_batches(overrides):
    arrays = {path: np.array(v) for path, v in overrides.items()}
    celsius = any(((a >= -10) & (a <= 100)).any() for p, a in arrays.items() if p in ("cooling.facility_supply", "cooling.air_inlet"))
    try:
        batch = rackwright.evaluate_batch(EXAMPLES / "gb200-nvl72.yaml", arrays)
    except rackwright.InputError as exc:
        assert celsius, exc
        return
    assert not celsius
    bad = np.zeros(4, bool)
    for path, a in arrays.items():  # NaN, negative (a price change: −100 % or less), fractional counts: never feasible
        floor = -1.0 if path.endswith("price_change") else 0.0
        bad |= np.isnan(a) | (a <= floor) & (a != 0) | (("count" in path or "racks" in path) & (a != np.round(a)))
    assert not (batch.feasible & bad).any()
    for key, figure in batch.figures.items():
        assert np.isnan(figure[~batch.feasible & bad]).all(), key
        assert np.isfinite(figure[batch.feasible]).all(), key


def test_docs_list_every_domain_and_rule():
    models = (EXAMPLES.parent / "docs" / "models.md").read_text()
    for quantity, domain in DOMAINS.items():
        assert f"| `{quantity}` | {domain.describe()} |" in models, quantity
    for code in [rule.code for rule in FIGURE_RULES] + list(HINTS):
        assert f"| {code} |" in models, code


# Other file kinds use the same table (sourcing scenario, site, roadmap, space, factory line, NetBox import).

SCENARIO = EXAMPLES / "sourcing-us-power-cabling.yaml"


def edited_example(tmp_path, name: str, old: str, new: str) -> Path:
    """A copy of examples/ with ``old`` replaced by ``new`` once in ``name`` (relative paths keep working)."""
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    text = (folder / name).read_text()
    assert old in text, old
    (folder / name).write_text(text.replace(old, new, 1))
    return folder / name


SCENARIO_REFUSED = {
    "a tariff of 1e9": ("rate: 0.25", "rate: 1e9", "tariffs[0].rate: 1e+09 is outside the domain of tariff"),
    "a price change of -150 %": ('"+15%"', '"-150%"', "substitutions[0].price_change: -1.5 is outside"),
    "a negative lead time": ("lead_time_change_weeks: -6", "lead_time_weeks: -1",
                             "substitutions[0].lead_time_weeks: -1 weeks is outside the domain of lead time"),
    "a NaN lead-time change": ("lead_time_change_weeks: -6", "lead_time_change_weeks: .nan",
                               "substitutions[0].lead_time_change_weeks: Input should be a finite number"),
    "an infinite capacity": ("capacity_per_week: 4000", "capacity_per_week: .inf",
                             "substitutions[0].capacity_per_week: Input should be a finite number"),
}


@pytest.mark.parametrize("case", SCENARIO_REFUSED)
def test_scenario_values_outside_their_domain_are_refused(tmp_path, case):
    old, new, message = SCENARIO_REFUSED[case]
    path = edited_example(tmp_path, SCENARIO.name, old, new)
    result = run("sourcing", "whatif", path.parent / "gb200-nvl72.yaml", path)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: {re.escape(message)}", " ".join(result.output.split()))


def test_a_substitution_or_tariff_that_matches_nothing_is_a_warning(tmp_path):
    path = edited_example(tmp_path, SCENARIO.name, "kind: psu}", "kind: psuu}")
    path.write_text(path.read_text().replace("origin: TH", "origin: ZZ"))
    result = run("sourcing", "whatif", path.parent / "gb300-nvl72.yaml", path, "--json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert warnings == ["substitutions[1] (parts: kind=psuu) matches no part of the design",
                        "tariffs[2] (origin ZZ) covers no part of the design"]
    assert f"warning: {path}: substitutions[1] (parts: kind=psuu) matches no part of the design\n" in result.stderr
    swept = run("sourcing", "whatif", path.parent / "gb300-nvl72.yaml", path, "--json",
                "--sweep", "substitutions[0].price_change=0:0.3:4")
    assert swept.exit_code == 0 and json.loads(swept.stdout)["warnings"] == warnings
    assert f"warning: {path}: tariffs[2] (origin ZZ) covers no part of the design\n" in swept.stderr


OTHER_REFUSED = {  # file, old text, new text, the command's arguments after the file, the message
    "a NaN cable drop": ("site-100mw.yaml", 'drop: "2 m"', 'drop: "nan m"', ("-o", "plan"),
                         "fabric.drop: nan m is outside the domain of length"),
    "a negative goal": ("roadmap-10gw.yaml", 'it_power: "10 GW"', 'it_power: "-10 GW"', (),
                        "goal.it_power: -1e+10 W is outside the domain of power"),
    "a duplicate roadmap site": ("roadmap-10gw.yaml", "- id: shackelford", "- id: abilene", (), "abilene"),
    "an infinite arrival rate": ("line-us.yaml", "racks_per_week: 1000", "racks_per_week: .inf",
                                 ("--design", "gb200-nvl72.yaml", "--target", "10/week"),
                                 "arrival.racks_per_week: Input should be a finite number"),
    "a duplicate station": ("line-us.yaml", "- id: l11-integration", "- id: l10-tray",
                            ("--design", "gb200-nvl72.yaml", "--target", "10/week"), "'l10-tray' appears twice"),
    "a duplicate axis": ("space-gb300-small.yaml", "path: cooling.facility_supply", "path: cooling.fluid",
                         ("--no-sensitivity",), "appears twice"),
}
COMMANDS = {"site": ("site", "plan"), "roadmap": ("roadmap", "plan"), "line": ("factory", "capacity"),
            "space": ("explore",)}


@pytest.mark.parametrize("case", OTHER_REFUSED)
def test_site_roadmap_line_and_space_values_are_refused(tmp_path, case):
    name, old, new, args, message = OTHER_REFUSED[case]
    path = edited_example(tmp_path, name, old, new)
    args = [path.parent / a if a.endswith(".yaml") else tmp_path / a if a == "plan" else a for a in args]
    result = run(*COMMANDS[name.split("-")[0]], path, *args)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: .*{re.escape(message)}", " ".join(result.output.split()))


@pytest.mark.parametrize("field, value, message", [
    ("u_height", "-2", "u_height: -0.0889 m is outside the domain of length"),
    ("weight", "-5", "weight: -5 kg is outside the domain of mass"),
    ("weight", ".nan", "weight: nan kg is outside the domain of mass"),
])
def test_netbox_import_refuses_a_negative_height_or_weight(tmp_path, field, value, message):
    path = tmp_path / "x1.yml"
    values = {"u_height": "1", "weight": "3", field: value}
    path.write_text("manufacturer: Acme\nmodel: X1\nslug: acme-x1\nis_full_depth: true\n"
                    + "".join(f"{k}: {v}\n" for k, v in values.items()))
    result = run("catalog", "import-netbox", path)
    assert result.exit_code == 2
    assert f"{path}: {message}" in " ".join(result.output.split())


def test_a_duplicate_slot_or_link_id_names_its_field_and_line(tmp_path):
    text = (EXAMPLES / "hgx-h100-air.yaml").read_text()
    link = '    - {id: scale-out-optics, part: nvidia-mms4x00-ns400, count: 32, length: "20 m"}'
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace(link, link + "\n" + link))
    with pytest.raises(rackwright.InputError) as caught:
        rackwright.load_design(path)
    (problem,) = caught.value.problems
    assert problem.path == "network.links[1].id" and "'scale-out-optics' is taken by item 0" in problem.message
    assert problem.line == text.splitlines().index(link) + 2  # the second copy, one line below the first


def test_a_batch_too_large_to_hold_is_refused_before_any_work():
    from rackwright.rack.evaluation import MAX_BATCH

    huge = np.broadcast_to(1200.0, (MAX_BATCH + 1,))  # a view: no memory taken by the test itself
    with pytest.raises(rackwright.InputError, match="4,000,001 variants is more than the 4,000,000"):
        rackwright.evaluate_batch(EXAMPLES / "gb200-nvl72.yaml", {"parts.accelerator.power": huge})
