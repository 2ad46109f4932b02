"""What-ifs and risk on a programme: a generation slipped, any field changed, the Monte Carlo of the roadmap.

* :func:`slipped` — the programme with one generation's first ship later (the property tests' what-if);
* :func:`reach_gw` — the most IT power the programme can deploy by the goal date (the roadmap's reach programme);
* :func:`whatif_document` — the change in every headline number between two plans (``programme whatif``);
* :func:`replacements` — ``--replace GEN=FILE`` as overrides of the generations' design files;
* :func:`sweep_documents`, :func:`sweep_document` — one plan per value of a field, and the change of every
  headline number per value (``programme whatif --sweep``);
* :func:`programme_risk`, :func:`risk_records`, :func:`with_risk` — the roadmap's Monte Carlo on the lines' rates
  (``programme risk``, ``programme plan --samples``), optionally with each line's rate band
  (:func:`line_bands`, from the factory's simulation) multiplying its factory's yield.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np

from ..errors import InputError
from ..factory import load_line, simulate, work_content
from ..roadmap.inputs import line_rate
from ..roadmap.milp import programme, row_bounds, solve
from ..roadmap.plan import prepare
from ..roadmap.risk import CHUNK, RiskResult, draw, risk, solve_samples
from ..roadmap.schema import LoadedRoadmap
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


#: The line simulation behind a rate band: a quarter's output measured after two weeks' warm-up.
BAND_WEEKS, BAND_WARMUP_WEEKS = 15.0, 2.0


def line_bands(loaded: LoadedProgramme, replications: int, seed: int | None = None) -> np.ndarray:
    """Each factory's rate band, ``(F, 2)``: the mean and standard deviation over ``replications`` of the ratio of
    the racks/week its line ships in a quarter (:func:`rackwright.factory.simulate`, kits released at the queueing
    bound the plan uses, 13 weeks after 2 of warm-up) to that bound, pooled over the generations it builds."""
    bands = np.zeros((len(loaded.programme.factories), 2))
    for j, factory in enumerate(loaded.programme.factories):
        line = load_line(loaded.folder / factory.line).line
        ratios = []
        for generation in factory.builds:
            rack = loaded.racks[[g.id for g in loaded.programme.generations].index(generation)]
            assert rack.model is not None  # the loader keeps sound racks only
            work = work_content(rack.model)
            bound = line_rate(line, work, factory.line_utilisation)
            run = simulate(line, work, BAND_WEEKS, replications, seed, BAND_WARMUP_WEEKS, racks_per_week=bound)
            ratios.append(run.racks_per_week() / bound)
        pooled = np.concatenate(ratios)
        bands[j] = pooled.mean(), pooled.std(ddof=1) if pooled.size > 1 else 0.0
    return bands


def programme_risk(
    loaded: LoadedProgramme,
    samples: int,
    seed: int | None = None,
    workers: int = 1,
    progress=None,
    bands: np.ndarray | None = None,
) -> dict:
    """The roadmap's Monte Carlo (:func:`rackwright.roadmap.risk.risk`: slips, site power delays, lead times and
    factory yields from the file's ``risk`` section) on the programme's roadmap with the lines' rates; the roadmap's
    risk document. With ``bands`` (:func:`line_bands`) each factory's yield is also multiplied by a normal draw of
    its line's rate band, in one process (:func:`risk_with_bands`)."""
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    if bands is None:
        return risk(roadmap, samples, seed, workers, progress).document()
    return risk_with_bands(roadmap, bands, samples, seed, progress).document()


def risk_with_bands(
    roadmap: LoadedRoadmap, bands: np.ndarray, samples: int, seed: int | None = None, progress=None
) -> RiskResult:
    """The roadmap's Monte Carlo with each factory's yield times a draw of N(mean, sd) of its line's rate band
    (``bands``, ``(F, 2)``, cut at 0). The roadmap's own draws come first from the same stream, so a band of
    (1, 0) gives :func:`rackwright.roadmap.risk.risk`'s result for the same seed; the reach LP per sample as
    there (the roadmap's risk has one yield distribution for all factories and no hook for a per-line one)."""
    st = prepare(roadmap)
    root = np.random.SeedSequence(seed)
    rng = np.random.default_rng(root)
    uncertain = draw(roadmap, samples, rng)
    factor = np.maximum(rng.normal(bands[:, 0], bands[:, 1], size=(samples, len(bands))), 0.0)
    uncertain = replace(uncertain, factory_yield=np.asarray(uncertain.factory_yield) * factor)
    spec = programme(st, "reach", row_bounds(st)[0], integer=False)
    reached = np.zeros((samples, len(st.timeline.quarters)))
    start = time.perf_counter()
    for chunk in np.array_split(np.arange(samples), -(-samples // CHUNK)):
        part = replace(uncertain, **{k: getattr(uncertain, k)[chunk] for k in _FIELDS})
        lower, upper = row_bounds(st, part)
        lower[:, st.goal_row] = -np.inf  # the reach programme has no goal row
        reached[chunk] = solve_samples(spec, lower, upper, st.power_mw, st.col_q)
        if progress:
            progress(int(chunk[-1]) + 1)
    return RiskResult(st, int(cast(int, root.entropy)), reached / 1e3, time.perf_counter() - start, 1)


_FIELDS = ("slip_months", "site_delay_months", "lead_factor", "factory_yield")


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
