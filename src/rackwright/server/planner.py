"""Plan a programme file on stored design revisions, in a worker process with a time limit.

A programme plan (:func:`rackwright.programme.plan_programme`) composes the line, roadmap, performance,
fleet and site models: seconds of CPU for a small programme, far more than a request may hold the
server's interpreter lock for (see :mod:`.checker`). Each plan runs in a fresh worker process of its
own (``spawn``: the server has threads; it exits with the server, :func:`.checker._start_worker`),
and the server waits :data:`PLAN_TIMEOUT_S` at most: past it, the worker is terminated and the plan
refused, so one programme file cannot hold a server thread or a core for longer.

The worker writes the programme's files into a temporary folder: each generation's design is the
resolved mapping of the revision it is pinned to (``extends`` merged on the server), the line, site and
scenario files are the texts uploaded with the programme. Nothing else on the server's disk is read
(:func:`.services.plans` checks every file name the programme names before it gets here).
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem
from . import checker

#: Seconds the server waits for a plan: ``examples/programme-small.yaml`` plans in about 10 s on one core.
PLAN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class PlanInputs:
    """What a plan needs: the programme YAML, its files and each generation's resolved design (in file order)."""

    content: str
    label: str  # ORG/NAME, for messages
    files: dict[str, str]
    designs: list[dict]


@dataclass(frozen=True)
class Planned:
    """A plan's programme document and its dashboard as plotly JSON."""

    document: dict
    figure: str


def plan(inputs: PlanInputs) -> Planned | checker.Rejected:
    """Validate and plan the programme (in the worker): its document and dashboard, or why not."""
    from ..programme.plan import plan_programme, programme_document
    from ..programme.report import dashboard
    from ..programme.schema import validate_programme
    from ..yamlio import parse_yaml_text, to_plain

    with tempfile.TemporaryDirectory(prefix="rackwright-plan-") as tmp:
        folder = Path(tmp)
        try:
            root = parse_yaml_text(inputs.content, inputs.label)
            data = to_plain(root)
            for name, text in inputs.files.items():
                (folder / name).write_text(text, encoding="utf-8")
            for i, (generation, design) in enumerate(zip(data["generations"], inputs.designs, strict=True)):
                generation["design"] = f"generation-{i}.design.json"  # JSON is YAML
                (folder / generation["design"]).write_text(json.dumps(design), encoding="utf-8")
            document = programme_document(plan_programme(validate_programme(data, inputs.label, root, folder)))
            return Planned(document, dashboard(document).to_json())
        except InputError as exc:
            return checker.Rejected("the programme does not plan", [_local(p, tmp) for p in exc.problems])


def _local(problem: Problem, folder: str) -> Problem:
    """A problem without the worker's temporary folder in its text (file names as uploaded)."""
    strip = lambda text: text.replace(folder + "/", "").replace(folder, ".")  # noqa: E731
    return Problem(strip(problem.message), problem.path, strip(problem.hint), problem.line, problem.column)


def run(inputs: PlanInputs) -> Planned | checker.Rejected:
    """:func:`plan` in a fresh worker process, refused after :data:`PLAN_TIMEOUT_S` (the worker is then ended)."""
    pool = checker._new_pool()
    try:
        return pool.submit(plan, inputs).result(timeout=PLAN_TIMEOUT_S)
    except TimeoutError:
        return checker._rejected(
            f"the programme took longer than {PLAN_TIMEOUT_S:g} s to plan",
            "plan fewer generations, sites or quarters, or plan it with `rackwright programme plan`",
        )
    except BrokenProcessPool:
        return checker._rejected(
            "the programme stopped the planner's worker process", "make it smaller: see examples/programme-small.yaml"
        )
    finally:
        checker._terminate_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
