"""What the web UI's overview pages read (issue 16): the home page's inbox, the users and audit pages, one
qualification result in full.

Every function here is a reading of :mod:`.services` functions (``list_designs``, ``approvals``, ``list_users``,
``audit_log``, ``list_qualifications``, ``create_user``) for the signed-in actor: none reads the database itself
or decides what an organisation may see, so the services' visibility and permission rules hold unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import services

#: Audit entries per page of the audit page.
AUDIT_PAGE = 200
#: The most entries :func:`.services.audit_log` returns (its own bound): the audit page reaches that far back.
AUDIT_REACH = 1000
#: Measurement rows of a qualification result shown on the design page; the rest on the result's own page.
QUALIFICATION_ROWS = 50


@dataclass
class Inbox:
    """Designs in review the actor's organisation sees, by whom they wait for (each a design view of
    :func:`.services.list_designs` with ``missing``: the organisations that have not signed its head)."""

    for_us: list[dict] = field(default_factory=list)  # our organisation has not signed the head
    for_partners: list[dict] = field(default_factory=list)  # ours, waiting for another organisation's signature
    ready: list[dict] = field(default_factory=list)  # ours, signed by every organisation: to move to approved


def inbox(session: Session, actor: services.Actor) -> Inbox:
    """The designs in review that wait for someone, across programmes."""
    found = Inbox()
    for design in services.list_designs(session, actor):
        if design["status"] != "in_review":
            continue
        missing = services.approvals(session, actor, design["org"], design["name"])["missing"]
        entry = {**design, "missing": missing}
        ours = design["org"] == actor.org
        if actor.org in missing:
            found.for_us.append(entry)
        if ours and any(org != actor.org for org in missing):
            found.for_partners.append(entry)
        if ours and not missing:
            found.ready.append(entry)
    return found


def organisation_users(session: Session, actor: services.Actor) -> list[dict]:
    """The users of the actor's organisation, for its admins (the page that manages them)."""
    actor.require("admin", "managing users")
    return services.list_users(session, actor)


def create_colleague(
    session: Session, actor: services.Actor, username: str, password: str, role: str, display_name: str
) -> dict:
    """A new user of the actor's own organisation (admins: :func:`.services.create_user` decides)."""
    return services.create_user(session, actor, actor.org, username, password, role, display_name)


def audit_page(session: Session, actor: services.Actor, page: int) -> tuple[list[dict], bool]:
    """``(entries, more)``: page ``page`` (from 0) of the audit log, newest first, :data:`AUDIT_PAGE` entries a
    page, and whether an older page exists within :data:`AUDIT_REACH`."""
    start = page * AUDIT_PAGE
    entries = services.audit_log(session, actor, min(start + AUDIT_PAGE + 1, AUDIT_REACH))
    return entries[start : start + AUDIT_PAGE], len(entries) > start + AUDIT_PAGE


def qualification(session: Session, actor: services.Actor, org: str, name: str, rev: str, result_id: int) -> dict:
    """One qualification result of a revision, as :func:`.services.list_qualifications` shows it to the actor."""
    for result in services.list_qualifications(session, actor, org, name, rev):
        if result["id"] == result_id:
            return result
    raise services.NotFound(f"qualification result {result_id} of {org}/{name}@{rev} not found")
