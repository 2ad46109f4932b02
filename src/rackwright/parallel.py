"""Where independent tasks run: in this process, on a local process pool, or as tasks on a Ray cluster.

:func:`run_tasks` applies one function to each task and returns the results in task order, whatever the backend and
however many workers, so a result never depends on where it was computed. ``local`` runs the tasks in this process
(``workers`` ≤ 1) or on a :class:`concurrent.futures.ProcessPoolExecutor` of spawned processes (not forked: a child
forked from a process whose polars or BLAS threads hold a lock waits on that lock forever, which polars' docs on
multiprocessing warn of); ``ray`` submits them as Ray tasks. Ray is an optional extra: ``ray.init`` starts a local
cluster (``workers`` CPUs) unless one is already running, and the runtime is shut down again when this call started
it. The explorer's chunks (:mod:`rackwright.explore.backends`) and the programme's generations, site plans, what-if
variants and risk chunks (:mod:`rackwright.programme`) run through it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from .errors import InputError

BACKENDS = ("local", "ray")


def check_backend(backend: str) -> None:
    """:class:`InputError` naming ``--backend`` for an unknown backend."""
    if backend not in BACKENDS:
        raise InputError.single(None, f"unknown backend {backend!r}", "--backend", f"one of: {', '.join(BACKENDS)}")


def run_tasks(
    function: Callable[[Any], Any],
    tasks: Sequence,
    backend: str = "local",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list:
    """``[function(task) for task in tasks]`` on ``backend``; ``progress(i)`` is called as task ``i`` finishes.
    ``function`` must be importable by name (a module-level function) for the process pool and Ray."""
    check_backend(backend)
    report = progress or (lambda i: None)
    if backend == "ray":
        return _on_ray(function, tasks, workers, report)
    if not workers or workers <= 1 or len(tasks) <= 1:
        results = []
        for i, task in enumerate(tasks):
            results.append(function(task))
            report(i)
        return results
    out: list = [None] * len(tasks)
    spawned = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=spawned) as pool:
        pending = {pool.submit(function, task): i for i, task in enumerate(tasks)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                out[i] = future.result()
                report(i)
    return out


@contextlib.contextmanager
def ray_session(workers: int | None) -> Iterator[Any]:
    """The ``ray`` module with a runtime to use: a local instance of ``workers`` CPUs (all when None) started here
    unless one is already running, and shut down on leaving when it was started here, so that no command leaves a
    Ray runtime behind (Ray's own ``ray.util.multiprocessing.Pool`` starts one and never stops it)."""
    try:
        import ray
    except ImportError:
        raise InputError.single(
            None, "the ray backend needs Ray", "--backend", "install the optional extra: pip install 'rackwright[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False
        )
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _call(function: Callable[[Any], Any], task: Any) -> Any:
    return function(task)


def _on_ray(function: Callable[[Any], Any], tasks: Sequence, workers: int | None, report) -> list:
    with ray_session(workers) as ray:
        remote = ray.remote(_call)
        handle = ray.put(function)
        pending = {remote.remote(handle, task): i for i, task in enumerate(tasks)}
        results: list = [None] * len(tasks)
        waiting = list(pending)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            i = pending[done[0]]
            results[i] = ray.get(done[0])
            report(i)
        return results
