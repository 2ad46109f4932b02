"""A site plan into a running NetBox through its REST API (``rackwright netbox push``), and back (``netbox diff``).

:func:`push` creates what :func:`rackwright.site.netbox.site_export` lists, in the order of its import files
(manufacturers, device, module and rack types with their component templates, site, halls as locations, device
roles, racks, devices, modules in their bays, power panels and feeds, cables and power cables), as list POSTs of
:data:`BATCH` objects (NetBox creates a list in one transaction); cables :data:`PARALLEL` POSTs in flight at a
time, since NetBox's server runs several requests at once. Devices and templates go one POST at a time: each one
updates its type's counters (``device_count``, ``interface_template_count``) in its transaction, so parallel POSTs
of them wait on each other's locks or deadlock. It is idempotent: every object is looked up first by what NetBox
keeps unique (a manufacturer's or role's name, a type's manufacturer and model, a site's name, a location's,
rack's, device's, power panel's or feed's name in its site, a module's device and bay, a cable's label in the
site), all of a kind in a few GETs (NetBox's brief form where it names enough), and only the missing ones are
sent. A batch NetBox refuses (one bad row fails the whole list) is sent again one
object at a time, so the refused ones are named and the others still created. Existing objects are never changed:
:func:`diff` lists where they differ from the plan.

Errors of the connection (unreachable URL, TLS, timeout) and of authorisation (401/403) raise
:class:`~rackwright.errors.InputError` with what to check, which the CLI prints with exit 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import InputError
from .netbox import SiteExport, site_slug

BATCH = 200  # objects per POST: NetBox creates a list in one transaction (benchmarks/bench_netbox.py tunes it)
DEVICE_BATCH = 50  # devices per POST at most: NetBox makes each device's components from its type's templates (slow)
PARALLEL = 4  # cable POSTs in flight at a time (NetBox's gunicorn runs several workers)
PAGE = 1000  # objects per GET page (NetBox's MAX_PAGE_SIZE is 1000 by default)
TOKEN_ENV = "RACKWRIGHT_NETBOX_TOKEN"
#: Component templates of a device type: the devicetype-library key and NetBox's endpoint.
_TEMPLATES = (
    ("interfaces", "/dcim/interface-templates/"),
    ("power-ports", "/dcim/power-port-templates/"),
    ("module-bays", "/dcim/module-bay-templates/"),
)
#: The fields of a device type, module type and rack type document that NetBox's API takes as they are.
_TYPE_FIELDS = (
    "model",
    "slug",
    "part_number",
    "u_height",
    "is_full_depth",
    "airflow",
    "weight",
    "weight_unit",
    "description",
    "comments",
)
_MODULE_TYPE_FIELDS = ("model", "part_number", "weight", "weight_unit", "description", "comments")
_RACK_TYPE_FIELDS = (
    "model",
    "slug",
    "form_factor",
    "width",
    "u_height",
    "starting_unit",
    "outer_width",
    "outer_height",
    "outer_depth",
    "outer_unit",
    "weight",
    "max_weight",
    "weight_unit",
    "description",
    "comments",
)
#: The type endpoints: the step, endpoint, document fields and what its component templates name their parent.
_TYPE_KINDS = {
    "device types": ("/dcim/device-types/", _TYPE_FIELDS, "device_type"),
    "module types": ("/dcim/module-types/", _MODULE_TYPE_FIELDS, "module_type"),
    "rack types": ("/dcim/rack-types/", _RACK_TYPE_FIELDS, ""),
}


@dataclass
class Tally:
    """What a push did with one kind of object."""

    created: int = 0
    skipped: int = 0  # already in NetBox
    refused: list[str] = field(default_factory=list)  # "<name>: <NetBox's reason>"


class NetBox:
    """A small REST client of NetBox's API (``URL/api/...``) on httpx, with the token of a user."""

    def __init__(self, url: str, token: str, timeout: float = 900, batch: int = BATCH, parallel: int = PARALLEL):
        import httpx

        self.batch, self.parallel = max(1, batch), max(1, parallel)

        if not url.startswith(("http://", "https://")):
            raise InputError.single(None, f"{url!r} is not an http(s) URL", "--url", "e.g. https://netbox.example.com")
        if not token:
            raise InputError.single(
                None, "no NetBox API token", "--token", f"give --token or set {TOKEN_ENV} (NetBox: Admin, API tokens)"
            )
        scheme = "Bearer" if token.startswith("nbt_") else "Token"  # NetBox 4.5+ v2 tokens, else v1
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url + "/api",
            headers={"Authorization": f"{scheme} {token}", "Accept": "application/json"},
            timeout=timeout,
            limits=httpx.Limits(max_keepalive_connections=self.parallel, max_connections=self.parallel),
        )

    def __enter__(self) -> NetBox:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def _send(self, method: str, endpoint: str, **kwargs):
        import httpx

        try:
            response = self.http.request(method, endpoint, **kwargs)
        except httpx.HTTPError as exc:
            raise InputError.single(
                None,
                f"cannot reach NetBox at {self.url}: {exc}",
                "--url",
                "check the URL (scheme, host, port) and that NetBox is running",
            ) from None
        if response.status_code in (401, 403):
            raise InputError.single(
                None,
                f"NetBox at {self.url} refused the token ({response.status_code}: {_detail(response)})",
                "--token",
                "give a valid API token whose user may view and add DCIM objects",
            )
        return response

    def _failed(self, response, what: str) -> InputError:
        hint = "give NetBox's base URL (the API is under /api/)" if response.status_code == 404 else "see NetBox's log"
        return InputError.single(
            None, f"NetBox at {self.url} answered {response.status_code} to {what}: {_detail(response)}", "--url", hint
        )

    def pages(self, endpoint: str, **params) -> list[dict]:
        """Every object of a list endpoint (all pages); ``brief=1`` asks for NetBox's brief form (id, name and the
        like, several times quicker for NetBox to write than the full one)."""
        results: list[dict] = []
        while True:
            response = self._send("GET", endpoint, params={**params, "limit": PAGE, "offset": len(results)})
            if response.status_code != 200:
                raise self._failed(response, f"GET {endpoint}")
            try:
                body = response.json()
                results += body["results"]
            except (ValueError, KeyError, TypeError):
                raise self._failed(response, f"GET {endpoint} (not NetBox's API)") from None
            if len(results) >= body["count"] or not body["results"]:
                return results

    def create(self, endpoint: str, objects: list[dict], names: list[str], tally: Tally) -> list[dict]:
        """POST ``objects`` as one list; if NetBox refuses the list, one at a time, naming the refused ones (an
        error of a single object, a 500 included, refuses that object only)."""
        if not objects:
            return []
        response = self._send("POST", endpoint, json=objects)
        if response.status_code == 201:
            tally.created += len(objects)
            return response.json()
        if response.status_code not in (400, 409, 500):  # a bad row (400) or a constraint NetBox checks late (500)
            raise self._failed(response, f"POST {endpoint}")
        made = []
        for obj, name in zip(objects, names, strict=True):
            one = self._send("POST", endpoint, json=obj)
            if one.status_code == 201:
                tally.created += 1
                made.append(one.json())
            else:
                tally.refused.append(f"{name}: {_detail(one)}")
        return made

    def create_batches(
        self, endpoint: str, items: list[tuple[dict, str]], tally: Tally, tick, size: int = 0, parallel: int = 1
    ) -> list[dict]:
        """:meth:`create` ``(body, name)`` items in batches of ``size`` (default :attr:`batch`), ``parallel`` batches
        in flight at a time; the created objects in order. ``tick(n)`` after each batch of ``n``."""
        batches = list(_batches(items, size or self.batch))

        def send(batch: list[tuple[dict, str]]) -> tuple[Tally, list[dict]]:
            part = Tally()
            return part, self.create(endpoint, [b for b, _ in batch], [n for _, n in batch], part)

        made: list[dict] = []
        pool = ThreadPoolExecutor(parallel)
        try:
            for batch, (part, objects) in zip(batches, pool.map(send, batches), strict=True):
                tally.created += part.created
                tally.refused += part.refused
                made += objects
                tick(len(batch))
        finally:
            pool.shutdown(cancel_futures=True)
        return made


def _detail(response) -> str:
    """NetBox's reason in one line (its JSON error, or the start of the body)."""
    if "html" in response.headers.get("content-type", ""):
        return f"an HTML page ({response.reason_phrase}), not an answer of NetBox's API"
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text[:300].split()) or response.reason_phrase
    return error_text(body)[:500] or response.reason_phrase


#: Keys of NetBox's error bodies whose messages stand without their key.
_UNNAMED = ("detail", "non_field_errors", "__all__")


def error_text(body) -> str:
    """NetBox's error body as words: ``{'a_terminations': ['already cabled']}`` is ``a_terminations: already
    cabled``; the messages of a list (a batch's objects, a field's errors) joined with ``; ``, empty ones left out."""
    if isinstance(body, dict):
        texts = ((key, error_text(value)) for key, value in body.items())
        return "; ".join(text if key in _UNNAMED else f"{key}: {text}" for key, text in texts if text)
    if isinstance(body, list):
        return "; ".join(text for text in map(error_text, body) if text)
    return "" if body is None else str(body)


def _batches(rows: list, size: int) -> Iterable[list]:
    return (rows[start : start + size] for start in range(0, len(rows), size))


# -- push -------------------------------------------------------------------------------------------------------
STEPS = (
    "manufacturers",
    "device types",
    "module types",
    "rack types",
    "site",
    "locations",
    "device roles",
    "racks",
    "devices",
    "modules",
    "power panels",
    "power feeds",
    "cables",
    "power cables",
)


def push(nb: NetBox, export: SiteExport, progress: Callable[[str, int], None] | None = None) -> dict[str, Tally]:
    """Create in NetBox what ``export`` lists and it lacks; ``{step: Tally}`` in :data:`STEPS` order.

    ``progress(step, done)`` is called as objects are handled (``done`` objects more of ``step``).
    """
    tick = progress or (lambda step, done: None)
    tallies = {step: Tally() for step in STEPS}
    rows = export.rows

    def by_name(step: str, endpoint: str, file: str, body=lambda r: r, **filters) -> dict:
        size = min(DEVICE_BATCH, nb.batch) if step == "devices" else nb.batch
        return _ensure(nb, endpoint, rows[file], tallies[step], body, lambda n: tick(step, n), size, **filters)

    manufacturers = by_name("manufacturers", "/dcim/manufacturers/", "01-manufacturers.csv")
    types = {
        step: _push_types(nb, step, export.documents(name), manufacturers, tallies[step], tick)
        for step, name in (("device types", "02"), ("module types", "03"), ("rack types", "04"))
    }
    site_id = by_name("site", "/dcim/sites/", "05-sites.csv")[export.site]
    located = {"site_id": site_id}
    locations = by_name(
        "locations", "/dcim/locations/", "06-locations.csv", lambda r: {**r, "site": site_id}, **located
    )
    roles = by_name("device roles", "/dcim/device-roles/", "07-device-roles.csv")
    rack_types = {model: i for (_, model), i in types["rack types"].items()}

    def rack(row: dict) -> dict:
        body = {**row, "site": site_id, "location": locations[row["location"]]}
        return body | {"rack_type": rack_types[row["rack_type"]]} if row["rack_type"] else _without(body, "rack_type")

    racks = by_name("racks", "/dcim/racks/", "08-racks.csv", rack, **located)

    def device(row: dict) -> dict:
        body = {
            "name": row["name"],
            "role": roles[row["role"]],
            "device_type": types["device types"][(row["manufacturer"], row["device_type"])],
            "site": site_id,
            "location": locations[row["location"]],
            "rack": racks[row["rack"]],
            "status": row["status"],
        }
        if row["position"] != "":
            body |= {"position": row["position"], "face": row["face"]}
        return body

    by_name("devices", "/dcim/devices/", "09-devices.csv", device, **located)
    module_types = {model: i for (_, model), i in types["module types"].items()}
    _push_modules(nb, rows["10-modules.csv"], site_id, module_types, tallies["modules"], lambda n: tick("modules", n))
    panels = by_name(
        "power panels",
        "/dcim/power-panels/",
        "11-power-panels.csv",
        lambda r: {**r, "site": site_id, "location": locations[r["location"]]},
        **located,
    )
    feeds = by_name(
        "power feeds",
        "/dcim/power-feeds/",
        "12-power-feeds.csv",
        lambda r: {
            **_without(r, "site", "location"),
            "power_panel": panels[r["power_panel"]],
            "rack": racks[r["rack"]],
        },
        **located,
    )
    ends = _terminations(nb, site_id, bool(feeds))
    for step, name in (("cables", "13-cables.csv"), ("power cables", "14-power-cables.csv")):
        _push_cables(nb, rows[name], site_id, ends, tallies[step], lambda n, step=step: tick(step, n))
    return tallies


def _without(row: dict, *keys: str) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def _ensure(
    nb: NetBox, endpoint: str, rows: list[dict], tally: Tally, body, tick, size: int, **filters
) -> dict[str, int]:
    """``{name: id}`` for ``rows``, creating those whose name NetBox does not hold yet (``filters`` narrow the
    lookup, e.g. to the site)."""
    have = {o["name"]: o["id"] for o in nb.pages(endpoint, brief=1, **filters)}
    missing = [r for r in rows if r["name"] not in have]
    tally.skipped += len(rows) - len(missing)
    tick(len(rows) - len(missing))
    made = nb.create_batches(endpoint, [(body(r), r["name"]) for r in missing], tally, tick, size)
    return have | {o["name"]: o["id"] for o in made}


def _push_types(nb: NetBox, step: str, docs: list[dict], manufacturers: dict, tally: Tally, tick) -> dict:
    """Device, module or rack types (``step`` of :data:`_TYPE_KINDS`) with their component templates (interfaces,
    power ports, module bays); ``{(manufacturer, model): id}``."""
    endpoint, fields, parent = _TYPE_KINDS[step]
    have = {(t["manufacturer"]["name"], t["model"]): t["id"] for t in nb.pages(endpoint, brief=1)}
    new = [d for d in docs if (d["manufacturer"], d["model"]) not in have]
    tally.skipped += len(docs) - len(new)
    made = nb.create(
        endpoint,
        [{"manufacturer": manufacturers[d["manufacturer"]], **{k: d[k] for k in fields if k in d}} for d in new],
        [d["model"] for d in new],
        tally,
    )
    have |= {(t["manufacturer"]["name"], t["model"]): t["id"] for t in made}
    for key, template_endpoint in _TEMPLATES if parent else ():
        templates = [
            ({parent: have[(d["manufacturer"], d["model"])], **c}, f"{d['model']} {c['name']}")
            for d in new
            if (d["manufacturer"], d["model"]) in have
            for c in d.get(key, [])
        ]
        parts = Tally()  # templates count as part of their type: only refusals are reported
        nb.create_batches(template_endpoint, templates, parts, lambda n: None, 1000)
        tally.refused += parts.refused
    tick(step, len(docs))
    return have


def _push_modules(nb: NetBox, rows: list[dict], site_id: int, module_types: dict, tally: Tally, tick) -> None:
    """Modules into their devices' bays (NetBox makes a module's interfaces from its type); a bay that holds a
    module already is skipped, one that does not exist refused."""
    bays = {
        (b["device"]["name"], b["name"]): (b["id"], b["device"]["id"], b.get("installed_module"))
        for b in nb.pages("/dcim/module-bays/", site_id=site_id)
    }
    todo = []
    for row in rows:
        name = f"{row['device']} {row['module_bay']}"
        bay = bays.get((row["device"], row["module_bay"]))
        if bay is None:
            tally.refused.append(f"{name}: no such module bay")
        elif bay[2]:
            tally.skipped += 1
        else:
            body = {"device": bay[1], "module_bay": bay[0], "status": row["status"], "replicate_components": False}
            todo.append(({**body, "module_type": module_types[row["module_type"]]}, name))
    tick(len(rows) - len(todo))
    nb.create_batches("/dcim/modules/", todo, tally, tick, min(DEVICE_BATCH, nb.batch))


def _terminations(nb: NetBox, site_id: int, feeds: bool) -> dict:
    """``{(object type, device or power panel, name): (id, cable)}`` of the site's interfaces, power ports and
    power feeds (the last two only with ``feeds``), what cable ends name."""
    ends = {
        ("dcim.interface", i["device"]["name"], i["name"]): (i["id"], i["cable"])
        for i in nb.pages("/dcim/interfaces/", site_id=site_id, brief=1)
    }
    if feeds:
        ends |= {
            ("dcim.powerport", p["device"]["name"], p["name"]): (p["id"], p["cable"])
            for p in nb.pages("/dcim/power-ports/", site_id=site_id, brief=1)
        }
        ends |= {
            ("dcim.powerfeed", f["power_panel"]["name"], f["name"]): (f["id"], f["cable"])
            for f in nb.pages("/dcim/power-feeds/", site_id=site_id)
        }
    return ends


def _push_cables(nb: NetBox, rows: list[dict], site_id: int, ends: dict, tally: Tally, tick) -> None:
    """Cables by label; one whose end names no interface (power port, power feed), or one with a cable already, is
    refused."""
    labels = {c["label"] for c in nb.pages("/dcim/cables/", site_id=site_id, brief=1) if c.get("label")}
    todo = []
    for row in rows:
        if row["label"] in labels:
            tally.skipped += 1
            continue
        ids, problem = _cable_ends(row, ends)
        if problem:
            tally.refused.append(f"{row['label']}: {problem}")
            continue
        body = {
            "a_terminations": [{"object_type": row["side_a_type"], "object_id": ids[0]}],
            "b_terminations": [{"object_type": row["side_b_type"], "object_id": ids[1]}],
            "status": row["status"],
            "label": row["label"],
        }
        body |= {k: row[k] for k in ("type", "length", "length_unit") if row.get(k) not in (None, "")}
        todo.append(body)
    tick(len(rows) - len(todo))
    nb.create_batches("/dcim/cables/", [(b, b["label"]) for b in todo], tally, tick, parallel=nb.parallel)


def _cable_ends(row: dict, ends: dict) -> tuple[list[int], str | None]:
    """The termination ids of a cable row's two ends, or why the cable cannot be made (no such interface, power
    port or feed, or one that has a cable already)."""
    ids = []
    for side in "ab":
        owner = row.get(f"side_{side}_device") or row[f"side_{side}_power_panel"]
        name = row[f"side_{side}_name"]
        found = ends.get((row[f"side_{side}_type"], owner, name))
        if found is None:
            return [], f"{owner} {name}: no such {row[f'side_{side}_type'].split('.')[-1]}"
        if found[1]:
            return [], f"{owner} {name}: already cabled"
        ids.append(found[0])
    return ids, None


# -- diff -------------------------------------------------------------------------------------------------------
@dataclass
class Difference:
    kind: str  # "device", "module", "power feed", "cable" (or "site" when NetBox has no site of the plan's name)
    name: str  # device name, "device bay" of a module, feed name or cable label
    status: str  # "missing" (in the plan, not in NetBox), "extra" (in NetBox, not in the plan) or "changed"
    detail: str = ""


def _num(value) -> float | None:
    return None if value in ("", None) else round(float(value), 2)


def _end(terminations: list[dict]) -> str:
    """``device:name`` of each termination (a power feed's is its name: NetBox's brief feed names no panel)."""
    return ",".join(
        sorted(
            f"{t['object']['device']['name']}:{t['object']['name']}" if "device" in t["object"] else t["object"]["name"]
            for t in terminations
        )
    )


def _planned_end(row: dict, side: str) -> str:
    name = row[f"side_{side}_name"]
    return f"{row[f'side_{side}_device']}:{name}" if row.get(f"side_{side}_device") else name


def diff(nb: NetBox, export: SiteExport, hall: int | None = None) -> list[Difference]:
    """Devices and cables where NetBox differs from the plan (by device name and cable label; the site's cables
    without a label are extra as ``#<id>``). With ``hall``, only NetBox's objects in that hall's location."""
    sites = nb.pages("/dcim/sites/", name=export.site)
    if not sites:
        return [Difference("site", export.site, "missing", "push the plan first")]
    filters: dict = {"site_id": sites[0]["id"]}
    if hall is not None:
        filters["location"] = site_slug(f"Hall {hall}")
    held_devices = {
        d["name"]: {
            "device_type": d["device_type"]["model"],
            "rack": (d.get("rack") or {}).get("name"),
            "position": _num(d.get("position")),
            "role": d["role"]["name"],
        }
        for d in nb.pages("/dcim/devices/", **filters)
        if d.get("name")
    }
    held_cables = {
        c.get("label") or f"#{c['id']}": {
            "a": _end(c["a_terminations"]),
            "b": _end(c["b_terminations"]),
            "type": c.get("type") or "",
            "length": _num(c.get("length")),
        }
        for c in nb.pages("/dcim/cables/", **filters)
    }
    planned_devices = {
        r["name"]: {
            "device_type": r["device_type"],
            "rack": r["rack"],
            "position": _num(r["position"]),
            "role": r["role"],
        }
        for r in export.rows["09-devices.csv"]
    }
    planned_cables = {
        r["label"]: {
            "a": _planned_end(r, "a"),
            "b": _planned_end(r, "b"),
            "type": r["type"] or "",
            "length": _num(r.get("length")),
        }
        for r in export.rows["13-cables.csv"] + export.rows["14-power-cables.csv"]
    }
    held_modules = {
        f"{m['device']['name']} {m['module_bay']['name']}": {"module_type": m["module_type"]["model"]}
        for m in nb.pages("/dcim/modules/", **filters)
    }
    planned_modules = {
        f"{r['device']} {r['module_bay']}": {"module_type": r["module_type"]} for r in export.rows["10-modules.csv"]
    }
    held_feeds = {
        f["name"]: _feed(f["power_panel"]["name"], (f.get("rack") or {}).get("name"), f)
        for f in nb.pages("/dcim/power-feeds/", **filters)
    }
    planned_feeds = {r["name"]: _feed(r["power_panel"], r["rack"], r) for r in export.rows["12-power-feeds.csv"]}
    return (
        _compare("device", planned_devices, held_devices)
        + _compare("module", planned_modules, held_modules)
        + _compare("power feed", planned_feeds, held_feeds)
        + _compare("cable", planned_cables, held_cables)
    )


def _feed(panel: str, rack: str | None, feed: dict) -> dict:
    """What diff compares of a power feed (NetBox's choice fields as their values)."""
    value = {k: feed[k]["value"] if isinstance(feed[k], dict) else feed[k] for k in ("type", "supply", "phase")}
    return {"power_panel": panel, "rack": rack, **value, "voltage": feed["voltage"], "amperage": feed["amperage"]}


def _compare(kind: str, plan: dict[str, dict], held: dict[str, dict]) -> list[Difference]:
    found = [Difference(kind, name, "missing") for name in plan if name not in held]
    found += [Difference(kind, name, "extra") for name in held if name not in plan]
    for name in plan.keys() & held.keys():
        changed = [
            f"{k}: plan {plan[name][k]}, NetBox {held[name][k]}" for k in plan[name] if plan[name][k] != held[name][k]
        ]
        if changed:
            found.append(Difference(kind, name, "changed", "; ".join(changed)))
    return sorted(found, key=lambda d: (d.kind, d.status, d.name))
