"""NetBox devicetype-library interop: export validates against the vendored schema, import round-trips."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from rackwright.catalog.netbox import (
    INTERFACE_TYPES,
    POWER_PORT_TYPES,
    from_devicetype,
    read_devicetype,
    to_devicetype,
    u_height,
    write_devicetype,
)
from rackwright.catalog.schema import Part
from rackwright.errors import InputError
from rackwright.yamlio import read_yaml, to_plain

SCHEMA_DIR = Path(__file__).parent / "data" / "netbox"


def _load(name: str) -> dict:
    # Decimal floats, as the library's own tests do, so multipleOf 0.01 / 0.5 checks are exact.
    return json.loads((SCHEMA_DIR / name).read_text(), parse_float=Decimal)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    resources = [Resource.from_contents(_load(name)) for name in
                 ("devicetype.json", "components.json", "generated_schema.json", "reusable.json")]
    registry = Registry().with_resources((r.id(), r) for r in resources)
    return Draft202012Validator(_load("devicetype.json"), registry=registry)


def _errors(validator, doc: dict) -> list[str]:
    instance = json.loads(json.dumps(doc), parse_float=Decimal)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def _switch(**specs) -> Part:
    source = {"title": "Example 800G switch datasheet", "url": "https://example.com/sw.pdf", "date": "2025-01",
              "source_quality": "primary"}
    return Part.model_validate({
        "id": "example-sw800", "kind": "scale_out_switch", "manufacturer": "Example Networks",
        "model": "SW-800X64", "category": "networking", "description": "64-port 800G OSFP switch",
        "specs": {k: v for k, v in {  # a spec given as None is left out
            "height": "2 U", "weight": "40 kg", "power": "1800 W", "typical_power": "1200 W", "psu_slots": 2,
            "ports": 64, "port_speed": "800 Gb/s", "connector": "osfp", "airflow": "front-to-rear", "depth": "0.66 m",
            **specs}.items() if v is not None},
        "price_usd": 50000, "origin": {"manufacture": "TW"}, "lead_time_weeks": 12, "afr": 0.02,
        "source": source,
        "assumptions": {f: "test part" for f in ("price_usd", "lead_time_weeks", "reliability", "origin")},
    })


def test_export_of_a_switch():
    doc = to_devicetype(_switch())
    assert doc["slug"] == "example-networks-sw-800x64"
    assert doc["part_number"] == "SW-800X64"
    assert doc["u_height"] == 2 and doc["is_full_depth"] is True
    assert doc["weight"] == 40 and doc["weight_unit"] == "kg"
    assert doc["airflow"] == "front-to-rear"
    assert [p["maximum_draw"] for p in doc["power-ports"]] == [1800, 1800]
    assert {p["type"] for p in doc["power-ports"]} == {"iec-60320-c20"}
    assert doc["power-ports"][0]["allocated_draw"] == 1200
    assert len(doc["interfaces"]) == 64
    assert {i["type"] for i in doc["interfaces"]} == {"800gbase-x-osfp"}
    assert doc["interfaces"][0]["name"] == "swp1" and doc["interfaces"][-1]["name"] == "swp64"
    assert "rackwright id: example-sw800" in doc["comments"]


def test_export_validates_against_the_library_schema(validator):
    assert _errors(validator, to_devicetype(_switch())) == []
    # a port NetBox has no type for still validates, as "other"
    odd = to_devicetype(_switch(port_speed="1.6 Tb/s", connector="qsfp112"))
    assert {i["type"] for i in odd["interfaces"]} == {"other"}
    assert _errors(validator, odd) == []


def test_1600g_osfp_ports_take_netboxs_own_type(validator):
    """NetBox 4.7's InterfaceTypeChoices.TYPE_1TE_OSFP1600 (issue 21: 1.6T ports came out as 'other')."""
    doc = to_devicetype(_switch(port_speed="1.6 Tb/s"))
    assert {i["type"] for i in doc["interfaces"]} == {"1.6tbase-x-osfp1600"}
    assert _errors(validator, doc) == []
    back, _ = from_devicetype(doc)
    assert back["specs"]["port_speed"] == "1600 Gb/s" and back["specs"]["connector"] == "osfp"


def test_breakout_type_has_one_interface_per_lane(validator):
    """A 64 x 800G switch the plan runs as 128 x 400G: a type of its own whose interfaces are the lanes, named as
    the plan's cable CSV names them (swp1s0, swp1s1 ... swp64s1) and typed for 400G OSFP."""
    doc = to_devicetype(_switch(), lanes=2)
    names = [i["name"] for i in doc["interfaces"]]
    assert len(names) == 128 == len(set(names))
    assert names[:3] == ["swp1s0", "swp1s1", "swp2s0"] and names[-1] == "swp64s1"
    assert {i["type"] for i in doc["interfaces"]} == {"400gbase-x-osfp"}
    assert doc["interfaces"][3]["description"] == "lane 1 of swp2"
    assert doc["model"] == "SW-800X64 (128 x 400G breakout)"
    assert doc["slug"] == "example-networks-sw-800x64-128-x-400g-breakout" != to_devicetype(_switch())["slug"]
    assert "rackwright breakout: 2 lanes per port" in doc["comments"]
    assert _errors(validator, doc) == []
    back, _ = from_devicetype(doc)
    assert back["kind"] == "scale_out_switch"
    assert back["specs"]["ports"] == 128 and back["specs"]["port_speed"] == "400 Gb/s"
    # one lane is the plain type
    assert to_devicetype(_switch(), lanes=1) == to_devicetype(_switch())


def test_validator_rejects_a_bad_document(validator):
    doc = to_devicetype(_switch())
    doc["u_height"] = 1.3
    doc["interfaces"][0]["type"] = "800g-bogus"
    assert len(_errors(validator, doc)) == 2


def test_mapping_tables_use_schema_values():
    definitions = _load("generated_schema.json")["definitions"]
    assert set(INTERFACE_TYPES.values()) <= set(definitions["interface"]["properties"]["type"]["enum"])
    power_types = set(definitions["power-port"]["properties"]["type"]["enum"])
    assert set(POWER_PORT_TYPES.values()) <= power_types


@pytest.mark.parametrize(("height", "units"), [(None, 0), (0.04445, 1), (0.0889, 2), (0.048, 1.5), (0.096, 2.5)])
def test_u_height_rounds_up_to_half_units(height, units):
    assert u_height(height) == units


def test_write_and_round_trip(tmp_path, validator):
    part = _switch()
    path = write_devicetype(part, tmp_path)
    assert path == tmp_path / "Example Networks" / "sw-800x64.yaml"
    assert path.read_text().startswith("---\n")
    assert _errors(validator, to_plain(read_yaml(path))) == []

    back, missing = read_devicetype(path)
    assert back["manufacturer"] == part.manufacturer and back["model"] == part.model
    assert back["id"] == "example-networks-sw-800x64"
    assert back["kind"] == "scale_out_switch"
    imported = Part.model_validate({**back, "category": "networking", "price_usd": 1, "origin": {"manufacture": "TW"},
                                    "lead_time_weeks": 1, "afr": 0.01, "source": part.source.model_dump(),
                                    "assumptions": {f: "x" for f in ("price_usd", "lead_time_weeks",
                                                                     "reliability", "origin")}})
    for name in ("height", "weight", "power", "typical_power", "ports", "port_speed"):
        assert imported.value(name) == pytest.approx(part.value(name)), name
    assert imported.text("connector") == "osfp" and imported.text("airflow") == "front-to-rear"
    assert {"price_usd", "origin", "lead_time_weeks", "afr or mtbf_h", "source", "category"} <= set(missing)


def test_round_trip_of_a_port_without_netbox_type():
    back, _ = from_devicetype(to_devicetype(_switch(port_speed="3.2 Tb/s")))
    assert back["specs"]["port_speed"] == "3200 Gb/s" and back["specs"]["connector"] == "osfp"


def test_import_of_a_library_style_file(tmp_path):
    path = tmp_path / "SN4700.yml"
    path.write_text("---\nmanufacturer: Mellanox\nmodel: SN4700\nslug: mellanox-sn4700\nu_height: 1\n"
                    "is_full_depth: true\nweight: 24.4\nweight_unit: lb\n"
                    "power-ports:\n  - name: psu0\n    type: iec-60320-c14\n    maximum_draw: 600\n"
                    "interfaces:\n  - name: eth0\n    type: 1000base-t\n    mgmt_only: true\n"
                    + "".join(f"  - name: swp{i}\n    type: 400gbase-x-qsfpdd\n" for i in range(1, 33)))
    part, missing = read_devicetype(path)
    assert part["specs"] == {"height": "1 U", "weight": "11.068 kg", "power": "600 W", "ports": 32,
                             "port_speed": "400 Gb/s", "connector": "qsfp-dd"}
    assert part["kind"] == "scale_out_switch"
    assert "category" in missing and "height" not in missing


def test_import_flags_missing_figures():
    part, missing = from_devicetype({"manufacturer": "Acme", "model": "Box 1", "slug": "acme-box-1",
                                     "u_height": 2, "is_full_depth": True})
    assert part["kind"] == "server" and part["specs"] == {"height": "2 U"}
    assert {"weight", "power", "liquid_fraction", "price_usd", "origin"} <= set(missing)
    assert "height" not in missing


@pytest.mark.parametrize("text", ["---\nfamily: gpus\nparts: []\n", "---\n- just\n- a list\n",
                                  "---\nmanufacturer: Acme\n"])
def test_a_file_that_is_not_a_devicetype_raises(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_devicetype(path)
    assert str(path) in str(caught.value) and "not a NetBox device type" in str(caught.value)


def test_a_bad_number_raises(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("---\nmanufacturer: Acme\nmodel: X1\nu_height: tall\n")
    with pytest.raises(InputError, match="u_height"):
        read_devicetype(path)


def test_every_builtin_part_with_a_height_validates(validator):
    from rackwright.catalog.loader import load_catalog

    try:
        catalog = load_catalog()
    except InputError as exc:
        pytest.skip(f"built-in catalog does not load yet: {exc}")
    parts = [p for p in catalog if p.value("height") is not None]
    if not parts:
        pytest.skip("built-in catalog has no part with a height yet")
    failures = {p.id: _errors(validator, to_devicetype(p)) for p in parts}
    assert {k: v for k, v in failures.items() if v} == {}


def _netbox_export(doc: dict) -> dict:
    """``doc`` as NetBox's own ``DeviceType.to_yaml()`` writes it: every field present, unset ones null."""
    out = {"manufacturer": doc["manufacturer"], "model": doc["model"], "slug": doc["slug"],
           "description": doc.get("description", ""), "default_platform": None,
           "part_number": doc.get("part_number", ""), "u_height": float(doc.get("u_height", 1)),
           "is_full_depth": doc.get("is_full_depth", True), "subdevice_role": None,
           "airflow": doc.get("airflow"), "cooling_method": None, "weight": doc.get("weight"),
           "weight_unit": doc.get("weight_unit"), "end_of_life": None, "comments": doc.get("comments", "")}
    if doc.get("power-ports"):
        out["power-ports"] = [{"name": p["name"], "type": p["type"], "maximum_draw": p.get("maximum_draw"),
                               "allocated_draw": p.get("allocated_draw"), "label": "", "description": ""}
                              for p in doc["power-ports"]]
    if doc.get("interfaces"):
        out["interfaces"] = [{"name": i["name"], "type": i["type"], "enabled": True, "mgmt_only": False,
                              "label": "", "description": i.get("description", ""), "bridge": None,
                              "poe_mode": None, "poe_type": None, "rf_role": None} for i in doc["interfaces"]]
    return out


def test_netbox_own_export_with_nulls_imports(tmp_path):
    """NetBox's export writes allocated_draw: null (and other unset fields) - import-netbox takes it (issue 21)."""
    part = _switch(typical_power=None)
    doc = _netbox_export(to_devicetype(part))
    assert doc["power-ports"][0]["allocated_draw"] is None
    doc["weight"], doc["weight_unit"], doc["airflow"] = None, None, None
    back, missing = from_devicetype(doc)
    assert back["specs"]["power"] == "1800 W" and "typical_power" not in back["specs"]
    assert "weight" not in back["specs"] and "weight" in missing
    assert back["specs"]["ports"] == 64 and back["specs"]["port_speed"] == "800 Gb/s"


def test_netbox_export_of_a_port_without_type_description_null():
    doc = _netbox_export(to_devicetype(_switch(port_speed="3.2 Tb/s")))
    for interface in doc["interfaces"]:
        interface["description"] = None
    back, _ = from_devicetype(doc)
    assert back["specs"]["ports"] == 64 and "port_speed" not in back["specs"]


def test_cli_imports_netbox_export_with_nulls(tmp_path):
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    path = tmp_path / "sw.yaml"
    path.write_text(json.dumps(_netbox_export(to_devicetype(_switch(typical_power=None)))))  # JSON is YAML
    result = CliRunner().invoke(app, ["catalog", "import-netbox", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["part"]["specs"]["power"] == "1800 W"


@pytest.mark.parametrize("kind", ["scale_out_switch", "compute_tray", "power_shelf", "transceiver", "cdu"])
def test_kind_comes_back_from_the_comments(kind):
    part = _switch()
    part = part.model_copy(update={"kind": kind})
    doc = to_devicetype(part)
    assert f"rackwright kind: {kind}" in doc["comments"]
    back, _ = from_devicetype(_netbox_export(doc))
    assert back["kind"] == kind


def test_kind_from_an_older_export_naming_only_the_id():
    from rackwright.catalog.netbox import kind_from_comments

    assert kind_from_comments("rackwright id: nvidia-gb200-compute-tray\nSource: x") == "compute_tray"
    assert kind_from_comments("rackwright id: no-such-part") is None
    assert kind_from_comments(None) is None
    assert kind_from_comments("rackwright kind: not_a_kind") is None


def _catalog_of(*parts: Part):
    from rackwright.catalog.loader import Catalog

    return Catalog(parts)


def _held(part_id: str, kind: str, **specs) -> Part:
    base = _switch().model_dump(mode="json")
    base.update(id=part_id, kind=kind, model=part_id.upper(), specs=specs, category="compute")
    return Part.model_validate(base)


def test_a_tray_exports_the_nics_it_holds_and_the_draw_of_the_whole():
    """Issue 21: compute trays exported no interfaces (nic1... missing) and only their board's power."""
    gpu = _held("gpu-x", "accelerator", power="1200 W")
    nic = _held("nic-x", "nic", ports=1, port_speed="400 Gb/s", connector="osfp", power="25 W")
    dpu = _held("dpu-x", "dpu", ports=2, port_speed="400 Gb/s", connector="qsfp112", power="150 W")
    tray = _held("tray-x", "compute_tray", height="1 U", power="550 W")
    tray = Part.model_validate({**tray.model_dump(mode="json"), "contains": [
        {"part": "gpu-x", "count": 4}, {"part": "nic-x", "count": 4}, {"part": "dpu-x", "count": 1}]})
    doc = to_devicetype(tray, _catalog_of(gpu, nic, dpu, tray))
    names = [i["name"] for i in doc["interfaces"]]
    assert names == ["nic1", "nic2", "nic3", "nic4", "dpu1", "dpu2"]
    assert {i["type"] for i in doc["interfaces"][:4]} == {"400gbase-x-osfp"}
    assert doc["power-ports"][0]["maximum_draw"] == 550 + 4 * 1200 + 4 * 25 + 150
    assert "allocated_draw" not in doc["power-ports"][0]  # not every part has a typical figure
    back, _ = from_devicetype(_netbox_export(doc))
    assert back["kind"] == "compute_tray" and "ports" not in back["specs"]  # held NICs are not the tray's ports


def test_a_tray_holding_an_unknown_part_is_a_clear_error():
    tray = _held("tray-x", "compute_tray", height="1 U", power="550 W")
    tray = Part.model_validate({**tray.model_dump(mode="json"), "contains": [{"part": "no-such-nic", "count": 4}]})
    with pytest.raises(InputError, match="no-such-nic"):
        to_devicetype(tray, _catalog_of(tray))


def test_the_builtin_gb200_tray_draws_what_it_holds():
    from rackwright.catalog.loader import load_catalog

    catalog = load_catalog()
    whole = sum((p.value("power") or 0) * n for p, n, _ in catalog.explode("nvidia-gb200-compute-tray"))
    doc = to_devicetype(catalog.get("nvidia-gb200-compute-tray"))
    assert whole > 5000 and doc["power-ports"][0]["maximum_draw"] == round(whole)
    assert [i["name"] for i in doc["interfaces"] if i["name"].startswith("nic")] == ["nic1", "nic2", "nic3", "nic4"]


# -- the site's cable plan as NetBox objects (rackwright.site.netbox) -------------------------------------------------
def _cables():
    import polars as pl

    rows = [  # tier 1: tray 1 of compute rack (1, 1, 2) to leaf 3 of network rack (1, 9, 1); tier 2: leaf to spine
        (1, 1, 1, 1, 1, 2, 1, 2, 1, 9, 1, 3, 5, 31.91, "optical"),
        (2, 1, 1, 1, 1, 2, 1, 3, 1, 9, 1, 3, 6, 32.6, "optical"),
        (3, 1, 2, 1, 9, 1, 3, 65, 1, 9, 2, 1, 1, 5.0, "aec"),
    ]
    names = ["id", "plane", "tier", "a_hall", "a_row", "a_rack", "a_slot", "a_port", "b_hall", "b_row", "b_rack",
             "b_slot", "b_port", "length_m", "media"]
    frame = pl.DataFrame(rows, schema=names, orient="row")
    return frame.with_columns(pl.col("length_m").cast(pl.Float32))


def test_cable_csv_names_the_site_and_keeps_two_decimals():
    """Issue 21: NetBox looks the site up by name; a Float32 length printed 32.599998 (NetBox takes 2 decimals)."""
    from rackwright.site.netbox import netbox_cables

    frame = netbox_cables(_cables(), "Example 100 MW GB200 site")
    assert set(frame["side_a_site"]) == {"Example 100 MW GB200 site"} == set(frame["side_b_site"])
    text = frame.write_csv()
    assert ",32.6,m" in text and "32.599" not in text
    assert frame.row(0, named=True)["side_a_device"] == "h01-r001-k02-t01"
    assert frame.row(0, named=True)["side_a_name"] == "nic2"
    assert frame.row(2, named=True)["side_a_device"] == "h01-r009-n01-s03"


def test_breakout_lanes_name_the_plans_ports_on_physical_ports():
    """Issue 21: the plan runs a 64 x 800G switch as 128 x 400G; swp65..swp128 do not exist on the type."""
    import polars as pl

    from rackwright.site.netbox import netbox_cables, switch_port

    names = pl.select(switch_port(pl.Series([1, 2, 3, 64, 65, 128]), 2)).to_series().to_list()
    assert names == ["swp1s0", "swp1s1", "swp2s0", "swp32s1", "swp33s0", "swp64s1"]
    assert pl.select(switch_port(pl.Series([7]), 1)).item() == "swp7"
    csv = netbox_cables(_cables(), "S", lanes=2)
    assert csv["side_b_name"].to_list() == ["swp3s0", "swp3s1", "swp1s0"]
    assert csv["side_a_name"].to_list() == ["nic2", "nic3", "swp33s0"]


# -- site export-netbox: a small site (4 GB200 NVL72 racks, 2-tier fabric) -------------------------------------------
SMALL_SITE = ["--set", "target.it_power=0.5 MW", "--set", "fabric.tiers=2", "--set", "name=Small NetBox site"]


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    folder = tmp_path_factory.mktemp("small-site")
    site = str(Path(__file__).parent.parent / "examples" / "site-100mw.yaml")
    result = CliRunner().invoke(app, ["site", "plan", site, "-o", str(folder), "--no-report", *SMALL_SITE])
    assert result.exit_code == 0, result.output
    return folder


def test_site_export_holds_every_rack_device_and_cable(small_plan):
    """4 compute racks of the GB200 NVL72 design (examples/gb200-nvl72.yaml: 4+4 power shelves, 8+10 compute trays,
    9 NVLink switch trays, 2 SN2201 at units; the copper spine is 0U) = 37 devices each; 8 leaves and 4 spines
    (summary.json) in network racks; every cable of the plan."""
    import polars as pl

    from rackwright.site.netbox import FILES, site_export

    export = site_export(small_plan)
    summary = json.loads((small_plan / "summary.json").read_text())
    assert export.site == "Small NetBox site" and export.lanes == 2
    assert summary["generations"] == [{"generation": "GB200 NVL72", "racks": 4}]
    assert summary["switches"] == {"leaf": 8, "spine": 4}
    rows = export.rows
    assert list(rows) == list(FILES)
    devices = {d["name"]: d for d in rows["09-devices.csv"]}
    assert len(devices) == 4 * 37 + 12
    roles = [d["role"] for d in devices.values()]
    assert roles.count("Compute tray") == 4 * 18
    assert roles.count("Leaf switch") == 8 and roles.count("Spine switch") == 4
    assert len(rows["13-cables.csv"]) == pl.read_parquet(small_plan / "cables.parquet").height
    compute = [r for r in rows["08-racks.csv"] if "-k" in r["name"]]
    assert len(compute) == 4 and {r["u_height"] for r in compute} == {48} and {r["width"] for r in compute} == {19}
    # the design's units: compute-lower 8 trays from U16, compute-upper 10 from U33, SN2201s at U47 and U48
    first = compute[0]["name"]
    assert [devices[f"{first}-t{n:02d}"]["position"] for n in (1, 8, 9, 18)] == [16, 23, 33, 42]
    assert devices[f"{first}-mgmt-2"]["position"] == 48 and devices[f"{first}-t01"]["face"] == "front"
    # switches stacked from U1, 2 U each: switch 3 of a network rack at U5
    switch = next(d for d in devices.values() if d["name"].endswith("-s03"))
    assert switch["position"] == 5 and switch["device_type"] == "Spectrum-4 SN5600 (Spectrum-X) (128 x 400G breakout)"
    # no two devices of a rack share a unit
    units = [(d["rack"], d["position"] + k) for d in devices.values() for k in range(2 if "-n" in d["rack"] else 1)]
    assert len(units) == len(set(units))


def test_site_export_cable_ends_exist_on_the_exported_types(small_plan):
    """Every cable end names a device of the export and an interface its exported device type has."""
    from rackwright.site.netbox import site_export

    export = site_export(small_plan)
    interfaces = {(t["manufacturer"], t["model"]): {i["name"] for i in t.get("interfaces", [])}
                  for t in export.device_types}
    devices = {d["name"]: interfaces[(d["manufacturer"], d["device_type"])] for d in export.rows["09-devices.csv"]}
    missing = [(row["label"], side) for row in export.rows["13-cables.csv"] for side in "ab"
               if row[f"side_{side}_name"] not in devices.get(row[f"side_{side}_device"], set())]
    assert missing == []
    types = [*export.device_types, *export.module_types, *export.rack_types]
    assert {r["name"] for r in export.rows["01-manufacturers.csv"]} == {t["manufacturer"] for t in types}


def test_site_export_installs_modules_in_the_trays_bays(small_plan):
    """Each GB200 compute tray (examples/gb200-nvl72.yaml; the tray holds 4 B200, 2 Grace, 4 ConnectX-7 and 2
    BlueField-3, catalog) gets 12 modules, one per module bay of its exported type, each naming a module type of
    the export: 4 racks x 18 trays x 12 = 864 rows; no other device holds modules. The modules add no interfaces
    (``replicate_components`` false): the tray's type has the NIC ports the cables land on already."""
    from rackwright.site.netbox import site_export

    export = site_export(small_plan)
    modules = export.rows["10-modules.csv"]
    assert len(modules) == 4 * 18 * 12
    assert {m["device"].rsplit("-", 1)[1][0] for m in modules} == {"t"}
    first = [(m["module_bay"], m["module_type"].split(" ")[0]) for m in modules if m["device"] == "h01-r001-k01-t01"]
    assert first == [("GPU1", "B200"), ("GPU2", "B200"), ("GPU3", "B200"), ("GPU4", "B200"), ("CPU1", "Grace"),
                     ("CPU2", "Grace"), ("NIC1", "ConnectX-7"), ("NIC2", "ConnectX-7"), ("NIC3", "ConnectX-7"),
                     ("NIC4", "ConnectX-7"), ("DPU1", "BlueField-3"), ("DPU2", "BlueField-3")]
    bays = {(t["manufacturer"], t["model"]): {b["name"] for b in t.get("module-bays", [])} for t in export.device_types}
    devices = {d["name"]: bays[(d["manufacturer"], d["device_type"])] for d in export.rows["09-devices.csv"]}
    assert all(m["module_bay"] in devices[m["device"]] for m in modules)
    assert {m["module_type"] for m in modules} == {t["model"] for t in export.module_types}
    assert {(m["status"], m["replicate_components"]) for m in modules} == {("planned", "false")}


def test_site_export_racks_name_their_rack_type(small_plan):
    """Compute racks name the enclosure's rack type (nvidia-mgx-rack-48u: 48 U, 19 inch), exported once; network
    racks have none."""
    from rackwright.site.netbox import site_export

    export = site_export(small_plan)
    racks = export.rows["08-racks.csv"]
    assert [t["model"] for t in export.rack_types] == ["MGX / Oberon-class 48U rack for GB200 / GB300 NVL72"]
    assert (export.rack_types[0]["u_height"], export.rack_types[0]["width"]) == (48, 19)
    assert {r["rack_type"] for r in racks if "-k" in r["name"]} == {export.rack_types[0]["model"]}
    assert {r["rack_type"] for r in racks if "-n" in r["name"]} == {""}


def test_site_export_power_panels_feeds_and_cables(small_plan):
    """The small site's distribution stage is 2 x 480 V busway (summary.json, 2N in one hall): 2 panels, busway 01
    the A side and 02 the B side. The GB200 NVL72 design's power is N+N (examples/gb200-nvl72.yaml: 4 + 4 shelves of
    33 kW, either four carry the rack): each compute rack has a primary feed from A and a redundant one from B; so has
    each network rack, as the SN5600's two PSUs are 1+1 (catalog: psu_slots 2, psu_redundancy 1+1). 6 x 2 = 12 feeds;
    all three-phase 480 V. Each feed is rated for the whole rack (2N: one side carries it alone): a GB200 rack's input
    power (124.6 kW, the design's evaluation) at 80 % of NetBox's available power V x A x sqrt(3):
    124,600 / (480 x 0.8 x 1.732) = 187.3 A -> the 200 A standard rating (NEC 240.6(A)). The network rack of 8
    SN5600 leaves (1,500 W each, catalog): 12,000 / 665.1 = 18.0 A -> 20 A; the 4 spines': 9.0 A -> 15 A. A compute
    rack's A feed is cabled to its first lower power shelf's input port, its B feed to its first upper shelf's
    (33 kW / 0.975 = 33,846 W, catalog); a network rack's A feed to its first switch's PSU0 (the A half of its PSUs),
    its B feed to that switch's PSU1: 12 power cables."""
    from collections import Counter

    from rackwright.site.netbox import site_export
    from rackwright.site.power import feed_amperage

    export = site_export(small_plan)
    panels, feeds = export.rows["11-power-panels.csv"], export.rows["12-power-feeds.csv"]
    assert [p["name"] for p in panels] == ["h01-busway-01", "h01-busway-02"]
    assert [p["description"][-6:] for p in panels] == ["A side", "B side"]
    racks = sorted(r["name"] for r in export.rows["08-racks.csv"])
    compute = [r for r in racks if "-k" in r]
    network = [r for r in racks if "-n" in r]
    assert len(feeds) == 12 and [f["name"] for f in feeds] == [f"{r}-feed-a" for r in racks] + [
        f"{r}-feed-b" for r in racks]
    assert [(f["type"], f["power_panel"]) for f in feeds] == [("primary", "h01-busway-01")] * 6 + [
        ("redundant", "h01-busway-02")] * 6
    assert {(f["supply"], f["phase"], f["voltage"], f["max_utilization"]) for f in feeds} == {
        ("ac", "three-phase", 480, 80)}
    assert {f["amperage"] for f in feeds if "-k" in f["rack"]} == {200}
    assert float(feeds[0]["description"].split()[0]) == pytest.approx(124.6, abs=1.0)
    switches = Counter(d["rack"] for d in export.rows["09-devices.csv"] if "-n" in d["rack"])
    assert sorted((switches[f["rack"]], f["amperage"]) for f in feeds if "-n" in f["rack"]) == [
        (4, 15), (4, 15), (8, 20), (8, 20)]
    cables = export.rows["14-power-cables.csv"]
    ends = [(c["side_a_power_panel"], c["side_a_name"], c["side_b_device"], c["side_b_name"], c["type"])
            for c in cables]
    assert ends == [("h01-busway-01", f"{r}-feed-a", f"{r}-power-lower-1", "input", "power") for r in compute] + [
        ("h01-busway-01", f"{r}-feed-a", f"{r}-s01", "PSU0", "power") for r in network] + [
        ("h01-busway-02", f"{r}-feed-b", f"{r}-power-upper-1", "input", "power") for r in compute] + [
        ("h01-busway-02", f"{r}-feed-b", f"{r}-s01", "PSU1", "power") for r in network]
    shelf = next(t for t in export.device_types if "power shelf" in t["model"])
    assert shelf["power-ports"] == [{"name": "input", "type": "iec-60309-3p-n-e-6h", "maximum_draw": 33846}]
    switch = next(t for t in export.device_types if "SN5600" in t["model"])
    assert [(p["name"], p["description"], p["maximum_draw"]) for p in switch["power-ports"]] == [
        ("PSU0", "A feed", 1500), ("PSU1", "B feed", 1500)]
    # the rating: next standard size up; DC single conductor pair; above the table, whole amperes
    assert feed_amperage(124_600, 480, True) == 200 and feed_amperage(100_000, 800, False) == 175  # 156.25 A
    assert feed_amperage(10e6, 480, True) == 15036  # 15,035.2 A


def test_summary_power_chain_sides_of_the_small_site(small_plan):
    """summary.json's ``power_chain.distribution.halls`` by hand: one hall of 4 GB200 racks (N+N) and 2 network racks
    of 1+1 SN5600s, all fed A and B: 2N. The 2 busway units (4000 A, 3.0 MW each, catalog) split 1 A + 1 B. Each
    side has 6 feeds (200 A x 4, 20 A, 15 A, as the export's) and carries the whole load alone:
    4 x 124.6 kW + 12 x 1.5 kW = 516.4 kW; in normal operation half of it. 0.516 MW < 3.0 MW: each side carries it.
    The counts agree with the export's feeds."""
    from rackwright.site.netbox import site_export

    halls = json.loads((small_plan / "summary.json").read_text())["power_chain"]["distribution"]["halls"]
    assert len(halls) == 1
    hall = halls[0]
    assert {k: hall[k] for k in ("hall", "topology", "panel_redundancy", "racks", "single_fed_racks", "supply",
                                 "voltage_v")} == {"hall": 1, "topology": "2N", "panel_redundancy": "2N", "racks": 6,
                                                   "single_fed_racks": 0, "supply": "ac three-phase",
                                                   "voltage_v": 480}
    load = 4 * 124.6e3 + 12 * 1500
    for side, name in zip(hall["sides"], "AB", strict=True):
        assert (side["side"], side["panels"], side["capacity_mw"], side["feeds"]) == (name, 1, 3.0, 6)
        assert side["ratings"] == [{"amperes": 15, "feeds": 1}, {"amperes": 20, "feeds": 1},
                                   {"amperes": 200, "feeds": 4}]
        assert side["load_alone_mw"] == pytest.approx(load / 1e6, abs=0.004)
        assert side["normal_load_mw"] == pytest.approx(load / 2e6, abs=0.002) and side["carries_alone"]
    feeds = site_export(small_plan).rows["12-power-feeds.csv"]
    assert [sum(f["type"] == t for f in feeds) for t in ("primary", "redundant")] == [s["feeds"] for s in hall["sides"]]


def test_hall_feeds_by_hand():
    """Pure sides of a hall at 415 V three-phase from 1 MW panels: a 100 kW N+N rack and a 50 kW single-fed rack over
    3 panels: mixed, A has 2 panels (the odd one) and both racks (100,000 / (415 x 0.8 x 1.732) = 173.9 A -> 175 A;
    50 kW: 86.9 A -> 90 A), carries 150 kW alone and 100 kW in normal operation; B has 1 panel, the N+N rack
    (175 A), 100 kW alone and 50 kW normally. Single-fed racks only: topology N, side A only. PSU redundancy k+k
    gives two feeds, N+1 (or none) one."""
    from rackwright.site.power import FeedSupply, hall_feeds, psu_feeds, side_panels

    supply = FeedSupply(415, False, 1e6)
    hall = hall_feeds([(100e3, 2), (50e3, 1)], 3, supply, "N+1")
    assert (hall["topology"], hall["panel_redundancy"], hall["single_fed_racks"]) == ("mixed", "N+1", 1)
    a, b = hall["sides"]
    assert (a["panels"], a["feeds"], a["ratings"], a["load_alone_mw"], a["normal_load_mw"]) == (
        2, 2, [{"amperes": 90, "feeds": 1}, {"amperes": 175, "feeds": 1}], 0.15, 0.1)
    assert (b["panels"], b["feeds"], b["ratings"], b["load_alone_mw"], b["normal_load_mw"], b["capacity_mw"]) == (
        1, 1, [{"amperes": 175, "feeds": 1}], 0.1, 0.05, 1.0)
    single = hall_feeds([(50e3, 1)], 2, supply, "N+1")
    assert single["topology"] == "N" and [s["side"] for s in single["sides"]] == ["A"]
    assert single["sides"][0]["panels"] == 2
    assert [psu_feeds(r) for r in ("1+1", "2+2", "3+3", "N+1", "3+1", None)] == [2, 2, 2, 1, 1, 1]
    assert side_panels([1], True) == ([1], [1]) and side_panels([1, 2, 3], True) == ([1, 2], [3])
    assert side_panels([1, 2], False) == ([1, 2],)


def test_feed_ends_split_the_shelves_between_the_sides():
    """With two feeds the first half of the shelves is A's and the second B's (an odd count gives A the extra one);
    a rack with one shelf leaves its B feed unconnected; one feed ends on the first shelf."""
    from rackwright.site.netbox import Fed

    shelves = tuple((f"s{k}", "input") for k in range(1, 6))
    assert [Fed(1.0, 2, shelves).end(s) for s in (0, 1)] == [("s1", "input"), ("s4", "input")]
    assert [Fed(1.0, 2, shelves[:1]).end(s) for s in (0, 1)] == [("s1", "input"), None]
    assert Fed(1.0, 1, shelves).end(0) == ("s1", "input") and Fed(1.0).end(0) is None


def test_site_export_netbox_cli_writes_the_files_in_order(small_plan, tmp_path):
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.site.netbox import FILES

    result = CliRunner().invoke(app, ["site", "export-netbox", str(small_plan), "-o", str(tmp_path / "nb")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == list(FILES)
    head = (tmp_path / "nb" / "13-cables.csv").read_text().splitlines()[0]
    assert head.startswith("side_a_site,side_a_device,side_a_type,side_a_name,")
    assert (tmp_path / "nb" / "02-device-types.yaml").read_text().count("\n---\n") == 4  # 5 types
    bad = CliRunner().invoke(app, ["site", "export-netbox", str(small_plan), "-o", str(tmp_path / "x"), "--hall", "3"])
    assert bad.exit_code == 2 and "no hall 3" in bad.output
    (small_plan / "generations.json").rename(small_plan / "generations.moved")
    try:
        old = CliRunner().invoke(app, ["site", "export-netbox", str(small_plan), "-o", str(tmp_path / "y")])
    finally:
        (small_plan / "generations.moved").rename(small_plan / "generations.json")
    assert old.exit_code == 2 and "generations.json" in old.output


# -- netbox push / diff: the errors that need no NetBox -----------------------------------------------------------
def test_netbox_push_errors_are_clear_messages_with_exit_2(small_plan, monkeypatch):
    """Unreachable URL, no token, a URL without scheme: one message naming the option, exit 2, no traceback."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.server.throwaway_pg import free_port

    monkeypatch.delenv("RACKWRIGHT_NETBOX_TOKEN", raising=False)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    cases = {
        ("push", "--url", url, "--token", "0123456789abcdef"): "cannot reach NetBox at " + url,
        ("diff", "--url", url, "--token", "0123456789abcdef"): "cannot reach NetBox at " + url,
        ("push", "--url", url): "no NetBox API token",
        ("push", "--url", "127.0.0.1:8000", "--token", "x"): "is not an http(s) URL",
    }
    for (command, *options), message in cases.items():
        result = CliRunner().invoke(app, ["netbox", command, str(small_plan), *options])
        assert result.exit_code == 2, (command, options, result.output)
        assert message in result.output and "Traceback" not in result.output
    monkeypatch.setenv("RACKWRIGHT_NETBOX_TOKEN", "0123456789abcdef")  # the token from the environment
    result = CliRunner().invoke(app, ["netbox", "push", str(small_plan), "--url", url])
    assert result.exit_code == 2 and "cannot reach NetBox" in result.output


def test_each_rack_takes_the_design_of_the_generation_the_planner_recorded(tmp_path):
    """A site of two generations (GB200 and GB300 NVL72, half the power each): the planner records each rack's
    generation in the cable plan (``a_generation``), and the export gives each compute rack that generation's
    design: as many racks of each design as generations.json counts. A plan without the column is refused."""
    import polars as pl
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.site.netbox import site_export

    mix = "[{design: gb200-nvl72.yaml, share: 0.5}, {design: gb300-nvl72.yaml, share: 0.5}]"
    site = str(Path(__file__).parent.parent / "examples" / "site-100mw.yaml")
    plan = tmp_path / "plan"
    result = CliRunner().invoke(app, ["site", "plan", site, "-o", str(plan), "--no-report", *SMALL_SITE,
                                      "--set", "target.it_power=1 MW", "--set", f"target.generations={mix}"])
    assert result.exit_code == 0, result.output
    generations = json.loads((plan / "generations.json").read_text())
    assert [(g["name"], g["racks"]) for g in generations] == [("GB200 NVL72", 4), ("GB300 NVL72", 4)]
    racks = [r for r in site_export(plan).rows["08-racks.csv"] if "-k" in r["name"]]
    assert sorted(r["description"] for r in racks) == ["GB200 NVL72"] * 4 + ["GB300 NVL72"] * 4
    cables = pl.read_parquet(plan / "cables.parquet")
    assert cables.filter(pl.col("tier") > 1)["a_generation"].null_count() == cables.filter(pl.col("tier") > 1).height
    cables.drop("a_generation").write_parquet(plan / "cables.parquet")
    old = CliRunner().invoke(app, ["site", "export-netbox", str(plan), "-o", str(tmp_path / "nb")])
    assert old.exit_code == 2 and "plan the site again" in old.output


def test_push_posts_batches_side_by_side_and_names_the_refused_objects():
    """NetBox.create_batches: batches of the client's size, at most ``parallel`` in flight (as cables go); a batch
    NetBox refuses is sent again one object at a time, so only the bad object is refused; the created objects come
    back in order."""
    import threading
    import time

    import httpx

    from rackwright.site.netbox_api import NetBox, Tally

    lock, state = threading.Lock(), {"now": 0, "most": 0, "sizes": []}

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        objects = body if isinstance(body, list) else [body]
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            state["sizes"].append(len(objects))
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        if any(o["name"] == "bad" for o in objects):
            return httpx.Response(400, json={"name": ["refused"]})
        made = [{"id": i, **o} for i, o in enumerate(objects)]
        return httpx.Response(201, json=made if isinstance(body, list) else made[0])

    names = [f"o{i}" for i in range(10)] + ["bad"] + [f"o{i}" for i in range(10, 20)]
    with NetBox("http://netbox.test", "0123456789abcdef", batch=4, parallel=3) as nb:
        nb.http = httpx.Client(base_url="http://netbox.test/api", transport=httpx.MockTransport(answer))
        tally, ticks = Tally(), []
        made = nb.create_batches("/dcim/cables/", [({"name": n}, n) for n in names], tally, ticks.append,
                                 parallel=nb.parallel)
    assert [o["name"] for o in made] == [n for n in names if n != "bad"]
    assert tally.created == 20 and tally.refused == ["bad: name: refused"]
    assert sum(ticks) == 21 and state["most"] <= 3
    # 21 objects: five batches of 4 and one of 1; the refused batch again as 4 single POSTs
    assert sorted(state["sizes"]) == [1] * 5 + [4] * 5


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"a_terminations": ["already cabled"]}, "a_terminations: already cabled"),
        ({"detail": "Invalid token."}, "Invalid token."),
        ({"non_field_errors": ["The fields site, name must make a unique set."]},
         "The fields site, name must make a unique set."),
        # a batch: one body per object, the good ones empty; a field with two errors; a nested termination
        ([{}, {"name": ["too long", "not unique"], "rack": {"position": ["U 45 is taken"]}}, {}],
         "name: too long; not unique; rack: position: U 45 is taken"),
    ],
)
def test_netboxs_error_body_reads_as_words(body, text):
    """A refusal shows NetBox's reason as words, never a Python dict or list."""
    from rackwright.site.netbox_api import error_text

    assert error_text(body) == text


# -- module types and rack types ---------------------------------------------------------------------------------------
def _library_validator(name: str) -> Draft202012Validator:
    resources = [Resource.from_contents(_load(n)) for n in
                 (name, "components.json", "generated_schema.json", "reusable.json")]
    registry = Registry().with_resources((r.id(), r) for r in resources)
    return Draft202012Validator(_load(name), registry=registry)


def test_parts_inside_a_device_export_as_module_types_that_validate():
    """Every built-in accelerator, CPU, NIC, DPU and transceiver is a module type the library's schema accepts; a NIC's
    ports are interfaces named after the bay (``{module}-p1``); no power port (the host carries the draw)."""
    from rackwright.catalog.loader import load_catalog
    from rackwright.catalog.netbox import MODULE_KINDS, to_moduletype

    validator = _library_validator("moduletype.json")
    parts = [p for p in load_catalog().parts.values() if p.kind in MODULE_KINDS]
    assert {p.kind for p in parts} == set(MODULE_KINDS)
    for part in parts:
        doc = to_moduletype(part)
        assert _errors(validator, doc) == [], part.id
        assert "power-ports" not in doc and f"rackwright kind: {part.kind}" in doc["comments"]
    nic = to_moduletype(load_catalog().get("nvidia-connectx-7-400g"))
    assert [i["name"] for i in nic["interfaces"]] == ["{module}-p1"] and nic["interfaces"][0]["type"] != "other"


def test_a_tray_has_a_module_bay_per_gpu_cpu_nic_and_dpu(validator):
    """The GB200 compute tray holds 4 B200, 2 Grace, 4 ConnectX-7 and 2 BlueField-3 (catalog ``contains``)."""
    from rackwright.catalog.loader import load_catalog

    catalog = load_catalog()
    doc = to_devicetype(catalog.get("nvidia-gb200-compute-tray"), catalog)
    assert _errors(validator, doc) == []
    assert [b["name"] for b in doc["module-bays"]] == ["GPU1", "GPU2", "GPU3", "GPU4", "CPU1", "CPU2", "NIC1", "NIC2",
                                                       "NIC3", "NIC4", "DPU1", "DPU2"]
    # the position (what NetBox puts for {module} in a module's port names) is the bay's name: with "1" for both NIC1
    # and DPU1 their ports would both be "1-p1" on one device, which NetBox refuses
    assert [b["position"] for b in doc["module-bays"]] == [b["name"] for b in doc["module-bays"]]


def test_enclosures_export_as_rack_types():
    """The MGX 48U rack: 2.1336 m usable / 44.45 mm = 48 U, 19 inch, 2236 mm tall outside; an Open Rack is 21 inch.
    Every built-in enclosure validates against the library's rack-type schema."""
    from rackwright.catalog.loader import load_catalog
    from rackwright.catalog.netbox import to_racktype

    catalog = load_catalog()
    validator = _library_validator("racktype.json")
    for part in (p for p in catalog.parts.values() if p.kind == "enclosure"):
        assert _errors(validator, to_racktype(part)) == [], part.id
    mgx = to_racktype(catalog.get("nvidia-mgx-rack-48u"))
    assert (mgx["u_height"], mgx["width"], mgx["outer_height"], mgx["outer_unit"]) == (48, 19, 2236, "mm")
    assert to_racktype(catalog.get("orv3-hpr-rack"))["width"] == 21


def test_catalog_export_netbox_writes_module_and_rack_types_where_the_library_keeps_them(tmp_path):
    from typer.testing import CliRunner

    from rackwright.cli.app import app

    for part in ("nvidia-connectx-7-400g", "nvidia-mgx-rack-48u", "nvidia-gb200-compute-tray"):
        result = CliRunner().invoke(app, ["catalog", "export-netbox", part, "-o", str(tmp_path)])
        assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yaml"))
    assert [w.split("/")[0] for w in written] == ["NVIDIA (built by Foxconn - Quanta - Wistron)", "module-types",
                                                  "rack-types"]


def test_one_hall_keeps_its_switches_and_an_open_rack_has_no_units(tmp_path):
    """Three halls of 0.3 MW (a GB200 NVL72 rack in each of halls 1 and 2, an Open Rack, examples/ethernet-800vdc.yaml,
    in hall 3): ``--hall 2`` holds hall 2's spine rack although no cable has both ends in hall 2; the Open Rack is
    21 inch, 47 U (its 2,112 mm usable height / 44.45 mm = 47.5, whole units) and its 34 devices (3 DC/DC shelves,
    24 compute trays, 6 switch trays, 1 SN2201) have no unit."""
    from typer.testing import CliRunner

    from rackwright.cli.app import app
    from rackwright.site.netbox import site_export

    mix = "[{design: gb200-nvl72.yaml, share: 0.5}, {design: ethernet-800vdc.yaml, share: 0.5}]"
    site = str(Path(__file__).parent.parent / "examples" / "site-100mw.yaml")
    plan = tmp_path / "plan"
    result = CliRunner().invoke(app, ["site", "plan", site, "-o", str(plan), "--no-report", *SMALL_SITE,
                                      "--set", "layout.hall_max_it_power=0.3 MW", "--set", f"target.generations={mix}"])
    assert result.exit_code == 0, result.output
    whole = site_export(plan)
    switches = [d for d in whole.rows["09-devices.csv"] if d["location"] == "Hall 2" and "-n" in d["rack"]]
    assert "Spine switch" in {d["role"] for d in switches}
    hall2 = site_export(plan, 2)
    assert hall2.rows["13-cables.csv"] == []
    assert {r["name"] for r in hall2.rows["08-racks.csv"]} == {"h02-r001-k01"} | {d["rack"] for d in switches}
    assert len(hall2.rows["09-devices.csv"]) == 37 + len(switches)
    hall3 = site_export(plan, 3)
    assert [(r["name"], r["width"], r["u_height"]) for r in hall3.rows["08-racks.csv"]] == [("h03-r001-k01", 21, 47)]
    devices = hall3.rows["09-devices.csv"]
    assert len(devices) == 3 + 24 + 6 + 1 and {(d["position"], d["face"]) for d in devices} == {("", "")}
    # the Open Rack's power is N+1 (examples/ethernet-800vdc.yaml): one primary feed, uncabled (its DC/DC shelves
    # take the rack's 800 VDC, no power shelf); hall 2's GB200 rack (N+N) has an A and a B feed, both cabled
    assert [(f["name"], f["type"]) for f in hall3.rows["12-power-feeds.csv"]] == [("h03-r001-k01-feed-a", "primary")]
    assert hall3.rows["14-power-cables.csv"] == []
    fed = [(f["name"], f["type"]) for f in hall2.rows["12-power-feeds.csv"] if f["rack"] == "h02-r001-k01"]
    assert fed == [("h02-r001-k01-feed-a", "primary"), ("h02-r001-k01-feed-b", "redundant")]
    # and each of hall 2's network racks (1+1 SN5600s) an A and a B feed, cabled to its first switch's two PSUs
    network = {d["rack"] for d in switches}
    assert len(hall2.rows["14-power-cables.csv"]) == 2 + 2 * len(network)
