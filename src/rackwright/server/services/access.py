"""Who may see which design and revision, and at which level: the one rule every read and write goes through."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, defer

from ..db import Design, DesignShare, Organisation, ProgrammePlan, ProgrammePlanShare, Revision
from .common import NAME, READ_LEVELS, REVISION_ID, Actor, Forbidden, NotFound, _invalid

#: A design by ``(org, name)`` with the share level of the asking organisation (None: not shared with it).
_DESIGN_AND_SHARE = (
    select(Design, DesignShare.level)
    .join(Organisation, Design.org_id == Organisation.id)
    .outerjoin(DesignShare, and_(DesignShare.design_id == Design.id, DesignShare.org_id == bindparam("viewer_org")))
    .where(Organisation.slug == bindparam("org"), Design.slug == bindparam("name"))
)
_DESIGN_AND_SHARE_LOCKED = _DESIGN_AND_SHARE.with_for_update(of=Design)
#: The designs of the revisions ``ids`` (an ``extends`` chain) with the share level of the asking organisation.
_CHAIN_ACCESS = (
    select(Design, DesignShare.level)
    .join(Revision, Revision.design_id == Design.id)
    .outerjoin(DesignShare, and_(DesignShare.design_id == Design.id, DesignShare.org_id == bindparam("viewer_org")))
    .where(Revision.id.in_(bindparam("ids", expanding=True)))
)
#: Who a design is shared with, and at which level.
_SHARES = (
    select(Organisation.slug, DesignShare.level)
    .join(Organisation, DesignShare.org_id == Organisation.id)
    .where(DesignShare.design_id == bindparam("design_id"))
    .order_by(Organisation.slug)
)
#: A revision without the two large JSON documents (the resolved design and the SI figures): views of a
#: revision are cached by id (:class:`_RevisionCache`), so reads rarely need them; they load on first use.
_REVISION_LEAN = (
    select(Revision).where(Revision.id == bindparam("id")).options(defer(Revision.resolved), defer(Revision.figures))
)
_NUMBER = select(Revision.number).where(Revision.id == bindparam("id"))
_LINEAGE = select(Revision.lineage).where(Revision.id == bindparam("id"))


def _visible_designs(session: Session, actor: Actor) -> list[tuple[Design, str]]:
    """``(design, level)`` of every design the actor's organisation sees; level owner, full or envelope."""
    shares = {
        s.design_id: s.level for s in session.scalars(select(DesignShare).where(DesignShare.org_id == actor.org_id))
    }
    designs = session.scalars(
        select(Design).where(or_(Design.org_id == actor.org_id, Design.id.in_(list(shares)))).order_by(Design.id)
    )
    return [(d, "owner" if d.org_id == actor.org_id else shares[d.id]) for d in designs]


def _locate(session: Session, actor: Actor, org: str, name: str, lock: bool = False) -> tuple[Design, str]:
    """A design and the actor's level on it; :class:`NotFound` when it is not visible.

    ``lock`` (every write to a design): the design's row is locked until the transaction ends, so that writes
    to one design (a push, a status move, a share, an approval) serialize on PostgreSQL as they do on SQLite,
    whose writers hold the database's write lock; each then reads what the one before it committed."""
    if not (isinstance(org, str) and isinstance(name, str) and NAME.fullmatch(org) and NAME.fullmatch(name)):
        raise NotFound(f"design {org!r}/{name!r} not found")
    statement = _DESIGN_AND_SHARE_LOCKED if lock else _DESIGN_AND_SHARE
    row = session.execute(statement, {"org": org, "name": name, "viewer_org": actor.org_id}).first()
    if row is None:
        raise NotFound(f"design {org}/{name} not found")
    level = "owner" if row.Design.org_id == actor.org_id else row.level
    if level is None:
        raise NotFound(f"design {org}/{name} not found")
    return row.Design, level


def _revision(session: Session, design: Design, rev: str | None) -> Revision:
    """A revision of ``design`` by id (None: the head)."""
    rev = rev or design.head_revision_id
    found = isinstance(rev, str) and REVISION_ID.fullmatch(rev)
    revision = session.scalar(_REVISION_LEAN, {"id": rev}) if found else None
    if revision is None or revision.design_id != design.id:
        raise NotFound(f"revision {rev!r} of design {design.org.slug}/{design.slug} not found")
    return revision


@dataclass(frozen=True)
class Access:
    """What an organisation may read of one revision.

    A revision whose ``extends`` chain merged in other designs shows them through its content, elevation and
    figures, so its ``level`` is its own design's level capped by the organisation's level on every design of
    that chain (owner or full, envelope, none): nobody reads more of a design through another one than its owner
    granted them, whatever was granted when the revision was written. ``hidden``: the figure sections an
    envelope viewer does not see, those of every envelope-level design in the chain; ``capped_by``: the first
    design of the chain that lowered the level (None: none did)."""

    level: str
    hidden: frozenset[str]
    capped_by: str | None = None

    @property
    def content(self) -> bool:
        """Whether the design file, its fields and the elevation may be read."""
        return self.level in ("owner", "full")

    def refusal(self, what: str, org: str) -> NotFound:
        reason = (
            f"it extends {self.capped_by}, which is not shared with {org} in full"
            if self.capped_by
            else f"it is not shared with {org} in full"
        )
        return NotFound(f"{what}: {reason}")


def _rank(level: str) -> int:
    return READ_LEVELS.index("full" if level == "owner" else level)


def _access(session: Session, viewer_org: int, design: Design, level: str, lineage: list[str]) -> Access:
    """The :class:`Access` of organisation ``viewer_org``, at ``level`` on ``design``, to its revision of
    ``lineage`` (``ORG/NAME@REV`` of each design its ``extends`` merged, itself last)."""
    hidden = set(design.confidential) if level == "envelope" else set()
    effective, capped_by = level, None
    parents = [label.rpartition("@")[2] for label in lineage[:-1]]
    chain = session.execute(_CHAIN_ACCESS, {"ids": parents, "viewer_org": viewer_org}) if parents else ()
    for parent, share_level in chain:
        parent_level = "full" if parent.org_id == viewer_org else share_level or "none"
        if parent_level == "envelope":
            hidden |= set(parent.confidential)
        if _rank(parent_level) < _rank(effective):
            effective, capped_by = parent_level, f"{parent.org.slug}/{parent.slug}"
    return Access(effective, frozenset(hidden), capped_by)


def _readers(session: Session, design: Design) -> list[tuple[int, str, str]]:
    """``(organisation id, slug, level)`` of every organisation that reads ``design``: its owner, then its shares."""
    shared = session.execute(
        select(DesignShare.org_id, Organisation.slug, DesignShare.level)
        .join(Organisation, DesignShare.org_id == Organisation.id)
        .where(DesignShare.design_id == design.id)
        .order_by(Organisation.slug)
    )
    return [(design.org_id, design.org.slug, "owner"), *shared]


def _chain_refusal(
    session: Session, design: Design, readers: list[tuple[int, str, str]], base_lineage: list[str]
) -> tuple[str, str] | None:
    """``(why, fix)`` when a revision of ``design`` extending the chain ``base_lineage`` would show one of
    ``readers`` a design beyond what its owner granted them; None when it would not."""
    for org_id, slug, level in readers:  # the lineage such a revision would have: the chain, then itself
        capped_by = _access(session, org_id, design, level, [*base_lineage, "the new revision"]).capped_by
        if capped_by:
            wanted = "in full" if level in ("owner", "full") else "at envelope level"
            return (
                f"{slug} reads {design.org.slug}/{design.slug} {wanted} but may not read {capped_by} {wanted}, "
                f"which it would read through the extends",
                f"ask an admin of {capped_by.split('/')[0]} to share {capped_by} with {slug} {wanted}, "
                f"or stop sharing {design.org.slug}/{design.slug} with {slug} first",
            )
    return None


def _reader(session: Session, actor: Actor, design: Design, level: str, revision: Revision) -> Access:
    """The actor's :class:`Access` to ``revision`` of ``design`` (on which the actor's level is ``level``)."""
    return _access(session, actor.org_id, design, level, revision.lineage)


def _require_editor(actor: Actor, level: str, what: str) -> None:
    if level not in ("owner", "full"):
        raise Forbidden(f"{what} needs full access; this design is shared with {actor.org} at {level} level")
    actor.require("engineer", what)


def _participants(session: Session, design: Design) -> list[str]:
    """The organisations that read ``design`` now: its owner, then those it is shared with."""
    return [slug for _, slug, _ in _readers(session, design)]


#: A programme plan by ``(org, name)`` with the level granted to the asking organisation (None: not granted).
_PLAN_AND_SHARE = (
    select(ProgrammePlan, ProgrammePlanShare.level)
    .join(Organisation, ProgrammePlan.org_id == Organisation.id)
    .outerjoin(
        ProgrammePlanShare,
        and_(ProgrammePlanShare.plan_id == ProgrammePlan.id, ProgrammePlanShare.org_id == bindparam("viewer_org")),
    )
    .where(Organisation.slug == bindparam("org"), ProgrammePlan.slug == bindparam("name"))
)


def _locate_plan(session: Session, actor: Actor, org: str, name: str, lock: bool = False) -> tuple[ProgrammePlan, str]:
    """A programme plan and the actor's level on it (owner, write, read); :class:`NotFound` when it is not granted
    to the actor's organisation, exactly as when it does not exist (``lock``: as :func:`_locate`)."""
    if not (isinstance(org, str) and isinstance(name, str) and NAME.fullmatch(org) and NAME.fullmatch(name)):
        raise NotFound(f"programme plan {org!r}/{name!r} not found")
    statement = _PLAN_AND_SHARE.with_for_update(of=ProgrammePlan) if lock else _PLAN_AND_SHARE
    row = session.execute(statement, {"org": org, "name": name, "viewer_org": actor.org_id}).first()
    level = None if row is None else "owner" if row.ProgrammePlan.org_id == actor.org_id else row.level
    if row is None or level is None:
        raise NotFound(f"programme plan {org}/{name} not found")
    return row.ProgrammePlan, level


def _require_planner(actor: Actor, level: str, what: str) -> None:
    """Re-planning needs the engineer role in the owner organisation or one granted ``write``."""
    if level not in ("owner", "write"):
        raise Forbidden(f"{what} needs write access; this programme plan is granted to {actor.org} to read")
    actor.require("engineer", what)


def _full_reader(session: Session, actor: Actor, org: str, name: str, rev: str | None) -> Revision:
    """Revision ``rev`` (None: the head) of design ``org/name``, when the actor reads it in full, its ``extends``
    chain included; :class:`NotFound` otherwise (with the reason when the design is visible)."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if not access.content:
        raise access.refusal(f"design {org}/{name}@{revision.id}", actor.org)
    return revision


def _plan_refusal(session: Session, actor: Actor, pins: list[dict]) -> str | None:
    """Why the actor may not read a dashboard planned on ``pins``: it shows each design's compute, cost, sourcing
    and reliability, so it is read only by who reads every pinned revision in full (None: the actor does)."""
    for pin in pins:
        try:
            _full_reader(session, actor, pin["org"], pin["design"], pin["revision"])
        except NotFound:
            label = f"{pin['org']}/{pin['design']}@{pin['revision']}"
            return f"it is planned on {label}, which {actor.org} does not read in full (with what it extends)"
    return None


def _visible_plans(session: Session, actor: Actor) -> list[tuple[ProgrammePlan, str]]:
    """``(plan, level)`` of every programme plan the actor's organisation owns (owner) or is granted (write, read)."""
    rows = session.execute(
        select(ProgrammePlan, ProgrammePlanShare.level)
        .outerjoin(
            ProgrammePlanShare,
            and_(ProgrammePlanShare.plan_id == ProgrammePlan.id, ProgrammePlanShare.org_id == actor.org_id),
        )
        .where(or_(ProgrammePlan.org_id == actor.org_id, ProgrammePlanShare.org_id == actor.org_id))
        .order_by(ProgrammePlan.id)
        .options(*(defer(column) for column in (ProgrammePlan.content, ProgrammePlan.document, ProgrammePlan.figure)))
    )
    return [(plan, "owner" if plan.org_id == actor.org_id else level) for plan, level in rows]


def _grantee(
    session: Session, with_org: str, owner_id: int, level: str | None, levels: tuple[str, ...]
) -> Organisation:
    """The organisation a design or programme plan of organisation ``owner_id`` is shared with at ``level`` (one of
    ``levels``; None: no longer): :class:`NotFound` when there is none, a 422 for the owner or an unknown level."""
    target = session.scalar(select(Organisation).where(Organisation.slug == with_org))
    if target is None:
        raise NotFound(f"organisation {with_org!r} not found")
    if target.id == owner_id:
        raise _invalid("org", "the owner always has full access")
    if level is not None and level not in levels:
        raise _invalid("level", f"unknown level {level!r}", f"one of: {', '.join(levels)}")
    return target
