"""The plan's summary as summary.json and ``site plan --json`` hold it (docs/json.md): racks and cables as
records with their totals, and each hall's A/B power distribution. Read by the folder writer
(:mod:`rackwright.site.outputs`), the site report and the power one-line (:mod:`rackwright.site.diagrams`)."""

from __future__ import annotations

import math

from .planner import SitePlan


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
