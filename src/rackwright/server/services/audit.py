"""The append-only audit log: what was done, by whom, to what."""

from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db import AuditEntry, Design, User
from .common import Actor, _iso


def _audit(
    session: Session,
    actor: Actor | None,
    action: str,
    target: str,
    design: Design | None = None,
    org_id: int | None = None,
    **detail,
) -> None:
    """An audit entry by ``actor`` (None: the operator, whose entry belongs to ``org_id``, the organisation
    acted on, so that its admins see it in their audit log)."""
    session.add(
        AuditEntry(
            actor_id=actor.user_id if actor else None,
            org_id=actor.org_id if actor else org_id,
            design_id=design.id if design else None,
            action=action,
            target=target,
            detail=json.loads(json.dumps(detail, default=str)),
        )
    )


def audit_log(session: Session, actor: Actor, limit: int = 200) -> list[dict]:
    """Newest entries by the actor's organisation or about its designs (admins only)."""
    actor.require("admin", "reading the audit log")
    own_designs = select(Design.id).where(Design.org_id == actor.org_id)
    query = (
        select(AuditEntry)
        .where(or_(AuditEntry.org_id == actor.org_id, AuditEntry.design_id.in_(own_designs)))
        .order_by(AuditEntry.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    users = {u.id: u.username for u in session.scalars(select(User).where(User.org_id == actor.org_id))}
    return [
        {
            "id": e.id,
            "at": _iso(e.created_at),
            "actor": "operator" if e.actor_id is None else users.get(e.actor_id, "other organisation"),
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in session.scalars(query)
    ]
