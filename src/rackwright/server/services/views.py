"""What leaves the services: JSON-ready views of organisations, designs and revisions, filtered by the reader's
access, and their caches."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from ...rack.evaluation import Rack
from ...rack.rules import SUMMARIES, Violation
from ...report.jsonout import plain
from ..db import STATUSES, Design, Programme, Qualification, Revision, Thread
from .access import Access, _access, _revision
from .common import _iso


def _programme_view(programme: Programme, designs: list[Design]) -> dict:
    board = {status: [f"{d.org.slug}/{d.slug}" for d in designs if d.status == status] for status in STATUSES}
    return {"org": programme.org.slug, "slug": programme.slug, "title": programme.title, "board": board}


def _design_view(session: Session, design: Design, level: str, viewer_org: int, head: Revision | None = None) -> dict:
    """A design's summary as organisation ``viewer_org``, at ``level`` on it, sees it: the head's name and generation
    only as far as it reads the head (they may come from a parent); ``head`` saves loading the head again."""
    head = head or (_revision(session, design, None) if design.head_revision_id else None)
    meta = _meta_for(_full_meta(head), _access(session, viewer_org, design, level, head.lineage)) if head else {}
    return {
        "org": design.org.slug,
        "name": design.slug,
        "access": level,
        "status": design.status,
        "programme": f"{design.programme.org.slug}/{design.programme.slug}" if design.programme else None,
        "head_revision": design.head_revision_id,
        "generation": meta.get("generation"),
        "title": meta.get("name"),
        "confidential": design.confidential if level != "envelope" else None,
    }


#: Metadata of a revision that envelope viewers do not get: where it came from, and the digest of its file
#: (a SHA-256 of the YAML would confirm a guessed file).
CONTENT_META = ("lineage", "extends", "content_hash")
#: ... nor readers of no level (a revision whose ``extends`` chain is not shared with them): what it evaluated to.
EVALUATED_META = ("name", "generation", "errors", "warnings")


def _revision_meta(revision: Revision, author: tuple[str, str] | None = None) -> dict:
    """A revision's metadata at full access; ``author`` (username, organisation) saves loading them."""
    username, org = author or (revision.author.username, revision.author.org.slug)
    return {
        "id": revision.id,
        "number": revision.number,
        "parent": revision.parent_id,
        "author": username,
        "author_org": org,
        "message": revision.message,
        "created_at": _iso(revision.created_at),
        "content_hash": revision.content_hash,
        "name": revision.name,
        "generation": revision.generation,
        "errors": sum(v["severity"] == "error" for v in revision.violations),
        "warnings": sum(v["severity"] != "error" for v in revision.violations),
        "lineage": revision.lineage,
        "extends": revision.base_revision_id,
    }


def _meta_for(full: dict, access: Access) -> dict:
    """A full-access :func:`_revision_meta` as ``access`` reads it."""
    if access.content:
        return full
    hidden = CONTENT_META if access.level == "envelope" else CONTENT_META + EVALUATED_META
    return {k: v for k, v in full.items() if k not in hidden}


def _full_meta(revision: Revision) -> dict:
    """:func:`_revision_meta` at full access, kept in :data:`_REVISION_METAS` (do not change it)."""
    return _REVISION_METAS.get(revision.id) or _REVISION_METAS.put(revision.id, _revision_meta(revision))


def _revision_view(revision: Revision, design: Design, access: Access, org: str) -> dict:
    """A revision as an organisation (slug ``org``) with ``access`` to it reads it."""
    view = dict(_meta_for(_full_meta(revision), access), access=access.level)
    if access.content:
        view["content"] = revision.content
    if access.level == "none":
        view["withheld"] = access.refusal("its content and evaluation are withheld", org).message
    view["report"] = _report_view(revision, access) if access.level != "none" else None
    return view


def _rack_report(revision: Revision) -> Rack:
    figures = {k: float("nan") if v is None else v for k, v in revision.figures.items()}
    return Rack(
        revision.name,
        revision.generation,
        None,
        revision.lineage,
        figures,
        [Violation(**v) for v in revision.violations],
    )


class _RevisionCache:
    """Views of revisions computed once per revision id and kept, the oldest dropped beyond ``size``.

    Safe because a revision never changes after it is written, and its id hashes the design, parent,
    content, base, author and time, so one id names one revision (in any database). Callers must not
    change a returned view. Route threads share it: reads are single dict look-ups, writes (which evict by
    iterating the dict) hold a lock.
    """

    def __init__(self, size: int):
        self.size, self.views, self.lock = size, dict[str, dict](), threading.Lock()

    def get(self, rev_id: str) -> dict | None:
        return self.views.get(rev_id)

    def put(self, rev_id: str, view: dict) -> dict:
        with self.lock:
            if len(self.views) >= self.size:
                self.views.pop(next(iter(self.views)))
            self.views[rev_id] = view
        return view


#: The report document per revision: building it (unit conversion of every figure) was a third of a report read.
_REPORT_DOCUMENTS = _RevisionCache(1024)
#: :func:`_revision_meta` at full access per revision: a history lists every revision of a design.
_REVISION_METAS = _RevisionCache(16384)


def _report_document(revision: Revision) -> dict:
    """A revision's evaluation as ``evaluate --json`` prints a design (``Rack.to_dict()``, figures named and in the
    units of docs/json.md: ``sourcing.us_content_share``, ``compute.hbm_bytes``), kept in
    :data:`_REPORT_DOCUMENTS`."""
    found = _REPORT_DOCUMENTS.get(revision.id)
    return found or _REPORT_DOCUMENTS.put(revision.id, plain(_rack_report(revision).to_dict()))


def _report_view(revision: Revision, access: Access) -> dict:
    """The stored evaluation as ``access`` reads it (an envelope or better)."""
    document = _report_document(revision)
    view = {k: v for k, v in document.items() if k not in access.hidden | {"file", "lineage"}}
    if access.level == "envelope":
        view["violations"] = [
            {
                "code": v["code"],
                "severity": v["severity"],
                "description": SUMMARIES.get(v["code"], ""),
                "hint": v["hint"],
            }
            for v in revision.violations
        ]
        view["hidden_sections"] = sorted(access.hidden)
    return view


def _thread_view(thread: Thread, value) -> dict:
    """A thread, with ``value``: that of the field or figure it is anchored on in its revision (None: hidden)."""
    return {
        "id": thread.id,
        "revision": thread.revision_id,
        "path": thread.path,
        "internal": thread.internal,
        "resolved": thread.resolved,
        "value": value,
        "comments": [
            {
                "id": c.id,
                "author": c.author.username,
                "org": c.author.org.slug,
                "body": c.body,
                "at": _iso(c.created_at),
            }
            for c in thread.comments
        ],
    }


def _qualification_view(row: Qualification, access: Access) -> dict:
    view = {
        "id": row.id,
        "revision": row.revision_id,
        "filename": row.filename,
        "created_at": _iso(row.created_at),
        "summary": row.result["summary"],
    }
    if access.content:
        view["result"] = row.result
    return view
