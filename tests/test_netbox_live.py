"""The NetBox round trip against a real NetBox on loopback (issue 21), through its REST API with httpx.

A throwaway NetBox (tests/netbox_service.py: PyPI's ``netbox`` in its own Python >= 3.12 virtualenv under
``.netbox/``, a throwaway PostgreSQL cluster, Debian's redis-server) is started once for the session and
stopped at the end; these tests are marked ``netbox`` (tests/conftest.py) so the fast loop can leave them out.

* the device library: every catalog part as exported by :func:`rackwright.catalog.netbox.to_devicetype`,
  with its manufacturer, interfaces and power ports, created through the API; the counts checked there;
* NetBox's own export of those device types (``DeviceType.to_yaml()``, what its UI's export writes), read
  back by ``rackwright catalog import-netbox``: exit 0, the kind and the figures as exported;
* the cable CSV of ``examples/site-100mw.yaml`` (``rackwright site plan``, then ``site cables DIR --netbox``):
  its site column resolves with NetBox's own cable import form; the tray NICs and switch lanes it names exist on
  the exported device types;
* a small site (the 100 MW example at 0.5 MW and two tiers: 4 racks, 12 switches, 800 cables):
  ``site export-netbox`` imported file by file with NetBox's own bulk-import views;
* a site of three small halls, one of them an Open Rack: ``netbox push --hall 3``, then the whole site (created,
  then nothing on a second push), ``netbox diff`` (clean, then a deleted and a changed cable) through the API, and
  a pushed rack's page in NetBox's own UI in Chromium (the screenshot in docs/netbox.md).
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
from netbox_service import ADMIN_USER, NETBOX_VERSION, NetBoxService, Unavailable  # noqa: E402
from test_server_web_browser import SCREENSHOTS, browser  # noqa: E402, F401 (the fixture: Chromium under Playwright)

ROOT = Path(__file__).resolve().parent.parent
RACKWRIGHT = str(Path(sys.executable).with_name("rackwright"))


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
    """Manufacturers, device types and their interface, power-port and module-bay templates; ``{slug: id}``."""
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
    _post(client, "/dcim/module-bay-templates/", [  # the site's modules go into these bays
        {"device_type": ids[doc["slug"]], **b} for doc in new for b in doc.get("module-bays", [])])
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


def _cable_rows(site_plan: Path, count: int) -> list[dict]:
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


# -- a whole small site: site export-netbox through NetBox's own import, netbox push and diff -------------------------
SMALL_SITE = ["--set", "target.it_power=0.5 MW", "--set", "fabric.tiers=2"]  # 4 GB200 NVL72 racks, 8 leaves, 4 spines
#: Three halls of 0.3 MW: a GB200 NVL72 rack (EIA units) in each of halls 1 and 2 with the network racks (4 leaves,
#: 2 spines), one Open Rack (examples/ethernet-800vdc.yaml: ORv3 21", OU pitch) alone in hall 3, whose cables all
#: leave the hall.
HALL_SITE = [*SMALL_SITE, "--set", "layout.hall_max_it_power=0.3 MW", "--set",
             "target.generations=[{design: gb200-nvl72.yaml, share: 0.5}, {design: ethernet-800vdc.yaml, share: 0.5}]"]
#: Devices of an ethernet-800vdc rack at units: 3 DC/DC shelves, 12 + 12 compute trays, 6 switch trays, 1 SN2201
#: (its 24 scale-up cable cartridges have no unit)
OPEN_RACK_DEVICES = 3 + 12 + 6 + 12 + 1
#: Modules of an ethernet-800vdc rack: 24 compute trays of 9 bays each (catalog ``contains``)
OPEN_RACK_MODULES = 24 * 9
#: Modules of a GB200 NVL72 rack: 18 trays of 12 bays each (4 GPUs, 2 CPUs, 4 NICs, 2 DPUs)
GB200_MODULES = 18 * 12


def _small_plan(folder: Path, name: str, options: list[str] = SMALL_SITE) -> Path:
    done = subprocess.run([RACKWRIGHT, "site", "plan", str(ROOT / "examples" / "site-100mw.yaml"), "-o", str(folder),
                           "--no-report", *options, "--set", f"name={name}"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


IMPORT_FILES = """\
import json, pathlib
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from users.models import User
setup_test_environment()  # keeps each response's context, for the form's errors
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(User.objects.get(username={user!r}))
results = []
for path, view in json.loads({files!r}):
    text = pathlib.Path(path).read_text()
    fmt = "yaml" if path.endswith(".yaml") else "csv"
    response = client.post(reverse("dcim:" + view + "_bulk_import"),
                           {{"data": text, "format": fmt, "csv_delimiter": ",", "import_method": "direct"}})
    errors = {{}}
    if response.status_code != 302 and response.context:
        errors = {{k: [str(e) for e in v][:5] for k, v in response.context["form"].errors.items()}}
    results.append({{"file": pathlib.Path(path).name, "status": response.status_code, "errors": errors}})
    if response.status_code != 302:
        break
print(json.dumps(results))
"""


def _leave_out_existing(client, folder: Path) -> set[str]:
    """Drop from the shared files (manufacturers, device types, roles) what this NetBox already holds (the device
    library pushed by the tests above): NetBox's bulk import creates, and refuses a name it has. Returns the files
    left with no rows (not to be imported: NetBox refuses an empty import)."""
    import yaml

    have = {m["name"] for m in _pages(client, "/dcim/manufacturers/")}
    roles = {r["name"] for r in _pages(client, "/dcim/device-roles/")}
    empty = set()
    for name, known in (("01-manufacturers.csv", have), ("07-device-roles.csv", roles)):
        with (folder / name).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        keep = [r for r in rows if r["name"] not in known]
        with (folder / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(keep)
        empty |= set() if keep else {name}
    for name, endpoint in (("02-device-types.yaml", "device-types"), ("03-module-types.yaml", "module-types"),
                           ("04-rack-types.yaml", "rack-types")):
        models = {(t["manufacturer"]["name"], t["model"]) for t in _pages(client, f"/dcim/{endpoint}/")}
        docs = list(yaml.safe_load_all((folder / name).read_text()))
        keep_types = [d for d in docs if (d["manufacturer"], d["model"]) not in models]
        (folder / name).write_text(yaml.safe_dump_all(keep_types, sort_keys=False, explicit_start=True))
        empty |= set() if keep_types else {name}
    return empty


def test_site_export_imports_into_netbox_in_file_order(netbox, tmp_path):
    """``site export-netbox`` of a small site; every file imported in its order with NetBox's own bulk-import view
    (what the UI's Import runs, posted with Django's test client in NetBox's shell); then the site holds the plan's
    racks, devices (at their units) and cables (ends, type, length)."""
    from rackwright.site.netbox import FILES, IMPORTS

    plan = _small_plan(tmp_path / "plan", "NetBox import site")
    files = tmp_path / "netbox"
    done = subprocess.run([RACKWRIGHT, "site", "export-netbox", str(plan), "-o", str(files)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with (files / "09-devices.csv").open(newline="") as handle:
        devices = list(csv.DictReader(handle))
    with (files / "13-cables.csv").open(newline="") as handle:
        cables = list(csv.DictReader(handle))
    racks = (files / "08-racks.csv").read_text().count("\n") - 1
    with (files / "12-power-feeds.csv").open(newline="") as handle:
        feeds = list(csv.DictReader(handle))
    with netbox.client() as client:
        empty = _leave_out_existing(client, files)
    names = [name for name in FILES if name not in empty]
    assert empty <= {"01-manufacturers.csv", "02-device-types.yaml", "03-module-types.yaml", "04-rack-types.yaml",
                     "07-device-roles.csv"}
    order = [(str(files / name), IMPORTS[name][0]) for name in names]
    results = json.loads(netbox.shell(IMPORT_FILES.format(user=ADMIN_USER, files=json.dumps(order)),
                                      timeout=3000).strip().splitlines()[-1])
    assert [r["file"] for r in results] == names and {r["status"] for r in results} == {302}, results

    with netbox.client() as client:
        site = _pages(client, "/dcim/sites/", name="NetBox import site")[0]["id"]
        held_racks = _pages(client, "/dcim/racks/", site_id=site)
        held_devices = {d["name"]: d for d in _pages(client, "/dcim/devices/", site_id=site)}
        held_cables = {c["label"]: c for c in _pages(client, "/dcim/cables/", site_id=site)}
        held_modules = _pages(client, "/dcim/modules/", site_id=site, brief=1)
        held_feeds = {f["name"]: f for f in _pages(client, "/dcim/power-feeds/", site_id=site)}
        interfaces = len(_pages(client, "/dcim/interfaces/", site_id=site, brief=1))
    assert (len(held_racks), len(held_devices), len(held_cables)) == (racks, len(devices), len(cables) + 12) \
        == (4 + 2, 4 * 37 + 12, 800 + 12)  # network racks: the leaves' in the compute rows' HDA, the spines' in the MDA
    # 12 modules in each of the 72 trays (test_netbox.py), adding no interfaces; an A and a B feed per GB200 rack
    # (its power is N+N) and per network rack (the SN5600's PSUs are 1+1); 12 power cables (A to a lower shelf, B to
    # an upper one; a network rack's to its first switch's PSU0 and PSU1)
    assert (len(held_modules), len(held_feeds)) == (4 * 18 * 12, 6 * 2) and len(feeds) == 12
    print(f"\nNetBox import: {len(held_devices)} devices, {interfaces} interfaces, {len(held_modules)} modules, "
          f"{len(held_feeds)} power feeds, {len(held_cables)} cables")
    assert {r["rack_type"]["model"] for r in held_racks if r["rack_type"]} == {
        "MGX / Oberon-class 48U rack for GB200 / GB300 NVL72"}
    for side, kind, shelf in (("a", "primary", "lower"), ("b", "redundant", "upper")):
        feed = held_feeds[f"{devices[0]['rack']}-feed-{side}"]
        assert (feed["type"]["value"], feed["supply"]["value"], feed["phase"]["value"], feed["voltage"],
                feed["amperage"]) == (kind, "ac", "three-phase", 480, 200)  # each rated for the whole rack
        end = held_cables[feed["name"]]["b_terminations"][0]["object"]
        assert (end["device"]["name"], end["name"]) == (f"{devices[0]['rack']}-power-{shelf}-1", "input")
    tray = held_devices[devices[0]["rack"] + "-t09"]  # compute-upper's first tray: U33 (examples/gb200-nvl72.yaml)
    assert float(tray["position"]) == 33 and tray["face"]["value"] == "front"
    for row in (cables[0], cables[len(cables) // 2], cables[-1]):
        cable = held_cables[row["label"]]
        assert cable["type"] == row["type"] and float(cable["length"]) == pytest.approx(float(row["length"]))
        for side in "ab":
            end = cable[f"{side}_terminations"][0]["object"]
            assert (end["device"]["name"], end["name"]) == (row[f"side_{side}_device"], row[f"side_{side}_name"])


def _rackwright(*args: str, token: str | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if token is not None:
        env["RACKWRIGHT_NETBOX_TOKEN"] = token
    return subprocess.run([RACKWRIGHT, *args], capture_output=True, text=True, timeout=1800, env=env)


@pytest.fixture(scope="session")
def pushed(netbox, tmp_path_factory):
    """The three-hall site (HALL_SITE) pushed with ``rackwright netbox push``: its hall 3 alone (``--hall 3``),
    then the whole site (token from RACKWRIGHT_NETBOX_TOKEN); the plan folder, the two pushes' summaries and the
    seconds the whole push took."""
    import time

    plan = _small_plan(tmp_path_factory.mktemp("push-plan"), "NetBox push site", HALL_SITE)
    hall = _rackwright("netbox", "push", str(plan), "--url", netbox.url, "--hall", "3", "--json", token=netbox.token)
    assert hall.returncode == 0, hall.stderr[-3000:]
    started = time.monotonic()
    done = _rackwright("netbox", "push", str(plan), "--url", netbox.url, "--json", token=netbox.token)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return plan, _steps(json.loads(hall.stdout)), _steps(json.loads(done.stdout)), seconds


def _steps(document: dict) -> dict:
    """A push's JSON document (docs/json.md): its step records by step name."""
    assert document["schema_version"] == 2 and document["command"] == "netbox push"
    return {record["step"]: record for record in document["steps"]}


def _differences(stdout: str) -> list:
    document = json.loads(stdout)
    assert document["schema_version"] == 2 and document["command"] == "netbox diff"
    return document["differences"]


def test_push_of_one_hall_holding_an_open_rack(netbox, pushed):
    """``netbox push --hall 3`` created that hall only: its Open Rack (21 inch, 47 U tall by length) with every
    device in the rack and none at a unit (NetBox counts EIA units, Open Rack has OU), and no cable (all of hall 3's
    leave the hall); ``netbox diff --hall 3`` after the whole push finds nothing (the other halls left out on both
    sides)."""
    plan, hall, _, _ = pushed
    created = {step: t["created"] for step, t in hall.items()}
    shared = ("manufacturers", "device types", "module types", "rack types", "device roles")
    assert created == {**{step: created[step] for step in shared}, "site": 1, "locations": 1, "racks": 1,
                       "devices": OPEN_RACK_DEVICES, "modules": OPEN_RACK_MODULES, "power panels": 2,
                       "power feeds": 1, "cables": 0, "power cables": 0}
    with netbox.client() as client:
        rack = _pages(client, "/dcim/racks/", name="h03-r001-k01")[0]
        devices = _pages(client, "/dcim/devices/", rack_id=rack["id"])
    assert (rack["width"]["value"], rack["u_height"], rack["location"]["name"]) == (21, 47, "Hall 3")
    assert len(devices) == OPEN_RACK_DEVICES and {d["position"] for d in devices} == {None}
    clean = _rackwright("netbox", "diff", str(plan), "--url", netbox.url, "--hall", "3", "--json", token=netbox.token)
    assert clean.returncode == 0 and _differences(clean.stdout) == [], clean.stdout[-2000:] + clean.stderr[-2000:]


def test_push_creates_the_site_and_a_second_push_creates_nothing(netbox, pushed):
    from rackwright.site.netbox import site_export

    plan, _, first, seconds = pushed
    cables = len(site_export(plan).rows["13-cables.csv"])
    print(f"\nnetbox push: {cables} cables, {seconds:.1f} s for all but hall 3")
    # halls 1 and 2: a GB200 rack of 37 devices each (test_netbox.py counts them), the network racks' 4 leaves and
    # 2 spines; hall 3's Open Rack and its devices came with the push of hall 3
    # power: 2 busway panels a hall (the plan's 6 units over 3 halls); a GB200 rack (N+N) an A and a B feed, each
    # cabled to a power shelf, a network rack (1+1 SN5600 PSUs) an A and a B feed, cabled to its first switch's PSU0
    # and PSU1 (the Open Rack's one feed came with hall 3: its power is N+1 and it has no power shelf, its DC/DC
    # shelves take the rack's 800 VDC)
    expected = {"site": 0, "locations": 2, "racks": 2 + 2, "devices": 2 * 37 + 6, "modules": 2 * GB200_MODULES,
                "power panels": 4, "power feeds": 2 * 2 + 2 * 2, "cables": cables, "power cables": 2 * 2 + 2 * 2}
    assert {step: first[step]["created"] for step in expected} == expected
    assert first["devices"]["skipped"] == OPEN_RACK_DEVICES and first["modules"]["skipped"] == OPEN_RACK_MODULES
    assert [first[step]["refused"] for step in first] == [[]] * len(first)
    with netbox.client() as client:
        site = _pages(client, "/dcim/sites/", name="NetBox push site")[0]["id"]
        kinds = ("racks", "devices", "modules", "power-panels", "power-feeds", "cables")
        counts = dict(zip(kinds, (len(_pages(client, f"/dcim/{kind}/", site_id=site, brief=1)) for kind in kinds),
                          strict=True))
    total, modules = 2 * 37 + 6 + OPEN_RACK_DEVICES, 2 * GB200_MODULES + OPEN_RACK_MODULES
    print(f"netbox push API counts: {counts}")
    assert counts == {"racks": 5, "devices": total, "modules": modules, "power-panels": 6, "power-feeds": 9,
                      "cables": cables + 8}
    again = _rackwright("netbox", "push", str(plan), "--url", netbox.url, "--token", netbox.token, "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    second = _steps(json.loads(again.stdout))
    assert {step: t["created"] for step, t in second.items()} == {step: 0 for step in second}
    assert second["cables"]["skipped"] == cables and second["devices"]["skipped"] == total
    assert (second["modules"]["skipped"], second["power feeds"]["skipped"], second["power cables"]["skipped"]) == (
        modules, 9, 8)


def test_diff_reports_a_deleted_and_a_changed_cable(netbox, pushed):
    plan, _, _, _ = pushed
    clean = _rackwright("netbox", "diff", str(plan), "--url", netbox.url, "--json", token=netbox.token)
    assert clean.returncode == 0 and _differences(clean.stdout) == [], clean.stdout[-2000:] + clean.stderr[-2000:]
    with netbox.client() as client:
        site = _pages(client, "/dcim/sites/", name="NetBox push site")[0]["id"]
        cables = sorted(_pages(client, "/dcim/cables/", site_id=site), key=lambda c: c["label"])
        gone, changed = cables[0], cables[1]
        assert client.delete(f"/dcim/cables/{gone['id']}/").status_code == 204
        assert client.patch(f"/dcim/cables/{changed['id']}/", json={"length": 99.5}).status_code == 200
        module = _pages(client, "/dcim/modules/", site_id=site)[0]
        assert client.delete(f"/dcim/modules/{module['id']}/").status_code == 204
        feed = _pages(client, "/dcim/power-feeds/", site_id=site, type="redundant")[0]  # a B feed made primary
        assert client.patch(f"/dcim/power-feeds/{feed['id']}/", json={"type": "primary"}).status_code == 200
    found = _rackwright("netbox", "diff", str(plan), "--url", netbox.url, "--json", token=netbox.token)
    assert found.returncode == 1, found.stderr[-2000:]
    differences = _differences(found.stdout)
    assert [(d["kind"], d["name"], d["status"]) for d in differences] == [  # devices, modules, feeds, cables
        ("module", f"{module['device']['name']} {module['module_bay']['name']}", "missing"),
        ("power feed", feed["name"], "changed"), ("cable", changed["label"], "changed"),
        ("cable", gone["label"], "missing")]
    assert differences[1]["detail"] == "type: plan redundant, NetBox primary"
    assert "length: plan" in differences[2]["detail"] and "NetBox 99.5" in differences[2]["detail"]
    # a push puts the deleted cable back and leaves the changed one as NetBox holds it
    again = _rackwright("netbox", "push", str(plan), "--url", netbox.url, "--json", token=netbox.token)
    assert again.returncode == 0
    assert [_steps(json.loads(again.stdout))[step]["created"] for step in ("cables", "modules")] == [1, 1]


def test_push_with_a_bad_token_is_a_clear_error(netbox, pushed):
    plan, _, _, _ = pushed
    bad = "0123456789abcdef0123456789abcdef01234567"
    done = _rackwright("netbox", "push", str(plan), "--url", netbox.url, token=bad)
    assert done.returncode == 2 and "refused the token" in done.stderr and "Traceback" not in done.stderr


def test_a_pushed_rack_in_netboxs_own_ui(netbox, pushed, browser):  # noqa: F811 (the fixture)
    """NetBox's own rack page (signed in as the superuser through its login form) shows a pushed compute rack's
    elevation with its devices at their units; the page is saved to out/screenshots/netbox-rack-elevation.png (the
    picture in docs/netbox.md)."""
    with netbox.client() as client:
        site = _pages(client, "/dcim/sites/", name="NetBox push site")[0]["id"]
        rack = sorted((r for r in _pages(client, "/dcim/racks/", site_id=site) if "-k" in r["name"]),
                      key=lambda r: r["name"])[0]
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    page = context.new_page()
    page.goto(f"{netbox.url}/login/?next=/dcim/racks/{rack['id']}/")
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", netbox.password)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(f"{netbox.url}/dcim/racks/{rack['id']}/")
    front = page.locator(".rack_elevation svg").first
    front.wait_for(timeout=120_000)
    assert rack["name"] in page.title()
    assert f"{rack['name']}-t01" in front.inner_html() and f"{rack['name']}-t18" in front.inner_html()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "netbox-rack-elevation.png"), full_page=True)
    context.close()

