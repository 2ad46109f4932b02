"""rackwright.parallel.run_tasks on the local process pool: results in task order, and workers that start fresh
(spawned, not forked from a process whose polars threads may hold a lock: such a fork hung `programme plan
--workers 2` inside the test run, waiting in polars' thread pool)."""

from __future__ import annotations

import sys
import types

import pytest

from rackwright.parallel import run_tasks

MARKER = "rackwright_test_parent_only"


def loaded(name: str) -> bool:
    """Whether the module ``name`` is loaded in the process that runs the task."""
    return name in sys.modules


def test_results_come_back_in_task_order():
    assert run_tasks(abs, [-3, 2, -1, 0], workers=2) == [3, 2, 1, 0]


def test_pool_workers_do_not_inherit_the_parents_memory(monkeypatch):
    """A module made only in this process at run time is not in a worker (a forked worker would have it)."""
    monkeypatch.setitem(sys.modules, MARKER, types.ModuleType(MARKER))
    assert run_tasks(loaded, [MARKER, MARKER], workers=2) == [False, False]
    assert run_tasks(loaded, [MARKER], workers=1) == [True]  # one worker: this process


@pytest.mark.slow  # (starts Ray: a few seconds)
def test_a_ray_search_leaves_no_ray_runtime_behind():
    """``perf search --backend ray`` made its pool with Ray's ``multiprocessing.Pool``, which starts a runtime and
    never stops it: the fuzz drew it, and every later test that starts Ray itself failed ("ray.init twice"). The
    pool now lives in ray_session, which stops what it started and leaves a running runtime running."""
    ray = pytest.importorskip("ray")
    from rackwright.perf.api import search_report

    args = {"global_batch": 64, "accelerators": 64, "top": 1, "backend": "ray"}
    local = search_report("llama3-8b", "dgx-h100-ndr", **{**args, "backend": "local"})
    assert search_report("llama3-8b", "dgx-h100-ndr", **args)["best"] == local["best"]
    assert not ray.is_initialized()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        search_report("llama3-8b", "dgx-h100-ndr", **args)
        assert ray.is_initialized()
    finally:
        ray.shutdown()
