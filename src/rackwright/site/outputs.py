"""The folder a site plan is written to (``rackwright site plan -o DIR``, the programme's per-site plans).

summary.json (the document ``site plan --json`` prints, docs/json.md), generations.json (each rack design's file
and rack count, which ``site export-netbox`` reads), cables.parquet, bom.csv and, when asked, report.html.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import InputError
from ..report.jsonout import document, write_json
from .planner import SitePlan

#: The command whose document summary.json is, wherever it is written (``site plan``, the programme's sites).
COMMAND = "site plan"


def summary_body(summary: dict) -> dict:
    """The plan's summary (:meth:`SitePlan.summary`) for tools: racks per generation and cables per medium as
    records (``generations``, ``media``), their totals under the old keys; the body of the ``site plan``
    document (docs/json.md), which :func:`rackwright.report.jsonout.document` completes."""
    by_media = [
        {"media": m, "links": n, "cable_length_km": summary["cable_length_km"][m]} for m, n in summary["links"].items()
    ]
    return {
        **summary,
        "racks": sum(summary["racks"].values()),
        "generations": [{"generation": g, "racks": n} for g, n in summary["racks"].items()],
        "links": sum(summary["links"].values()),
        "cable_length_km": round(math.fsum(summary["cable_length_km"].values()), 3),
        "media": by_media,
    }


def distribution_halls(plan: SitePlan) -> list[dict]:
    """The feeds of each hall's racks from its distribution panels (:func:`rackwright.site.power.hall_feeds`), as
    ``site export-netbox`` lays them out (:func:`rackwright.site.netbox.hall_loads` of the cable plan): summary.json's
    ``power_chain.distribution.halls``."""
    from ..rack.evaluation import sound_model
    from .netbox import hall_loads
    from .power import FeedSupply, design_feeds, hall_feeds, panels_per_hall

    stage = next(st for st in plan.stages if st.name == "distribution")
    catalog = sound_model(plan.loaded.racks[0], "the site summary").catalog  # the catalog the site was loaded with
    designs = [sound_model(rack, "the site summary").redundancy for rack in plan.loaded.racks]
    generations = [(g.input_power, design_feeds(r)) for g, r in zip(plan.generations, designs, strict=True)]
    loads = hall_loads(plan.cables, generations, catalog.get(plan.loaded.site.fabric.switch))
    supply = FeedSupply.of(catalog.get(stage.part))
    panels = panels_per_hall(stage.units, plan.layout.halls)
    redundancy = plan.loaded.site.power.distribution.redundancy
    return [{"hall": hall, **hall_feeds(racks, panels, supply, redundancy)} for hall, racks in loads.items()]


def write_plan_folder(plan: SitePlan, folder: Path, report: bool = True) -> dict:
    """summary.json, generations.json (each rack design's file and rack count, which ``site export-netbox`` reads),
    cables.parquet, bom.csv (and report.html) in ``folder``; returns the summary's body (:func:`summary_body`)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.single(str(folder), f"cannot create the output folder: {exc}", "-o") from None
    summary = plan.summary()
    summary["power_chain"]["distribution"]["halls"] = distribution_halls(plan)
    body = summary_body(summary)
    write_json(folder / "summary.json", document(COMMAND, body))
    generations = [
        {"name": g.name, "design": str(Path(g.design).resolve()), "racks": g.racks, "trays": g.trays}
        for g in plan.generations
    ]
    (folder / "generations.json").write_text(json.dumps(generations, indent=2) + "\n", encoding="utf-8")
    plan.cables.write_parquet(folder / "cables.parquet")
    plan.bom_frame().write_csv(folder / "bom.csv")
    if report:
        from .report import write_report

        write_report(plan, folder)
    return body
