"""Programme plans: a programme file (:mod:`rackwright.programme`) planned on the design revisions stored here.

A plan's generations name designs of this server (``NAME`` of the uploader's organisation or ``ORG/NAME``, a
``.yaml`` suffix ignored, as ``extends`` does); each plan pins the head revision of each, which its planner must
read in full. Its line, site and scenario files are uploaded with it, by the names the programme gives them:
the planner reads nothing else (:mod:`..planner`). A plan is owned by an organisation and granted to others to
``read`` (its page) or ``write`` (re-plan too), by the owner's admins; everyone else gets 404, as for a design.
Its dashboard shows the compute, cost, sourcing and reliability of every design it uses, so it is shown only to
who reads every pinned revision in full (:func:`.access._plan_refusal`), whatever the plan's grants say.

Uploading and re-planning run in three steps, so that no transaction stays open for the seconds a plan takes:
:func:`prepare_plan` or :func:`prepare_replan` (a read transaction: access, pins, files), :func:`run_plan`
(the worker process, bounded in time), then :func:`create_plan` or :func:`replan` (a write transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InputError, Problem
from ...report.jsonout import plain
from ...yamlio import LocatedInput, parse_yaml_text, to_plain
from .. import checker, planner
from ..db import PLAN_LEVELS, Design, Organisation, ProgrammePlan, ProgrammePlanShare, Revision, utcnow
from .access import _full_reader, _grantee, _locate_plan, _plan_refusal, _require_planner, _visible_plans
from .audit import _audit
from .common import MAX_CONTENT, NAME, Actor, Conflict, Forbidden, Invalid, NotFound, _invalid, _iso, _name, clean_text
from .designs import _reference

#: The most files (lines, sites, scenario) uploaded with a programme.
MAX_PLAN_FILES = 16
#: The head revision of a design by ``(org, name)``.
_HEAD = (
    select(Revision.id, Revision.number)
    .join(Design, Revision.id == Design.head_revision_id)
    .join(Organisation, Design.org_id == Organisation.id)
)


@dataclass(frozen=True)
class PreparedPlan:
    """A programme checked against the server's designs, ready to plan: the worker's inputs and the pins."""

    inputs: planner.PlanInputs
    pins: list[dict]


@dataclass
class _Programme(LocatedInput):
    file: str
    root: object


def prepare_plan(session: Session, actor: Actor, name: str, content: str, files: dict[str, str]) -> PreparedPlan:
    """A new programme plan ``name`` of the actor's organisation, checked (engineers)."""
    actor.require("engineer", "uploading a programme plan")
    _name(name, "name")
    _absent(session, actor, name)
    return _prepare(session, actor, actor.org, name, content, files)


def prepare_replan(session: Session, actor: Actor, org: str, name: str) -> PreparedPlan:
    """Programme plan ``org/name`` on the heads of its designs now (engineers of an organisation with write)."""
    plan, level = _locate_plan(session, actor, org, name)
    _require_planner(actor, level, "re-planning")
    return _prepare(session, actor, org, name, plan.content, plan.files)


def run_plan(prepared: PreparedPlan) -> planner.Planned:
    """Plan in the worker process (:func:`.planner.run`); :class:`Invalid` with the programme's problems."""
    outcome = planner.run(prepared.inputs)
    if isinstance(outcome, checker.Rejected):
        raise Invalid(outcome.error, outcome.problems)
    return outcome


def create_plan(session: Session, actor: Actor, name: str, prepared: PreparedPlan, planned: planner.Planned) -> dict:
    """Store a new plan (of :func:`prepare_plan`, planned by :func:`run_plan`) owned by the actor's organisation."""
    actor.require("engineer", "uploading a programme plan")
    _absent(session, actor, _name(name, "name"))
    inputs = prepared.inputs
    plan = ProgrammePlan(
        org_id=actor.org_id,
        slug=name,
        content=inputs.content,
        files=inputs.files,
        created_by=actor.user_id,
        planned_by=actor.user_id,
        pins=prepared.pins,
        document=planned.document,
        figure=planned.figure,
    )
    session.add(plan)
    session.flush()
    _audit(session, actor, "plan.create", f"plan:{actor.org}/{name}", pins=_labels(prepared.pins))
    return get_plan(session, actor, actor.org, name)


def replan(
    session: Session, actor: Actor, org: str, name: str, prepared: PreparedPlan, planned: planner.Planned
) -> dict:
    """Store a new plan of ``org/name`` (of :func:`prepare_replan` and :func:`run_plan`), pinned to the heads it
    was planned on."""
    plan, level = _locate_plan(session, actor, org, name, lock=True)
    _require_planner(actor, level, "re-planning")
    plan.pins, plan.document, plan.figure = prepared.pins, planned.document, planned.figure
    plan.planned_by = actor.user_id
    plan.planned_at = utcnow()
    session.flush()
    _audit(session, actor, "plan.replan", f"plan:{org}/{name}", pins=_labels(prepared.pins))
    return get_plan(session, actor, org, name)


def list_plans(session: Session, actor: Actor) -> list[dict]:
    """The programme plans the actor's organisation owns or is granted."""
    return [
        {"org": plan.org.slug, "name": plan.slug, "access": level, "planned_at": _iso(plan.planned_at)}
        for plan, level in _visible_plans(session, actor)
    ]


def get_plan(session: Session, actor: Actor, org: str, name: str, figure: bool = False) -> dict:
    """A programme plan as the actor sees it: its file, who planned it when, and — for who reads every design it
    uses in full — the revisions it was planned on, which of them are stale, and the programme document
    (``figure``: the dashboard's plotly JSON too); else ``withheld`` says why."""
    plan, level = _locate_plan(session, actor, org, name)
    refusal = _plan_refusal(session, actor, plan.pins)
    view = {
        "org": plan.org.slug,
        "name": plan.slug,
        "access": level,
        "planned_at": _iso(plan.planned_at),
        "planned_by": plan.planner.username,
        "content": plan.content,
        "files": sorted(plan.files),
        "can_replan": level in ("owner", "write") and actor.at_least("engineer"),
        "withheld": refusal,
        "pins": None,
        "stale": None,
        "document": None,
    }
    if refusal is None:
        # as `programme plan --json` prints it: the names and units of docs/json.md (`goal.min_us_content_share`)
        view |= {"pins": plan.pins, "stale": _stale(session, plan.pins), "document": plain(plan.document)}
        if figure:
            view["figure"] = plan.figure
    if level == "owner":
        view["shares"] = [
            {"org": slug, "level": share}
            for slug, share in session.execute(
                select(Organisation.slug, ProgrammePlanShare.level)
                .join(Organisation, ProgrammePlanShare.org_id == Organisation.id)
                .where(ProgrammePlanShare.plan_id == plan.id)
                .order_by(Organisation.slug)
            )
        ]
    return view


def share_plan(session: Session, actor: Actor, org: str, name: str, with_org: str, level: str | None) -> dict:
    """Grant programme plan ``org/name`` to another organisation to ``read`` or ``write`` (None: no longer);
    admins of the owner only."""
    plan, own = _locate_plan(session, actor, org, name, lock=True)
    if own != "owner":
        raise Forbidden(f"only {org} grants {org}/{name}")
    actor.require("admin", "granting a programme plan")
    target = _grantee(session, with_org, plan.org_id, level, PLAN_LEVELS)
    current = session.get(ProgrammePlanShare, (plan.id, target.id))
    if current is not None:
        session.delete(current)
        session.flush()
    if level is not None:
        session.add(ProgrammePlanShare(plan_id=plan.id, org_id=target.id, level=level))
    session.flush()
    _audit(session, actor, "plan.share", f"plan:{org}/{name}", org=with_org, level=level)
    return get_plan(session, actor, org, name)


# --- checking a programme against the server ------------------------------------------------


def _absent(session: Session, actor: Actor, name: str) -> None:
    exists = select(ProgrammePlan.id).where(ProgrammePlan.org_id == actor.org_id, ProgrammePlan.slug == name)
    if session.scalar(exists) is not None:
        raise Conflict(f"programme plan {actor.org}/{name} exists", hint="re-plan it, or choose another name")


def _prepare(
    session: Session, actor: Actor, owner: str, name: str, content: str, files: dict[str, str]
) -> PreparedPlan:
    """Plan ``owner/name``'s designs pinned (their heads, read in full by the actor; a design named without its
    organisation is the owner's) and its files checked."""
    label = f"{owner}/{name}"
    clean_text(content, "content", MAX_CONTENT)
    files = _files(files)
    try:
        root = parse_yaml_text(content, label)  # bounded in size, depth, nodes and aliases before it is composed
    except InputError as exc:
        raise Invalid("the programme file does not parse", exc.problems) from None
    data, where = to_plain(root), _Programme(label, root)
    generations = data.get("generations") if isinstance(data, dict) else None
    if not isinstance(generations, list) or not generations:
        problem = where.problem("is missing or empty", ("generations",), "see examples/programme-small.yaml")
        raise Invalid("the programme file has no generations", [problem])
    problems, designs, pins = [], [], []
    for i, generation in enumerate(generations):
        reference = generation.get("design") if isinstance(generation, dict) else None
        pinned = _pinned(session, actor, owner, reference, ("generations", i, "design"), where)
        if isinstance(pinned, Problem):
            problems.append(pinned)
            continue
        org, design, revision = pinned
        pins.append(
            {
                "generation": generation.get("id"),
                "org": org,
                "design": design,
                "revision": revision.id,
                "number": revision.number,
            }
        )
        designs.append({k: v for k, v in revision.resolved.items() if k != "extends"})
    problems += _file_problems(data, files, where)
    if problems:
        raise Invalid("the programme file names designs or files the server cannot use", problems)
    return PreparedPlan(planner.PlanInputs(content, label, files, designs), pins)


def _pinned(
    session: Session, actor: Actor, owner: str, reference: object, loc: tuple, where: _Programme
) -> tuple[str, str, Revision] | Problem:
    """``(org, name, head revision)`` of the design a generation names, read in full by the actor, or the problem."""
    org, name, rev = _reference(reference, owner) if isinstance(reference, str) else ("", "", "")
    if rev:
        return where.problem("a plan pins the head of each design when it is planned", loc, f"write {org}/{name}")
    try:
        return org, name, _full_reader(session, actor, org, name, None)
    except NotFound:
        return where.problem(
            f"design {reference!r} not found, or not read in full by {actor.org}",
            loc,
            f"name a design on this server: NAME (of {owner}) or ORG/NAME, shared with {actor.org} in full",
        )


def _files(files: dict[str, str]) -> dict[str, str]:
    """The uploaded files: at most :data:`MAX_PLAN_FILES`, each named by the one name rule and bounded as a design."""
    if not isinstance(files, dict) or len(files) > MAX_PLAN_FILES:
        raise _invalid(
            "files",
            f"at most {MAX_PLAN_FILES} files come with a programme",
            "upload its line, site and scenario files only",
        )
    for name, text in files.items():
        if not (isinstance(name, str) and NAME.fullmatch(name)):
            raise _invalid("files", f"{name!r} is not a file name the server keeps", "name files like line-us.yaml")
        clean_text(text, f"files.{name}", MAX_CONTENT)
    return dict(files)


def _file_problems(data: dict, files: dict[str, str], where: _Programme) -> list[Problem]:
    """Every file the programme names (lines, site files, the sourcing scenario) is among ``files``; a site file's
    ambient profile is built in, constant, or uploaded too. Nothing else on the server's disk is read."""
    named: list[tuple[tuple, object]] = [
        (("factories", i, "line"), f.get("line")) for i, f in enumerate(_items(data, "factories"))
    ]
    named += [
        (("sites", i, "plan"), s.get("plan")) for i, s in enumerate(_items(data, "sites")) if s.get("plan") is not None
    ]
    sourcing = data.get("sourcing")
    if isinstance(sourcing, dict) and sourcing.get("scenario") is not None:
        named.append((("sourcing", "scenario"), sourcing["scenario"]))
    problems = [
        where.problem(
            f"file {name!r} was not uploaded with the programme", loc, "upload it with the programme, under this name"
        )
        for loc, name in named
        if not (isinstance(name, str) and name in files)
    ]
    for loc, name in named:
        if loc[0] == "sites" and isinstance(name, str) and name in files:
            problems += _ambient_problems(files, name, loc, where)
    return problems


def _items(data: dict, key: str) -> list[dict]:
    items = data.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _ambient_problems(files: dict[str, str], site: str, loc: tuple, where: _Programme) -> list[Problem]:
    """A site file's ``cooling.ambient``: a built-in profile, ``constant ...`` or an uploaded CSV."""
    from ...site.cooling import DATA_DIR

    try:
        data = to_plain(parse_yaml_text(files[site], site))
    except InputError as exc:
        return [where.problem(f"site file {site!r}: {p.message} (line {p.line})", loc, p.hint) for p in exc.problems]
    cooling = data.get("cooling") if isinstance(data, dict) else None
    ambient = cooling.get("ambient") if isinstance(cooling, dict) else None
    builtin = {p.stem for p in DATA_DIR.glob("*.csv")}
    if not isinstance(ambient, str) or ambient.strip().startswith("constant") or ambient in builtin or ambient in files:
        return []
    return [
        where.problem(
            f"site file {site!r} names the ambient profile {ambient!r}, which was not uploaded",
            loc,
            f'upload it too, or use a built-in profile ({", ".join(sorted(builtin))}) or "constant 25 degC"',
        )
    ]


def _stale(session: Session, pins: list[dict]) -> list[dict]:
    """The designs with a newer head than the revision the plan was planned on."""
    stale = []
    for pin in pins:
        head = session.execute(_HEAD.where(Organisation.slug == pin["org"], Design.slug == pin["design"])).first()
        if head is not None and head.id != pin["revision"]:
            label = f"{pin['org']}/{pin['design']}"
            stale.append(
                {
                    "design": label,
                    "planned": pin["number"],
                    "head": head.number,
                    "message": f"design {label} has revision {head.number} newer than the planned {pin['number']}",
                }
            )
    return stale


def _labels(pins: list[dict]) -> list[str]:
    return [f"{p['org']}/{p['design']}@{p['revision']}" for p in pins]
