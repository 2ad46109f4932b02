"""Monte Carlo risk of a roadmap: IT power reached by the goal date under slips, delays and yields.

Each sample draws, from the distributions of the roadmap's ``risk:`` section (an entry's
own distribution wins): a qualification slip per generation (first ship moves later),
a power delay per site (every power step moves later), a lead-time factor per supply
line (deliveries start at ``ordered + factor · lead_time``) and a yield per factory (the
share of line time that ships good racks). All samples are drawn at once (NumPy), and
their row bounds computed at once (:func:`.milp.row_bounds` over a sample axis): the
programme's matrix does not change between samples, only its bounds.

Per sample the *reach* programme (most IT power by the goal date, earliest first; see
:mod:`.milp`) is solved as a linear programme (racks continuous): HiGHS re-solves from
the previous sample's basis after a bound change, in milliseconds. The relaxation
overstates the IT power reached by less than one rack per build and deploy variable
(at 10 GW, under 0.1 %: compare ``rackwright roadmap plan`` on the same file). Samples
run in chunks on a process pool (``concurrent.futures``); the draws are made before the
split, so results do not depend on the number of workers.

A per-factory yield hook (``factory_yield``: a function of the generator and the sample
count giving a factor per sample and factory, drawn after the roadmap's own draws from the
same stream) multiplies the factories' yields in the same vectorised pass: the programme
samples its lines' rate bands this way. On the ``ray`` backend the chunks run as Ray tasks
(:func:`rackwright.parallel.run_tasks`), the same chunks as the local process pool, so the
results are identical.

Reported: P10/P50/P90 of the IT power deployed by the goal date and at each quarter's
end (the fan chart), ``p_goal``, the share of samples that reach the goal, and the
deterministic plan's IT power by quarter (``plan_gw_by_quarter``, :func:`.plan.plan` on
the same figures) for the chart to overlay; ``p_goal_by_quarter``, the share of samples that have reached
the goal by each quarter's end (the distribution of the date the goal is met); and ``tornado``, which inputs
drive a miss: per uncertain input (a generation's qualification slip, a site's power delay, a supply line's
lead-time factor, a factory's yield) the mean IT power by the goal date over the samples where that input is in
its worst decile (``low``) and in its best (``high``), from the samples already drawn (:func:`tornado`; no extra
solves). A one-way conditional-mean sensitivity: an input's swing also carries what it shares with others (all
inputs are drawn independently here, so it shares nothing but sampling noise).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from typing import cast

import numpy as np

from ..parallel import check_backend, run_tasks
from .inputs import RackFigures
from .milp import Structure, Uncertain, make_highs, parse_goal_mw, programme, row_bounds
from .plan import PlanResult, prepare
from .plan import plan as deterministic_plan
from .schema import LoadedRoadmap, Risk
from .timeline import SECONDS_PER_MONTH

PERCENTILES = (10, 50, 90)
#: A per-factory yield hook: ``(rng, samples) → (samples, factories)`` factors on the drawn yields.
YieldHook = Callable[[np.random.Generator, int], np.ndarray]

#: Samples per chunk at most: row bounds are built per chunk (samples × rows floats), so memory stays
#: bounded for any sample count.
CHUNK = 1000


def draw(loaded: LoadedRoadmap, samples: int, rng: np.random.Generator) -> Uncertain:
    """The uncertain inputs of ``samples`` samples (months of slip and delay, factors), vectorised."""
    r = loaded.roadmap
    risk = r.risk or Risk(assumption="no risk section: every input as in the plan")

    def per_entry(entries, own, common, dimension, scale):
        columns = [(own(e) or common).sample(rng, samples, dimension) / scale for e in entries]
        return np.stack(columns, axis=-1) if columns else np.zeros((samples, 0))

    return Uncertain(
        slip_months=per_entry(
            r.generations, lambda g: g.qualification_slip, risk.qualification_slip, "time", SECONDS_PER_MONTH
        ),
        site_delay_months=per_entry(r.sites, lambda s: s.power_delay, risk.site_power_delay, "time", SECONDS_PER_MONTH),
        lead_factor=per_entry(r.supply, lambda s: None, risk.lead_time_factor, "dimensionless", 1.0),
        factory_yield=per_entry(r.factories, lambda f: None, risk.factory_yield, "dimensionless", 1.0),
    )


@dataclass
class RiskResult:
    structure: Structure
    seed: int
    gw_by_quarter: np.ndarray  # (samples, Q) IT power deployed by each quarter's end [GW]
    seconds: float
    workers: int
    plan_gw_by_quarter: np.ndarray | None = None  # (Q,) the deterministic plan's IT power by quarter's end [GW]
    plan_feasible: bool | None = None
    inputs: Uncertain | None = None  # the draws of every sample, (samples, ...) per field, for the tornado

    def document(self) -> dict:
        """The JSON document of ``rackwright roadmap risk``."""
        st = self.structure
        goal_gw = parse_goal_mw(st.roadmap) / 1e3
        final = self.gw_by_quarter[:, -1]
        levels = np.percentile(self.gw_by_quarter, PERCENTILES, axis=0)  # (3, Q)
        reached = np.mean(self.gw_by_quarter >= goal_gw * (1 - 1e-9), axis=0)  # (Q,) share met by each quarter
        return {
            "roadmap": st.roadmap.name,
            "samples": int(len(final)),
            "seed": self.seed,
            "method": "LP relaxation of the reach programme per sample (HiGHS, warm-started)",
            "goal": {"it_power_gw": goal_gw, "by": str(st.roadmap.goal.by)},
            "p_goal": round(float(np.mean(final >= goal_gw * (1 - 1e-9))), 6),
            "gw_by_date": {
                **{f"p{p}": round(float(v), 6) for p, v in zip(PERCENTILES, levels[:, -1], strict=True)},
                "mean": round(float(final.mean()), 6),
            },
            "gw_by_quarter": {
                q: {f"p{p}": round(float(levels[i, k]), 6) for i, p in enumerate(PERCENTILES)}
                for k, q in enumerate(st.timeline.quarters)
            },
            "p_goal_by_quarter": {q: round(float(v), 6) for q, v in zip(st.timeline.quarters, reached, strict=True)},
            **self._plan(),
            "tornado": tornado(self._named_inputs(), final, "GW"),
            "solve_time_s": round(self.seconds, 4),
            "workers": self.workers,
        }

    def _named_inputs(self) -> list[tuple[str, np.ndarray, bool]]:
        """Each sampled input as (name, its draws, whether a higher draw is worse), in the roadmap's order."""
        if self.inputs is None:
            return []
        r, u = self.structure.roadmap, self.inputs
        groups = (
            ("qualification slip", [g.id for g in r.generations], u.slip_months, True),
            ("site power delay", [s.id for s in r.sites], u.site_delay_months, True),
            ("lead-time factor", [s.id for s in r.supply], u.lead_factor, True),
            ("factory yield", [f.id for f in r.factories], u.factory_yield, False),
        )
        return [
            (f"{label} {name}", np.asarray(draws)[:, i], worse_high)
            for label, names, draws, worse_high in groups
            for i, name in enumerate(names)
        ]

    def _plan(self) -> dict:
        if self.plan_gw_by_quarter is None:
            return {}
        quarters = self.structure.timeline.quarters
        return {
            "plan_feasible": self.plan_feasible,
            "plan_gw_by_quarter": {
                q: round(float(v), 9) for q, v in zip(quarters, self.plan_gw_by_quarter, strict=True)
            },
        }


def risk(
    loaded: LoadedRoadmap,
    samples: int = 1000,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    figures: RackFigures | None = None,
    factory_yield: YieldHook | None = None,
    backend: str = "local",
    deterministic: PlanResult | None = None,
) -> RiskResult:
    """Run ``samples`` Monte Carlo samples (``workers`` processes or Ray CPUs, 0 = all cores; ``backend`` local or
    ray); ``seed`` None draws fresh entropy (reported in the result). ``factory_yield`` multiplies the drawn
    factory yields (see the module docstring). ``deterministic`` is the plan to report beside the samples (solved
    here on the same figures when not given)."""
    if samples < 1:
        raise ValueError("need at least one sample")
    check_backend(backend)
    st = prepare(loaded, figures)
    root = np.random.SeedSequence(seed)
    rng = np.random.default_rng(root)
    uncertain = draw(loaded, samples, rng)
    if factory_yield is not None:
        factor = factory_yield(rng, samples)
        uncertain = replace(uncertain, factory_yield=np.asarray(uncertain.factory_yield) * factor)
    spec = programme(st, "reach", row_bounds(st)[0], integer=False)
    workers = (os.cpu_count() or 1) if workers == 0 else workers
    count = max(min(samples, 4 * workers), -(-samples // CHUNK))
    chunks = np.array_split(np.arange(samples), count)
    reached = np.zeros((samples, len(st.timeline.quarters)))
    start = time.perf_counter()
    done = 0

    def task(chunk):
        lower, upper = row_bounds(st, _take(uncertain, chunk))
        lower[:, st.goal_row] = -np.inf  # the reach programme has no goal row
        return spec, lower, upper, st.power_mw, st.col_q

    if backend == "ray":
        solved = run_tasks(partial(_solve_chunk, st, spec), [_take(uncertain, c) for c in chunks], "ray", workers)
        for chunk, part in zip(chunks, solved, strict=True):
            reached[chunk] = part
        if progress:
            progress(samples)
    elif workers <= 1:
        for chunk in chunks:
            reached[chunk] = solve_samples(*task(chunk))
            done += len(chunk)
            if progress:
                progress(done)
    else:  # at most two chunks per process in flight, so bounds are built as the pool needs them
        queue, pending = iter(chunks), {}
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
            for chunk in itertools.islice(queue, 2 * workers):
                pending[pool.submit(solve_samples, *task(chunk))] = chunk
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk = pending.pop(future)
                    reached[chunk] = future.result()
                    done += len(chunk)
                    if progress:
                        progress(done)
                    for following in itertools.islice(queue, 1):
                        pending[pool.submit(solve_samples, *task(following))] = following
    seconds = time.perf_counter() - start
    entropy = cast(int, root.entropy)  # NumPy's stubs also allow a sequence, which an int or None seed never gives
    base = deterministic or deterministic_plan(loaded, figures)
    return RiskResult(st, int(entropy), reached / 1e3, seconds, workers, plan_gw(base), base.feasible, uncertain)


def tornado(inputs: list[tuple[str, np.ndarray, bool]], outcome: np.ndarray, unit: str) -> list[dict]:
    """Per input ``(name, draws, worse when higher)``: the mean ``outcome`` over the samples whose draw is in the
    input's worst decile (``low``: at or past its 90th percentile, or its 10th where lower is worse) and over those
    in its best (``high``), largest swing ``|high - low|`` first. An input that does not vary has both deciles
    equal to every sample, so no swing."""
    records = []
    for name, draws, worse_high in inputs:
        top, bottom = draws >= np.quantile(draws, 0.9), draws <= np.quantile(draws, 0.1)
        worst, best = (top, bottom) if worse_high else (bottom, top)
        low, high = float(outcome[worst].mean()), float(outcome[best].mean())
        records.append({"input": name, "low": round(low, 6), "high": round(high, 6), "unit": unit})
    return sorted(records, key=lambda r: (-abs(r["high"] - r["low"]), r["input"]))


def plan_gw(result: PlanResult) -> np.ndarray:
    """IT power deployed by each quarter's end in a plan's schedule [GW], ``(Q,)``."""
    st, x = result.structure, result.schedule.x
    return np.cumsum(np.bincount(st.col_q, weights=st.power_mw * x, minlength=len(st.timeline.quarters))) / 1e3


def _solve_chunk(st: Structure, spec, part: Uncertain) -> np.ndarray:
    """One chunk of samples from its draws (a Ray task: the bounds are built where the chunk is solved)."""
    lower, upper = row_bounds(st, part)
    lower[:, st.goal_row] = -np.inf  # the reach programme has no goal row
    return solve_samples(spec, lower, upper, st.power_mw, st.col_q)


def _take(u: Uncertain, rows: np.ndarray) -> Uncertain:
    """The samples ``rows`` of ``u``."""
    fields = (u.slip_months, u.site_delay_months, u.lead_factor, u.factory_yield)  # arrays of samples here
    return Uncertain(*(np.asarray(f)[rows] for f in fields))


def solve_samples(spec, lower: np.ndarray, upper: np.ndarray, power_mw: np.ndarray, col_q: np.ndarray) -> np.ndarray:
    """Solve one chunk of samples on one HiGHS instance (bounds changed in place, warm start): MW by quarter."""
    h = make_highs(spec, lower[0], upper[0])
    rows = np.arange(lower.shape[1], dtype=np.int32)
    quarters = int(col_q.max()) + 1
    out = np.zeros((len(lower), quarters))
    for i in range(len(lower)):
        if i:
            # highspy 1.16's stubs omit changeRowsBounds, which the extension module has
            h.changeRowsBounds(len(rows), rows, lower[i], upper[i])  # type: ignore[attr-defined]
        h.run()
        x = np.asarray(h.getSolution().col_value)
        out[i] = np.cumsum(np.bincount(col_q, weights=power_mw * x, minlength=quarters))
    return out
