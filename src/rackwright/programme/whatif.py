"""What-ifs and risk on a programme: a generation slipped, any field changed, the Monte Carlo of the roadmap.

* :func:`slipped` — the programme with one generation's first ship later (the property tests' what-if);
* :func:`reach_gw` — the most IT power the programme can deploy by the goal date (the roadmap's reach programme);
* :func:`whatif_document` — the change in every headline number between two plans (``programme whatif``);
* :func:`programme_risk`, :func:`risk_records`, :func:`with_risk` — the roadmap's Monte Carlo on the lines' rates
  (``programme risk``, ``programme plan --samples``).
"""

from __future__ import annotations

import datetime as dt

from ..errors import InputError
from ..roadmap.milp import solve
from ..roadmap.plan import prepare
from ..roadmap.risk import risk
from .plan import factory_capacity, roadmap_with_capacity
from .schema import LoadedProgramme


def reach_gw(loaded: LoadedProgramme) -> float:
    """The most IT power [GW] the programme can deploy by the goal date (the roadmap's reach programme)."""
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    st = prepare(roadmap)
    x = solve(st, mode="reach").x
    return float((st.power_mw * x).sum()) / 1e3


def slipped(loaded: LoadedProgramme, generation: str, days: int) -> LoadedProgramme:
    """What-if: the programme with ``generation``'s first ship (and end of builds, if set) ``days`` later."""
    ids = [g.id for g in loaded.programme.generations]
    if generation not in ids:
        raise InputError.single(loaded.file, f"unknown generation {generation!r}", hint=f"one of: {', '.join(ids)}")
    delta = dt.timedelta(days=days)

    def move(generations: list) -> list:
        return [
            g.model_copy(
                update={
                    "first_ship": g.first_ship + delta,
                    "end_of_builds": g.end_of_builds and g.end_of_builds + delta,
                }
            )
            if g.id == generation
            else g
            for g in generations
        ]

    programme = loaded.programme.model_copy(update={"generations": move(loaded.programme.generations)})
    roadmap = loaded.roadmap.roadmap.model_copy(update={"generations": move(loaded.roadmap.roadmap.generations)})
    return loaded.model_copy(
        update={"programme": programme, "roadmap": loaded.roadmap.model_copy(update={"roadmap": roadmap})}
    )


def whatif_document(base: dict, changed: dict, overrides: dict[str, object]) -> dict:
    """The change in every headline number between two programme documents (``rackwright programme whatif``)."""
    rows = []
    for before, after in zip(base["headline"], changed["headline"], strict=True):
        numbers = all(isinstance(v, (int, float)) for v in (before["value"], after["value"]))
        rows.append(
            {
                "name": before["name"],
                "unit": before["unit"],
                "base": before["value"],
                "whatif": after["value"],
                "change": after["value"] - before["value"] if numbers else None,
            }
        )
    return {
        "programme": base["programme"],
        "set": [{"key": key, "value": str(value)} for key, value in overrides.items()],
        "feasible": {"base": base["feasible"], "whatif": changed["feasible"]},
        "headline": rows,
    }


def programme_risk(
    loaded: LoadedProgramme, samples: int, seed: int | None = None, workers: int = 1, progress=None
) -> dict:
    """The roadmap's Monte Carlo (:func:`rackwright.roadmap.risk.risk`: slips, site power delays, lead times and
    factory yields from the file's ``risk`` section) on the programme's roadmap with the lines' rates; the roadmap's
    risk document."""
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    return risk(roadmap, samples, seed, workers, progress).document()


def risk_records(loaded: LoadedProgramme, doc: dict) -> dict:
    """The risk document as records with units (``rackwright programme risk --json``)."""
    quarters = list(doc["gw_by_quarter"])
    levels = ("p10", "p50", "p90")
    return {
        "programme": loaded.programme.name,
        "samples": doc["samples"],
        "seed": doc["seed"],
        "method": doc["method"],
        "goal": doc["goal"],
        "p_goal": doc["p_goal"],
        "by_goal_date": [{"name": f"it_power_{k}", "unit": "GW", "value": v} for k, v in doc["gw_by_date"].items()],
        "quarters": quarters,
        "series": [
            {"name": f"it_power_{p}", "unit": "GW", "values": [doc["gw_by_quarter"][q][p] for q in quarters]}
            for p in levels
        ],
        "solve_time_s": doc["solve_time_s"],
    }


def with_risk(doc: dict, risk_doc: dict) -> dict:
    """The programme document with the Monte Carlo's P(goal) in the headline and its fan (``risk``)."""
    headline = [*doc["headline"], {"name": "p_goal", "unit": "probability", "value": risk_doc["p_goal"]}]
    return {**doc, "headline": headline, "risk": risk_doc}
