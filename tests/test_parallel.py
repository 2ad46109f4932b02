"""rackwright.parallel.run_tasks on the local process pool: results in task order, and workers that start fresh
(spawned, not forked from a process whose polars threads may hold a lock: such a fork hung `programme plan
--workers 2` inside the test run, waiting in polars' thread pool)."""

from __future__ import annotations

import sys
import types

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
