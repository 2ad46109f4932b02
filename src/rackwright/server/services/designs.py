"""Programmes, designs and their revisions: create, push, read, history, report, elevation, diff."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, defer

from ...errors import InputError
from ...rack.compare import field_changes, figure_changes
from ...rack.design import validate_design
from .. import checker
from ..db import Design, Organisation, Programme, Revision, utcnow
from .access import (
    _LINEAGE,
    _NUMBER,
    _SHARES,
    _access,
    _chain_refusal,
    _locate,
    _reader,
    _readers,
    _require_editor,
    _revision,
    _visible_designs,
)
from .audit import _audit
from .common import (
    CONFIDENTIAL_SECTIONS,
    EDITABLE,
    HISTORY_PAGE,
    MAX_CONTENT,
    MAX_MESSAGE,
    MAX_TITLE,
    Actor,
    Conflict,
    Invalid,
    NotFound,
    PreconditionRequired,
    _invalid,
    _name,
    clean_text,
)
from .signoff import _overrides
from .views import (
    _REVISION_METAS,
    _design_view,
    _full_meta,
    _meta_for,
    _programme_view,
    _rack_report,
    _report_view,
    _revision_meta,
    _revision_view,
)


def create_programme(session: Session, actor: Actor, slug: str, title: str = "") -> dict:
    """A programme (a family of rack generations) owned by the actor's organisation."""
    actor.require("engineer", "creating a programme")
    _name(slug, "slug")
    if session.scalar(select(Programme).where(Programme.org_id == actor.org_id, Programme.slug == slug)):
        raise Conflict(f"programme {actor.org}/{slug} exists")
    programme = Programme(org_id=actor.org_id, slug=slug, title=clean_text(title, "title", MAX_TITLE, one_line=True))
    session.add(programme)
    session.flush()
    _audit(session, actor, "programme.create", f"programme:{actor.org}/{slug}")
    return _programme_view(programme, [])


def list_programmes(session: Session, actor: Actor) -> list[dict]:
    """Programmes of the actor's organisation, and those holding a design shared with it."""
    visible = _visible_designs(session, actor)
    shared = {d.programme_id for d, _ in visible if d.programme_id is not None}
    query = select(Programme).where(or_(Programme.org_id == actor.org_id, Programme.id.in_(shared)))
    return [
        _programme_view(p, [d for d, _ in visible if d.programme_id == p.id])
        for p in session.scalars(query.order_by(Programme.slug))
    ]


def get_programme(session: Session, actor: Actor, org: str, slug: str) -> dict:
    """One programme and its visible designs by status (the generations board)."""
    for programme in list_programmes(session, actor):
        if programme["org"] == org and programme["slug"] == slug:
            return programme
    raise NotFound(f"programme {org}/{slug} not found")


def list_designs(session: Session, actor: Actor) -> list[dict]:
    """Every design the actor's organisation sees, with its level and head."""
    return [_design_view(session, d, level, actor.org_id) for d, level in _visible_designs(session, actor)]


def get_design(session: Session, actor: Actor, org: str, name: str) -> dict:
    """A design: status, sharing, head revision with its report (filtered for the actor)."""
    design, level = _locate(session, actor, org, name)
    head = _revision(session, design, None)
    view = _design_view(session, design, level, actor.org_id, head)
    view["head"] = _revision_view(head, design, _reader(session, actor, design, level, head), actor.org)
    view["overrides"] = _overrides(session, design)
    if level == "owner":
        view["shares"] = [
            {"org": slug, "level": share_level}
            for slug, share_level in session.execute(_SHARES, {"design_id": design.id})
        ]
    return view


def create_design(
    session: Session,
    actor: Actor,
    name: str,
    content: str,
    message: str = "",
    programme: str | None = None,
    confidential: list[str] | None = None,
) -> dict:
    """A new design of the actor's organisation with its first revision (checked and evaluated)."""
    actor.require("engineer", "creating a design")
    _name(name, "name")
    owner = session.get_one(Organisation, actor.org_id)
    if session.scalar(select(Design).where(Design.org_id == actor.org_id, Design.slug == name)):
        raise Conflict(f"design {actor.org}/{name} exists", hint="push a new revision to it instead")
    programme_id = None
    if programme is not None:
        found = session.scalar(
            select(Programme).where(Programme.org_id == actor.org_id, Programme.slug == _name(programme, "programme"))
        )
        if found is None:
            raise _invalid("programme", f"no programme {actor.org}/{programme}", "create it first")
        programme_id = found.id
    design = Design(
        org_id=owner.id, slug=name, programme_id=programme_id, status="draft", confidential=_confidential(confidential)
    )
    session.add(design)
    session.flush()
    revision = _write_revision(session, actor, design, content, message, parent=None)
    _audit(session, actor, "design.create", f"design:{actor.org}/{name}", design, revision=revision.id)
    return get_design(session, actor, actor.org, name)


def _confidential(sections: list[str] | None, field: str = "confidential") -> list[str]:
    if sections is None:
        return list(CONFIDENTIAL_SECTIONS)
    unknown = [s for s in sections if s not in CONFIDENTIAL_SECTIONS]
    if unknown:
        raise _invalid(
            field,
            f"unknown section(s) {unknown}",
            f"choose among {', '.join(CONFIDENTIAL_SECTIONS)} (the envelope is always shared)",
        )
    return sorted(set(sections))


@dataclass(frozen=True)
class Prepared:
    """A revision's content checked and evaluated ahead of the transaction that stores it."""

    content: str
    checked: checker.Checked
    base_id: str | None  # the revision its ``extends`` resolved to when it was evaluated


def prepare_revision(
    session: Session, actor: Actor, org: str, name: str, content: str, expected_head: str | None
) -> Prepared:
    """Check and evaluate ``content`` as the next revision of ``org/name``, in a read transaction.

    The evaluation takes tens of milliseconds; done here rather than in :func:`push_revision`'s write
    transaction, the database's write lock is held for the store alone, and a stale edit is refused
    (409) before anything is evaluated. The revision records the base it was evaluated against.
    """
    design, _ = _editable(session, actor, org, name, expected_head)
    checked, base = _check_content(session, actor, design, content, f"{org}/{name}")
    return Prepared(content, checked, base.id if base else None)


def push_revision(
    session: Session,
    actor: Actor,
    org: str,
    name: str,
    content: str,
    message: str,
    expected_head: str | None,
    prepared: Prepared | None = None,
) -> dict:
    """A new head revision based on ``expected_head`` (If-Match); :class:`Conflict` when that is stale.
    ``prepared`` (:func:`prepare_revision` of the same content) saves checking it again."""
    design, level = _editable(session, actor, org, name, expected_head, lock=True)
    revision = _write_revision(
        session,
        actor,
        design,
        content,
        message,
        expected_head,
        prepared if prepared is not None and prepared.content == content else None,
    )
    _audit(session, actor, "revision.create", f"revision:{revision.id}", design, parent=expected_head)
    return _revision_view(revision, design, _reader(session, actor, design, level, revision), actor.org)


def _editable(
    session: Session, actor: Actor, org: str, name: str, expected_head: str | None, lock: bool = False
) -> tuple[Design, str]:
    """The design and the actor's level, when the actor may write its next revision on ``expected_head``
    (``lock``: in the transaction that writes it, see :func:`_locate`)."""
    design, level = _locate(session, actor, org, name, lock)
    _require_editor(actor, level, "writing revisions")
    if not expected_head:
        raise PreconditionRequired(
            "name the revision you edited",
            head=design.head_revision_id,
            hint="send If-Match: <revision id> (the head you based your edit on)",
        )
    if design.status not in EDITABLE:
        raise Conflict(
            f"design {org}/{name} is {design.status}; revisions are written in {' or '.join(EDITABLE)} only",
            status=design.status,
        )
    if expected_head != design.head_revision_id:
        raise _stale(design, expected_head)
    return design, level


def _stale(design: Design, expected: str | None) -> Conflict:
    return Conflict(
        f"revision {expected} is not the head of {design.org.slug}/{design.slug} any more",
        head=design.head_revision_id,
        hint="fetch the head, merge your change onto it and send it with If-Match: <head>",
    )


def _write_revision(
    session: Session,
    actor: Actor,
    design: Design,
    content: str,
    message: str,
    parent: str | None,
    prepared: Prepared | None = None,
) -> Revision:
    """Check and evaluate (unless ``prepared``) and store a revision; move the head from ``parent`` with a
    compare-and-swap."""
    message = clean_text(message, "message", MAX_MESSAGE)
    label = f"{design.org.slug}/{design.slug}"
    if prepared is None:
        checked, base = _check_content(session, actor, design, content, label)
        base_id, base_lineage = (base.id, base.lineage) if base else (None, [])
    else:  # the base's id and lineage only: loading the revision would decode its large JSON documents
        checked, base_id = prepared.checked, prepared.base_id
        base_lineage = (session.scalar(_LINEAGE, {"id": base_id}) or []) if base_id else []
    refusal = _chain_refusal(session, design, _readers(session, design), base_lineage) if base_lineage else None
    if refusal:
        raise _invalid("extends", *refusal)
    number = 1 if parent is None else session.scalars(_NUMBER, {"id": parent}).one() + 1
    created = utcnow()
    content_hash = hashlib.sha256(content.encode()).hexdigest()
    # a random salt too: else the id, which envelope viewers see, would confirm a guessed file like its digest
    rev_id = hashlib.sha256(
        f"{design.id}|{number}|{parent}|{content_hash}|{base_id or ''}|{actor.user_id}|"
        f"{message}|{created.isoformat()}|{secrets.token_hex(16)}".encode()
    ).hexdigest()[:16]
    moved = session.execute(
        update(Design)
        .where(Design.id == design.id, Design.head_revision_id == parent)
        .values(head_revision_id=rev_id)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise _stale(design, parent)
    design.head_revision_id = rev_id
    lineage = base_lineage + [f"{label}@{rev_id}"]
    revision = Revision(
        id=rev_id,
        design_id=design.id,
        number=number,
        parent_id=parent,
        base_revision_id=base_id,
        author_id=actor.user_id,
        message=message,
        created_at=created,
        content=content,
        content_hash=content_hash,
        resolved=checked.resolved,
        lineage=lineage,
        name=checked.name,
        generation=checked.generation,
        figures=checked.figures,
        violations=checked.violations,
    )
    session.add(revision)
    session.flush()
    _REVISION_METAS.put(rev_id, _revision_meta(revision, (actor.username, actor.org)))
    return revision


def _check_content(
    session: Session, actor: Actor, design: Design, content: str, label: str
) -> tuple[checker.Checked, Revision | None]:
    """Parse, validate and evaluate design YAML off this process's interpreter lock (:mod:`.checker`);
    ``extends`` names another design on this server, looked up here and merged there."""
    clean_text(content, "content", MAX_CONTENT)
    base, result = None, checker.run(content, label)
    if isinstance(result, checker.NeedsBase):
        try:
            base = _extended(session, actor, design, result.extends, label)
        except InputError as exc:
            raise Invalid("the design does not validate", exc.problems) from None
        result = checker.run(content, label, (base.resolved, base.lineage))
    if isinstance(result, checker.Rejected):
        raise Invalid(result.error, result.problems)
    assert isinstance(result, checker.Checked)  # a design merged onto its base needs no base again
    return result, base


def _extended(session: Session, actor: Actor, design: Design, extends, label: str) -> Revision:
    """The revision an ``extends`` names: ``NAME`` (same organisation) or ``ORG/NAME``, a ``.yaml`` suffix
    and a leading ``./`` ignored, ``@REV`` to pin a revision (default: the head). The parent must be
    fully visible to the actor."""
    hint = "extends names a design on this server: NAME, ORG/NAME or ORG/NAME@REVISION, pushed before this one"
    if not isinstance(extends, str):
        raise InputError.single(label, "extends must be a design name", "extends", hint)
    org, name, rev = _reference(extends, design.org.slug)
    try:
        parent, level = _locate(session, actor, org, name)
        if level == "envelope":
            raise NotFound("envelope only")
        parent_revision = _revision(session, parent, rev or None)
    except NotFound:
        raise InputError.single(label, f"parent design {extends!r} not found", "extends", hint) from None
    if parent.id == design.id or design.id in _ancestor_designs(session, parent_revision):
        raise InputError.single(label, f"extends cycle through {extends!r}", "extends", "remove the cycle")
    return parent_revision


def _reference(text: str, default_org: str) -> tuple[str, str, str]:
    """``(org, name, rev)`` of a reference to a design on this server: ``NAME`` (of ``default_org``) or
    ``ORG/NAME``, ``@REV`` optional ("" when absent), a ``.yaml`` suffix and a leading ``./`` ignored; a malformed
    one gives names that match no design."""
    text, _, rev = text.removeprefix("./").partition("@")
    parts = re.sub(r"\.ya?ml$", "", text).split("/")
    org, name = (default_org, parts[0]) if len(parts) == 1 else (parts[0], parts[1]) if len(parts) == 2 else ("", "")
    return org, name, rev


def _ancestor_designs(session: Session, revision: Revision) -> set[int]:
    seen: set[int] = set()
    current: Revision | None = revision
    while current is not None:
        seen.add(current.design_id)
        current = session.get(Revision, current.base_revision_id) if current.base_revision_id else None
    return seen


def list_revisions(
    session: Session, actor: Actor, org: str, name: str, limit: int = HISTORY_PAGE, before: int | None = None
) -> list[dict]:
    """One page of the design's history, newest first (metadata only): at most ``limit`` revisions numbered
    below ``before`` (None: from the head). The next page starts before the last one's ``number``.

    Paged because a design edited all day has thousands of revisions, and a history read that lists them
    all grows with every write (it became the costliest read under load).
    """
    design, level = _locate(session, actor, org, name)
    page = select(Revision.id).where(Revision.design_id == design.id)
    page = page.where(Revision.number < before) if before is not None else page
    ids = session.scalars(page.order_by(Revision.number.desc()).limit(limit)).all()
    cached = {rev_id: _REVISION_METAS.get(rev_id) for rev_id in ids}  # as _full_meta, but one query for all
    metas = {rev_id: meta for rev_id, meta in cached.items() if meta is not None}
    missing = [rev_id for rev_id in ids if rev_id not in metas]
    for revision in (
        session.scalars(
            select(Revision)
            .where(Revision.id.in_(missing))
            .options(defer(Revision.content), defer(Revision.resolved), defer(Revision.figures))
        )
        if missing
        else ()
    ):
        metas[revision.id] = _REVISION_METAS.put(revision.id, _revision_meta(revision))
    return [
        _meta_for(metas[rev_id], _access(session, actor.org_id, design, level, metas[rev_id]["lineage"]))
        for rev_id in ids
    ]


def older_than(page: list[dict], limit: int) -> int | None:
    """The ``before`` of the page after ``page`` (a full page of ``limit`` from :func:`list_revisions`), or None
    when ``page`` holds the first revision."""
    return page[-1]["number"] if len(page) == limit and page[-1]["number"] > 1 else None


def get_revision(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> dict:
    """One revision (None: the head) with its content and report as far as the actor may see them."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    return _revision_view(revision, design, _reader(session, actor, design, level, revision), actor.org)


def revision_content(
    session: Session, actor: Actor, org: str, name: str, rev: str | None = None, resolved: bool = False
) -> tuple[str, str]:
    """``(revision id, YAML text)``: as written, or with ``extends`` merged in; full access only."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if not access.content:
        raise access.refusal(f"the content of {org}/{name}@{revision.id}", actor.org)
    if not resolved:
        return revision.id, revision.content
    document = {k: v for k, v in revision.resolved.items() if k != "extends"}
    header = f"# {org}/{name}@{revision.id} with extends merged ({' -> '.join(revision.lineage)})\n"
    return revision.id, header + json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def elevation(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> str:
    """The rack elevation SVG of a revision (it shows the parts: full access only)."""
    from ...rack.evaluation import evaluate
    from ...report.elevation import elevation_svg

    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if not access.content:
        raise access.refusal(f"the elevation of {org}/{name}@{revision.id}", actor.org)
    loaded = validate_design(revision.resolved, f"{org}/{name}", revision.lineage)
    with checker.EVALUATION_LOCK:
        return elevation_svg(evaluate(loaded)).as_svg()


def report(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> dict:
    """The stored evaluation of a revision: figures (nested, named and in the units of ``evaluate --json``) and
    violations, filtered."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if access.level == "none":
        raise access.refusal(f"the report of {org}/{name}@{revision.id}", actor.org)
    return _report_view(revision, access)


def diff(session: Session, actor: Actor, org: str, name: str, before: str, after: str | None) -> dict:
    """Fields and figures that differ between two revisions (``rackwright.rack.compare``), filtered; the figures
    as ``rackwright compare --json`` names them (``sourcing.us_content_share``, ``compute.hbm_bytes``).

    ``before`` may be a revision of another visible design, given as ``ORG/NAME@REV``.
    """
    design, level = _locate(session, actor, org, name)
    b_design, b_level = design, level
    b_rev: str | None = before
    if "/" in before:
        other, _, rev = before.partition("@")
        b_org, _, b_name = other.partition("/")
        b_design, b_level = _locate(session, actor, b_org, b_name)
        b_rev = rev or None
    ra, rb = _revision(session, b_design, b_rev), _revision(session, design, after)
    a_access, b_access = (_reader(session, actor, b_design, b_level, ra), _reader(session, actor, design, level, rb))
    for access, revision, (o, n) in ((a_access, ra, (b_design.org.slug, b_design.slug)), (b_access, rb, (org, name))):
        if access.level == "none":
            raise access.refusal(f"revision {o}/{n}@{revision.id}", actor.org)
    content = a_access.content and b_access.content
    fields = (
        [{"path": c.path, "before": c.before, "after": c.after} for c in field_changes(ra.resolved, rb.resolved)]
        if content
        else []
    )
    hidden = a_access.hidden | b_access.hidden
    figures = [  # as `rackwright compare --json` lists them: named and in the unit of `evaluate --json`
        c.record() for c in figure_changes(_rack_report(ra), _rack_report(rb)) if c.key.split(".")[0] not in hidden
    ]
    return {
        "before": _meta_for(_full_meta(ra), a_access),
        "after": _meta_for(_full_meta(rb), b_access),
        "fields": fields,
        "figures": figures,
        "fields_hidden": not content,
    }
