"""Sign-off by every participating organisation, and overrides of rule errors with a reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Approval, AuditEntry, Design, Organisation, Revision, User
from .access import _locate, _participants, _revision
from .audit import _audit
from .common import MAX_MESSAGE, Actor, Conflict, _iso, clean_text

#: Moves that vouch for a revision: with rule errors in its head, only as an explicit override with a reason.
OVERRIDDEN = ("in_review", "approved")


def _override(
    session: Session, actor: Actor, design: Design, revision: Revision, what: str, reason: str | None, status: str
) -> str | None:
    """The reason for vouching for ``revision`` despite its rule errors (None when it has none); without a
    reason, :class:`Conflict` naming the errors. An override is audited as ``design.override`` and shown to
    every organisation that reads the design (:func:`_overrides`)."""
    codes = sorted({v["code"] for v in revision.violations if v["severity"] == "error"})
    if not codes:
        return None
    reason = clean_text(reason or "", "reason", MAX_MESSAGE).strip()
    if not reason:
        raise Conflict(
            f"{what}: revision {revision.id} breaks {len(codes)} design rule(s) ({', '.join(codes)})",
            errors=codes,
            hint="fix the design, or override with a reason (the field reason), which "
            "every organisation reading the design will see",
        )
    _audit(
        session, actor, "design.override", f"revision:{revision.id}", design, status=status, errors=codes, reason=reason
    )
    return reason


def _overrides(session: Session, design: Design) -> list[dict]:
    """Every override of rule errors on ``design``, newest first: who, when, for which revision and move."""
    entries = session.execute(
        select(AuditEntry, User.username, Organisation.slug)
        .join(User, AuditEntry.actor_id == User.id)
        .join(Organisation, User.org_id == Organisation.id)
        .where(AuditEntry.design_id == design.id, AuditEntry.action == "design.override")
        .order_by(AuditEntry.id.desc())
    )
    return [
        {
            "revision": entry.target.removeprefix("revision:"),
            "by": username,
            "org": org,
            "at": _iso(entry.created_at),
            **{k: entry.detail[k] for k in ("status", "errors", "reason")},
        }
        for entry, username, org in entries
    ]


def approve(
    session: Session, actor: Actor, org: str, name: str, rev: str | None = None, reason: str | None = None
) -> dict:
    """Sign a revision for the actor's organisation (an approver of a participating organisation); a revision
    with rule errors only with a ``reason`` (:func:`_override`)."""
    design, level = _locate(session, actor, org, name, lock=True)
    actor.require("approver", "approving")
    revision = _revision(session, design, rev)
    if session.scalar(select(Approval).where(Approval.revision_id == revision.id, Approval.user_id == actor.user_id)):
        raise Conflict(f"{actor.username} has already approved revision {revision.id}")
    override = _override(session, actor, design, revision, f"approving revision {revision.id}", reason, status="signed")
    session.add(Approval(revision_id=revision.id, user_id=actor.user_id, org_id=actor.org_id, override=override))
    _audit(session, actor, "revision.approve", f"revision:{revision.id}", design, override=override)
    session.flush()
    return _approval_state(session, design, revision)


def approvals(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> dict:
    """Who signed a revision, which participating organisations are missing, and whether it is approved."""
    design, _ = _locate(session, actor, org, name)
    return _approval_state(session, design, _revision(session, design, rev))


def _approval_state(session: Session, design: Design, revision: Revision) -> dict:
    signed = session.scalars(select(Approval).where(Approval.revision_id == revision.id).order_by(Approval.id)).all()
    participants = design.signers if design.signers is not None else _participants(session, design)
    by_org = {a.user.org.slug for a in signed}
    missing = [o for o in participants if o not in by_org]
    return {
        "revision": revision.id,
        "participants": participants,
        "missing": missing,
        "approved": not missing,
        "signatures": [
            {"user": a.user.username, "org": a.user.org.slug, "at": _iso(a.created_at), "override": a.override}
            for a in signed
        ],
    }
