"""Discrete-event simulation of a rack integration-and-test line (SimPy), with replications and statistics.

Model (docs/factory.md):

* Each rack is a SimPy process that flows through the line's stations in order. A
  station is a first-come-first-served queue with ``servers`` parallel bays (its
  ``resources``, or its ``operators`` where fewer: a visit holds both). A visit takes
  ``setup + sample × units`` hours of work, ``units`` being the design's work content in
  what the station's ``per`` names (:mod:`rackwright.factory.dfm`).
* After a visit the rack fails the station's test with probability ``1 − yield``; it
  is then reworked at ``rework.to`` for ``rework.time`` (holding a bay there) and goes
  through the line again from the station after ``rework.to`` (the failed station
  itself when reworked in place), see :mod:`rackwright.factory.line`.
* **Shifts**: a ``shift`` station works only in the calendar's working hours; work
  pauses at the end of a shift and resumes at the next (a tray stays in its bay). This
  is a *calendar that converts working time to wall time*: a visit starting at wall
  time ``s`` with ``d`` hours of work ends at ``wall(work(s) + d)``. ``continuous``
  stations (unattended burn-in chambers) run around the clock. Arrivals follow the
  wall clock, so kits delivered over a weekend wait for Monday's shift.
* **Engine**: the default ``fast`` engine keeps, for each station, the heap of its
  bays' next free times and books a rack on the earliest-free bay as it arrives — the
  exact FCFS multi-server recursion (Kiefer–Wolfowitz), since SimPy hands arrivals over
  in time order. A visit then costs one SimPy timeout instead of a request, a timeout and
  a release of a ``simpy.Resource``. ``engine="resource"`` runs the same model with
  ``simpy.Resource`` objects (slower; the tests check that both agree).

Statistics are taken over the window from ``warmup_weeks`` to ``weeks``: racks shipped
per week, cycle time (release to ship, wall hours), time-average WIP, utilisation per
station (busy bay-hours / open bay-hours), time-average queue length and mean wait per
station, rework counts; replications use independent random streams spawned from one
seed (:class:`numpy.random.SeedSequence`), so the same seed gives identical results.
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import simpy

from .dfm import WorkContent
from .line import HOURS_PER_WEEK, Distribution, Line, hours, resume_after_rework, rework_target
from .queueing import first_guess, station_loads

#: Random draws fetched from NumPy per refill of a stream.
BLOCK = 2048
ENGINES = ("fast", "resource")


# --- calendar ------------------------------------------------------------------------


class WorkCalendar:
    """Working hours → wall hours and back: ``hours_per_day`` from midnight on the first ``days_per_week`` days."""

    def __init__(self, hours_per_day: float = 24.0, days_per_week: int = 7):
        self.hours_per_day = float(hours_per_day)
        self.days_per_week = int(days_per_week)
        self.hours_per_week = self.hours_per_day * self.days_per_week
        self.always = self.hours_per_day >= 24.0 - 1e-12 and self.days_per_week == 7

    @classmethod
    def of(cls, line: Line) -> WorkCalendar:
        return cls(line.calendar.hours_per_day, line.calendar.days_per_week)

    def work(self, t: float) -> float:
        """Working hours elapsed from 0 to wall time ``t``."""
        if self.always:
            return t
        week, rest = divmod(t, HOURS_PER_WEEK)
        day, hour = divmod(rest, 24.0)
        if day >= self.days_per_week:
            return week * self.hours_per_week + self.hours_per_week
        return week * self.hours_per_week + day * self.hours_per_day + min(hour, self.hours_per_day)

    def wall(self, w: float) -> float:
        """The earliest wall time by which ``w`` working hours have elapsed."""
        if self.always:
            return w
        week, rest = divmod(w, self.hours_per_week)
        day, hour = divmod(rest, self.hours_per_day)
        if hour <= 0.0 and w > 0.0:  # exactly at the end of a working day: that end, not the next start
            if day > 0:
                return week * HOURS_PER_WEEK + (day - 1) * 24.0 + self.hours_per_day
            return (week - 1) * HOURS_PER_WEEK + (self.days_per_week - 1) * 24.0 + self.hours_per_day
        return week * HOURS_PER_WEEK + day * 24.0 + hour

    def finish(self, start: float, work: float) -> float:
        """Wall time at which ``work`` working hours begun at wall time ``start`` end."""
        if work <= 0.0:
            return start
        if self.always:
            return start + work
        return max(start, self.wall(self.work(start) + work))

    def next_open_array(self, t: np.ndarray) -> np.ndarray:
        """The first working instant at or after each wall time in ``t``."""
        t = np.asarray(t, float)
        if self.always:
            return t
        week, rest = np.divmod(t, HOURS_PER_WEEK)
        day, hour = np.divmod(rest, 24.0)
        open_now = (day < self.days_per_week) & (hour < self.hours_per_day)
        next_day = np.where(
            day + 1 < self.days_per_week, week * HOURS_PER_WEEK + (day + 1) * 24.0, (week + 1) * HOURS_PER_WEEK
        )
        return np.where(open_now, t, next_day)

    def work_array(self, t: np.ndarray) -> np.ndarray:
        """:meth:`work` for an array of wall times."""
        t = np.asarray(t, float)
        if self.always:
            return t
        week, rest = np.divmod(t, HOURS_PER_WEEK)
        day, hour = np.divmod(rest, 24.0)
        inside = day * self.hours_per_day + np.minimum(hour, self.hours_per_day)
        return week * self.hours_per_week + np.where(day >= self.days_per_week, self.hours_per_week, inside)


ALWAYS = WorkCalendar()


# --- random streams ------------------------------------------------------------------


class Stream:
    """Draws of one distribution (hours), scaled and offset, fetched from NumPy in blocks."""

    __slots__ = ("rng", "draw", "buffer", "index", "constant")

    def __init__(self, rng: np.random.Generator, dist: Distribution | None, scale: float = 1.0, offset: float = 0.0):
        self.rng = rng
        self.constant: float | None = None
        self.draw: Callable[[int], np.ndarray]
        if dist is None:
            self.draw = lambda n: rng.random(n)
        elif dist.dist == "fixed":
            self.constant = offset + scale * dist.mean_hours()
        elif dist.dist == "exponential":
            mean = dist.mean_hours()
            self.draw = lambda n: offset + scale * rng.exponential(mean, n)
        elif dist.dist == "lognormal":
            mean, cv = dist.mean_hours(), dist.cv_value()
            sigma2 = math.log1p(cv * cv)
            mu, sigma = math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)
            self.draw = lambda n: offset + scale * rng.lognormal(mu, sigma, n)
        else:
            low, mode, high = dist.triangle()
            self.draw = lambda n: offset + scale * rng.triangular(low, mode, high, n)
        self.buffer: list[float] = []
        self.index = 0

    def __call__(self) -> float:
        if self.constant is not None:
            return self.constant
        if self.index >= len(self.buffer):
            self.buffer = self.draw(BLOCK).tolist()
            self.index = 0
        value = self.buffer[self.index]
        self.index += 1
        return value


# --- one replication -----------------------------------------------------------------


@dataclass
class Replication:
    """What one replication measured over its window (see the module docstring)."""

    shipped: int
    released: int
    window_weeks: float
    weekly: np.ndarray
    cycle_times: np.ndarray
    wip_mean: float
    utilisation: np.ndarray
    queue_mean: np.ndarray
    wait_mean: np.ndarray
    visits: np.ndarray
    rework: np.ndarray

    @property
    def racks_per_week(self) -> float:
        return self.shipped / self.window_weeks if self.window_weeks > 0 else 0.0


@dataclass
class Plan:
    """Everything a replication needs (picklable, for worker processes)."""

    line: Line
    work: WorkContent
    weeks: float
    warmup_weeks: float = 0.0
    servers: list[int] | None = None
    racks_per_week: float | None = None
    supply_delay_weeks: float = 0.0
    engine: str = "fast"
    even_arrivals: bool = False  # release kits evenly (capacity search) whatever the line's arrival process

    def station_servers(self) -> list[int]:
        return list(self.servers) if self.servers is not None else [s.servers for s in self.line.stations]


def release_times(plan: Plan, rng: np.random.Generator, horizon: float) -> np.ndarray:
    """Wall times [h] at which racks enter the line: Poisson, or evenly at the supply cap after its delay."""
    arrival = plan.line.arrival
    rate = (plan.racks_per_week or arrival.racks_per_week) / HOURS_PER_WEEK
    start = plan.supply_delay_weeks * HOURS_PER_WEEK
    if start >= horizon:
        return np.empty(0)
    if arrival.from_supply or plan.even_arrivals:
        return start + np.arange(0.0, horizon - start, 1.0 / rate)
    count = rng.poisson(rate * (horizon - start))
    return np.sort(rng.uniform(start, horizon, count))


def run_replication(plan: Plan, seed: np.random.SeedSequence) -> Replication:
    """Simulate one replication of ``plan`` with the random streams of ``seed``."""
    line, work = plan.line, plan.work
    stations = line.stations
    n = len(stations)
    horizon = plan.weeks * HOURS_PER_WEEK
    window_start = min(plan.warmup_weeks * HOURS_PER_WEEK, horizon)
    servers = plan.station_servers()
    streams = seed.spawn(3 * n + 1)
    rngs = [np.random.default_rng(s) for s in streams]
    calendar = WorkCalendar.of(line)
    station_calendar = [ALWAYS if s.hours == "continuous" else calendar for s in stations]

    durations = [
        Stream(rngs[i], s.process_time, work.units(s.per), hours(s.setup) if s.setup else 0.0)
        for i, s in enumerate(stations)
    ]
    uniforms = [Stream(rngs[n + i], None) for i in range(n)]
    reworks = [Stream(rngs[2 * n + i], s.rework.time) if s.rework else None for i, s in enumerate(stations)]
    yields = [s.yield_ for s in stations]
    target = [rework_target(line, i) for i in range(n)]
    resume = [resume_after_rework(line, i) for i in range(n)]
    releases = release_times(plan, rngs[3 * n], horizon)

    arrived: list[list[float]] = [[] for _ in range(n)]
    started: list[list[float]] = [[] for _ in range(n)]
    finished: list[list[float]] = [[] for _ in range(n)]
    fails = [0] * n
    shipped_at: list[float] = []
    shipped_released: list[float] = []
    env = simpy.Environment()

    if plan.engine == "fast":
        heaps = [[0.0] * c for c in servers]
        finish_at = [cal.finish for cal in station_calendar]

        def book(k: int, now: float, d: float) -> float:
            heap = heaps[k]
            free = heap[0]
            start = now if now > free else free
            end = finish_at[k](start, d)
            heapq.heapreplace(heap, end)
            arrived[k].append(now)
            started[k].append(start)
            finished[k].append(end)
            return end

        def rack(env, released):
            now = released
            k = 0
            while k < n:
                end = book(k, now, durations[k]())
                yield env.timeout(end - now)
                now = end
                if yields[k] < 1.0 and uniforms[k]() >= yields[k]:
                    fails[k] += 1
                    rework = reworks[k]
                    if rework is not None:
                        end = book(target[k], now, rework())
                        yield env.timeout(end - now)
                        now = end
                    k = resume[k]
                else:
                    k += 1
            shipped_at.append(now)
            shipped_released.append(released)
    elif plan.engine == "resource":
        bays = [simpy.Resource(env, capacity=c) for c in servers]

        def visit(env, k: int, d: float):
            index = len(arrived[k])
            arrived[k].append(env.now)
            started[k].append(math.inf)  # until a bay is granted
            finished[k].append(math.inf)
            with bays[k].request() as request:
                yield request
                start = env.now
                end = station_calendar[k].finish(start, d)
                started[k][index] = start
                finished[k][index] = end
                yield env.timeout(end - start)

        def rack(env, released):
            k = 0
            while k < n:
                yield from visit(env, k, durations[k]())
                if yields[k] < 1.0 and uniforms[k]() >= yields[k]:
                    fails[k] += 1
                    rework = reworks[k]
                    if rework is not None:
                        yield from visit(env, target[k], rework())
                    k = resume[k]
                else:
                    k += 1
            shipped_at.append(env.now)
            shipped_released.append(released)
    else:
        raise ValueError(f"unknown engine {plan.engine!r}; one of {', '.join(ENGINES)}")

    def source(env):
        for t in releases.tolist():
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(rack(env, t))

    env.process(source(env))
    env.run(until=horizon)
    return _measure(
        plan,
        servers,
        station_calendar,
        window_start,
        horizon,
        releases,
        arrived,
        started,
        finished,
        fails,
        shipped_at,
        shipped_released,
    )


def _measure(
    plan,
    servers,
    station_calendar,
    w0,
    horizon,
    releases,
    arrived,
    started,
    finished,
    fails,
    shipped_at,
    shipped_released,
) -> Replication:
    n = len(servers)
    span = horizon - w0
    ships = np.asarray(shipped_at)
    released_at = np.asarray(shipped_released)
    in_window = ships >= w0
    week_edges = np.arange(w0, horizon + 1e-9, HOURS_PER_WEEK)
    if week_edges.size < 2:
        week_edges = np.array([w0, horizon])
    weekly = np.histogram(ships[in_window], bins=week_edges)[0] if span > 0 else np.zeros(0, int)
    # WIP: every released rack counts from its release (or w0) until it ships (or the horizon)
    wip_area = (
        np.maximum(0.0, horizon - np.maximum(releases[releases < horizon], w0)).sum()
        - np.maximum(0.0, horizon - np.maximum(ships, w0)).sum()
    )
    utilisation, queue, wait, visits = (np.zeros(n) for _ in range(4))
    for k in range(n):
        a, s, f = (np.asarray(x) for x in (arrived[k], started[k], finished[k]))
        if a.size == 0 or span <= 0:
            continue
        cal = station_calendar[k]
        s, f = np.minimum(s, horizon), np.minimum(f, horizon)  # the resource engine leaves inf for no bay yet
        s = np.minimum(cal.next_open_array(s), f)  # a rack waiting for the next shift is queueing
        queue[k] = np.maximum(0.0, s - np.maximum(a, w0)).sum() / span
        counted = a >= w0
        visits[k] = counted.sum()
        wait[k] = (s - a)[counted].mean() if counted.any() else 0.0
        lo, hi = cal.work(w0), cal.work(horizon)
        busy = np.clip(cal.work_array(f), lo, hi) - np.clip(cal.work_array(s), lo, hi)
        utilisation[k] = busy.sum() / (servers[k] * (hi - lo)) if hi > lo else 0.0
    return Replication(
        shipped=int(in_window.sum()),
        released=int(np.count_nonzero((releases >= w0) & (releases < horizon))),
        window_weeks=span / HOURS_PER_WEEK,
        weekly=weekly,
        cycle_times=(ships - released_at)[in_window],
        wip_mean=float(wip_area / span) if span > 0 else 0.0,
        utilisation=utilisation,
        queue_mean=queue,
        wait_mean=wait,
        visits=visits,
        rework=np.asarray(fails, float),
    )


# --- replications and statistics -----------------------------------------------------


@dataclass
class SimulationResult:
    """Replications of one line and design, with the summary the CLI prints."""

    plan: Plan
    seed: int
    replications: list[Replication] = field(default_factory=list)

    def racks_per_week(self) -> np.ndarray:
        return np.array([r.racks_per_week for r in self.replications])

    def bottleneck(self) -> str:
        utilisation = np.mean([r.utilisation for r in self.replications], axis=0)
        return self.plan.line.stations[int(np.argmax(utilisation))].id

    def summary(self) -> dict:
        """The result as plain data (hours, racks, fractions), keys as in docs/cli.md."""
        line = self.plan.line
        reps = self.replications
        rate = self.racks_per_week()
        cycle = np.concatenate([r.cycle_times for r in reps]) if reps else np.zeros(0)
        mean = lambda attr: np.mean([getattr(r, attr) for r in reps], axis=0)  # noqa: E731
        utilisation, queue, wait, rework = mean("utilisation"), mean("queue_mean"), mean("wait_mean"), mean("rework")
        servers = self.plan.station_servers()
        weekly = np.mean([r.weekly for r in reps], axis=0) if reps else np.zeros(0)
        half = 1.96 * rate.std(ddof=1) / math.sqrt(len(rate)) if len(rate) > 1 else 0.0
        loads = station_loads(line, self.plan.work, self.plan.racks_per_week or line.arrival.racks_per_week)
        return {
            "line": line.name,
            "racks_per_week_mean": float(rate.mean()),
            "racks_per_week_p05": float(np.percentile(rate, 5)),
            "racks_per_week_p95": float(np.percentile(rate, 95)),
            "racks_per_week_ci95": [float(rate.mean() - half), float(rate.mean() + half)],
            "released_per_week_mean": float(np.mean([r.released / r.window_weeks for r in reps])),
            "weekly_output_mean": [float(x) for x in weekly],
            "cycle_time_h": {
                "mean": float(cycle.mean()) if cycle.size else None,
                "p50": float(np.percentile(cycle, 50)) if cycle.size else None,
                "p90": float(np.percentile(cycle, 90)) if cycle.size else None,
            },
            "wip_mean": float(np.mean([r.wip_mean for r in reps])),
            "stations": {
                station.id: {
                    "servers": int(servers[i]),
                    "utilisation": float(utilisation[i]),
                    "utilisation_queueing": float(loads[i]["load"] / servers[i]),
                    "mean_queue": float(queue[i]),
                    "mean_wait_h": float(wait[i]),
                    "rework_count": float(rework[i]),
                    "visits_per_rack": float(loads[i]["visits"]),
                }
                for i, station in enumerate(line.stations)
            },
            "bottleneck": self.bottleneck(),
            "replications": len(reps),
            "seed": self.seed,
            "weeks": self.plan.weeks,
            "warmup_weeks": self.plan.warmup_weeks,
            "supply_delay_weeks": self.plan.supply_delay_weeks,
            "work_content": self.plan.work.as_dict(),
        }


def supply_delay(line: Line, work: WorkContent) -> float:
    """Weeks before the first kit: the start delay, or the longest lead time beyond the order date if later."""
    arrival = line.arrival
    delay = arrival.start_delay_weeks
    if arrival.parts_ordered_weeks_before is not None:
        delay = max(delay, work.longest_lead_time_weeks - arrival.parts_ordered_weeks_before)
    return float(delay)


def simulate(
    line: Line,
    work: WorkContent,
    weeks: float = 52,
    replications: int = 20,
    seed: int | None = None,
    warmup_weeks: float = 0.0,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    engine: str = "fast",
    servers: list[int] | None = None,
    racks_per_week: float | None = None,
    even_arrivals: bool = False,
) -> SimulationResult:
    """Run ``replications`` independent replications of ``weeks`` of the line building racks of ``work``.

    ``seed`` (None: fresh entropy, reported in the result) spawns one stream per
    replication, so results do not depend on ``workers`` (processes; 0 = all cores).
    ``servers`` and ``racks_per_week`` override the line's counts and arrival rate, and
    ``even_arrivals`` releases kits evenly (capacity search). ``progress`` is called with the number of
    replications done.
    """
    if weeks <= 0 or replications < 1 or not 0 <= warmup_weeks < weeks:
        raise ValueError("need weeks > 0, replications >= 1 and 0 <= warmup_weeks < weeks")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; one of {', '.join(ENGINES)}")
    root = np.random.SeedSequence(seed)
    delay = 0.0 if even_arrivals else supply_delay(line, work)
    plan = Plan(line, work, float(weeks), float(warmup_weeks), servers, racks_per_week, delay, engine, even_arrivals)
    children = root.spawn(replications)
    results: dict[int, Replication] = {}
    workers = (os.cpu_count() or 1) if workers == 0 else workers
    if workers <= 1 or replications == 1:
        for i, child in enumerate(children):
            results[i] = run_replication(plan, child)
            if progress:
                progress(i + 1)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            futures = {pool.submit(run_replication, plan, child): i for i, child in enumerate(children)}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress:
                    progress(done)
    return SimulationResult(plan, _entropy(root), [results[i] for i in range(replications)])


def _entropy(root: np.random.SeedSequence) -> int:
    """The seed of ``root`` as an int (NumPy's stubs also allow a sequence, which an int or None seed never gives)."""
    return int(cast(int, root.entropy))


# --- capacity search -----------------------------------------------------------------


@dataclass
class CapacityResult:
    """Smallest server counts found to meet a weekly target, and how the search got there."""

    target: float
    servers: list[int]
    first_guess: list[int]
    met: bool
    iterations: int
    result: SimulationResult

    def summary(self) -> dict:
        line = self.result.plan.line
        sim = self.result.summary()
        return {
            "line": line.name,
            "target_racks_per_week": self.target,
            "met": self.met,
            "achieved_racks_per_week": sim["racks_per_week_mean"],
            "racks_per_week_p05": sim["racks_per_week_p05"],
            "racks_per_week_p95": sim["racks_per_week_p95"],
            "iterations": self.iterations,
            "stations": {
                s.id: {
                    "resources": self.servers[i],
                    "operators": self.servers[i] if s.operators is not None else None,
                    "first_guess": self.first_guess[i],
                    "line_file": s.servers,
                    "utilisation": sim["stations"][s.id]["utilisation"],
                }
                for i, s in enumerate(line.stations)
            },
            "bottleneck": sim["bottleneck"],
            "cycle_time_h": sim["cycle_time_h"],
            "wip_mean": sim["wip_mean"],
            "replications": sim["replications"],
            "seed": sim["seed"],
            "weeks": sim["weeks"],
            "warmup_weeks": sim["warmup_weeks"],
        }


def raw_cycle_time(line: Line, work: WorkContent) -> float:
    """Hours a rack spends in process without queueing (mean visits × mean times; shift stations stretched to
    wall time)."""
    stretch = HOURS_PER_WEEK / line.calendar.hours_per_week
    return sum(
        load["hours_per_rack"] * (1.0 if s.hours == "continuous" else stretch)
        for s, load in zip(line.stations, station_loads(line, work, 1.0), strict=True)
    )


def auto_warmup(line: Line, work: WorkContent) -> float:
    """Warm-up weeks for a line starting empty: twice the raw cycle time, rounded up to whole weeks."""
    return float(max(1, math.ceil(2.0 * raw_cycle_time(line, work) / HOURS_PER_WEEK)))


def capacity_search(
    line: Line,
    work: WorkContent,
    target: float,
    weeks: float | None = None,
    warmup_weeks: float | None = None,
    replications: int = 3,
    seed: int | None = 0,
    tolerance: float = 0.01,
    max_utilisation: float = 1.0,
    step: float = 0.02,
    max_iterations: int = 50,
    workers: int = 1,
    progress: Callable[[int, float], None] | None = None,
) -> CapacityResult:
    """The smallest server counts (bays; operators alike) with which the line ships ``target`` racks/week.

    Kits are released evenly at ``target`` (the supply plan; no Poisson noise, no supply
    delay), so the output measures the line. ``warmup_weeks`` defaults to
    :func:`auto_warmup`, ``weeks`` to the warm-up + 6. Start from the
    queueing first guess (every station's utilisation below ``max_utilisation`` at the
    target, rework visits included: :func:`rackwright.factory.queueing.first_guess`),
    simulate, and while the mean output falls short of ``target·(1 − tolerance)`` add
    ``max(1, ⌈step·c⌉)`` servers to the busiest station and simulate again (at most
    ``max_iterations`` times). The same seed is used throughout (common random numbers).
    """
    if target <= 0 or max_iterations < 1:
        raise ValueError("the target must be positive and max_iterations at least 1")
    warmup_weeks = auto_warmup(line, work) if warmup_weeks is None else float(warmup_weeks)
    weeks = warmup_weeks + 6.0 if weeks is None else float(weeks)
    guess = first_guess(line, work, target, max_utilisation)
    servers = list(guess)
    seed = _entropy(np.random.SeedSequence(seed))
    for iteration in range(1, max_iterations + 1):
        result = simulate(
            line,
            work,
            weeks,
            replications,
            seed,
            warmup_weeks,
            workers=workers,
            servers=servers,
            racks_per_week=target,
            even_arrivals=True,
        )
        achieved = float(result.racks_per_week().mean())
        if progress:
            progress(iteration, achieved)
        if achieved >= target * (1.0 - tolerance):
            return CapacityResult(target, servers, guess, True, iteration, result)
        if iteration == max_iterations:
            break
        utilisation = np.mean([r.utilisation for r in result.replications], axis=0)
        k = int(np.argmax(utilisation))
        servers = list(servers)
        servers[k] += max(1, math.ceil(step * servers[k]))
    return CapacityResult(target, servers, guess, False, max_iterations, result)
