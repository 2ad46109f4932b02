"""Check and evaluate a revision's design YAML, in a worker process while the server runs.

Parsing, validation and the rack evaluation take about 2 ms of CPU per revision, mostly pure
Python (10 ms when every revision was parsed round-trip for the line numbers that only a rejected
one needs: :func:`check` parses on ruamel's C parser first). On a server thread they hold
the interpreter lock, and every read in flight waits for it again at each database call, where
it let go: the "convoy effect" of CPython's lock (D. Beazley, "Understanding the Python GIL",
PyCon 2010). Measured beside one such thread, a report read's p99 went from 0.6 to 12 ms.
Running them in a process of their own (``concurrent.futures.ProcessPoolExecutor``, spawned,
since the server has threads) takes them off the server's lock; the server thread only waits.

One pool per server process, started when an app starts (its lifespan) and shared by the apps the
process runs; with no pool (tests that call the services directly), :func:`run` checks on the
calling thread.

One bad document must not hold up or fail the other writes. What a check reads is bounded before it
is parsed (:func:`.yamlio.check_yaml_bounds`: size, nesting, aliases), and the server waits
:data:`CHECK_TIMEOUT_S` at most for an answer: past it, the worker is terminated, a fresh pool takes its
place (started and warmed up before any check is sent to it: seconds that no check's limit counts), and
the document is rejected. The checks queued behind it see their worker die (``BrokenProcessPool``) and
run once more on the fresh pool, as after any worker's death (killed, out of memory, or crashed on a
document); a document that kills the worker twice is rejected.
"""

from __future__ import annotations

import copy
import json
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from ..errors import InputError, Problem
from ..rack.design import deep_merge, validate_design
from ..rack.evaluation import evaluate
from ..yamlio import parse_yaml_plain, parse_yaml_text, to_plain

#: Worker processes per server process: writes are a small share of requests, and each server process
#: already uses one core; more workers would compete with the server's own threads for the cores.
PROCESSES = 1

#: Seconds the server waits for a check (parse, validate, evaluate; the checks queued ahead of it included): the
#: examples check in 3 ms, so this is over a thousand times that, yet a document that takes longer holds up
#: every other write for no more than this. (A 512 KiB revision of 10,000 slots took 8 s.)
CHECK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Checked:
    """A revision that validates and evaluates: what the server stores with it."""

    resolved: dict  # the merged design mapping (extends applied)
    lineage: list[str]
    name: str
    generation: str
    figures: dict  # SI figures, NaN and infinities as None (JSON has neither)
    violations: list[dict]


@dataclass(frozen=True)
class NeedsBase:
    """The content ``extends`` another design: look it up and call again with its resolved mapping."""

    extends: object


@dataclass(frozen=True)
class Rejected:
    """The content does not validate or evaluate: why, and where."""

    error: str
    problems: list[Problem]


def check(content: str, label: str, base: tuple[dict, list[str]] | None = None) -> Checked | NeedsBase | Rejected:
    """Parse, validate (``extends`` merged onto ``base``: its resolved mapping and lineage) and evaluate.

    First on the fast plain parse (:func:`.yamlio.parse_yaml_plain`: the round-trip parse was two thirds of
    a check); content that does not check there, for whatever reason, is checked again on the round-trip
    parse, whose line numbers the problems need, and that second outcome is the answer.
    """
    try:
        outcome = _check(content, label, base, fast=True)
    except Exception:  # noqa: BLE001 - judged again below, where every error becomes a clear Rejected
        outcome = None
    return outcome if isinstance(outcome, (Checked, NeedsBase)) else _check(content, label, base, fast=False)


def _check(content: str, label: str, base: tuple[dict, list[str]] | None, fast: bool) -> Checked | NeedsBase | Rejected:
    try:
        root = None if fast else parse_yaml_text(content, label)
        data = parse_yaml_plain(content) if fast else root
        if not isinstance(data, dict):
            raise InputError.single(label, "a design is a YAML mapping (name:, generation:, slots: ...)")
        data = to_plain(data)
        if data.get("extends") is not None and base is None:
            return NeedsBase(data["extends"])
        merged, lineage = data, [label]
        if base is not None:
            parent = copy.deepcopy(base[0])
            parent.pop("extends", None)
            merged, lineage = deep_merge(parent, data), base[1] + [label]
        loaded = validate_design(merged, label, lineage, root)
    except InputError as exc:
        return Rejected("the design does not validate", exc.problems)
    try:
        json.dumps(loaded.raw, allow_nan=False)
    except (TypeError, ValueError):
        problem = Problem(
            "holds a value JSON cannot store (a date, NaN or infinity)",
            "content",
            "quote dates and write finite numbers",
        )
        return Rejected(f"content: {problem.message}", [problem])
    try:
        report = evaluate(loaded)
    except InputError as exc:
        return Rejected("the design does not evaluate", exc.problems)
    figures = {k: v if math.isfinite(v) else None for k, v in report.figures.items()}
    return Checked(
        loaded.raw, lineage, report.name, report.generation, figures, [v.as_dict() for v in report.violations]
    )


#: Held while this process evaluates on a thread: the evaluation chain (CoolProp state) is not documented thread-safe.
EVALUATION_LOCK = threading.Lock()
_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def start() -> Future:
    """Start this process's worker pool unless it runs; the future is done when a worker has started and
    warmed up, so that the first write is not seconds slower. The pool lives as long as the process
    (``concurrent.futures`` joins its workers at exit), so apps started one after another share it."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _new_pool()
        return _pool.submit(int)


def run(
    content: str, label: str, base: tuple[dict, list[str]] | None = None, retry: bool = True
) -> Checked | NeedsBase | Rejected:
    """:func:`check` in the pool when it runs, else on this thread. A check that takes longer than
    :data:`CHECK_TIMEOUT_S` is rejected and its worker replaced; a pool whose worker died (killed, out of
    memory, crashed) is replaced and the check runs once more, then is rejected."""
    pool = _pool
    if pool is None:
        with EVALUATION_LOCK:
            return check(content, label, base)
    try:
        return pool.submit(check, content, label, base).result(timeout=CHECK_TIMEOUT_S)
    except TimeoutError:
        _replace_pool(pool)
        return _rejected(
            f"the design took longer than {CHECK_TIMEOUT_S:g} s to check",
            "make it smaller: a rack design checks in milliseconds (look for a very long list)",
        )
    except BrokenProcessPool:
        _replace_pool(pool)
        if retry:
            return run(content, label, base, retry=False)
        return _rejected(
            "the design stopped the checker's worker process, twice",
            "make it smaller and simpler: the examples/ designs show the usual size",
        )


def _rejected(message: str, hint: str) -> Rejected:
    return Rejected(message, [Problem(message, "content", hint)])


def _replace_pool(stale: ProcessPoolExecutor) -> None:
    """End the workers of ``stale`` and put a started, warmed-up pool in its place, unless another thread did
    already. The new worker starts (seconds) before any check is sent to it, so that no check's time limit
    is spent on it; the threads that need the pool meanwhile wait for this lock."""
    global _pool
    with _pool_lock:
        if _pool is stale:
            _terminate_workers(stale)
            fresh = _new_pool()
            fresh.submit(int).result()
            _pool = fresh


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's worker processes (Python 3.14 has ``terminate_workers`` for it); the pool then breaks, and
    every check waiting in it gets ``BrokenProcessPool``."""
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _new_pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        PROCESSES, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker, initargs=(os.getpid(),)
    )


def _start_worker(server_pid: int) -> None:
    """In a new worker: exit when the server process is gone, then warm up."""
    threading.Thread(target=_exit_with, args=(server_pid,), daemon=True, name="exit-with-server").start()
    warm_up()


def _exit_with(server_pid: int) -> None:
    """Exit once the server process has ended. A worker blocked on its task queue never notices by itself,
    whether the server stopped cleanly or was killed: it would live on as an orphan."""
    while os.getppid() == server_pid:
        time.sleep(1.0)
    os._exit(0)


def warm_up() -> None:
    """Load the parts catalog and CoolProp's property tables now, not in the first request."""
    from ..catalog import load_catalog
    from ..models.thermal import COOLPROP_FLUIDS, volumetric_heat_capacity

    load_catalog()
    for fluid in COOLPROP_FLUIDS:
        volumetric_heat_capacity(fluid, 300.0)
