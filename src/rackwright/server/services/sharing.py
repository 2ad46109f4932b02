"""A design's status workflow, its sharing with other organisations and the sections it keeps confidential."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import SHARE_LEVELS, STATUSES, Design, DesignShare, Revision
from .access import _LINEAGE, _chain_refusal, _grantee, _locate, _participants, _revision
from .audit import _audit
from .common import TRANSITIONS, Actor, Conflict, Forbidden, _invalid
from .designs import _confidential, get_design
from .signoff import OVERRIDDEN, _approval_state, _override
from .views import _design_view


def set_status(session: Session, actor: Actor, org: str, name: str, status: str, reason: str | None = None) -> dict:
    """Move a design along the workflow (:data:`TRANSITIONS`); ``approved`` needs the head approved by
    every organisation that had to sign when the review started (:func:`_approval_state`)."""
    design, level = _locate(session, actor, org, name, lock=True)
    if level != "owner":
        raise Forbidden(f"only {org} moves {org}/{name} through its workflow")
    if status not in STATUSES:
        raise _invalid("status", f"unknown status {status!r}", f"one of: {', '.join(STATUSES)}")
    needed = TRANSITIONS.get((design.status, status))
    if needed is None:
        allowed = [b for a, b in TRANSITIONS if a == design.status]
        raise Conflict(
            f"cannot move {org}/{name} from {design.status} to {status}",
            hint=f"from {design.status}: {', '.join(allowed) or 'nothing (final)'}",
        )
    actor.require(needed, f"moving a design to {status}")
    head = _revision(session, design, None)
    if status in OVERRIDDEN:
        _override(session, actor, design, head, f"moving {org}/{name} to {status}", reason, status=status)
    if status == "approved":
        state = _approval_state(session, design, head)
        if not state["approved"]:
            raise Conflict(f"head revision {design.head_revision_id} lacks approval from {', '.join(state['missing'])}")
    before = design.status
    design.status = status
    if status == "draft":
        design.signers = None
    elif before == "draft":  # the review starts: who must sign is fixed now (see share for later changes)
        design.signers = _participants(session, design)
    signers: dict[str, Any] = {"signers": design.signers} if before == "draft" else {}
    _audit(session, actor, "design.status", f"design:{org}/{name}", design, before=before, after=status, **signers)
    return _design_view(session, design, level, actor.org_id)


def _bases(session: Session, design: Design) -> list[list[str]]:
    """The lineage of each revision that a revision of ``design`` extended (each once)."""
    base_ids = session.scalars(
        select(Revision.base_revision_id)
        .distinct()
        .where(Revision.design_id == design.id, Revision.base_revision_id.is_not(None))
    )
    return [session.scalars(_LINEAGE, {"id": base_id}).one() for base_id in base_ids.all()]


def share(session: Session, actor: Actor, org: str, name: str, with_org: str, level: str | None) -> dict:
    """Share a design with another organisation at ``full`` or ``envelope`` level (None: stop sharing).

    Admins of the owner organisation only. A share that would let the organisation read, through an ``extends``
    of one of the design's revisions, a design its owner did not grant it at that level is refused (409).
    Who must sign is fixed when a review starts: a change of who reads the design during the review adds the
    newcomers to the signers (and takes none away), and after approval sends the design back to review."""
    design, own = _locate(session, actor, org, name, lock=True)
    if own != "owner":
        raise Forbidden(f"only {org} shares {org}/{name}")
    actor.require("admin", "sharing a design")
    target = _grantee(session, with_org, design.org_id, level, SHARE_LEVELS)
    for lineage in _bases(session, design) if level is not None else ():
        refusal = _chain_refusal(session, design, [(target.id, with_org, str(level))], lineage)
        if refusal:
            raise Conflict(refusal[0], hint=refusal[1])
    before = _participants(session, design)
    current = session.get(DesignShare, (design.id, target.id))
    if level is None and current is not None:
        session.delete(current)
    elif level is not None and current is not None:
        current.level = level
    elif level is not None:
        session.add(DesignShare(design_id=design.id, org_id=target.id, level=level))
    _audit(session, actor, "design.share", f"design:{org}/{name}", design, org=with_org, level=level)
    session.flush()
    _review_follows_sharing(session, actor, design, before)
    return get_design(session, actor, org, name)


def _review_follows_sharing(session: Session, actor: Actor, design: Design, before: list[str]) -> None:
    """After a share changed who reads a design in review or approved: newcomers must sign too (an
    organisation that no longer reads it still must: move the design back to draft to review without it), and
    an approved design goes back to review."""
    now = _participants(session, design)
    if set(now) == set(before) or design.status not in ("in_review", "approved"):
        return
    signers = design.signers or before
    design.signers = signers + [slug for slug in now if slug not in signers]
    if design.status == "approved":
        design.status = "in_review"
        _audit(
            session,
            actor,
            "design.status",
            f"design:{design.org.slug}/{design.slug}",
            design,
            before="approved",
            after="in_review",
            reason="who reads the design changed",
            signers=design.signers,
        )


def set_confidential(session: Session, actor: Actor, org: str, name: str, sections: list[str]) -> dict:
    """Choose the figure sections (of :data:`CONFIDENTIAL_SECTIONS`) hidden from envelope viewers.

    Admins of the owner organisation only, like sharing. Envelope views follow at once: reports are
    filtered by ``design.confidential`` when they are read, never when they are cached."""
    design, own = _locate(session, actor, org, name)
    if own != "owner":
        raise Forbidden(f"only {org} chooses what {org}/{name} keeps confidential")
    actor.require("admin", "choosing confidential sections")
    before, design.confidential = design.confidential, _confidential(sections, "sections")
    _audit(
        session, actor, "design.confidential", f"design:{org}/{name}", design, before=before, after=design.confidential
    )
    session.flush()
    return get_design(session, actor, org, name)
