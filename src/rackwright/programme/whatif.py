"""What-ifs and risk on a programme: a generation slipped, any field changed, the Monte Carlo of the roadmap.

* :func:`slipped` — the programme with one generation's first ship later (the property tests' what-if);
* :func:`reach_gw` — the most IT power the programme can deploy by the goal date (the roadmap's reach programme);
* :func:`whatif_document` — the change in every headline number between two plans (``programme whatif``);
* :func:`replacements` — ``--replace GEN=FILE`` as overrides of the generations' design files;
* :func:`sweep_documents`, :func:`sweep_document` — one plan per value of a field, and the change of every
  headline number per value (``programme whatif --sweep``);
* :func:`programme_risk`, :func:`risk_records`, :func:`with_risk` — the roadmap's Monte Carlo on the lines' rates
  (``programme risk``, ``programme plan --samples``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import InputError
from ..roadmap.milp import solve
from ..roadmap.plan import prepare
from ..roadmap.risk import risk
from .plan import factory_capacity, plan_programme, programme_document, roadmap_with_capacity
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


_REPLACE_HINT = "e.g. --replace e1=examples/ethernet-800vdc-e2.yaml"


def replacements(loaded: LoadedProgramme, pairs: list[str]) -> dict[str, str]:
    """``["e1=examples/ethernet-800vdc-e2.yaml"]`` → ``{"generations.e1.design": "/…/ethernet-800vdc-e2.yaml"}``:
    each generation's design file replaced by one given relative to the working folder; :class:`InputError`
    naming ``--replace`` for an unknown generation or a missing file."""
    ids = [g.id for g in loaded.programme.generations]
    overrides = {}
    for pair in pairs:
        generation, sep, name = (part.strip() for part in pair.partition("="))
        if not sep or not generation or not name:
            raise InputError.single(None, f"--replace {pair!r} is not GEN=FILE", "--replace", _REPLACE_HINT)
        if generation not in ids:
            raise InputError.single(
                loaded.file, f"unknown generation {generation!r}", f"--replace {pair}", f"one of: {', '.join(ids)}"
            )
        if not Path(name).is_file():
            raise InputError.single(
                None, f"design file {name!r} not found", f"--replace {pair}", "a path relative to the working folder"
            )
        overrides[f"generations.{generation}.design"] = str(Path(name).resolve())
    return overrides


def sweep_documents(variants: list[LoadedProgramme]) -> list[dict]:
    """The programme document of each variant, the reference job planned once per design, workload and fleet."""
    trainings: dict = {}
    return [programme_document(plan_programme(loaded, trainings)) for loaded in variants]


def sweep_document(base: dict, docs: list[dict], key: str, values: list, overrides: dict[str, object]) -> dict:
    """The change in every headline number per value of ``key`` (``rackwright programme whatif --sweep``): for each
    headline figure its unit, base value, value at each sweep point and change from the base."""
    rows = [whatif_document(base, doc, overrides)["headline"] for doc in docs]
    headline = [
        {
            "name": first["name"],
            "unit": first["unit"],
            "base": first["base"],
            "values": [point[k]["whatif"] for point in rows],
            "changes": [point[k]["change"] for point in rows],
        }
        for k, first in enumerate(rows[0])
    ]
    return {
        "programme": base["programme"],
        "set": [{"key": k, "value": str(v)} for k, v in overrides.items()],
        "sweep": {"key": key, "values": [str(v) for v in values]},
        "feasible": {"base": base["feasible"], "sweep": [doc["feasible"] for doc in docs]},
        "headline": headline,
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
