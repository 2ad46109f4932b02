"""Review threads anchored on fields of a revision, and qualification results attached to it."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InputError
from ...report.jsonout import public_figure
from .. import checker
from ..db import Comment, Design, Qualification, Revision, Thread
from .access import Access, _locate, _reader, _require_editor, _revision
from .audit import _audit
from .common import (
    MAX_COMMENT,
    MAX_CONTENT,
    MAX_PATH,
    MAX_TITLE,
    Actor,
    Forbidden,
    Invalid,
    NotFound,
    _invalid,
    clean_text,
)
from .views import _qualification_view, _report_view, _thread_view


def open_thread(
    session: Session, actor: Actor, org: str, name: str, rev: str | None, path: str, body: str, internal: bool | None
) -> dict:
    """A review thread on a revision anchored to a field path (``slots[3].part``) or figure key
    (``power.input_kw``); envelope viewers may anchor to the figures they see (or ``""``, the whole design).
    Whether it is ``internal`` (the owner organisation only) or shared is an explicit choice (None: not made)."""
    design, level = _locate(session, actor, org, name, lock=True)
    actor.require("engineer", "commenting")
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    path = _anchor(revision, access, clean_text(path, "path", MAX_PATH, one_line=True))
    if path and _anchored(revision, access, path) is MISSING:
        raise _invalid(
            "path",
            f"{path!r} is neither a field of revision {revision.id} nor a figure you can see",
            "use a field path such as slots[3].part, a figure key such as power.input_kw, or ''",
        )
    if internal is None:
        raise _invalid(
            "internal",
            "choose who sees the thread",
            "internal (your organisation only) or shared (every organisation that reads the design)",
        )
    if internal and level != "owner":
        raise Forbidden("internal threads are for the owner organisation")
    thread = Thread(
        design_id=design.id, revision_id=revision.id, path=path, internal=internal, created_by=actor.user_id
    )
    session.add(thread)
    session.flush()
    session.add(Comment(thread_id=thread.id, author_id=actor.user_id, body=_comment_body(body)))
    _audit(session, actor, "thread.create", f"thread:{thread.id}", design, path=path)
    session.flush()
    session.refresh(thread)
    return _thread_view(thread, _anchored_value(revision, access, path))


def _comment_body(body: str) -> str:
    body = clean_text(body, "body", MAX_COMMENT)
    if not body.strip():
        raise _invalid("body", "is empty", "write the comment")
    return body


def reply(
    session: Session, actor: Actor, org: str, name: str, thread_id: int, body: str, resolve: bool | None = None
) -> dict:
    """Add a comment to a thread, and mark it resolved or open again."""
    design, level = _locate(session, actor, org, name, lock=True)
    thread = _thread(session, design, level, thread_id)
    actor.require("engineer", "commenting")
    session.add(Comment(thread_id=thread.id, author_id=actor.user_id, body=_comment_body(body)))
    if resolve is not None:
        thread.resolved = resolve
    _audit(session, actor, "comment.create", f"thread:{thread.id}", design, resolve=resolve)
    session.flush()
    session.refresh(thread)
    return _thread_views(session, actor, design, level, [thread])[0]


def list_threads(session: Session, actor: Actor, org: str, name: str) -> list[dict]:
    """The review threads the actor sees (internal ones only within the owner organisation)."""
    design, level = _locate(session, actor, org, name)
    query = select(Thread).where(Thread.design_id == design.id)
    if level != "owner":
        query = query.where(Thread.internal.is_(False))
    return _thread_views(session, actor, design, level, list(session.scalars(query.order_by(Thread.id))))


def _thread_views(session: Session, actor: Actor, design: Design, level: str, threads: list[Thread]) -> list[dict]:
    """The threads with the value each is anchored on in its revision, as far as the actor reads it."""
    readers: dict[str, tuple[Revision, Access]] = {}
    for rev_id in {t.revision_id for t in threads}:
        revision = _revision(session, design, rev_id)
        readers[rev_id] = (revision, _reader(session, actor, design, level, revision))
    return [_thread_view(t, _anchored_value(*readers[t.revision_id], t.path)) for t in threads]


def _anchored_value(revision: Revision, access: Access, path: str):
    """The value of the figure or field ``path`` in ``revision`` as ``access`` reads it (None: none, or hidden)."""
    value = _anchored(revision, access, path) if path else MISSING
    return None if value is MISSING else value


def _anchored(revision: Revision, access: Access, path: str):
    """The value of figure ``path`` (as the report shows it) or of field ``path`` (with the content) in
    ``revision``, as ``access`` reads it; :data:`MISSING` when it names neither."""
    if access.level == "none":
        return MISSING
    figure = _field(_report_view(revision, access), _figure_name(path))
    if figure is not MISSING and not isinstance(figure, (dict, list)):
        return figure
    return _field(revision.resolved, path) if access.content else MISSING


def _figure_name(path: str) -> str:
    """A figure as the report names it (``sourcing.us_content_share``), whether ``path`` names it so or by its key in
    the figure table (``sourcing.domestic_share``, as threads opened before the report's names changed do)."""
    return public_figure(path)[0]


def _anchor(revision: Revision, access: Access, path: str) -> str:
    """``path`` as a new thread stores it: a figure the reader sees by the report's name for it, else as given."""
    named = _figure_name(path)
    return named if path and _field(_report_view(revision, access), named) is not MISSING else path


def _thread(session: Session, design: Design, level: str, thread_id: int) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or thread.design_id != design.id or (thread.internal and level != "owner"):
        raise NotFound(f"thread {thread_id} not found")
    return thread


#: What :func:`_field` returns for a path that names nothing.
MISSING = object()


def _field(data, path: str):
    """The value at ``slots[3].part``-style ``path`` (indices or keyed ids in brackets) of ``data``, or
    :data:`MISSING`."""
    for token in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        if token.startswith("["):
            key = token[1:-1]
            if isinstance(data, list) and key.isdigit() and int(key) < len(data):
                data = data[int(key)]
            elif isinstance(data, list) and any(isinstance(x, dict) and x.get("id") == key for x in data):
                data = next(x for x in data if isinstance(x, dict) and x.get("id") == key)
            else:
                return MISSING
        elif isinstance(data, dict) and token in data:
            data = data[token]
        else:
            return MISSING
    return data


def attach_qualification(
    session: Session,
    actor: Actor,
    org: str,
    name: str,
    rev: str | None,
    filename: str,
    content: str,
    racks: list[str] | None = None,
) -> dict:
    """Qualify measured results (CSV or JSON, as ``rackwright reliability qualify`` reads) against a revision
    and store file and verdicts with it."""
    from ...fleet.qualify import qualify
    from ...rack.design import validate_design
    from ...rack.evaluation import sound_design

    design, level = _locate(session, actor, org, name, lock=True)
    _require_editor(actor, level, "attaching qualification results")
    revision = _revision(session, design, rev)
    if not (access := _reader(session, actor, design, level, revision)).content:
        raise access.refusal(f"revision {org}/{name}@{revision.id}", actor.org)
    filename = clean_text(filename, "filename", MAX_TITLE, one_line=True)
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".json") or "/" in filename or "\\" in filename:
        raise _invalid("filename", f"{filename!r} is not a .csv or .json file name", "name it results.csv or .json")
    content = clean_text(content, "content", MAX_CONTENT)
    with tempfile.TemporaryDirectory(prefix="rackwright-qualify-") as tmp:
        results_file = Path(tmp) / f"results{suffix}"
        results_file.write_text(content, encoding="utf-8")
        try:
            with checker.EVALUATION_LOCK:
                rack = sound_design(validate_design(revision.resolved, f"{org}/{name}@{revision.id}", revision.lineage))
                result = qualify(rack, results_file, racks)
        except InputError as exc:
            raise Invalid("the results do not qualify", exc.problems) from None
    result["results"] = filename
    row = Qualification(
        revision_id=revision.id,
        uploaded_by=actor.user_id,
        filename=filename,
        content=content,
        result=json.loads(json.dumps(result, default=str)),
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        actor,
        "qualification.create",
        f"qualification:{row.id}",
        design,
        revision=revision.id,
        summary=result["summary"],
    )
    return _qualification_view(row, access)


def list_qualifications(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> list[dict]:
    """Qualification results of a revision: verdict rows for full access, the summary for envelope viewers."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    rows = session.scalars(
        select(Qualification).where(Qualification.revision_id == revision.id).order_by(Qualification.id)
    )
    return [_qualification_view(q, access) for q in rows]
