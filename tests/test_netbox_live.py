"""The NetBox round trip against a real NetBox on loopback (issue 21), through its REST API with httpx.

A throwaway NetBox (tests/netbox_service.py: PyPI's ``netbox`` in its own Python >= 3.12 virtualenv under
``.netbox/``, a throwaway PostgreSQL cluster, Debian's redis-server) is started once for the session and
stopped at the end; these tests are marked ``netbox`` (tests/conftest.py) so the fast loop can leave them out.

* the device library: every catalog part as exported by :func:`rackwright.catalog.netbox.to_devicetype`,
  with its manufacturer, interfaces and power ports, created through the API; the counts checked there;
* NetBox's own export of those device types (``DeviceType.to_yaml()``, what its UI's export writes), read
  back by ``rackwright catalog import-netbox``: exit 0, the kind and the figures as exported;
* the cable plan of ``examples/site-100mw.yaml`` (``rackwright site plan``, then ``site cables DIR --netbox``):
  its racks and devices (``rackwright.site.netbox.netbox_objects``) created through the API, then the first
  :data:`CABLE_ROWS` tier-1 and :data:`SPINE_ROWS` tier-2 rows loaded with NetBox's own cable import form
  (``dcim.forms.CableImportForm``, what the UI's CSV import runs) and checked through the API.

Where a defect of issue 21 is not fixed yet the test is a strict xfail naming it.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rackwright.catalog.netbox import read_devicetype, slug, to_devicetype

sys.path.insert(0, str(Path(__file__).parent))
from netbox_service import NETBOX_VERSION, NetBoxService, Unavailable  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RACKWRIGHT = str(Path(sys.executable).with_name("rackwright"))
CABLE_ROWS = 100  # tier-1 cables loaded from the site's plan (compute trays to their leaves)
SPINE_ROWS = 4  # tier-2 cables (leaves to spines: each brings a spine, whose 128 lanes are created too)


@pytest.fixture(scope="session")
def netbox():
    service = NetBoxService()
    try:
        service.start()
    except Unavailable as exc:
        service.stop()
        pytest.skip(f"NetBox cannot start here: {exc}")
    print(f"\nNetBox {NETBOX_VERSION} on {service.url}: {service.timings}")
    (ROOT / ".netbox").mkdir(exist_ok=True)
    (ROOT / ".netbox" / "timings.json").write_text(json.dumps(service.timings, indent=2) + "\n")
    yield service
    service.stop()


def _pages(client, endpoint: str, **params) -> list[dict]:
    results, offset = [], 0
    while True:
        response = client.get(endpoint, params={**params, "limit": 1000, "offset": offset})
        assert response.status_code == 200, response.text[:2000]
        body = response.json()
        results += body["results"]
        offset += len(body["results"])
        if offset >= body["count"] or not body["results"]:
            return results


def _post(client, endpoint: str, objects: list[dict], batch: int = 500) -> list[dict]:
    created = []
    for start in range(0, len(objects), batch):
        response = client.post(endpoint, json=objects[start:start + batch])
        assert response.status_code == 201, f"{endpoint}: {response.text[:3000]}"
        created += response.json()
    return created


def _catalog():
    from rackwright.catalog.loader import load_catalog

    return load_catalog()


def push_device_types(client, docs: list[dict]) -> dict[str, int]:
    """Manufacturers, device types and their interface and power-port templates; ``{slug: id}``."""
    have = {m["name"]: m["id"] for m in _pages(client, "/dcim/manufacturers/")}
    wanted = sorted({doc["manufacturer"] for doc in docs} - set(have))
    for made in _post(client, "/dcim/manufacturers/", [{"name": name, "slug": slug(name, "")} for name in wanted]):
        have[made["name"]] = made["id"]
    existing = {t["slug"]: t["id"] for t in _pages(client, "/dcim/device-types/")}
    fields = ("model", "slug", "part_number", "u_height", "is_full_depth", "airflow", "weight", "weight_unit",
              "description", "comments")
    new = [doc for doc in docs if doc["slug"] not in existing]
    made = _post(client, "/dcim/device-types/", [
        {"manufacturer": have[doc["manufacturer"]], **{k: doc[k] for k in fields if k in doc}} for doc in new])
    ids = {**existing, **{t["slug"]: t["id"] for t in made}}
    _post(client, "/dcim/interface-templates/", [
        {"device_type": ids[doc["slug"]], **i} for doc in new for i in doc.get("interfaces", [])])
    _post(client, "/dcim/power-port-templates/", [
        {"device_type": ids[doc["slug"]], **p} for doc in new for p in doc.get("power-ports", [])])
    return ids


@pytest.fixture(scope="session")
def library(netbox):
    """Every catalog part as a NetBox device type (``catalog export-netbox --all``), pushed once."""
    parts = {part.id: part for part in _catalog()}
    docs = {part_id: to_devicetype(part) for part_id, part in parts.items()}
    with netbox.client() as client:
        ids = push_device_types(client, list(docs.values()))
    return parts, docs, ids


def test_netbox_is_up(netbox):
    with netbox.client() as client:
        status = client.get("/status/")
    assert status.status_code == 200
    assert status.json()["netbox-version"].startswith(NETBOX_VERSION)
    assert {"install_s", "migrate_s", "start_s"} <= set(netbox.timings)


def test_device_library_lands_in_netbox(netbox, library):
    parts, docs, ids = library
    with netbox.client() as client:
        types = {t["slug"]: t for t in _pages(client, "/dcim/device-types/")}
        interfaces = _pages(client, "/dcim/interface-templates/")
        power_ports = _pages(client, "/dcim/power-port-templates/")
        manufacturers = _pages(client, "/dcim/manufacturers/")
    assert set(types) == {doc["slug"] for doc in docs.values()}
    assert len(types) == len(parts)
    assert {m["name"] for m in manufacturers} == {p.manufacturer for p in parts.values()}
    assert len(interfaces) == sum(len(doc.get("interfaces", [])) for doc in docs.values())
    assert len(power_ports) == sum(len(doc.get("power-ports", [])) for doc in docs.values())
    # one part checked field by field through the API
    switch = docs["nvidia-sn5600"]
    got = types[switch["slug"]]
    assert float(got["u_height"]) == 2 and got["is_full_depth"] is switch["is_full_depth"]
    assert got["airflow"]["value"] == "front-to-rear"
    ports = [i for i in interfaces if i["device_type"]["id"] == got["id"]]
    assert len(ports) == parts["nvidia-sn5600"].value("ports")
    assert {i["type"]["value"] for i in ports} == {"800gbase-x-osfp"}
    draws = [p["maximum_draw"] for p in power_ports if p["device_type"]["id"] == got["id"]]
    assert draws and set(draws) == {round(parts["nvidia-sn5600"].value("power"))}


EXPORT = """\
import json, pathlib
from dcim.models import DeviceType
out = pathlib.Path({folder!r})
for dt in DeviceType.objects.all():
    (out / (dt.slug + ".yaml")).write_text(dt.to_yaml())
print(json.dumps(DeviceType.objects.count()))
"""


@pytest.fixture(scope="session")
def netbox_exports(netbox, library, tmp_path_factory) -> Path:
    """NetBox's own YAML export of every device type (``DeviceType.to_yaml``, the UI's export)."""
    folder = tmp_path_factory.mktemp("netbox-export")
    count = json.loads(netbox.shell(EXPORT.format(folder=str(folder))).strip().splitlines()[-1])
    assert count == len(library[0])
    return folder


def test_netbox_export_writes_nulls(library, netbox_exports):
    """NetBox writes an unset allocated draw as null: the case import-netbox stopped at with exit 2."""
    _, docs, _ = library
    text = (netbox_exports / f"{docs['nvidia-sn5600']['slug']}.yaml").read_text()
    assert "allocated_draw: null" in text and "maximum_draw: 1500" in text


def test_netbox_export_imports_back_with_kind_and_figures(library, netbox_exports):
    """Every device type NetBox exports reads back (no InputError: the CLI's exit 2) with the kind and the
    height, power and port count that went in."""
    parts, docs, _ = library
    by_slug = {doc["slug"]: part_id for part_id, doc in docs.items()}
    wrong = {}
    for path in sorted(netbox_exports.glob("*.yaml")):
        part_id = by_slug[path.stem]
        part, doc = parts[part_id], docs[part_id]
        back, _missing = read_devicetype(path)
        specs = back["specs"]
        sent = {"kind": part.kind, "height": f"{doc['u_height']} U" if doc["u_height"] else None,
                "power": f"{max(p['maximum_draw'] for p in doc['power-ports'])} W" if doc.get("power-ports") else None,
                "ports": int(part.value("ports")) if part.value("ports") and doc.get("interfaces") else None}
        got = {"kind": back["kind"], "height": specs.get("height"), "power": specs.get("power"),
               "ports": specs.get("ports")}
        if got != sent:
            wrong[part_id] = (sent, got)
    assert len(list(netbox_exports.glob("*.yaml"))) == len(parts)
    assert wrong == {}


def test_cli_imports_netbox_export_of_a_powered_switch(netbox_exports):
    path = netbox_exports / f"{slug('NVIDIA', _catalog().parts['nvidia-sn5600'].model)}.yaml"
    done = subprocess.run([RACKWRIGHT, "catalog", "import-netbox", str(path), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    part = json.loads(done.stdout)["part"]
    assert part["kind"] == "scale_out_switch"
    assert part["specs"]["power"] == "1500 W" and part["specs"]["ports"] == 64


# -- the site's cable plan --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def site_plan(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site-100mw")
    for args in (["site", "plan", str(ROOT / "examples" / "site-100mw.yaml"), "-o", str(folder), "--no-report"],
                 ["site", "cables", str(folder), "--netbox"]):
        done = subprocess.run([RACKWRIGHT, *args], capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), done.stderr[-3000:]
    return folder


def _cable_rows(site_plan: Path, count: int = CABLE_ROWS) -> list[dict]:
    with (site_plan / "netbox-cables.csv").open(newline="") as handle:
        return [row for _, row in zip(range(count), csv.DictReader(handle), strict=False)]


IMPORT_CABLES = """\
import json
from django.db import transaction
from dcim.forms import CableImportForm
rows = json.loads({rows!r})
errors, saved = [], 0
for number, row in enumerate(rows, 1):
    form = CableImportForm(data=row)
    if form.is_valid():
        with transaction.atomic():
            form.save()
        saved += 1
    else:
        errors.append({{"row": number, "errors": {{k: [str(e) for e in v] for k, v in form.errors.items()}}}})
print(json.dumps({{"saved": saved, "errors": errors}}))
"""


def import_cables(netbox, rows: list[dict]) -> dict:
    """NetBox's own CSV cable import (the form the UI's bulk import validates each row with)."""
    out = netbox.shell(IMPORT_CABLES.format(rows=json.dumps(rows)))
    return json.loads(out.strip().splitlines()[-1])


def _ensure_site(client, name: str, slug_: str) -> int:
    found = _pages(client, "/dcim/sites/", slug=slug_)
    if found:
        return found[0]["id"]
    return _post(client, "/dcim/sites/", [{"name": name, "slug": slug_, "status": "planned"}])[0]["id"]


def test_cable_csv_names_the_site_as_netbox_looks_it_up(netbox, site_plan):
    from rackwright.site.netbox import site_slug

    name = json.loads((site_plan / "summary.json").read_text())["site"]
    with netbox.client() as client:
        _ensure_site(client, name, site_slug(name))
    result = import_cables(netbox, _cable_rows(site_plan, 20))
    site_errors = [e for e in result["errors"] if {"side_a_site", "side_b_site"} & set(e["errors"])]
    assert site_errors == [], site_errors[:3]


def push_site_objects(client, objects: dict[str, list[dict]]) -> None:
    """``rackwright.site.netbox.netbox_objects`` through the API: names resolved to ids as NetBox's import does."""
    from rackwright.site.netbox import site_slug

    site = objects["sites"][0]
    site_id = _ensure_site(client, site["name"], site["slug"])
    locations = {loc["name"]: loc["id"] for loc in _pages(client, "/dcim/locations/", site_id=site_id)}
    for made in _post(client, "/dcim/locations/", [dict(loc, site=site_id) for loc in objects["locations"]
                                                   if loc["name"] not in locations]):
        locations[made["name"]] = made["id"]
    racks = {r["name"]: r["id"] for r in _pages(client, "/dcim/racks/", site_id=site_id)}
    for made in _post(client, "/dcim/racks/", [dict(r, site=site_id, location=locations[r["location"]])
                                               for r in objects["racks"] if r["name"] not in racks]):
        racks[made["name"]] = made["id"]
    roles = {r["name"]: r["id"] for r in _pages(client, "/dcim/device-roles/")}
    for made in _post(client, "/dcim/device-roles/", [{"name": name, "slug": site_slug(name), "color": "2196f3"}
                                                      for name in sorted({d["role"] for d in objects["devices"]})
                                                      if name not in roles]):
        roles[made["name"]] = made["id"]
    types = {(t["manufacturer"]["name"], t["model"]): t["id"] for t in _pages(client, "/dcim/device-types/")}
    have = {d["name"] for d in _pages(client, "/dcim/devices/", site_id=site_id)}
    _post(client, "/dcim/devices/", [
        {"name": d["name"], "role": roles[d["role"]], "device_type": types[(d["manufacturer"], d["device_type"])],
         "site": site_id, "location": locations[d["location"]], "rack": racks[d["rack"]], "status": d["status"]}
        for d in objects["devices"] if d["name"] not in have], batch=200)
    if objects.get("interfaces"):
        ids = {d["name"]: d["id"] for d in _pages(client, "/dcim/devices/", site_id=site_id)}
        ports = {(i["device"]["name"], i["name"]) for i in _pages(client, "/dcim/interfaces/", site_id=site_id)}
        _post(client, "/dcim/interfaces/", [dict(i, device=ids[i["device"]]) for i in objects["interfaces"]
                                            if (i["device"], i["name"]) not in ports])


def test_cables_of_the_site_resolve_in_netbox(netbox, library, site_plan):
    """The first tier-1 rows of the 100 MW plan (compute trays to leaves) and the first tier-2 rows (leaves to
    spines, on breakout lanes: the plan runs the 64 x 800G SN5600 as 128 x 400G) load with NetBox's own
    cable import."""
    import polars as pl

    from rackwright.site.netbox import netbox_cables, netbox_objects

    parts, docs, _ = library
    name = json.loads((site_plan / "summary.json").read_text())["site"]
    plan = pl.read_parquet(site_plan / "cables.parquet")
    cables = pl.concat([plan.filter(pl.col("tier") == 1).head(CABLE_ROWS),
                        plan.filter(pl.col("tier") == 2).head(SPINE_ROWS)])
    tray, switch = parts["nvidia-gb200-compute-tray"], parts["nvidia-sn5600"]
    radix = json.loads((site_plan / "summary.json").read_text())["fabric"]["radix"]
    lanes = radix // int(switch.value("ports"))
    assert lanes == 2
    objects = netbox_objects(cables, name, (tray.manufacturer, tray.model), (switch.manufacturer, switch.model),
                             lanes=lanes, switch_ports=int(switch.value("ports")), lane_type="400gbase-x-osfp")
    rows = [{k: ("" if v is None else str(v)) for k, v in row.items()}
            for row in netbox_cables(cables, name, lanes=lanes).iter_rows(named=True)]
    with netbox.client() as client:
        push_site_objects(client, objects)
        racks = _pages(client, "/dcim/racks/")
        devices = _pages(client, "/dcim/devices/")
    assert {r["name"] for r in objects["racks"]} <= {r["name"] for r in racks}
    assert {d["name"] for d in objects["devices"]} <= {d["name"] for d in devices}

    result = import_cables(netbox, rows)
    assert result["errors"] == [] and result["saved"] == len(rows)
    with netbox.client() as client:
        loaded = {c["label"]: c for c in _pages(client, "/dcim/cables/") if c["label"] in {r["label"] for r in rows}}
        tray_ports = _pages(client, "/dcim/interfaces/", device=rows[0]["side_a_device"])
    assert len(loaded) == len(rows)
    for row in (rows[0], rows[CABLE_ROWS // 2], rows[CABLE_ROWS], rows[-1]):  # ends, type, length of samples
        cable = loaded[row["label"]]
        assert cable["type"] == row["type"] and float(cable["length"]) == pytest.approx(float(row["length"]))
        assert cable["a_terminations"][0]["object"]["name"] == row["side_a_name"]
        assert cable["a_terminations"][0]["object"]["device"]["name"] == row["side_a_device"]
        assert cable["b_terminations"][0]["object"]["name"] == row["side_b_name"]
        assert cable["b_terminations"][0]["object"]["device"]["name"] == row["side_b_device"]
    assert {p["name"] for p in tray_ports} >= {"nic1", "nic2", "nic3", "nic4"}
    cabled = {p["name"] for p in tray_ports if p["cable"]}
    assert cabled == {r["side_a_name"] for r in rows if r["side_a_device"] == rows[0]["side_a_device"]}


def _plan_names(site_plan: Path, prefix: str) -> set[str]:
    rows = _cable_rows(site_plan, 10**7)
    return {row[f"side_{end}_name"] for row in rows for end in "ab" if row[f"side_{end}_name"].startswith(prefix)}


@pytest.mark.slow
def test_switch_ports_of_the_plan_exist_on_the_exported_type(site_plan):
    """The plan runs the 64 x 800G SN5600 as 128 x 400G: the type exported for the plan (``lanes`` from its
    summary, as ``site export-netbox`` does) has every lane the cable CSV names, as a 400G OSFP interface."""
    from rackwright.cli.site import _netbox_naming

    _, lanes = _netbox_naming(site_plan)
    assert lanes == 2
    doc = to_devicetype(_catalog().parts["nvidia-sn5600"], lanes=lanes)
    have = {i["name"]: i["type"] for i in doc.get("interfaces", [])}
    assert len(have) == 128
    used = _plan_names(site_plan, "swp")
    assert used and used - set(have) == set()
    assert {have[name] for name in used} == {"400gbase-x-osfp"}


def test_tray_nics_of_the_plan_exist_on_the_exported_type(library, site_plan):
    _, docs, _ = library
    have = {i["name"] for i in docs["nvidia-gb200-compute-tray"].get("interfaces", [])}
    used = _plan_names(site_plan, "nic")
    assert used and used - have == set()


def test_compute_tray_power_port_carries_its_real_draw(library, netbox):
    parts, docs, ids = library
    from rackwright.catalog.loader import load_catalog

    catalog = load_catalog()
    whole = sum((p.value("power") or 0) * n for p, n, _ in catalog.explode("nvidia-gb200-compute-tray"))
    with netbox.client() as client:
        tray_type = ids[docs["nvidia-gb200-compute-tray"]["slug"]]
        ports = _pages(client, "/dcim/power-port-templates/", device_type_id=tray_type)
    assert ports and max(p["maximum_draw"] for p in ports) >= 0.95 * whole
