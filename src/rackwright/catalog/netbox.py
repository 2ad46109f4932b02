"""Interop with the NetBox devicetype-library (github.com/netbox-community/devicetype-library).

:func:`to_devicetype` turns a catalog :class:`~rackwright.catalog.schema.Part`
into a device-type document that validates against the library's JSON schema,
so a design's parts can be loaded into NetBox; parts that sit in a device rather
than in rack units (accelerators, CPUs, NICs, DPUs, transceivers) become module
types (:func:`to_moduletype`), enclosures rack types (:func:`to_racktype`), as
NetBox users model them. :func:`from_devicetype` goes the
other way and starts a catalog entry from a library file, listing the
rackwright fields (price, origin, lead time, reliability, provenance ...) that
NetBox does not carry and the user must add. Neither direction invents data.

Conventions of the library that the export follows: the slug is
``<manufacturer>-<model>`` slugified, the file is
``device-types/<Manufacturer>/<model slug>.yaml`` starting with ``---``,
``u_height`` is a multiple of 0.5 U, ``weight`` a multiple of 0.01, and power
draws are whole watts per power port.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from ..errors import InputError
from ..units import UnitError, from_si, parse_quantity
from ..validity import OutOfDomain, require
from ..yamlio import read_yaml, to_plain
from .schema import Part
from .specs import KINDS, SPEC_FIELDS

RACK_UNIT_M = 0.04445  # EIA-310 rack unit; NetBox heights count these
HALF_DEPTH_M = 0.5  # deeper than this, a device also blocks the rear face of its units

#: (rackwright connector, Gb/s per port) → NetBox interface type (NetBox 4.7's ``InterfaceTypeChoices``; the
#: 1.6 Tb/s ones since NetBox 4.5.6). Ports with no entry here export as ``other`` with the speed and connector
#: written in the interface description.
INTERFACE_TYPES: dict[tuple[str, float], str] = {
    ("rj45", 0.1): "100base-tx",
    ("rj45", 1): "1000base-t",
    ("rj45", 2.5): "2.5gbase-t",
    ("rj45", 5): "5gbase-t",
    ("rj45", 10): "10gbase-t",
    ("sfp28", 25): "25gbase-x-sfp28",
    ("sfp28", 50): "50gbase-x-sfp28",
    ("qsfp-dd", 100): "100gbase-x-qsfpdd",
    ("qsfp-dd", 200): "200gbase-x-qsfpdd",
    ("qsfp-dd", 400): "400gbase-x-qsfpdd",
    ("qsfp-dd", 800): "800gbase-x-qsfpdd",
    ("qsfp112", 400): "400gbase-x-qsfp112",
    ("osfp", 400): "400gbase-x-osfp",
    ("osfp", 800): "800gbase-x-osfp",
    ("osfp", 1600): "1.6tbase-x-osfp1600",
    ("qsfp-dd", 1600): "1.6tbase-x-qsfpdd1600",
}
_CONNECTOR_OF = {netbox: connector for (connector, _), netbox in INTERFACE_TYPES.items()}
#: InfiniBand types carry their speed in the generation name, not a number.
_INFINIBAND_GBPS = {"infiniband-edr": 100, "infiniband-hdr": 200, "infiniband-ndr": 400, "infiniband-xdr": 800}
_NOT_PHYSICAL = {"virtual", "bridge", "lag"}
#: Interfaces of the NICs and DPUs a tray holds (``nic3``, ``dpu1``): not the part's own ports.
_HELD_PORT = re.compile(r"^(nic|dpu)\d+$")

#: NetBox power-port type by kind: busbar-fed Open Rack trays and DC parts take a
#: DC terminal, rack-level power and cooling gear a three-phase IEC 60309 feed,
#: small management switches a C14 inlet, components powered through their host
#: board no inlet of their own ("other"); everything else (servers, storage,
#: data-centre switches) the 16 A C20 inlet of typical high-power PSUs.
POWER_PORT_TYPES: dict[str, str] = {
    "accelerator": "other",
    "cpu": "other",
    "nic": "other",
    "dpu": "other",
    "transceiver": "other",
    "compute_tray": "dc-terminal",
    "scale_up_switch_tray": "dc-terminal",
    "dc_dc": "dc-terminal",
    "bbu": "dc-terminal",
    "busbar": "dc-terminal",
    "power_shelf": "iec-60309-3p-n-e-6h",
    "power_sidecar": "iec-60309-3p-n-e-6h",
    "pdu": "iec-60309-3p-n-e-6h",
    "cdu": "iec-60309-3p-n-e-6h",
    "management_switch": "iec-60320-c14",
}
DEFAULT_POWER_PORT_TYPE = "iec-60320-c20"
SWITCH_KINDS = ("scale_out_switch", "scale_up_switch", "scale_up_switch_tray", "management_switch")
#: Kinds exported as NetBox module types, with the name of the module bays a device type holding them gets
#: (``GPU1``, ``CPU1``, ``NIC1``...); transceivers sit in a switch's or NIC's cage, so they get no bay here.
MODULE_KINDS: dict[str, str | None] = {
    "accelerator": "GPU",
    "cpu": "CPU",
    "nic": "NIC",
    "dpu": "DPU",
    "transceiver": None,
}
#: Kinds that pass power on to the rack (a site's power feed connects to their input port).
FED_KINDS = ("power_shelf", "pdu")
#: NetBox's rack widths (``RackWidthChoices``) by rackwright rack standard.
RACK_WIDTH_IN = {"eia-19": 19, "orv3-21": 21}

#: rackwright airflow → NetBox airflow (rackwright "none" has no NetBox value and is omitted).
AIRFLOW = {"front-to-rear": "front-to-rear", "rear-to-front": "rear-to-front", "passive": "passive"}

#: Required rackwright fields that a NetBox device type never carries.
ALWAYS_MISSING = (
    "category",
    "price_usd",
    "origin",
    "lead_time_weeks",
    "afr or mtbf_h",
    "source",
    "field_sources or assumptions for price_usd, lead_time_weeks, reliability, origin",
)
#: Kinds usually cold-plate cooled, whose thermal share NetBox cannot express.
LIQUID_KINDS = ("server", "compute_tray", "scale_up_switch_tray", "scale_up_switch")


# -- export ---------------------------------------------------------------------------------------
def to_devicetype(part: Part, catalog=None, lanes: int = 1) -> dict:
    """The devicetype-library document for ``part`` (only fields the library schema allows).

    A part that holds others (a compute tray's GPUs, CPUs and NICs) is exported as the device
    NetBox sees: its power ports carry the draw of the whole assembly and its interfaces are
    the ports of the NICs (``nic1``...) and DPUs (``dpu1``...) it holds. Contained parts are
    looked up in ``catalog`` (default: the built-in catalog).

    ``lanes`` > 1 exports a switch as a site plan runs it, each physical port broken out into that
    many lanes: the interfaces are the lanes (:func:`breakout_names`), typed for the lane's speed,
    and the model is :func:`breakout_model` (a type of its own beside the unbroken one).
    """
    contents = _contents(part, catalog)
    lanes = lanes if part.kind in SWITCH_KINDS and lanes > 1 else 1
    model = breakout_model(part, lanes) if lanes > 1 else part.model[:100]
    doc: dict[str, Any] = {
        "manufacturer": part.manufacturer[:100],
        "model": model,
        "slug": slug(part.manufacturer, model),
    }
    if _is_sku(part.model):
        doc["part_number"] = part.model
    doc["u_height"] = u_height(part.value("height"))
    depth = part.value("depth")
    doc["is_full_depth"] = depth is None or depth > HALF_DEPTH_M
    airflow, weight = part.text("airflow", ""), part.value("weight")
    if airflow in AIRFLOW:
        doc["airflow"] = AIRFLOW[airflow]
    if weight is not None:
        doc["weight"] = _plain(round(weight, 2))
        doc["weight_unit"] = "kg"
    if part.description:
        doc["description"] = part.description[:200]
    doc["comments"] = _comments(part, *([f"rackwright breakout: {lanes} lanes per port"] if lanes > 1 else []))
    doc.update(_power(part, contents))
    interfaces = _interfaces(part, contents, lanes)
    if interfaces:
        doc["interfaces"] = interfaces
    bays = module_bays(part, catalog)
    if bays:
        doc["module-bays"] = bays
    return doc


def module_bays(part: Part, catalog=None) -> list[dict]:
    """One module bay per accelerator, CPU, NIC and DPU ``part`` holds directly (``GPU1``..., numbered per kind in
    the order of its ``contains``; the position is the name, so a NIC's port in bay NIC1 is ``NIC1-p1``, never the
    same name as DPU1's), where :func:`to_moduletype`'s modules are installed."""
    return [bay for bay, _ in bay_modules(part, catalog)]


def bay_modules(part: Part, catalog=None) -> list[tuple[dict, Part]]:
    """``(bay, part)`` for each of :func:`module_bays`: the bay and the part installed in it."""
    if not part.contains:
        return []
    if catalog is None:
        from .loader import load_catalog

        catalog = load_catalog()
    found: list[tuple[dict, Part]] = []
    counts: Counter[str] = Counter()
    for child in part.contains:
        held = catalog.get(child.part) if child.part in catalog else None
        prefix = MODULE_KINDS.get(held.kind) if held is not None else None
        if held is None or prefix is None:
            continue
        for _ in range(int(child.count)):
            counts[prefix] += 1
            name = f"{prefix}{counts[prefix]}"  # also the position: unique, so NIC1's and DPU1's ports differ
            found.append(({"name": name, "position": name}, held))
    return found


def to_moduletype(part: Part) -> dict:
    """The devicetype-library module-type document for a part that sits in a device (:data:`MODULE_KINDS`).

    NICs and DPUs carry their ports as interfaces named ``{module}-p1``... (NetBox puts the bay's position for
    ``{module}``). No power port: the host's device type carries the whole assembly's draw (:func:`to_devicetype`),
    so the module's own figure is written into the comments instead of being counted twice."""
    doc: dict[str, Any] = {"manufacturer": part.manufacturer[:100], "model": part.model[:100]}
    if _is_sku(part.model):
        doc["part_number"] = part.model
    weight = part.value("weight")
    if weight is not None:
        doc["weight"] = _plain(round(weight, 2))
        doc["weight_unit"] = "kg"
    if part.kind in ("nic", "dpu"):
        doc["interfaces"] = [{**i, "name": "{module}-p" + i["name"]} for i in _port_group(part, "", 1)]
    if part.description:
        doc["description"] = part.description[:200]
    power = part.value("power")
    doc["comments"] = _comments(part, *([f"Power: {_plain(round(power))} W, drawn through its host"] if power else []))
    return doc


def to_racktype(part: Part) -> dict:
    """The devicetype-library rack-type document for an enclosure: a 4-post cabinet of the enclosure's usable
    height in whole units, its width standard (19 or 21 inch) and outer size and weight in mm and kg."""
    usable = part.value("usable_height") or part.value("height")
    doc: dict[str, Any] = {
        "manufacturer": part.manufacturer[:100],
        "model": part.model[:100],
        "slug": slug(part.manufacturer, part.model),
        "form_factor": "4-post-cabinet",
        "width": RACK_WIDTH_IN.get(part.text("rack_standard", "eia-19"), 19),
        "u_height": int(usable / RACK_UNIT_M + 1e-6) if usable else 42,
        "starting_unit": 1,
    }
    outer = {f"outer_{k}": part.value(k) for k in ("width", "height", "depth")}
    doc |= {k: _plain(round(v * 1000, 2)) for k, v in outer.items() if v is not None}
    if any(v is not None for v in outer.values()):
        doc["outer_unit"] = "mm"
    weight, payload = part.value("weight"), part.value("max_payload")
    if weight is not None:
        doc["weight"] = _plain(round(weight, 2))
    if payload is not None:
        doc["max_weight"] = int(payload)
    if weight is not None or payload is not None:
        doc["weight_unit"] = "kg"
    if part.description:
        doc["description"] = part.description[:200]
    doc["comments"] = _comments(part)
    return doc


def _comments(part: Part, *lines: str) -> str:
    """Where a document came from: the part's rackwright id and kind (what :func:`kind_from_comments` reads back),
    ``lines``, and its source."""
    source = part.source
    head = [f"rackwright id: {part.id}", f"rackwright kind: {part.kind}", *lines]
    return "\n".join([*head, f"Source: [{source.title}]({source.url}) ({source.date})"])


def slug(manufacturer: str, model: str) -> str:
    """``manufacturer-model`` slugified the way the library's tests check it (cut to the schema's 100)."""
    return f"{_slugify(manufacturer)}-{_slugify(model)}"[:100].rstrip("-")


def u_height(height_m: float | None) -> float | int:
    """Rack units for a height in metres, rounded *up* to the schema's 0.5 U step (0 for 0U parts).

    An Open Rack part (1 OU = 48 mm) is converted by length, so it claims every
    EIA unit it physically overlaps.
    """
    if not height_m:
        return 0
    return _plain(math.ceil(height_m / RACK_UNIT_M * 2 - 1e-6) / 2)


def _slugify(text: str) -> str:
    text = text.casefold().replace(" ", "-").replace("+", "-plus").replace("&", "-and-").replace("_", "-")
    return re.sub(r"-{2,}", "-", re.sub(r"[^-a-z0-9]", "-", text)).strip("-")


def _is_sku(model: str) -> bool:
    """A model that reads as an orderable part number: one word with a digit, ≤ 50 characters."""
    return len(model) <= 50 and not re.search(r"\s", model) and bool(re.search(r"\d", model))


def _plain(number: float) -> float | int:
    return int(number) if float(number).is_integer() else number


def _contents(part: Part, catalog=None) -> list[tuple[Part, float]]:
    """``(part, count)`` for everything ``part`` holds, depth first (empty when it holds nothing)."""
    if not part.contains:
        return []
    if catalog is None:
        from .loader import load_catalog

        catalog = load_catalog()
    rows = []
    for child in part.contains:
        if child.part not in catalog:
            raise InputError.single(
                None,
                f"part {part.id!r} contains {child.part!r}, which is not in the catalog",
                hint="export from the catalog that defines both",
            )
        rows += [(p, n) for p, n, _ in catalog.explode(child.part, child.count)]
    return rows


def _power(part: Part, contents: Sequence[tuple[Part, float]] = ()) -> dict:
    """One power port per PSU bay (``psu_slots``, else one), each able to carry the whole load.

    The load is the part's own ``power`` plus that of every part it holds (a compute tray's
    ~6.4 kW, not its board's 550 W); the allocated draw is the typical power summed the same
    way, given only when every powered part of the assembly has a typical figure.
    A part without a ``power`` figure gets no power ports: rackwright does not
    know whether it is passive or merely lacks the figure. A power shelf or PDU (:data:`FED_KINDS`), which passes
    power on rather than using it, gets one input port ``input`` whose draw is its rated output over its efficiency
    (what a site's power feed connects to).
    """
    capacity = part.value("capacity")
    if part.kind in FED_KINDS and not part.value("power") and capacity:
        draw = capacity / (part.value("efficiency") or 1.0)
        return {"power-ports": [{"name": "input", "type": POWER_PORT_TYPES[part.kind], "maximum_draw": round(draw)}]}
    parts = [(part, 1.0), *contents]
    powered = [(p.value("power", 0.0), n) for p, n in parts if p.value("power")]
    power = sum(watts * n for watts, n in powered)
    typicals = [p.value("typical_power") for p, n in parts if p.value("power")]
    typical = (
        sum(t * n for t, (_, n) in zip(typicals, powered, strict=True) if t is not None)
        if powered and all(typicals)
        else None
    )
    if not power:
        return {}
    port = {"type": POWER_PORT_TYPES.get(part.kind, DEFAULT_POWER_PORT_TYPE), "maximum_draw": max(1, round(power))}
    if typical:
        port["allocated_draw"] = max(1, round(typical))
    count = int(part.value("psu_slots") or 1)
    return {"power-ports": [{"name": f"PSU{i}", **port} for i in range(count)]}


def breakout_model(part: Part, lanes: int) -> str:
    """The model name of ``part`` broken out into ``lanes`` per port: ``SN5600 (128 x 400G breakout)``."""
    ports = int(part.value("ports") or 0)
    speed = part.value("port_speed")
    rate = f" x {_plain(round(from_si(speed, 'Gb/s', 'data_rate') / lanes, 3))}G" if speed else ""
    suffix = f" ({ports * lanes}{rate} breakout)"
    return part.model[: 100 - len(suffix)] + suffix


def breakout_names(port: int, lanes: int) -> list[str]:
    """The interface names of physical switch port ``port`` (1-based) broken out into ``lanes``: ``swp3s0``,
    ``swp3s1`` (Cumulus/NVIDIA naming); ``swp3`` itself when ``lanes`` is 1."""
    return [f"swp{port}s{lane}" for lane in range(lanes)] if lanes > 1 else [f"swp{port}"]


def _interfaces(part: Part, contents: Sequence[tuple[Part, float]] = (), lanes: int = 1) -> list[dict]:
    """The part's own ports (``swpN`` on switches, ``ethN`` otherwise; with ``lanes`` > 1 the lanes of each switch
    port, ``swpNs0``...), then the ports of the NICs and DPUs it holds: ``nic1``... over every port of every NIC in
    order (the names the site's cable plan uses), ``dpu1``... likewise."""
    if lanes > 1:
        own = _lanes(part, lanes)
    else:
        own = _port_group(part, "swp" if part.kind in SWITCH_KINDS else "eth", 1 if part.kind in SWITCH_KINDS else 0)
    held = []
    for kind, prefix in (("nic", "nic"), ("dpu", "dpu")):
        group = []
        for child, count in contents:
            if child.kind == kind:
                group += _port_group(child, prefix, 1) * int(count)
        held += [{**interface, "name": f"{prefix}{i}"} for i, interface in enumerate(group, 1)]
    return own + held


def _port_group(part: Part, prefix: str, first: int) -> list[dict]:
    """``ports`` interfaces of ``part`` named ``prefix<first>``... with NetBox's type for its speed and connector."""
    kind, extra = _port_type(part)
    ports = int(part.value("ports") or 0)
    return [{"name": f"{prefix}{i}", "type": kind, **extra} for i in range(first, first + ports)]


def _lanes(part: Part, lanes: int) -> list[dict]:
    """Each switch port as ``lanes`` interfaces (:func:`breakout_names`) of NetBox's type for the lane speed."""
    kind, extra = _port_type(part, lanes)
    rows = []
    for port in range(1, int(part.value("ports") or 0) + 1):
        for lane, name in enumerate(breakout_names(port, lanes)):
            rows.append({"name": name, "type": kind, **(extra or {"description": f"lane {lane} of swp{port}"})})
    return rows


def _port_type(part: Part, lanes: int = 1) -> tuple[str, dict]:
    """NetBox's interface type for the part's port speed (over ``lanes``) and connector; ``other`` comes with the
    speed and connector as its description (what :func:`from_devicetype` reads back)."""
    speed = part.value("port_speed")
    gbps = round(float(from_si(speed, "Gb/s", "data_rate")) / lanes, 3) if speed else None
    connector = part.text("connector", "")
    kind = INTERFACE_TYPES.get((connector, gbps), "other") if gbps is not None else "other"
    return kind, ({} if kind != "other" else {"description": _describe(gbps, connector)})


def _describe(gbps: float | None, connector: str) -> str:
    """Speed and connector of a port NetBox has no type for, in words :func:`from_devicetype` reads back."""
    return " ".join(filter(None, [f"{_plain(gbps)} Gb/s" if gbps else "", connector])) or "network port"


def write_devicetype(part: Part, outdir: str | Path) -> Path:
    """Write ``outdir/<Manufacturer>/<model slug>.yaml`` (the library's layout and file-name rule): a device type;
    for a module kind (:data:`MODULE_KINDS`) a module type under ``outdir/module-types/``, for an enclosure a rack
    type under ``outdir/rack-types/`` (the library keeps those in folders of those names)."""
    if part.kind in MODULE_KINDS:
        doc, folder = to_moduletype(part), Path(outdir) / "module-types"
    elif part.kind == "enclosure":
        doc, folder = to_racktype(part), Path(outdir) / "rack-types"
    else:
        doc, folder = to_devicetype(part), Path(outdir)
    doc["comments"] = LiteralScalarString(doc["comments"] + "\n")
    path = folder / part.manufacturer.replace("/", "-") / f"{_slugify(part.model)}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.explicit_start = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    return path


# -- import ---------------------------------------------------------------------------------------
def read_devicetype(path: str | Path) -> tuple[dict, list[str]]:
    """Read a library YAML file; see :func:`from_devicetype`."""
    return from_devicetype(to_plain(read_yaml(path)), str(path))


def from_devicetype(doc: dict, file: str | None = None) -> tuple[dict, list[str]]:
    """A rackwright part mapping from a device-type document, and the fields the user must still add.

    Only what NetBox records is carried over (height, weight, largest power draw,
    the main group of interfaces). ``kind`` is the one :func:`to_devicetype` wrote into
    ``comments`` (``rackwright kind: ...``, or the kind of the built-in part named by
    ``rackwright id: ...``), else guessed by :func:`guess_kind`. Empty values (``null``,
    ``''``), as NetBox's own export writes them for unset fields, count as absent.
    Raises :class:`InputError` when ``doc`` is not a device type.
    """
    _require_devicetype(doc, file)
    specs = {**_mechanical(doc, file), **_electrical(doc, file), **_ports(doc)}
    kind = kind_from_comments(doc.get("comments")) or guess_kind(doc, specs)
    part: dict[str, Any] = {
        "id": _slugify(str(doc.get("slug") or slug(doc["manufacturer"], doc["model"]))),
        "kind": kind,
        "manufacturer": str(doc["manufacturer"]),
        "model": str(doc["model"]),
    }
    if doc.get("description"):
        part["description"] = str(doc["description"])
    part["specs"] = specs
    missing = list(ALWAYS_MISSING)
    missing += [name for name in ("height", "weight", "power") if name not in specs and not _zero_u(doc, name)]
    if kind in LIQUID_KINDS:
        missing.append("liquid_fraction")
    if "airflow" not in specs and doc.get("airflow"):
        missing.append(f"airflow (NetBox '{doc['airflow']}' has no rackwright equivalent)")
    return part, missing


def kind_from_comments(comments) -> str | None:
    """The part kind recorded in a device type's comments by :func:`to_devicetype`, if any.

    ``rackwright kind: K`` wins; an older export names only ``rackwright id: ID``, whose kind
    is looked up in the built-in catalog (None when the id is unknown or the catalog
    does not load).
    """
    text = str(comments or "")
    match = re.search(r"^\s*rackwright kind:\s*([a-z0-9_]+)\s*$", text, re.MULTILINE)
    if match and match.group(1) in KINDS:
        return match.group(1)
    match = re.search(r"^\s*rackwright id:\s*(\S+)\s*$", text, re.MULTILINE)
    if not match:
        return None
    try:
        from .loader import load_catalog

        catalog = load_catalog()
    except Exception:  # a catalog that does not load leaves the guess to the components
        return None
    return catalog.parts[match.group(1)].kind if match.group(1) in catalog else None


def guess_kind(doc: dict, specs: dict) -> str:
    """Kind from what the device type shows; a guess the user should check.

    Power outlets or "pdu" in the name → ``pdu``; 16 or more data ports or
    "switch" in the name → ``management_switch`` when the ports run at a known
    ≤ 10 Gb/s, else ``scale_out_switch``; anything else → ``server``.
    """
    name = f"{doc.get('model', '')} {doc.get('part_number', '')} {doc.get('description', '')}".casefold()
    if doc.get("power-outlets") or "pdu" in name:
        return "pdu"
    if specs.get("ports", 0) >= 16 or "switch" in name:
        speed = specs.get("port_speed")
        slow = speed is not None and parse_quantity(speed, "data_rate") <= 10e9 / 8
        return "management_switch" if slow else "scale_out_switch"
    return "server"


def _require_devicetype(doc, file) -> None:
    if not isinstance(doc, dict):
        raise InputError.single(
            file,
            "not a NetBox device type: the document is not a mapping",
            hint="a device type starts with 'manufacturer:' and 'model:'",
        )
    missing = [key for key in ("manufacturer", "model") if not doc.get(key)]
    if missing:
        raise InputError.single(
            file,
            f"not a NetBox device type: no {' or '.join(missing)}",
            hint="a device type names its manufacturer and model",
        )
    for key in ("interfaces", "power-ports", "console-ports"):
        for i, item in enumerate(doc.get(key) or []):
            if isinstance(item, dict) and not isinstance(item.get("type", ""), str):
                raise InputError.single(
                    file,
                    f"an interface or port type is a name, not {item['type']!r}",
                    f"{key}[{i}].type",
                    "use a NetBox type such as 800gbase-x-osfp",
                )


def _number(value, path: str, file, quantity: str | None = None, si_per_unit: float = 1.0) -> float:
    """``value`` as a float; with ``quantity``, ``value · si_per_unit`` must lie in its domain."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError.single(file, f"expected a number, got {value!r}", path=path)
    if quantity:
        _in_domain(value * si_per_unit, quantity, path, file)
    return float(value)


def _in_domain(si: float, quantity: str, path: str, file) -> float:
    """``si`` where it lies in the domain of ``quantity`` (rackwright.validity), else InputError at ``path``."""
    try:
        return require(quantity, si)
    except OutOfDomain as exc:
        raise InputError.single(file, str(exc), path=path, hint=f"correct {path} in the device type") from None


def _zero_u(doc: dict, name: str) -> bool:
    """A 0U device legitimately has no height."""
    return name == "height" and doc.get("u_height") == 0


def _mechanical(doc: dict, file) -> dict:
    specs = {}
    if doc.get("u_height"):
        specs["height"] = f"{_plain(_number(doc['u_height'], 'u_height', file, 'length', RACK_UNIT_M))} U"
    if doc.get("weight") is not None:
        unit = doc.get("weight_unit") or "kg"
        try:
            kg = parse_quantity(f"{_number(doc['weight'], 'weight', file)} {unit}", "mass")
        except UnitError:
            raise InputError.single(
                file, f"unknown weight_unit {unit!r}", "weight_unit", "use kg, g, lb or oz"
            ) from None
        specs["weight"] = f"{_plain(round(_in_domain(kg, 'mass', 'weight', file), 3))} kg"
    if doc.get("airflow") in AIRFLOW.values():
        specs["airflow"] = doc["airflow"]
    return specs


def _electrical(doc: dict, file) -> dict:
    """Largest maximum (and allocated) draw over the power ports, as rated (and typical) power."""
    specs = {}
    ports = [p for p in doc.get("power-ports") or [] if isinstance(p, dict)]
    for key, spec in (("maximum_draw", "power"), ("allocated_draw", "typical_power")):
        draws = [
            _number(p[key], f"power-ports[{i}].{key}", file, "power")
            for i, p in enumerate(ports)
            if p.get(key) is not None
        ]
        if draws:
            specs[spec] = f"{_plain(max(draws))} W"
    return specs


def _ports(doc: dict) -> dict:
    """Ports, speed and connector of the interface group with the most bandwidth (management ports and the ports
    of held NICs and DPUs, ``nicN``/``dpuN``, aside)."""
    groups = Counter(
        (i.get("type"), (i.get("description") or "") if i.get("type") == "other" else "")
        for i in doc.get("interfaces") or []
        if isinstance(i, dict)
        and not i.get("mgmt_only")
        and i.get("type") not in _NOT_PHYSICAL
        and not _HELD_PORT.match(str(i.get("name") or ""))
    )
    if not groups:
        return {}
    rated = [(count * (_gbps(str(kind), text) or 0), count, kind, text) for (kind, text), count in groups.items()]
    _, count, kind, text = max(rated, key=lambda row: row[:2])
    specs: dict[str, int | str] = {"ports": count}
    gbps = _gbps(str(kind), text)
    if gbps:
        specs["port_speed"] = f"{_plain(gbps)} Gb/s"
    connector = _CONNECTOR_OF.get(str(kind)) or _described_connector(str(kind), text)
    if connector:
        specs["connector"] = connector
    return specs


def _gbps(kind: str, description: str) -> float | None:
    """Per-port Gb/s from a NetBox type (``1000base-t``, ``800gbase-x-osfp``) or our ``other`` description."""
    if kind in _INFINIBAND_GBPS:
        return _INFINIBAND_GBPS[kind]
    match = re.match(r"^(\d+(?:\.\d+)?)([gt]?)base", kind or "")
    if match:
        return float(match.group(1)) * {"": 1e-3, "g": 1, "t": 1e3}[match.group(2)]
    match = re.match(r"^(\d+(?:\.\d+)?) Gb/s", description) if kind == "other" else None
    return float(match.group(1)) if match else None


def _described_connector(kind: str, description: str) -> str | None:
    """The connector written into an ``other`` interface's description by :func:`to_devicetype`."""
    word = description.rsplit(" ", 1)[-1] if kind == "other" and description else ""
    return word if word in SPEC_FIELDS["connector"].choices else None
