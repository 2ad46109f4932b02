"""Programme files: the whole programme in one file, and loading with readable errors.

A programme file (YAML) is a roadmap file (:mod:`rackwright.roadmap.schema`: goal,
generations, sites, supply, risk) whose factories are *lines* instead of typed-in rates,
plus the reference training workload the delivered compute is counted in and the fleet's
repair window::

    name: 10 GW programme
    goal: {it_power: "10 GW", start: 2026-07-01, by: 2029-12-31}
    generations: [{id: gb200, design: gb200-nvl72.yaml, first_ship: 2026-07-01, ...}]
    sites: [{id: abilene, pue: 1.1, hosts: [gb200], energy_usd_per_mwh: 60, power: [...], ...}]
    factories:
      - {id: houston, location: US, start: 2026-07-01, line: line-us.yaml, share: 0.2,
         builds: [gb200, gb300], assumption: "..."}
    supply: [...]
    workload: {model: deepseek-v3, precision: fp8, accelerators: 9216, global_batch: 9216,
               seq_len: 4096, storage_bandwidth: "2 TB/s", assumption: "..."}
    fleet: {repair_days: 5, assumption: "..."}

``workload.model`` and ``workload.global_batch`` may be left out: they default to the shared MoE reference of
``rackwright evaluate``'s delivery figures (:data:`rackwright.perf.reference.REFERENCE_TRAINING_MOE`:
DeepSeek-V3, one sequence per accelerator), so the programme counts its delivered compute on the same job.

A factory's weekly capacity for a generation is ``share`` × the queueing bound of its line
for the generation's design (:func:`rackwright.roadmap.inputs.line_rate`, no station busier
than ``line_utilisation``): ``share`` is the part of the line's time this programme gets.
Design and line paths are relative to the programme file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..catalog.schema import Source
from ..errors import InputError, Problem
from ..perf.reference import REFERENCE_TRAINING_MOE
from ..rack.evaluation import Rack
from ..roadmap.schema import (
    Generation,
    Goal,
    LoadedRoadmap,
    Risk,
    Site,
    Sourced,
    Supply,
    checked_quantity,
    validate_roadmap,
)
from ..validity import Name
from ..yamlio import LocatedInput, Strict, problems_from_validation, read_yaml, to_plain

#: The most accelerators of the reference job (the count domain's bound).
MAX_JOB = 1_000_000
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class ProgrammeSite(Site):
    """A roadmap site, the price of the energy it buys and, optionally, the site file it is planned with (layout,
    fabric, power chain, cooling; its target is replaced by the racks the roadmap sends there)."""

    energy_usd_per_mwh: float = Field(ge=0, le=10_000)
    plan: str | None = None


class LineFactory(Sourced):
    """An integration-and-test line: its line file, the share of its time this programme gets, what it builds."""

    id: str = Field(pattern=_ID)
    location: str = Field(pattern=r"^[A-Z]{2}$")
    start: dt.date
    line: str
    share: float = Field(default=1.0, gt=0, le=1)
    line_utilisation: float = Field(default=0.85, gt=0, le=1)
    builds: list[str] = Field(min_length=1)


class Workload(Sourced):
    """The reference training job: a model known to ``rackwright perf``, its precision, job size and batch. The
    model and the global batch default to the shared MoE reference's (:data:`REFERENCE_TRAINING_MOE`, the one of
    ``evaluate``'s delivery figures and the explorer's ``reference: moe``): DeepSeek-V3, one sequence per
    accelerator (its batch rule, :mod:`rackwright.perf.reference`)."""

    model: str = REFERENCE_TRAINING_MOE.model
    #: ``reference``: the shared MoE reference's recipe policy on each generation (MXFP8 on Blackwell, blockwise
    #: FP8 on Hopper, else BF16).
    precision: Literal["bf16", "fp8", "fp4", "reference"] = "fp8"
    accelerators: int = Field(ge=1, le=MAX_JOB)
    global_batch: int = Field(default=0, ge=1, le=MAX_JOB * 64)  # 0: left out (not validated), the rule
    seq_len: int | None = Field(default=None, ge=1, le=100_000_000)
    storage_bandwidth: str = "2 TB/s"

    @model_validator(mode="after")
    def _reference_batch(self):
        """A global batch left out (0) is the shared MoE reference's batch rule on ``accelerators``."""
        if not self.global_batch:
            self.global_batch = REFERENCE_TRAINING_MOE.global_batch(self.accelerators)
        return self

    _bandwidth = field_validator("storage_bandwidth")(
        lambda v: checked_quantity(
            v, "data_rate", "a checkpoint cannot be written at 0 B/s; give the storage's write bandwidth"
        )
    )


class Fleet(Sourced):
    """The fleet's repair window and target availability (spares)."""

    repair_days: float = Field(gt=0, le=3650)
    availability: float = Field(default=0.999, gt=0, lt=1)


class Sourcing(Sourced):
    """When each generation's parts are ordered, for the check of its first ship against its parts' lead times."""

    ordered: dict[str, dt.date] = Field(min_length=1)
    integration_days: float = Field(default=14.0, ge=0, le=3650)
    #: A sourcing scenario file (``rackwright sourcing whatif``): its changes and tariffs price the racks built.
    scenario: str | None = None


class Programme(Strict):
    """The whole programme (see the module docstring)."""

    name: Name
    description: str = ""
    sources: list[Source] = Field(default_factory=list)
    goal: Goal
    generations: list[Generation] = Field(min_length=1, max_length=50)
    sites: list[ProgrammeSite] = Field(min_length=1, max_length=500)
    factories: list[LineFactory] = Field(min_length=1, max_length=100)
    supply: list[Supply] = Field(default_factory=list, max_length=100)
    risk: Risk | None = None
    workload: Workload
    fleet: Fleet
    sourcing: Sourcing | None = None


class LoadedProgramme(LocatedInput, BaseModel):
    """A validated programme, its roadmap (with the evaluated racks; factory rates still to be set from the lines),
    file and YAML nodes."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    programme: Programme
    roadmap: LoadedRoadmap
    file: str | None = None
    folder: Path = Path(".")
    root: Any = None

    @property
    def racks(self) -> list[Rack]:
        """The evaluated rack of each generation, in the order of ``programme.generations``."""
        return self.roadmap.racks


@dataclass
class _Where(LocatedInput):
    """Where a problem is, before the programme is loaded."""

    file: str | None
    root: Any


def load_programme(
    path: str | Path, overrides: dict[str, object] | None = None, option: str = "--set"
) -> LoadedProgramme:
    """Read and validate a programme file; raise :class:`InputError` with field paths on bad input.

    ``overrides`` maps dotted paths to values that replace the file's before validation (the what-if's
    ``--set``), list items named by id: ``{"generations.e1.first_ship": date(2027, 4, 1)}`` (:func:`apply_set`);
    a path that does not exist is reported as ``option`` (``--set``, ``--sweep``) with its key.
    """
    root = read_yaml(path)
    if not isinstance(root, dict):
        raise InputError.single(
            str(path),
            "a programme file is a YAML mapping (name:, goal:, generations:, sites:, factories:, workload:, fleet:)",
            hint="see examples/programme-10gw.yaml",
        )
    data = to_plain(root)
    for key, value in (overrides or {}).items():
        apply_set(data, key, value, str(path), option)
    return validate_programme(data, str(path), root, Path(path).parent)


def apply_set(data: dict, key: str, value: object, file: str | None = None, option: str = "--set") -> None:
    """Set ``data`` at the dotted path ``key``: list items by their id (or index), a new field only at the end;
    :class:`InputError` naming ``OPTION KEY`` when the path does not exist."""
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        index: Any = None
        if isinstance(node, list):
            ids = [item.get("id") if isinstance(item, dict) else None for item in node]
            index = ids.index(part) if part in ids else int(part) if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict) and (part in node or last):
            index = part
        if index is None:
            raise InputError.single(
                file,
                f"no field {'.'.join(parts[: depth + 1])!r} in the programme file",
                f"{option} {key}",
                "a dotted path of the file's fields, list items by id: e.g. generations.e1.first_ship=2027-04-01",
            )
        if last:
            node[index] = value
        else:
            node = node[index]


def validate_programme(
    data: dict, file: str | None = None, root: Any = None, folder: Path = Path(".")
) -> LoadedProgramme:
    """Schema, then the programme's own references (factory builds, the workload's model), then the roadmap's
    (:func:`rackwright.roadmap.schema.validate_roadmap`: ids, dates, hosts), which evaluates each design once."""
    try:
        programme = Programme.model_validate(data)
    except ValidationError as exc:
        raise InputError(file, problems_from_validation(exc, root)) from None
    problems = own_problems(programme, _Where(file, root), folder)
    if problems:
        raise InputError(file, problems)
    roadmap = validate_roadmap(roadmap_data(data, programme), file, root, folder)
    return LoadedProgramme(programme=programme, roadmap=roadmap, file=file, folder=folder, root=root)


def roadmap_data(data: dict, programme: Programme) -> dict:
    """The programme's roadmap sections as a roadmap mapping, each factory building its generations at 1 rack/week
    (a placeholder: :func:`rackwright.programme.plan.roadmap_with_capacity` sets the lines' rates)."""
    roadmap = {k: v for k, v in data.items() if k not in ("workload", "fleet", "sourcing", "factories", "sites")}
    roadmap["sites"] = [
        {k: v for k, v in site.items() if k not in ("energy_usd_per_mwh", "plan")} for site in data["sites"]
    ]
    roadmap["factories"] = [
        {
            "id": f.id,
            "location": f.location,
            "start": f.start,
            "capacity": dict.fromkeys(f.builds, 1.0),
            "source": raw.get("source"),
            "assumption": f.assumption,
        }
        for f, raw in zip(programme.factories, data["factories"], strict=True)
    ]
    return roadmap


def own_problems(p: Programme, loaded: LocatedInput, folder: Path) -> list[Problem]:
    """Factories build known generations, each once; line and site files exist; ``perf`` knows the workload's
    model (that it is a mixture of experts is checked when it is loaded, :func:`.plan.reference_model`)."""
    from ..perf.workload import builtin_models

    ids = [g.id for g in p.generations]
    problems = []
    for i, factory in enumerate(p.factories):
        for j, generation in enumerate(factory.builds):
            if generation not in ids:
                problems.append(
                    loaded.problem(
                        f"unknown generation {generation!r}", ("factories", i, "builds", j), f"one of: {', '.join(ids)}"
                    )
                )
            elif generation in factory.builds[:j]:
                problems.append(
                    loaded.problem(f"{generation!r} is listed twice", ("factories", i, "builds", j), "list it once")
                )
    if p.sourcing is not None:
        problems += [
            loaded.problem(f"unknown generation {g!r}", ("sourcing", "ordered", g), f"one of: {', '.join(ids)}")
            for g in p.sourcing.ordered
            if g not in ids
        ]
    files: list[tuple[tuple, str]] = [(("factories", i, "line"), f.line) for i, f in enumerate(p.factories)]
    files += [(("sites", i, "plan"), s.plan) for i, s in enumerate(p.sites) if s.plan is not None]
    if p.sourcing is not None and p.sourcing.scenario is not None:
        files.append((("sourcing", "scenario"), p.sourcing.scenario))
    for loc, name in files:
        if not (folder / name).is_file():
            problems.append(
                loaded.problem(
                    f"file {name!r} cannot be used: not found (looked at {folder / name})",
                    loc,
                    "give a path relative to the programme file",
                )
            )
    name = p.workload.model
    if name not in builtin_models():
        problems.append(
            loaded.problem(f"unknown model {name!r}", ("workload", "model"), f"one of: {', '.join(builtin_models())}")
        )
    return problems
