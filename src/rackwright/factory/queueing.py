"""Queueing theory for the line: Erlang C, M/M/c waiting times, Little's law, first-guess sizing.

Formulas (docs/factory.md, brief "Factory and supply"):

* offered load ``A = λ/μ`` (busy servers needed on average), utilisation ``ρ = A/c``;
* Erlang C, the probability that an arrival waits: ``C(c, A)``, computed from the
  Erlang B recursion ``B(0) = 1``, ``B(k) = A·B(k-1) / (k + A·B(k-1))`` and
  ``C = c·B / (c − A·(1 − B))`` (stable for hundreds of servers);
* M/M/c mean wait in queue ``W_q = C(c, A) / (c·μ − λ)``, in the system ``W = W_q + 1/μ``;
* Little's law ``L = λ·W`` (WIP = throughput × cycle time);
* a station of first-pass yield ``Y`` is visited ``1/Y`` times per rack (more where rework
  loops back over several stations: :func:`rackwright.factory.line.expected_visits`).
"""

from __future__ import annotations

import math

import numpy as np

from .dfm import WorkContent
from .line import HOURS_PER_WEEK, Line, Station, expected_visits, hours


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability of ``c`` servers at offered load ``a`` (Erlangs)."""
    if c < 0 or a < 0:
        raise ValueError("need c >= 0 servers and a load a >= 0")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival waits, ``c`` servers at offered load ``a`` (1 when ``a >= c``)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> dict[str, float]:
    """M/M/c steady state: utilisation, P(wait), mean queue, mean wait, mean time in system, mean number in system.

    Rates in any consistent unit (per hour → times in hours). An unstable queue
    (``λ >= c·μ``) gives infinite waits and queues.
    """
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1.0:
        inf = float("inf")
        return {"utilisation": rho, "p_wait": 1.0, "wq": inf, "w": inf, "lq": inf, "l": inf}
    p_wait = erlang_c(servers, a)
    wq = p_wait / (servers * service_rate - arrival_rate)
    w = wq + 1.0 / service_rate
    return {"utilisation": rho, "p_wait": p_wait, "wq": wq, "w": w, "lq": arrival_rate * wq, "l": arrival_rate * w}


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """M/M/c mean waiting time in queue ``W_q = C(c, A) / (c·μ − λ)``."""
    return mmc(arrival_rate, service_rate, servers)["wq"]


def littles_law(throughput: float | None = None, cycle_time: float | None = None, wip: float | None = None) -> float:
    """Little's law ``WIP = throughput · cycle time``: give two of the three, get the third."""
    if throughput is not None and cycle_time is not None and wip is None:
        return throughput * cycle_time
    if throughput is not None and wip is not None and cycle_time is None:
        return wip / throughput
    if cycle_time is not None and wip is not None and throughput is None:
        return wip / cycle_time
    raise ValueError("give exactly two of throughput, cycle_time and wip")


def station_work_hours(station: Station, work: WorkContent) -> float:
    """Mean busy time of one process visit [h]: setup + time per unit × units."""
    setup = hours(station.setup) if station.setup else 0.0
    return setup + station.process_time.mean_hours() * work.units(station.per)


def station_loads(line: Line, work: WorkContent, racks_per_week: float) -> list[dict[str, float]]:
    """Offered load per station at ``racks_per_week``: busy servers needed on average (rework included).

    A ``shift`` station works the calendar's hours only, so the same weekly volume
    needs ``168 / working hours`` times more servers than a ``continuous`` one.
    """
    visits, rework = expected_visits(line)
    rework_hours = np.zeros(len(line.stations))
    targets = {s.id: i for i, s in enumerate(line.stations)}
    for i, station in enumerate(line.stations):
        if station.yield_ < 1.0:
            j = targets.get(station.rework.to, i) if station.rework and station.rework.to else i
            mean = station.rework.time.mean_hours() if station.rework else 0.0
            rework_hours[j] += (1.0 - station.yield_) * visits[i] * mean
    loads = []
    for i, station in enumerate(line.stations):
        per_rack = visits[i] * station_work_hours(station, work) + rework_hours[i]
        open_hours = HOURS_PER_WEEK if station.hours == "continuous" else line.calendar.hours_per_week
        rate = racks_per_week / open_hours  # racks per open hour
        loads.append(
            {
                "visits": float(visits[i]),
                "rework_visits": float(rework[i]),
                "hours_per_rack": float(per_rack),
                "load": float(rate * per_rack),
                "utilisation": float(rate * per_rack / station.servers),
            }
        )
    return loads


def first_guess(line: Line, work: WorkContent, racks_per_week: float, max_utilisation: float = 1.0) -> list[int]:
    """Smallest server count per station with utilisation below ``max_utilisation`` at ``racks_per_week``.

    ``c = floor(A / max_utilisation) + 1`` for offered load ``A`` (``c > A`` strictly, so
    every station is stable at the target rate); at least one.
    """
    return [
        max(1, math.floor(load["load"] / max_utilisation) + 1) for load in station_loads(line, work, racks_per_week)
    ]
