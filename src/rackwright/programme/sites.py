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
