"""Rack elevation as SVG (drawsvg): front and rear to scale on the U/OU grid, with a title block of totals.

Front: every device in its units, labelled (slot, index, part), coloured by category; free units hatched and
named. Rear: the slots' outlines, the busbar, the manifold's supply and return with a quick disconnect at each
liquid-cooled device, and the parts that take no height (an NVLink spine, vertical PDUs, a rear-door heat
exchanger) where they sit. The title block carries the evaluated totals: IT and input power, weight, heat to
liquid and to air, units used and free.

Blade racks (Kyber): slots that take no height but have a ``position`` are vertical blades seated in pods that
fill the rack from the lowest such position to its top, one pod per backplane (midplane) part, counts split
evenly over the pods. The front shows each pod's compute blades with the power modules under them; the rear its
midplane and switch blades, with a supply and a return header and a quick disconnect per liquid-cooled blade.
Inside a pod the drawing is schematic (bands, not to scale). Row equipment (a power sidecar, an in-row CDU) is
drawn beside the rack.
"""

from __future__ import annotations

from dataclasses import dataclass

import drawsvg as draw
import numpy as np

from ..models.mechanical import pitch_name
from ..rack.chain import RackModel, effective_limits
from ..rack.evaluation import Rack
from ..rack.figures import BY_KEY
from .present import figure_format

#: Fill colour per part category.
COLOURS = {
    "compute": "#4c78a8",
    "networking": "#72b7b2",
    "power": "#e45756",
    "cooling": "#54a0ff",
    "cabling": "#b279a2",
    "mechanical": "#9d9d9d",
}
BUSBAR, SUPPLY, RETURN, FREE = "#b87333", "#1f77b4", "#d62728", "#fafafa"
UNIT_PX = 16.0  # pixels per mounting unit
VIEW_PX = 320.0  # width of each view
MARGIN = 40.0
GRID_PX = 34.0  # room for the unit numbers beside each view
TITLE_PX = 132.0  # the title block: name, enclosure, two lines of totals, two of inputs
LEGEND_PX = 330.0
PLANT_PX = 38.0  # width of each piece of row equipment drawn beside the rack
ROW_HEADING_PX = 84.0  # "IN THE ROW" in 12 px bold: the row-equipment column is at least this wide, clear of the legend
#: Relative height of a blade slot's band in its pod, by category (compute and switch blades tall, modules short).
BAND_WEIGHT = {"compute": 4.0, "networking": 4.0}
HEADER_PX = 16.0  # room at the bottom of a pod's rear for its supply and return headers
CHAR_EM = 0.56  # average width of a sans-serif character, in font sizes
#: The totals of the title block: (label, internal figure key).
TOTALS = (
    ("IT load", "power.it_load"),
    ("input", "power.input"),
    ("weight", "mechanical.weight"),
    ("heat to liquid", "thermal.heat_to_liquid"),
    ("heat to air", "thermal.heat_to_air"),
)
FONT = "sans-serif"


def _shown(key: str, figures: dict) -> str:
    figure = BY_KEY[key]
    shown = figure_format(f"{figure.section}.{figure.json}")
    return f"{shown.value(figure.display(figures[key]))} {shown.unit}".strip() if key in figures else "–"


def _text(d: draw.Drawing, text: str, x: float, y: float, width: float, size: float, **style) -> None:
    """Text at (x, y) in a font no larger than ``size`` that fits ``width``: smaller rather than cut."""
    fitted = min(size, width / (CHAR_EM * max(len(text), 1)))
    d.append(draw.Text(text, max(fitted, 5.0), x, y, font_family=FONT, **style))


def _free_ranges(occupied: np.ndarray) -> list[tuple[int, int]]:
    """Runs of free units (1-based, inclusive) in a boolean occupancy by unit."""
    runs, start = [], None
    for u, taken in enumerate([*occupied, True], start=1):
        if not taken and start is None:
            start = u
        elif taken and start is not None:
            runs.append((start, u - 1))
            start = None
    return runs


def _liquid_slots(model: RackModel) -> set[str]:
    """Slots whose devices carry heat to liquid (a cold plate in the tray or in a part of it)."""
    return {
        item.slot
        for item in model.items
        if item.slot
        and (item.liquid_fraction if item.liquid_fraction is not None else item.part.value("liquid_fraction", 0.0)) > 0
    }


def _vtext(d: draw.Drawing, text: str, x: float, y: float, length: float, size: float, **style) -> None:
    """Text turned to read upwards, centred on (x, y), in a font no larger than ``size`` that fits ``length``."""
    fitted = max(min(size, length / (CHAR_EM * max(len(text), 1))), 5.0)
    d.append(
        draw.Text(
            text,
            fitted,
            x + fitted / 3,
            y,
            font_family=FONT,
            text_anchor="middle",
            transform=f"rotate(-90 {x + fitted / 3} {y})",
            **style,
        )
    )


@dataclass(frozen=True)
class Pod:
    """One pod of a blade rack: its lowest unit, its height in units, its index, and the blade slots with how
    many of each slot's devices sit in every pod."""

    bottom: float
    units: float
    index: int
    slots: tuple


def _is_backplane(part) -> bool:
    return part.specs.get("media") == "backplane"


def blade_pods(model: RackModel, units: int) -> list[Pod]:
    """The pods of a blade rack: its positioned slots that take no height are vertical blades, in pods stacked
    from their lowest position to the rack top, one pod per backplane (midplane) device (one pod where none);
    empty for a rack of stacked trays."""
    blades = [
        s
        for s in model.design.slots
        if s.position is not None and model.slot_heights.get(s.id, 0.0) <= 0 and s.count > 0
    ]
    if not blades:
        return []
    planes = [s.count for s in blades if _is_backplane(model.catalog.get(s.part))]
    count = max(planes[0] if planes else 1, 1)
    base = min(s.position for s in blades if s.position is not None)
    span = (units - base + 1) / count
    per = tuple((s, int(np.ceil(s.count / count))) for s in blades)
    return [Pod(base + k * span, span, k, per) for k in range(count)]


def _face(part) -> str:
    """Where a blade is seen: switch blades, midplanes and cabling at the rear, the rest at the front."""
    return "rear" if part.category in ("networking", "cabling") or _is_backplane(part) else "front"


def _draw_pod(d, model: RackModel, pod: Pod, front_x: float, rear_x: float, y0: float, h: float, liquid) -> None:
    """One pod in both views: each face's blade slots in bands (compute and switch blades tall), each band one strip
    per device, labelled; at the rear the supply and return headers with a quick disconnect per liquid blade."""
    header = HEADER_PX if any(s.id in liquid for s, _ in pod.slots) else 0.0
    # the rear leaves the busbar's strip at its left and the manifold's pipes and label at its right
    views = {"front": (front_x + 2, VIEW_PX - 4, h), "rear": (rear_x + 24, VIEW_PX - 76, h - header)}
    for x, width, _ in views.values():
        d.append(draw.Rectangle(x - 1, y0 + 1, width + 2, h - 2, fill="#fbfbfb", stroke="#444", stroke_width=1.5))
        _text(d, f"pod {pod.index + 1}", x + 2, y0 + 10, 40, 8, fill="#444")
    for view, (x, width, height) in views.items():
        band_slots = [(s, n) for s, n in pod.slots if _face(model.catalog.get(s.part)) == view]
        weights = [BAND_WEIGHT.get(model.catalog.get(s.part).category, 1.0) for s, _ in band_slots]
        y = y0 + 13
        for (slot, n), weight in zip(band_slots, weights, strict=True):
            band = (height - 15) * weight / sum(weights)
            part = model.catalog.get(slot.part)
            strip = width / n
            for k in range(n):
                number = pod.index * n + k + 1
                sx = x + k * strip
                colour = COLOURS.get(part.category, "#ccc")
                d.append(draw.Rectangle(sx + 0.5, y + 0.5, strip - 1, band - 1, fill=colour, stroke="white"))
                label = f"{slot.id} {number}/{slot.count}"
                if n == 1:
                    _text(d, f"{label} · {part.model}", sx + 6, y + band / 2 + 3, strip - 12, 9, fill="white")
                else:
                    _vtext(d, label, sx + strip / 2 - 3, y + band / 2, band - 6, min(9.0, strip - 3), fill="white")
            y += band
    if header:
        liquid_blades = sum(n for s, n in pod.slots if s.id in liquid)
        x, width = views["rear"][0], views["rear"][1]
        for offset, colour in ((header - 5, SUPPLY), (4, RETURN)):
            hy = y0 + h - offset
            d.append(draw.Line(x, hy, x + width, hy, stroke=colour, stroke_width=3))
            pitch = width / liquid_blades
            for k in range(liquid_blades):  # one quick disconnect per liquid-cooled blade on each header
                d.append(draw.Circle(x + (k + 0.5) * pitch, hy, min(2.6, pitch / 2 - 0.3), fill="white", stroke="#222"))


def _height_text(units: float) -> str:
    """A height in rack units as the device list prints it: whole where it is whole (9 OU, not 9.00 OU, beside
    12 OU), else two decimals (a 1 U switch in an Open Rack: 0.93 OU)."""
    whole = round(units)
    return f"{whole}" if abs(units - whole) < 1e-6 else f"{units:.2f}"


def _row_equipment(model: RackModel) -> list[tuple[str, str]]:
    """Equipment beside the rack in its row, (label, category): the power sidecar and an in-row CDU."""
    design, plant = model.design, []
    if design.power.sidecar:
        plant.append((f"power sidecar: {model.catalog.get(design.power.sidecar).model}", "power"))
    cdu = design.cooling.cdu
    if cdu and cdu.placement == "in-row":
        share = f"{cdu.count} per {cdu.racks_served} racks" if cdu.racks_served > 1 else f"{cdu.count} per rack"
        plant.append((f"CDU, in-row ({share}): {model.catalog.get(cdu.part).model}", "cooling"))
    return plant


def _draw_row_equipment(d, plant: list[tuple[str, str]], x: float, top: float, height: float) -> None:
    if not plant:
        return
    d.append(draw.Text("IN THE ROW", 12, x, top - 8, font_family=FONT, font_weight="bold"))
    for i, (label, category) in enumerate(plant):
        px = x + i * PLANT_PX
        d.append(draw.Rectangle(px, top, PLANT_PX - 8, height, fill=COLOURS[category], fill_opacity=0.85, rx=3))
        _vtext(d, label, px + (PLANT_PX - 8) / 2 - 4, top + height / 2, height - 20, 11, fill="white")


def elevation_svg(rack: Rack) -> draw.Drawing:
    """Draw front and rear of an evaluated rack (:func:`rackwright.evaluate`): its resolved design to scale, its
    figures (SI) in the title block."""
    return elevation(rack)[0]


def elevation(rack: Rack) -> tuple[draw.Drawing, dict]:
    """The drawing of :func:`elevation_svg` and what it shows as data (``rackwright elevation --json``): the
    slots placed with their unit positions (``pods`` and ``per_pod`` for vertical blades), the free ranges, the
    units used and free and the title block's totals, in the units of ``evaluate --json``."""
    if rack.model is None:
        raise ValueError(f"an elevation of {rack.name} needs its resolved design: draw a rack from evaluate()")
    model = rack.model
    limits = effective_limits(model, {})
    pitch, usable = float(limits["unit_pitch"]), float(limits["usable_height"])
    units = int(round(usable / pitch)) if np.isfinite(usable) else 48
    unit_name = pitch_name(pitch) or "U"
    height = units * UNIT_PX
    front_x = MARGIN + GRID_PX
    rear_x = front_x + VIEW_PX + 2 * GRID_PX
    plant = _row_equipment(model)
    plant_x = rear_x + VIEW_PX + GRID_PX + 20
    legend_x = plant_x + (max(len(plant) * PLANT_PX, ROW_HEADING_PX) + 20 if plant else 0)
    top = MARGIN + TITLE_PX
    d = draw.Drawing(legend_x + LEGEND_PX, top + height + 2 * MARGIN, origin=(0, 0))
    d.append(draw.Rectangle(0, 0, d.width, d.height, fill="white"))

    def y_of(unit: float) -> float:  # top edge of 1-based ``unit`` (fractional allowed)
        return top + height - (unit - 1) * UNIT_PX

    occupied = np.zeros(units, dtype=bool)
    devices: list[str] = []
    placed: list[dict] = []  # the slots as records, for --json
    ghosts: list[tuple[str, float, float]] = []  # rear: (slot id, top y, bottom y)
    liquid_rows: list[float] = []
    liquid = _liquid_slots(model)
    for slot in model.design.slots:
        part = model.catalog.get(slot.part)
        per = model.slot_heights.get(slot.id, 0.0) / pitch
        if slot.position is None or per <= 0:
            continue
        extent = f"{unit_name}{slot.position}, {_height_text(per * slot.count)} {unit_name}"
        devices.append(f"{slot.id}: {slot.count} × {part.model} ({extent})")
        placed.append(_placed(slot, part, slot.position, per))
        shown = min(slot.count, int(units / per) + 1)  # devices far above the rack top (MEC004) are not drawn
        for k in range(shown):  # k = 0 is the lowest device
            bottom = slot.position + k * per
            if bottom > units:
                break
            lo, hi = int(np.floor(bottom)) - 1, int(np.ceil(bottom + per)) - 1
            occupied[max(lo, 0) : min(hi, units)] = True
            y0 = y_of(bottom + per) + 0.5
            box = per * UNIT_PX - 1
            d.append(draw.Rectangle(front_x + 2, y0, VIEW_PX - 4, box, fill=COLOURS.get(part.category, "#ccc")))
            label = f"{slot.id} {k + 1}/{slot.count} · {part.model}" if slot.count > 1 else f"{slot.id} · {part.model}"
            _text(d, label, front_x + 8, y0 + min(box, 16) / 2 + 4, VIEW_PX - 16, min(10.0, box - 4), fill="white")
            if slot.id in liquid:
                liquid_rows.append(y0 + box / 2)
        ghosts.append((slot.id, y_of(slot.position + min(shown * per, units)), y_of(slot.position)))

    # the two views, their grids and the free units
    for x, view in ((front_x, "FRONT"), (rear_x, "REAR")):
        d.append(draw.Text(view, 12, x, top - 8, font_family=FONT, font_weight="bold"))
        d.append(draw.Rectangle(x, top, VIEW_PX, height, fill="none", stroke="black", stroke_width=2))
        for u in range(1, units + 1):
            y = y_of(u)
            d.append(draw.Line(x, y, x + VIEW_PX, y, stroke="#000", stroke_opacity=0.08))
            grid_x = x - 6 if view == "FRONT" else x + VIEW_PX + 6
            anchor = "end" if view == "FRONT" else "start"
            d.append(
                draw.Text(
                    str(u), 8, grid_x, y - UNIT_PX / 2 + 3, font_family="monospace", fill="#666", text_anchor=anchor
                )
            )
    pods = blade_pods(model, units)
    for pod in pods:
        lo, hi = int(np.floor(pod.bottom)) - 1, int(np.ceil(pod.bottom + pod.units)) - 1
        occupied[max(lo, 0) : min(hi, units)] = True
        _draw_pod(d, model, pod, front_x, rear_x, y_of(pod.bottom + pod.units), pod.units * UNIT_PX, liquid)
    devices += [
        f"{slot.id}: {slot.count} × {model.catalog.get(slot.part).model} ({len(pods)} pods × {per})"
        for slot, per in (pods[0].slots if pods else [])
    ]
    placed += [
        {**_placed(slot, model.catalog.get(slot.part), pods[0].bottom, None), "pods": len(pods), "per_pod": per}
        for slot, per in (pods[0].slots if pods else [])
    ]
    for first, last in _free_ranges(occupied):
        y0, size = y_of(last + 1), (last - first + 1) * UNIT_PX
        d.append(
            draw.Rectangle(
                front_x + 2, y0 + 0.5, VIEW_PX - 4, size - 1, fill=FREE, stroke="#bbb", stroke_dasharray="4 3"
            )
        )
        span = f"{unit_name}{first}" if first == last else f"{unit_name}{first}–{last}"
        _text(
            d,
            f"free: {span} ({last - first + 1} {unit_name})",
            front_x + 8,
            y0 + min(size, 16) / 2 + 4,
            VIEW_PX,
            9,
            fill="#777",
        )

    _rear(d, model, rear_x, top, height, ghosts, liquid_rows, busbar_left=bool(pods))
    _draw_row_equipment(d, plant, plant_x, top, height)
    free = int(units - occupied.sum())
    pod_units = sum(p.units for p in pods)
    used = _title(d, rack, units, unit_name, free, pod_units)
    _legend(d, model, legend_x, top, devices)
    totals = {BY_KEY[key].json: _number(BY_KEY[key], rack.figures.get(key)) for _, key in TOTALS}
    summary = {
        "design": model.design.name,
        "generation": model.design.generation,
        "file": rack.file,
        "unit": unit_name,
        "units": units,
        "units_used": used,
        "units_free": free,
        **totals,
        "slots": placed,
        "free": [{"from_u": first, "to_u": last, "units": last - first + 1} for first, last in _free_ranges(occupied)],
    }
    return d, summary


def _placed(slot, part, position: float, height: float | None) -> dict:
    """A slot of the drawing as a record: its lowest unit, each device's height in units (None for blades in
    pods, whose pods say), no pods unless the caller says."""
    return {
        "slot": slot.id,
        "part": part.id,
        "model": part.model,
        "count": slot.count,
        "position_u": float(position),
        "height_u": height,
        "pods": 0,
        "per_pod": None,
    }


def _number(figure, value) -> float | None:
    """A total in its display unit (kW, kg), None where the evaluation has none."""
    return None if value is None else float(figure.display(value))


def _rear(
    d, model: RackModel, x: float, top: float, height: float, ghosts, liquid_rows, busbar_left: bool = False
) -> None:
    """The rear view's slot outlines, busbar (in the middle, or at the left edge beside blade pods), manifold and
    the parts that take no height."""
    design = model.design
    for slot_id, y0, y1 in ghosts:
        d.append(draw.Rectangle(x + 2, y0 + 0.5, VIEW_PX - 4, y1 - y0 - 1, fill="#f2f2f2", stroke="#c8c8c8"))
        _text(d, slot_id, x + VIEW_PX / 2 + 12, y0 + min(y1 - y0, 16) / 2 + 4, VIEW_PX / 2 - 60, 9, fill="#888")
    if design.power.busbar:
        bx = x + 4 if busbar_left else x + VIEW_PX / 2 - 7
        d.append(draw.Rectangle(bx, top + 2, 14, height - 4, fill=BUSBAR, stroke="#7a4a1f"))
        name = model.catalog.get(design.power.busbar).model
        d.append(
            draw.Text(
                f"busbar: {name}",
                9,
                bx + 10,
                top + height / 2,
                font_family=FONT,
                fill="white",
                transform=f"rotate(-90 {bx + 10} {top + height / 2})",
                text_anchor="middle",
            )
        )
    if design.cooling.manifold:
        name = model.catalog.get(design.cooling.manifold).model
        for offset, colour in ((VIEW_PX - 34, SUPPLY), (VIEW_PX - 18, RETURN)):
            px = x + offset
            d.append(draw.Rectangle(px, top + 2, 10, height - 4, fill=colour, rx=3))
            for y in liquid_rows:  # one quick disconnect per liquid-cooled device on each pipe
                d.append(draw.Circle(px + 5, y, 3.2, fill="white", stroke="#222", stroke_width=1))
        d.append(
            draw.Text(
                f"manifold (supply, return): {name}",
                9,
                x + VIEW_PX - 40,
                top + height / 2,
                font_family=FONT,
                fill="#1f3b57",
                text_anchor="middle",
                transform=f"rotate(-90 {x + VIEW_PX - 40} {top + height / 2})",
            )
        )
    spans = [(y0, y1) for _, y0, y1 in ghosts]
    strips = 0
    for slot in (s for s in design.slots if s.position is None):
        part = model.catalog.get(slot.part)
        label = f"{slot.id}: {slot.count} × {part.model}"
        if part.kind == "rear_door_hx":
            d.append(
                draw.Rectangle(
                    x - 4,
                    top - 4,
                    VIEW_PX + 8,
                    height + 8,
                    fill="none",
                    stroke=SUPPLY,
                    stroke_width=3,
                    stroke_dasharray="10 5",
                )
            )
            _text(d, label, x, top + height + 18, VIEW_PX, 10, fill=SUPPLY)
        elif part.category in ("networking", "cabling") and spans:
            y0, y1 = min(s[0] for s in spans), max(s[1] for s in spans)
            sx = x + 100
            d.append(draw.Rectangle(sx, y0 + 2, 22, y1 - y0 - 4, fill=COLOURS[part.category], fill_opacity=0.85))
            d.append(
                draw.Text(
                    label,
                    9,
                    sx + 14,
                    (y0 + y1) / 2,
                    font_family=FONT,
                    fill="white",
                    text_anchor="middle",
                    transform=f"rotate(-90 {sx + 14} {(y0 + y1) / 2})",
                )
            )
        elif part.kind == "pdu":  # vertical 0U PDUs along the rear
            for _ in range(min(slot.count, 4)):
                sx = x + 6 + 14 * strips
                strips += 1
                d.append(draw.Rectangle(sx, top + 4, 10, height - 8, fill=COLOURS["power"], fill_opacity=0.8))
            d.append(draw.Text(label, 9, x + 6, top + height + 32, font_family=FONT, fill=COLOURS["power"]))


def _title(d, rack: Rack, units: int, unit_name: str, free: int, pod_units: float = 0) -> float | None:
    """The title block; returns the units used that it shows (None where the evaluation has no height)."""
    model, figures = rack.model, rack.figures
    assert model is not None  # elevation_svg checked it
    design = model.design
    enclosure = model.catalog.get(design.enclosure).model
    d.append(draw.Rectangle(MARGIN, MARGIN - 22, d.width - 2 * MARGIN, TITLE_PX - 10, fill="#f7f7f7", stroke="#999"))
    d.append(
        draw.Text(f"{design.name} ({design.generation})", 16, MARGIN + 10, MARGIN, font_family=FONT, font_weight="bold")
    )
    d.append(draw.Text(f"{enclosure}: {units} {unit_name}", 11, MARGIN + 10, MARGIN + 18, font_family=FONT))
    used_figure = figures.get("mechanical.height_used")
    if pod_units and used_figure is not None:  # the model counts no height for vertical blades; their pods take it
        used_figure = used_figure + pod_units
    used = figure_format("mechanical.height_used_u").value(used_figure)
    totals = [f"{label} {_shown(key, figures)}" for label, key in TOTALS]
    d.append(draw.Text(" · ".join(totals[:2] + totals[2:3]), 12, MARGIN + 10, MARGIN + 40, font_family=FONT))
    d.append(
        draw.Text(
            " · ".join(totals[3:]) + f" · {used} {unit_name} used, {free} {unit_name} free",
            12,
            MARGIN + 10,
            MARGIN + 58,
            font_family=FONT,
        )
    )
    for i, line in enumerate(inputs_lines(rack)):
        _text(d, line, MARGIN + 10, MARGIN + 78 + 16 * i, d.width - 2 * MARGIN - 20, 11, fill="#444")
    return None if used_figure is None else float(used_figure)


def inputs_lines(rack: Rack) -> list[str]:
    """The inputs behind the drawing, for its title block: the design file (and the files it extends) and the
    catalog parts it uses (how many carry estimates); the power and cooling choices of the design."""
    model = rack.model
    assert model is not None  # elevation_svg checked it
    design = model.design
    parts = {item.part.id: item.part for item in model.items}
    estimated = sum(1 for part in parts.values() if part.assumptions)
    extends = [path.rsplit("/", 1)[-1] for path in rack.lineage[:-1]]
    cooling = design.cooling
    cdu = f", CDU {model.catalog.get(cooling.cdu.part).model} ({cooling.cdu.placement})" if cooling.cdu else ""
    busbar = f", busbar {model.catalog.get(design.power.busbar).model}" if design.power.busbar else ""
    liquid = (
        f"liquid {model.fluid}, facility water {cooling.facility_supply or 'not given'}{cdu}"
        if _liquid_slots(model)
        else "devices air-cooled"
    )
    return [
        f"design file {rack.file or '(in memory)'}"
        + (f" (extends {', '.join(extends)})" if extends else "")
        + f" · {len(parts)} catalog parts, {estimated} of them with estimated figures (the catalog's assumptions)",
        f"power {model.architecture}, {model.redundancy}{busbar} · cooling {liquid}",
    ]


def _legend(d, model: RackModel, x: float, top: float, devices: list[str]) -> None:
    d.append(draw.Text("categories", 12, x, top + 4, font_family=FONT, font_weight="bold"))
    for i, (category, colour) in enumerate(COLOURS.items()):
        d.append(draw.Rectangle(x, top + 14 + i * 18, 12, 12, fill=colour))
        d.append(draw.Text(category, 11, x + 18, top + 24 + i * 18, font_family=FONT))
    y = top + 14 + len(COLOURS) * 18 + 16
    keys = (("busbar", BUSBAR), ("manifold supply", SUPPLY), ("manifold return", RETURN), ("free units", FREE))
    for i, (name, colour) in enumerate(keys):
        d.append(draw.Rectangle(x, y + i * 18, 12, 12, fill=colour, stroke="#999"))
        d.append(draw.Text(name, 11, x + 18, y + 10 + i * 18, font_family=FONT))
    y += len(keys) * 18 + 8
    d.append(draw.Circle(x + 6, y + 5, 3.2, fill="white", stroke="#222"))
    d.append(draw.Text("quick disconnect (liquid-cooled device)", 11, x + 18, y + 9, font_family=FONT))
    y += 32
    d.append(draw.Text("devices", 12, x, y, font_family=FONT, font_weight="bold"))
    for i, text in enumerate(devices):
        _text(d, text, x, y + 16 + i * 14, LEGEND_PX - 10, 10)
    y += 16 + len(devices) * 14 + 16
    design = model.design
    others = [f"{s.id}: {s.count} × {model.catalog.get(s.part).model}" for s in design.slots if s.position is None]
    if design.cooling.cdu:
        cdu = design.cooling.cdu
        others.append(f"CDU ({cdu.placement}): {model.catalog.get(cdu.part).model}")
    if design.power.sidecar:
        others.append(f"power sidecar: {model.catalog.get(design.power.sidecar).model}")
    d.append(draw.Text("taking no rack units", 12, x, y, font_family=FONT, font_weight="bold"))
    for i, text in enumerate(others or ["none"]):
        _text(d, text, x, y + 16 + i * 14, LEGEND_PX - 10, 10)
