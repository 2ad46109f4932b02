"""Front elevation of a rack as SVG (drawsvg): slots to scale, coloured by category."""

from __future__ import annotations

import drawsvg as draw
import numpy as np

from ..models.mechanical import pitch_name
from ..rack.chain import RackModel, effective_limits

#: Fill colour per part category.
COLOURS = {
    "compute": "#4c78a8",
    "networking": "#72b7b2",
    "power": "#e45756",
    "cooling": "#54a0ff",
    "cabling": "#b279a2",
    "mechanical": "#9d9d9d",
}
UNIT_PX = 18.0  # pixels per mounting unit
WIDTH_PX = 360.0
MARGIN = 40.0
LEGEND_PX = 380.0
LABEL_CHARS = 58  # longest slot label that fits the rack width at 10 px


def elevation_svg(model: RackModel) -> draw.Drawing:
    """Draw the rack front: each slot at its position, height = count × part height."""
    limits = effective_limits(model, {})
    pitch = limits["unit_pitch"]
    units = int(round(limits["usable_height"] / pitch)) if np.isfinite(limits["usable_height"]) else 48
    height = units * UNIT_PX
    d = draw.Drawing(WIDTH_PX + 2 * MARGIN + LEGEND_PX, height + 2 * MARGIN + 30, origin=(0, 0))
    d.append(draw.Rectangle(0, 0, d.width, d.height, fill="white"))
    unit_name = pitch_name(pitch) or "U"
    d.append(
        draw.Text(
            f"{model.design.name} ({model.design.generation}) — {units} {unit_name}",
            14,
            MARGIN,
            22,
            font_family="sans-serif",
            font_weight="bold",
        )
    )
    top = MARGIN + 10
    d.append(draw.Rectangle(MARGIN, top, WIDTH_PX, height, fill="#f4f4f4", stroke="black", stroke_width=2))
    for u in range(units + 1):
        y = top + height - u * UNIT_PX
        d.append(draw.Line(MARGIN - 4, y, MARGIN, y, stroke="#999"))
        if u < units and u % 2 == 0:
            d.append(draw.Text(str(u + 1), 8, MARGIN - 22, y - 5, font_family="monospace", fill="#666"))
    design = model.design
    unmounted = [
        f"{role}: {model.catalog.get(part_id).model}"
        for role, part_id in (
            ("busbar", design.power.busbar),
            ("manifold", design.cooling.manifold),
            (
                f"CDU ({design.cooling.cdu.placement})" if design.cooling.cdu else "CDU",
                design.cooling.cdu.part if design.cooling.cdu else None,
            ),
        )
        if part_id
    ]
    for slot in model.design.slots:
        part = model.catalog.get(slot.part)
        span = slot.count * model.slot_heights.get(slot.id, 0.0) / pitch
        if slot.position is None or span <= 0:
            unmounted.append(f"{slot.count} × {part.model} ({part.kind})")
            continue
        y = top + height - (slot.position - 1 + span) * UNIT_PX
        colour = COLOURS.get(part.category, "#cccccc")
        per = span / slot.count
        shown = min(slot.count, int(units / per) + 1)  # trays far above the rack top (MEC004) are not drawn
        for k in range(slot.count - shown, slot.count):  # k = 0 is the top tray
            yk = y + k * per * UNIT_PX
            d.append(
                draw.Rectangle(
                    MARGIN + 2, yk + 0.5, WIDTH_PX - 4, per * UNIT_PX - 1, fill=colour, stroke="white", stroke_width=1
                )
            )
        label = f"{slot.id}: {slot.count} × {part.model}"
        label = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        d.append(
            draw.Text(label, 10, MARGIN + 8, y + min(span * UNIT_PX, 14) - 3, font_family="sans-serif", fill="white")
        )
    x = MARGIN + WIDTH_PX + 20
    d.append(draw.Text("categories", 12, x, top + 4, font_family="sans-serif", font_weight="bold"))
    for i, (category, colour) in enumerate(COLOURS.items()):
        d.append(draw.Rectangle(x, top + 14 + i * 18, 12, 12, fill=colour))
        d.append(draw.Text(category, 11, x + 18, top + 24 + i * 18, font_family="sans-serif"))
    y = top + 14 + len(COLOURS) * 18 + 20
    d.append(draw.Text("0U / rear-mounted", 12, x, y, font_family="sans-serif", font_weight="bold"))
    for i, text in enumerate(unmounted):
        d.append(draw.Text(text, 10, x, y + 16 + i * 14, font_family="sans-serif"))
    return d
