"""What-ifs and risk on a programme: a generation slipped, any field changed, the Monte Carlo of the roadmap.

* :func:`slipped` — the programme with one generation's first ship later (the property tests' what-if);
* :func:`reach_gw` — the most IT power the programme can deploy by the goal date (the roadmap's reach programme);
* :func:`whatif_document` — the change in every headline number between two plans (``programme whatif``);
* :func:`replacements` — ``--replace GEN=FILE`` as overrides of the generations' design files;
* :func:`sweep_documents`, :func:`sweep_document` — one plan per value of a field, and the change of every
  headline number per value (``programme whatif --sweep``);
* :func:`programme_risk`, :func:`risk_records`, :func:`with_risk` — the roadmap's Monte Carlo on the lines' rates
  (``programme risk``, ``programme plan --samples``), optionally with each line's rate band
  (:func:`line_bands`, from the factory's simulation) multiplying its factory's yield (:func:`band_factors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..factory import load_line, simulate, work_content
from ..roadmap.inputs import line_rate, rack_figures
from ..roadmap.milp import solve
from ..roadmap.plan import PlanResult, prepare
from ..roadmap.risk import risk
from .plan import (
    PlanCache,
    factory_capacity,
    plan_programme,
    programme_document,
    roadmap_on_lines,
    roadmap_with_capacity,
    with_site_need,
)
from .schema import LoadedProgramme


def reach_gw(loaded: LoadedProgramme) -> float:
    """The most IT power [GW] the programme can deploy by the goal date (the roadmap's reach programme, with the
    site plans' optics and CDUs under the supply caps as in the plan)."""
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    st = prepare(roadmap, with_site_need(loaded, roadmap, rack_figures(roadmap)))
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
        **_risk_run(base),
    }


def _risk_run(doc: dict) -> dict:
    """The Monte Carlo behind a what-if's P(goal): samples and the seed every variant shares (none without)."""
    return {"risk": {"samples": doc["risk"]["samples"], "seed": doc["risk"]["seed"]}} if "risk" in doc else {}


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


def sweep_documents(
    variants: list[LoadedProgramme],
    backend: str = "local",
    workers: int | None = None,
    samples: int = 0,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
    correct_site_need: bool = False,
) -> list[dict]:
    """The programme document of each variant, the reference job and each site step planned once by content
    (:class:`.plan.PlanCache`), each variant's tasks on ``backend``. With ``samples``, each document also carries
    P(goal) (:func:`with_risk`), every variant's Monte Carlo drawn from the same ``seed`` (common random numbers:
    the same slips, delays and yields, so a difference in P(goal) is the change's, not the draw's; None draws one
    fresh seed for all). ``progress`` is called with each stage of each plan (:data:`.plan.STAGES`). With
    ``correct_site_need`` every variant is planned with the one-pass correction of the site need
    (:func:`.plan.plan_programme`'s), and its P(goal) drawn on that corrected solve."""
    cache = PlanCache()
    if samples and seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    docs = []
    for loaded in variants:
        plan = plan_programme(loaded, cache, None, backend, workers, progress, correct_site_need=correct_site_need)
        doc = programme_document(plan)
        if samples:
            raw = programme_risk(loaded, samples, seed, workers or 1, backend=backend, deterministic=plan.result)
            doc = with_risk(doc, risk_records(loaded, raw))
        docs.append(doc)
    return docs


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
        **_risk_run(base),
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
    backend: str = "local",
    deterministic: PlanResult | None = None,
    correct_site_need: bool = False,
) -> dict:
    """The roadmap's Monte Carlo (:func:`rackwright.roadmap.risk.risk`: slips, site power delays, lead times and
    factory yields from the file's ``risk`` section) on the programme's roadmap with the lines' rates; the roadmap's
    risk document, with the programme's deterministic plan (``deterministic``, else planned here) beside it. With
    ``bands`` (:func:`line_bands`) each factory's yield is also multiplied by a normal draw of its line's rate band
    (:func:`band_factors`, the roadmap risk's per-factory yield hook) in the same vectorised pass. Planned here with
    ``correct_site_need``, the deterministic plan is :func:`.plan.plan_programme`'s with the one-pass correction of
    the site need, and the samples are drawn on its figures (a ``deterministic`` plan given carries its own)."""
    roadmap = roadmap_with_capacity(loaded, factory_capacity(loaded, loaded.racks))
    if deterministic is None and correct_site_need:
        deterministic = plan_programme(loaded, None, None, backend, workers, correct_site_need=True).result
    elif deterministic is None:
        deterministic = roadmap_on_lines(loaded, None, backend, workers)[2]
    hook = None if bands is None else partial(band_factors, bands)
    figures = deterministic.structure.figures
    result = risk(roadmap, samples, seed, workers, progress, figures, hook, backend, deterministic)
    return result.document()


def band_factors(bands: np.ndarray, rng: np.random.Generator, samples: int) -> np.ndarray:
    """Each factory's yield factor per sample, ``(samples, F)``: a normal draw of its line's rate band (``bands``,
    ``(F, 2)``: mean and standard deviation), cut at 0. A band of (1, 0) leaves the yields as drawn."""
    return np.maximum(rng.normal(bands[:, 0], bands[:, 1], size=(samples, len(bands))), 0.0)


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
        ]
        + [
            {"name": "it_power_plan", "unit": "GW (deterministic plan)", "values": [plan[q] for q in quarters]}
            for plan in [doc.get("plan_gw_by_quarter")]
            if plan
        ],
        "tornado": doc.get("tornado", []),
    }


def with_risk(doc: dict, risk_doc: dict) -> dict:
    """The programme document with the Monte Carlo's P(goal) in the headline and its fan (``risk``)."""
    headline = [*doc["headline"], {"name": "p_goal", "unit": "probability", "value": risk_doc["p_goal"]}]
    return {**doc, "headline": headline, "risk": risk_doc}
