"""Site plans for the programme: each site that names a site file, planned for the racks the roadmap sends there.

The site file gives the layout, fabric, power chain, cooling plant and economics; its ``target`` is replaced by
the rack counts per generation deployed at the site by the goal date, and the site planner
(:func:`rackwright.site.planner.plan_site`) runs on the racks the programme evaluated once.
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from ..errors import InputError
from ..site.planner import SitePlan, plan_site
from ..site.schema import LoadedSite, Site
from ..yamlio import problems_from_validation, read_yaml, to_plain
from .schema import LoadedProgramme


def site_with_racks(loaded: LoadedProgramme, index: int, racks: np.ndarray) -> LoadedSite:
    """Site ``index``'s site file with its target set to ``racks`` (one count per generation; zeros left out)."""
    p = loaded.programme
    path = loaded.folder / str(p.sites[index].plan)
    try:
        root = read_yaml(path)
    except InputError as exc:
        raise loaded.error(
            f"site file {p.sites[index].plan!r} cannot be used: {exc}",
            ("sites", index, "plan"),
            "give the path of a site file (rackwright site plan), relative to the programme file",
        ) from None
    data = to_plain(root) if isinstance(root, dict) else {}
    keep = np.flatnonzero(racks > 0)
    data["target"] = {
        "generations": [
            {"design": str((loaded.folder / p.generations[i].design).resolve()), "racks": int(racks[i])} for i in keep
        ]
    }
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), problems_from_validation(exc, root)) from None
    return LoadedSite(site=site, file=str(path), root=root, racks=[loaded.racks[i] for i in keep])


def site_plans(loaded: LoadedProgramme, deployed: np.ndarray) -> dict[str, SitePlan]:
    """A site plan for each site that names a site file and has racks by the goal date (``deployed``: generations ×
    sites × quarters, cumulative)."""
    plans = {}
    for s, site in enumerate(loaded.programme.sites):
        racks = np.round(deployed[:, s, -1]).astype(int)
        if site.plan is not None and racks.any():
            plans[site.id] = plan_site(site_with_racks(loaded, s, racks))
    return plans


#: The figures of a site plan's summary the programme document carries.
SUMMARY_KEYS = (
    "racks",
    "accelerators",
    "it_power_mw",
    "facility_power_mw",
    "pue",
    "annual_energy_gwh",
    "halls",
    "switches",
    "links",
    "cable_length_km",
    "transformers",
    "cdus",
)


def site_record(site_id: str, plan: SitePlan) -> dict:
    """The programme document's record of one site plan."""
    summary = plan.summary()
    return {"site": site_id, **{k: summary[k] for k in SUMMARY_KEYS if k in summary}, "violations": len(plan.errors)}


#: Supply kinds the site plans consume beyond the racks' own BOMs: fabric optics (the site BOM's transceivers) and
#: CDUs (whole units per site; the racks' BOMs carry each rack's share of one, which the roadmap already counts).
SITE_KINDS = ("transceiver", "cdu")


def _site_parts(site_plan: SitePlan) -> dict[str, float]:
    """Parts a site plan needs beyond its racks, by catalog part id: the site BOM's transceivers (the planner lists
    them as text, ``KIND: PART (tier N)``, so the part id is read from it; at tier 1 it counts the switch end only,
    the NIC end being in the rack's BOM) and the cooling's whole CDUs."""
    parts: dict[str, float] = {}
    for item, quantity in site_plan.bom_frame().select("item", "quantity").iter_rows():
        if item.startswith("transceiver: "):
            part = item.removeprefix("transceiver: ").split(" (")[0]
            parts[part] = parts.get(part, 0.0) + quantity
    cdu = next((g.cdu_part for g in site_plan.generations if g.cdu_part), None)
    if cdu is not None and site_plan.cooling["cdus"]:
        parts[cdu] = parts.get(cdu, 0.0) + float(site_plan.cooling["cdus"])
    return parts


def _kind(catalog, part: str) -> str | None:
    return catalog.get(part).kind if part in catalog else None


def site_supply_check(plan) -> list[dict]:
    """Each supply line of a kind in :data:`SITE_KINDS` (or naming a part of one) against what the planned sites
    need too, by the goal date: delivered (the roadmap's caps after the lead time), the racks' use (built racks ×
    BOM quantity per rack, as the roadmap counts it), the site plans' parts beyond the racks' (transceivers; CDUs as
    whole units less the racks' shares at those sites), and the margin. ``plan`` is a
    :class:`rackwright.programme.plan.ProgrammePlan`."""
    from ..catalog import load_catalog

    catalog = load_catalog()
    st = plan.result.structure
    built = np.zeros(len(plan.racks))
    np.add.at(built, st.col_g, st.built * plan.result.schedule.x)
    delivered = st.timeline.supply_cumulative()[:, -1]
    needs = [(site_id, _site_parts(site_plan)) for site_id, site_plan in plan.sites.items()]
    index = {site.id: s for s, site in enumerate(plan.loaded.programme.sites)}
    rows = []
    for p, supply in enumerate(st.roadmap.supply):
        kind = supply.kind or (_kind(catalog, supply.part) if supply.part else None)
        if kind not in SITE_KINDS:
            continue
        per_rack = st.figures.supply_per_rack[p]
        racks_use = float(per_rack @ built)
        sites = {}
        for site_id, parts in needs:
            own = sum(q for part, q in parts.items() if part == supply.part or _kind(catalog, part) == supply.kind)
            shares = float(per_rack @ plan.deployed[:, index[site_id], -1]) if kind == "cdu" else 0.0
            sites[site_id] = round(own - shares, 3)
        need = racks_use + sum(sites.values())
        rows.append(
            {
                "supply": supply.id,
                "kind": kind,
                "unit": supply.unit,
                "delivered_by_goal_date": round(float(delivered[p]), 3),
                "racks_use": round(racks_use, 3),
                "site_plans": sites,
                "margin": round(float(delivered[p]) - need, 3),
                "enough": bool(need <= delivered[p] * (1 + 1e-9)),
            }
        )
    return rows
