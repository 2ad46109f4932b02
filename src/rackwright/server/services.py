"""The collaboration server's domain operations: one function per use case, over a SQLAlchemy ``Session``.

Every function takes the acting :class:`Actor` (who, which organisation, which role) and
enforces two things before it reads or writes anything:

* **visibility** — a design is seen by its owner organisation and by the organisations
  it is shared with, at ``full`` (everything) or ``envelope`` level (the evaluated
  envelope: :data:`ENVELOPE_SECTIONS` figures and the sections the owner did not mark
  confidential; never the YAML, its digest, part ids, prices, origins or lineage). A revision
  whose ``extends`` merged other designs is read at no higher level than the reader has on each
  of them (:class:`Access`). Anything an organisation may not see raises :class:`NotFound`,
  exactly as if it did not exist;
* **permission** — roles are ordered viewer < engineer < approver < admin
  (:func:`~.security.role_at_least`); a visible object the actor may not change raises
  :class:`Forbidden`.

Functions return plain JSON-ready dicts already filtered for the actor, so the JSON API
(:mod:`.api`) and the HTML pages render what they get and cannot leak by omission. Errors
are :class:`ServiceError` subclasses; callers map them to HTTP statuses
(:data:`HTTP_STATUS`). The caller owns the transaction (:func:`.db.transaction`): a
function that raises leaves nothing stored, the audit entry included.

Designs are addressed as ``(org, name)``; a revision by its id (16 hex digits, a hash of
its parent, content, author, message, time and a random salt, so that it confirms no guess of the
content). Writing a revision needs the id of the revision it was based on (``expected_head``, HTTP ``If-Match``): a
stale one raises :class:`Conflict` and stores nothing (optimistic locking with a
compare-and-swap on the design's head).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, defer

from ..design import validate_design
from ..errors import InputError, Problem
from ..evaluation import RackReport
from ..report.compare import field_changes, figure_changes
from ..rules import SUMMARIES, Violation
from . import checker, security
from .db import (ROLES, SHARE_LEVELS, STATUSES, ApiToken, Approval, AuditEntry, Comment, Design, DesignShare,
                 Organisation, Programme, Qualification, Revision, SignInFailure, Thread, User, utcnow)

#: Figure sections every organisation a design is shared with sees (the evaluated envelope).
ENVELOPE_SECTIONS = ("power", "thermal", "mechanical", "network", "cabling")
#: Sections an owner may hide from envelope viewers; all hidden unless the owner says otherwise.
CONFIDENTIAL_SECTIONS = ("compute", "cost", "sourcing", "reliability", "delivery")
#: Status workflow: allowed moves and the role (of the owner organisation) each needs.
TRANSITIONS = {("draft", "in_review"): "engineer", ("in_review", "draft"): "engineer",
               ("in_review", "approved"): "approver", ("approved", "in_review"): "approver",
               ("approved", "frozen"): "approver", ("frozen", "shipped"): "approver"}
#: Statuses in which new revisions may be written.
EDITABLE = ("draft", "in_review")
#: Every identifier (organisation, user, programme and design names): one slug rule, checked whole (``fullmatch``:
#: a ``$`` would also accept a trailing newline).
NAME_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
NAME = re.compile(NAME_PATTERN)
#: A revision id: 16 hex digits.
REVISION_PATTERN = r"[0-9a-f]{16}"
REVISION_ID = re.compile(REVISION_PATTERN)
#: Read access to a revision, lowest first (:class:`Access`); an owner reads as much as ``full``.
READ_LEVELS = ("none", "envelope", "full")
MAX_CONTENT = 512 * 1024
MAX_MESSAGE = 2000
MAX_COMMENT = 10_000
MAX_PATH = 200
MAX_TITLE = 200
MAX_ORG_SLUG = 40  # the organisations.slug column
HISTORY_PAGE, MAX_HISTORY_PAGE = 100, 1000  # revisions per page of a design's history: default, largest


# --- errors -------------------------------------------------------------------------------

class ServiceError(Exception):
    """A request the server refuses; ``problems`` say where and how to fix it."""

    def __init__(self, message: str, problems: list[Problem] | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.extra = extra

    def as_dict(self) -> dict:
        return {"error": self.message, "problems": [_problem_dict(p) for p in self.problems], **self.extra}


class Unauthorized(ServiceError):
    """No valid credentials."""


class NotFound(ServiceError):
    """Absent, or not visible to the actor's organisation (the two are indistinguishable)."""


class Forbidden(ServiceError):
    """Visible, but the actor's role or organisation may not do this."""


class Conflict(ServiceError):
    """A stale ``If-Match``, a duplicate, or a move the status workflow does not allow."""


class PreconditionRequired(ServiceError):
    """A write that must name the revision it is based on did not."""


class Invalid(ServiceError):
    """Bad input: malformed YAML, an unknown part, a bad name or text."""


class TooManyRequests(ServiceError):
    """Too many failed sign-ins for the account or from the client address: try again in ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


HTTP_STATUS = {Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409, PreconditionRequired: 428,
               Invalid: 422, TooManyRequests: 429}


def _problem_dict(p: Problem) -> dict:
    return {"path": p.path, "message": p.message, "hint": p.hint, "line": p.line, "column": p.column}


def _invalid(field: str, message: str, hint: str = "") -> Invalid:
    return Invalid(f"{field}: {message}", [Problem(message, field, hint)])


def _name(value: str, field: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise _invalid(field, f"{value!r} is not a valid name",
                       "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


#: Control characters refused in stored text: C0 (NUL included) and DEL, but tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: ... and in one-line text (titles, display names, labels, file names): every control and line separator.
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def clean_text(value: str, field: str, limit: int, one_line: bool = False) -> str:
    """Text as stored: a string of at most ``limit`` characters, valid UTF-8 and without control characters
    (``one_line``: without line breaks either)."""
    if not isinstance(value, str):
        raise _invalid(field, "must be text")
    if len(value) > limit:
        raise _invalid(field, f"is {len(value)} characters long; the limit is {limit}", "shorten it")
    control = (LINE_CONTROL if one_line else CONTROL).search(value)
    if control:
        code = ord(control.group())
        raise _invalid(field, f"contains the control character U+{code:04X}{' (NUL)' if code == 0 else ''} at "
                              f"position {control.start()}", "remove it" + (" (one line of text)" if one_line else ""))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(field, "is not valid Unicode text (a lone surrogate)", "send UTF-8 text") from None
    return value


# --- actors, users, tokens ----------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who acts: a user of an organisation with a role."""

    user_id: int
    username: str
    org_id: int
    org: str
    role: str

    def at_least(self, role: str) -> bool:
        return security.role_at_least(self.role, role)

    def require(self, role: str, what: str) -> None:
        if not self.at_least(role):
            raise Forbidden(f"{what} needs the {role} role; {self.username} is {self.role}")


def actor_for(user: User) -> Actor:
    return Actor(user.id, user.username, user.org_id, user.org.slug, user.role)


def authenticate(session: Session, token: str | None) -> Actor:
    """The actor holding API ``token``; :class:`Unauthorized` when missing, unknown, revoked or expired."""
    if not token:
        raise Unauthorized("authentication required", hint="send Authorization: Bearer <token>")
    row = session.execute(_TOKEN_HOLDER, {"token_hash": security.token_hash(token)}).first()
    if row is None or row.revoked or (row.expires_at is not None and _utc(row.expires_at) <= utcnow()):
        raise Unauthorized("invalid, revoked or expired token")
    return Actor(*row[2:])


# The statements every read runs, built once: building a select and its cache key per request cost
# as much as running it. Columns rather than ORM objects where nothing else is needed.
_TOKEN_HOLDER = (select(ApiToken.revoked, ApiToken.expires_at, User.id, User.username, User.org_id, Organisation.slug,
                        User.role)
                 .join(User, ApiToken.user_id == User.id).join(Organisation, User.org_id == Organisation.id)
                 .where(ApiToken.token_hash == bindparam("token_hash")))
#: A design by ``(org, name)`` with the share level of the asking organisation (None: not shared with it).
_DESIGN_AND_SHARE = (select(Design, DesignShare.level).join(Organisation, Design.org_id == Organisation.id)
                     .outerjoin(DesignShare, and_(DesignShare.design_id == Design.id,
                                                  DesignShare.org_id == bindparam("viewer_org")))
                     .where(Organisation.slug == bindparam("org"), Design.slug == bindparam("name")))
_DESIGN_AND_SHARE_LOCKED = _DESIGN_AND_SHARE.with_for_update(of=Design)
#: The designs of the revisions ``ids`` (an ``extends`` chain) with the share level of the asking organisation.
_CHAIN_ACCESS = (select(Design, DesignShare.level).join(Revision, Revision.design_id == Design.id)
                 .outerjoin(DesignShare, and_(DesignShare.design_id == Design.id,
                                              DesignShare.org_id == bindparam("viewer_org")))
                 .where(Revision.id.in_(bindparam("ids", expanding=True))))
#: Who a design is shared with, and at which level.
_SHARES = (select(Organisation.slug, DesignShare.level).join(Organisation, DesignShare.org_id == Organisation.id)
           .where(DesignShare.design_id == bindparam("design_id")).order_by(Organisation.slug))
#: A revision without the two large JSON documents (the resolved design and the SI figures): views of a
#: revision are cached by id (:class:`_RevisionCache`), so reads rarely need them; they load on first use.
_REVISION_LEAN = select(Revision).where(Revision.id == bindparam("id")).options(defer(Revision.resolved),
                                                                                  defer(Revision.figures))
_NUMBER = select(Revision.number).where(Revision.id == bindparam("id"))
_LINEAGE = select(Revision.lineage).where(Revision.id == bindparam("id"))


# --- sign-in ------------------------------------------------------------------------------
# Failed sign-ins are throttled per account (password guessing) and per client address (one client trying
# many accounts: credential stuffing, password spraying), as OWASP's Authentication and Credential Stuffing
# Prevention cheat sheets advise and NIST SP 800-63B section 5.2.2 requires ("rate limiting": at most 100
# consecutive failures per account). The limits are checked before the password, so that the right
# password is refused too while they hold (else guessing would go on, only its answers held back). The
# failures are rows of ``sign_in_failures``, shared by every server process; :mod:`.signin` composes the steps.

#: How long a failed sign-in counts towards the limits.
SIGN_IN_WINDOW = timedelta(minutes=15)
#: Failures per username (as typed: unknown ones too) in a window: 5 guesses per 15 minutes, 480 a day, far
#: tighter than NIST's 100 in all, while a user who mistypes a few times is not stopped.
MAX_FAILURES_PER_ACCOUNT = 5
#: Failures per client address in a window, whatever the usernames: above the per-account limit, so that a few
#: users behind one NAT or proxy address who mistype do not lock each other out.
MAX_FAILURES_PER_ADDRESS = 20
MAX_THROTTLE_KEY = 64  # the sign_in_failures.username and .address columns


def refuse_throttled_sign_in(session: Session, username: str, address: str) -> None:
    """:class:`TooManyRequests` when ``username`` or ``address`` has reached its limit of failures in the window,
    with the seconds until enough of them leave it."""
    now = utcnow()
    wait = max(_limit_lifted_in(session, SignInFailure.username, username, MAX_FAILURES_PER_ACCOUNT, now),
               _limit_lifted_in(session, SignInFailure.address, address, MAX_FAILURES_PER_ADDRESS, now))
    if wait > 0:
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}",
                              math.ceil(wait))


def _limit_lifted_in(session: Session, column, key: str, limit: int, now: datetime) -> float:
    """Seconds until fewer than ``limit`` failures with ``column == key`` are in the window (0: fewer now): when
    the ``limit``-th newest leaves it."""
    last_counted = session.scalar(select(SignInFailure.at)
                                  .where(column == _throttle_key(key), SignInFailure.at > now - SIGN_IN_WINDOW)
                                  .order_by(SignInFailure.at.desc()).offset(limit - 1).limit(1))
    return 0.0 if last_counted is None else (_utc(last_counted) + SIGN_IN_WINDOW - now).total_seconds()


def sign_in(session: Session, username: str, password: str) -> Actor:
    """Check a password; the same :class:`Unauthorized` for an unknown user and a wrong password, after the same
    work: an unknown user's password is checked against :func:`.security.dummy_password_hash` (one scrypt)."""
    user = _user_named(session, username)
    matches = security.verify_password(password, user.password_hash if user else security.dummy_password_hash())
    if user is None or not matches:
        raise Unauthorized("wrong username or password")
    return actor_for(user)


def record_failed_sign_in(session: Session, username: str, address: str, throttled: bool) -> None:
    """Audit a refused sign-in (``auth.failure``, or ``auth.throttled`` when refused by the limits) in the
    organisation of ``username`` if it exists, without the password; a failure also counts towards the limits.
    A throttled attempt does not count (its password was not checked), so the wait it was told holds.
    Failures older than the window are pruned here. A successful sign-in erases none: else whoever knows one
    password (the user, or an attacker with an account of their own) could reset the budget of guesses."""
    now = utcnow()
    if not throttled:
        session.execute(delete(SignInFailure).where(SignInFailure.at <= now - SIGN_IN_WINDOW))
        session.add(SignInFailure(at=now, username=_throttle_key(username), address=_throttle_key(address)))
    user = _user_named(session, username)
    _audit(session, None, "auth.throttled" if throttled else "auth.failure", f"user:{_throttle_key(username)}",
           org_id=user.org_id if user else None, address=_throttle_key(address))


def _user_named(session: Session, username: str) -> User | None:
    """The user called ``username``; None, without a query, for a name no user can have (one with NUL, which
    PostgreSQL refuses in a query, included)."""
    return session.scalar(select(User).where(User.username == username)) if NAME.fullmatch(username) else None


def _throttle_key(text: str) -> str:
    """A username or address as the database can store it: at most 64 characters, NUL and lone surrogates replaced."""
    return text[:MAX_THROTTLE_KEY].replace("\x00", "\ufffd").encode("utf-8", "replace").decode()


def issue_token(session: Session, actor: Actor, label: str = "", by_operator: bool = False,
                lifetime_s: float | None = None) -> str:
    """A new API token for the actor (returned once; only its hash is stored), valid until revoked or, with
    ``lifetime_s``, until that many seconds from now (the web UI's sessions)."""
    token, now = security.new_token(), utcnow()
    expires = now + timedelta(seconds=lifetime_s) if lifetime_s is not None else None
    # the holder's revoked and expired tokens answer 401 like unknown ones: drop them rather than keep them forever
    session.execute(delete(ApiToken).where(ApiToken.user_id == actor.user_id,
                                           or_(ApiToken.revoked, ApiToken.expires_at <= now)))
    session.add(ApiToken(user_id=actor.user_id, token_hash=security.token_hash(token),
                         label=clean_text(label, "label", MAX_TITLE, one_line=True), expires_at=expires))
    _audit(session, actor, "token.create", f"user:{actor.username}", **({"by": "operator"} if by_operator else {}))
    return token


def revoke_token(session: Session, actor: Actor, token: str) -> dict:
    """Revoke the actor's own API ``token`` (signing out); later requests with it answer 401."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_hash(token),
                                                ApiToken.user_id == actor.user_id))
    if row is None:
        raise NotFound("token not found")
    row.revoked = True
    _audit(session, actor, "token.revoke", f"user:{actor.username}")
    return {"revoked": True}


def create_organisation(session: Session, slug: str, name: str) -> dict:
    """A new organisation (operator set-up: ``rackwright server-admin org add``, ``seed``; not exposed to users)."""
    if len(_name(slug, "slug")) > MAX_ORG_SLUG:
        raise _invalid("slug", f"is {len(slug)} characters long; the limit is {MAX_ORG_SLUG}", "shorten it")
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise Conflict(f"organisation {slug!r} exists")
    org = Organisation(slug=slug, name=clean_text(name, "name", MAX_TITLE, one_line=True))
    session.add(org)
    session.flush()
    _audit(session, None, "organisation.create", f"org:{slug}")
    return _org_view(org)


def create_user(session: Session, actor: Actor | None, org: str, username: str, password: str, role: str,
                display_name: str = "") -> dict:
    """A user of ``org``: by an admin of that organisation, or by the operator (``actor`` None)."""
    organisation = session.scalar(select(Organisation).where(Organisation.slug == org))
    if organisation is None or (actor is not None and actor.org_id != organisation.id):
        raise NotFound(f"organisation {org!r} not found")
    if actor is not None:
        actor.require("admin", "creating users")
    if role not in ROLES:
        raise _invalid("role", f"unknown role {role!r}", f"one of: {', '.join(ROLES)}")
    password_hash = _password_hash(password)
    if session.scalar(select(User).where(User.username == _name(username, "username"))):
        raise Conflict(f"username {username!r} is taken")
    user = User(org_id=organisation.id, username=username, role=role,
                display_name=clean_text(display_name, "display_name", MAX_TITLE, one_line=True),
                password_hash=password_hash)
    session.add(user)
    session.flush()
    _audit(session, actor, "user.create", f"user:{username}", org_id=organisation.id, role=role)
    return _user_view(user)


def operator_token(session: Session, username: str, label: str = "operator") -> str:
    """A new API token for ``username`` issued by the operator (``rackwright server-admin token``): how the
    first admin of an organisation gets a token without the web UI; returned once, only its hash is stored."""
    return issue_token(session, actor_for(_operator_user(session, username)), label, by_operator=True)


def operator_users(session: Session, org: str | None = None) -> list[dict]:
    """Every user of the server, or of organisation ``org``, by organisation then username, with when they were
    created and how many API tokens they hold that still authenticate (``rackwright server-admin user list``).
    Sorted here, by code point, so that SQLite and PostgreSQL (whose collations may skip '.', '_', '-') agree."""
    query = select(User)
    if org is not None:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == org))
        if org_id is None:
            raise NotFound(f"organisation {org!r} not found")
        query = query.where(User.org_id == org_id)
    now, live = utcnow(), {}
    for user_id, expires_at in session.execute(select(ApiToken.user_id, ApiToken.expires_at)
                                               .where(ApiToken.revoked.is_(False))):
        live[user_id] = live.get(user_id, 0) + _unexpired(expires_at, now)
    users = sorted(session.scalars(query), key=lambda user: (user.org.slug, user.username))
    return [{**_user_view(user), "created": _iso(user.created_at), "live_tokens": live.get(user.id, 0)}
            for user in users]


def set_role(session: Session, username: str, role: str) -> dict:
    """Change a user's role, by the operator (``rackwright server-admin user role``); audit-logged with the old
    and the new role unless it is unchanged. The user's tokens carry the new role from their next request."""
    if role not in ROLES:
        raise _invalid("role", f"unknown role {role!r}", f"one of: {', '.join(ROLES)}")
    user = _operator_user(session, username)
    old = user.role
    if old != role:
        user.role = role
        _audit(session, None, "user.role", f"user:{username}", org_id=user.org_id, old=old, new=role)
    return {**_user_view(user), "old_role": old}


def reset_password(session: Session, username: str, password: str) -> int:
    """Set a user's password, by the operator (``rackwright server-admin user password``), and revoke every
    API token of the user (a reset after a leak ends the web UI's sessions too, which are tokens); returns how
    many of the revoked tokens still authenticated. Audit-logged without the secret."""
    password_hash = _password_hash(password)
    user = _operator_user(session, username)
    user.password_hash = password_hash
    now, revoked = utcnow(), 0
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))):
        revoked += _unexpired(token.expires_at, now)
        token.revoked = True
    _audit(session, None, "user.password", f"user:{username}", org_id=user.org_id, revoked_tokens=revoked)
    return revoked


def _password_hash(password: str) -> str:
    """The stored hash of a new password (at least 8 characters)."""
    if len(password) < 8:
        raise _invalid("password", "is shorter than 8 characters", "choose a longer password")
    return security.hash_password(clean_text(password, "password", MAX_TITLE))


def _operator_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found")
    return user


def _unexpired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a token that is not revoked still authenticates (the expiry test of :func:`authenticate`)."""
    return expires_at is None or _utc(expires_at) > now


def list_organisations(session: Session, actor: Actor) -> list[dict]:
    """All organisations (names only: who one can share with)."""
    return [_org_view(o) for o in session.scalars(select(Organisation).order_by(Organisation.slug))]


def list_users(session: Session, actor: Actor) -> list[dict]:
    """The users of the actor's own organisation."""
    users = session.scalars(select(User).where(User.org_id == actor.org_id).order_by(User.username))
    return [_user_view(u) for u in users]


def whoami(actor: Actor) -> dict:
    return {"username": actor.username, "org": actor.org, "role": actor.role}


# --- programmes ---------------------------------------------------------------------------

def create_programme(session: Session, actor: Actor, slug: str, title: str = "") -> dict:
    """A programme (a family of rack generations) owned by the actor's organisation."""
    actor.require("engineer", "creating a programme")
    _name(slug, "slug")
    if session.scalar(select(Programme).where(Programme.org_id == actor.org_id, Programme.slug == slug)):
        raise Conflict(f"programme {actor.org}/{slug} exists")
    programme = Programme(org_id=actor.org_id, slug=slug,
                          title=clean_text(title, "title", MAX_TITLE, one_line=True))
    session.add(programme)
    session.flush()
    _audit(session, actor, "programme.create", f"programme:{actor.org}/{slug}")
    return _programme_view(programme, [])


def list_programmes(session: Session, actor: Actor) -> list[dict]:
    """Programmes of the actor's organisation, and those holding a design shared with it."""
    visible = _visible_designs(session, actor)
    shared = {d.programme_id for d, _ in visible if d.programme_id is not None}
    query = select(Programme).where(or_(Programme.org_id == actor.org_id, Programme.id.in_(shared)))
    return [_programme_view(p, [d for d, _ in visible if d.programme_id == p.id])
            for p in session.scalars(query.order_by(Programme.slug))]


def get_programme(session: Session, actor: Actor, org: str, slug: str) -> dict:
    """One programme and its visible designs by status (the generations board)."""
    for programme in list_programmes(session, actor):
        if programme["org"] == org and programme["slug"] == slug:
            return programme
    raise NotFound(f"programme {org}/{slug} not found")


# --- designs and revisions ----------------------------------------------------------------

def _visible_designs(session: Session, actor: Actor) -> list[tuple[Design, str]]:
    """``(design, level)`` of every design the actor's organisation sees; level owner, full or envelope."""
    shares = {s.design_id: s.level for s in session.scalars(select(DesignShare).where(DesignShare.org_id == actor.org_id))}
    designs = session.scalars(select(Design).where(or_(Design.org_id == actor.org_id, Design.id.in_(list(shares))))
                              .order_by(Design.id))
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
    level = None if row is None else "owner" if row.Design.org_id == actor.org_id else row.level
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


# --- what an organisation may read of a revision --------------------------------------------

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
        reason = f"it extends {self.capped_by}, which is not shared with {org} in full" if self.capped_by else \
            f"it is not shared with {org} in full"
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
    shared = session.execute(select(DesignShare.org_id, Organisation.slug, DesignShare.level)
                             .join(Organisation, DesignShare.org_id == Organisation.id)
                             .where(DesignShare.design_id == design.id).order_by(Organisation.slug))
    return [(design.org_id, design.org.slug, "owner"), *shared]


def _chain_refusal(session: Session, design: Design, readers: list[tuple[int, str, str]],
                   base_lineage: list[str]) -> tuple[str, str] | None:
    """``(why, fix)`` when a revision of ``design`` extending the chain ``base_lineage`` would show one of
    ``readers`` a design beyond what its owner granted them; None when it would not."""
    for org_id, slug, level in readers:  # the lineage such a revision would have: the chain, then itself
        capped_by = _access(session, org_id, design, level, [*base_lineage, "the new revision"]).capped_by
        if capped_by:
            wanted = "in full" if level in ("owner", "full") else "at envelope level"
            return (f"{slug} reads {design.org.slug}/{design.slug} {wanted} but may not read {capped_by} {wanted}, "
                    f"which it would read through the extends",
                    f"ask an admin of {capped_by.split('/')[0]} to share {capped_by} with {slug} {wanted}, "
                    f"or stop sharing {design.org.slug}/{design.slug} with {slug} first")
    return None


def _reader(session: Session, actor: Actor, design: Design, level: str, revision: Revision) -> Access:
    """The actor's :class:`Access` to ``revision`` of ``design`` (on which the actor's level is ``level``)."""
    return _access(session, actor.org_id, design, level, revision.lineage)


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
        view["shares"] = [{"org": slug, "level": share_level}
                          for slug, share_level in session.execute(_SHARES, {"design_id": design.id})]
    return view


def create_design(session: Session, actor: Actor, name: str, content: str, message: str = "",
                  programme: str | None = None, confidential: list[str] | None = None) -> dict:
    """A new design of the actor's organisation with its first revision (checked and evaluated)."""
    actor.require("engineer", "creating a design")
    _name(name, "name")
    owner = session.get(Organisation, actor.org_id)
    if session.scalar(select(Design).where(Design.org_id == actor.org_id, Design.slug == name)):
        raise Conflict(f"design {actor.org}/{name} exists", hint="push a new revision to it instead")
    programme_id = None
    if programme is not None:
        found = session.scalar(select(Programme).where(Programme.org_id == actor.org_id,
                                                       Programme.slug == _name(programme, "programme")))
        if found is None:
            raise _invalid("programme", f"no programme {actor.org}/{programme}", "create it first")
        programme_id = found.id
    design = Design(org_id=owner.id, slug=name, programme_id=programme_id, status="draft",
                    confidential=_confidential(confidential))
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
        raise _invalid(field, f"unknown section(s) {unknown}",
                       f"choose among {', '.join(CONFIDENTIAL_SECTIONS)} (the envelope is always shared)")
    return sorted(set(sections))


@dataclass(frozen=True)
class Prepared:
    """A revision's content checked and evaluated ahead of the transaction that stores it."""

    content: str
    checked: checker.Checked
    base_id: str | None  # the revision its ``extends`` resolved to when it was evaluated


def prepare_revision(session: Session, actor: Actor, org: str, name: str, content: str,
                     expected_head: str | None) -> Prepared:
    """Check and evaluate ``content`` as the next revision of ``org/name``, in a read transaction.

    The evaluation takes tens of milliseconds; done here rather than in :func:`push_revision`'s write
    transaction, the database's write lock is held for the store alone, and a stale edit is refused
    (409) before anything is evaluated. The revision records the base it was evaluated against.
    """
    design, _ = _editable(session, actor, org, name, expected_head)
    checked, base = _check_content(session, actor, design, content, f"{org}/{name}")
    return Prepared(content, checked, base.id if base else None)


def push_revision(session: Session, actor: Actor, org: str, name: str, content: str, message: str,
                  expected_head: str | None, prepared: Prepared | None = None) -> dict:
    """A new head revision based on ``expected_head`` (If-Match); :class:`Conflict` when that is stale.
    ``prepared`` (:func:`prepare_revision` of the same content) saves checking it again."""
    design, level = _editable(session, actor, org, name, expected_head, lock=True)
    revision = _write_revision(session, actor, design, content, message, expected_head,
                               prepared if prepared is not None and prepared.content == content else None)
    _audit(session, actor, "revision.create", f"revision:{revision.id}", design, parent=expected_head)
    return _revision_view(revision, design, _reader(session, actor, design, level, revision), actor.org)


def _editable(session: Session, actor: Actor, org: str, name: str, expected_head: str | None,
              lock: bool = False) -> tuple[Design, str]:
    """The design and the actor's level, when the actor may write its next revision on ``expected_head``
    (``lock``: in the transaction that writes it, see :func:`_locate`)."""
    design, level = _locate(session, actor, org, name, lock)
    _require_editor(actor, level, "writing revisions")
    if not expected_head:
        raise PreconditionRequired("name the revision you edited", head=design.head_revision_id,
                                   hint="send If-Match: <revision id> (the head you based your edit on)")
    if design.status not in EDITABLE:
        raise Conflict(f"design {org}/{name} is {design.status}; revisions are written in "
                       f"{' or '.join(EDITABLE)} only", status=design.status)
    if expected_head != design.head_revision_id:
        raise _stale(design, expected_head)
    return design, level


def _stale(design: Design, expected: str) -> Conflict:
    return Conflict(f"revision {expected} is not the head of {design.org.slug}/{design.slug} any more",
                    head=design.head_revision_id,
                    hint="fetch the head, merge your change onto it and send it with If-Match: <head>")


def _require_editor(actor: Actor, level: str, what: str) -> None:
    if level not in ("owner", "full"):
        raise Forbidden(f"{what} needs full access; this design is shared with {actor.org} at {level} level")
    actor.require("engineer", what)


def _write_revision(session: Session, actor: Actor, design: Design, content: str, message: str,
                    parent: str | None, prepared: Prepared | None = None) -> Revision:
    """Check and evaluate (unless ``prepared``) and store a revision; move the head from ``parent`` with a
    compare-and-swap."""
    message = clean_text(message, "message", MAX_MESSAGE)
    label = f"{design.org.slug}/{design.slug}"
    if prepared is None:
        checked, base = _check_content(session, actor, design, content, label)
        base_id, base_lineage = (base.id, base.lineage) if base else (None, [])
    else:  # the base's id and lineage only: loading the revision would decode its large JSON documents
        checked, base_id = prepared.checked, prepared.base_id
        base_lineage = session.scalar(_LINEAGE, {"id": base_id}) if base_id else []
    refusal = _chain_refusal(session, design, _readers(session, design), base_lineage) if base_lineage else None
    if refusal:
        raise _invalid("extends", *refusal)
    number = 1 if parent is None else session.scalar(_NUMBER, {"id": parent}) + 1
    created = utcnow()
    content_hash = hashlib.sha256(content.encode()).hexdigest()
    # a random salt too: else the id, which envelope viewers see, would confirm a guessed file like its digest
    rev_id = hashlib.sha256(f"{design.id}|{number}|{parent}|{content_hash}|{base_id or ''}|{actor.user_id}|"
                            f"{message}|{created.isoformat()}|{secrets.token_hex(16)}".encode()).hexdigest()[:16]
    moved = session.execute(update(Design).where(Design.id == design.id, Design.head_revision_id == parent)
                            .values(head_revision_id=rev_id).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise _stale(design, parent)
    design.head_revision_id = rev_id
    lineage = base_lineage + [f"{label}@{rev_id}"]
    revision = Revision(id=rev_id, design_id=design.id, number=number, parent_id=parent,
                        base_revision_id=base_id, author_id=actor.user_id, message=message,
                        created_at=created, content=content, content_hash=content_hash, resolved=checked.resolved,
                        lineage=lineage, name=checked.name, generation=checked.generation,
                        figures=checked.figures, violations=checked.violations)
    session.add(revision)
    session.flush()
    _REVISION_METAS.put(rev_id, _revision_meta(revision, (actor.username, actor.org)))
    return revision


def _check_content(session: Session, actor: Actor, design: Design, content: str,
                   label: str) -> tuple[checker.Checked, Revision | None]:
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
    return result, base


def _extended(session: Session, actor: Actor, design: Design, extends, label: str) -> Revision | None:
    """The revision an ``extends`` names: ``NAME`` (same organisation) or ``ORG/NAME``, a ``.yaml`` suffix
    and a leading ``./`` ignored, ``@REV`` to pin a revision (default: the head). The parent must be
    fully visible to the actor."""
    if extends is None:
        return None
    hint = "extends names a design on this server: NAME, ORG/NAME or ORG/NAME@REVISION, pushed before this one"
    if not isinstance(extends, str):
        raise InputError.single(label, "extends must be a design name", "extends", hint)
    text, _, rev = extends.removeprefix("./").partition("@")
    text = re.sub(r"\.ya?ml$", "", text)
    parts = text.split("/")
    org, name = (design.org.slug, parts[0]) if len(parts) == 1 else (parts if len(parts) == 2 else (None, None))
    try:
        parent, level = _locate(session, actor, org or "", name or "")
        if level == "envelope":
            raise NotFound("envelope only")
        revision = _revision(session, parent, rev or None)
    except NotFound:
        raise InputError.single(label, f"parent design {extends!r} not found", "extends", hint) from None
    if parent.id == design.id or design.id in _ancestor_designs(session, revision):
        raise InputError.single(label, f"extends cycle through {extends!r}", "extends", "remove the cycle")
    return revision


def _ancestor_designs(session: Session, revision: Revision) -> set[int]:
    seen = set()
    while revision is not None:
        seen.add(revision.design_id)
        revision = session.get(Revision, revision.base_revision_id) if revision.base_revision_id else None
    return seen


def list_revisions(session: Session, actor: Actor, org: str, name: str, limit: int = HISTORY_PAGE,
                   before: int | None = None) -> list[dict]:
    """One page of the design's history, newest first (metadata only): at most ``limit`` revisions numbered
    below ``before`` (None: from the head). The next page starts before the last one's ``number``.

    Paged because a design edited all day has thousands of revisions, and a history read that lists them
    all grows with every write (it became the costliest read under load).
    """
    design, level = _locate(session, actor, org, name)
    page = select(Revision.id).where(Revision.design_id == design.id)
    page = page.where(Revision.number < before) if before is not None else page
    ids = session.scalars(page.order_by(Revision.number.desc()).limit(limit)).all()
    metas = {rev_id: _REVISION_METAS.get(rev_id) for rev_id in ids}  # as _full_meta, but one query for all
    missing = [rev_id for rev_id, meta in metas.items() if meta is None]
    for revision in session.scalars(select(Revision).where(Revision.id.in_(missing)).options(
            defer(Revision.content), defer(Revision.resolved), defer(Revision.figures))) if missing else ():
        metas[revision.id] = _REVISION_METAS.put(revision.id, _revision_meta(revision))
    return [_meta_for(metas[rev_id], _access(session, actor.org_id, design, level, metas[rev_id]["lineage"]))
            for rev_id in ids]


def older_than(page: list[dict], limit: int) -> int | None:
    """The ``before`` of the page after ``page`` (a full page of ``limit`` from :func:`list_revisions`), or None
    when ``page`` holds the first revision."""
    return page[-1]["number"] if len(page) == limit and page[-1]["number"] > 1 else None


def get_revision(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> dict:
    """One revision (None: the head) with its content and report as far as the actor may see them."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    return _revision_view(revision, design, _reader(session, actor, design, level, revision), actor.org)


def revision_content(session: Session, actor: Actor, org: str, name: str, rev: str | None = None,
                     resolved: bool = False) -> tuple[str, str]:
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
    from ..chain import resolve
    from ..report.elevation import elevation_svg

    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if not access.content:
        raise access.refusal(f"the elevation of {org}/{name}@{revision.id}", actor.org)
    loaded = validate_design(revision.resolved, f"{org}/{name}", revision.lineage)
    with checker.EVALUATION_LOCK:
        return elevation_svg(resolve(loaded)).as_svg()


def report(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> dict:
    """The stored evaluation of a revision: figures (display units, nested) and violations, filtered."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    if access.level == "none":
        raise access.refusal(f"the report of {org}/{name}@{revision.id}", actor.org)
    return _report_view(revision, access)


def diff(session: Session, actor: Actor, org: str, name: str, before: str, after: str) -> dict:
    """Fields and figures that differ between two revisions (``rackwright.report.compare``), filtered.

    ``before`` may be a revision of another visible design, given as ``ORG/NAME@REV``.
    """
    design, level = _locate(session, actor, org, name)
    b_design, b_level = design, level
    if "/" in before:
        other, _, rev = before.partition("@")
        b_org, _, b_name = other.partition("/")
        b_design, b_level = _locate(session, actor, b_org, b_name)
        before = rev or None
    ra, rb = _revision(session, b_design, before), _revision(session, design, after)
    a_access, b_access = (_reader(session, actor, b_design, b_level, ra), _reader(session, actor, design, level, rb))
    for access, revision, (o, n) in ((a_access, ra, (b_design.org.slug, b_design.slug)), (b_access, rb, (org, name))):
        if access.level == "none":
            raise access.refusal(f"revision {o}/{n}@{revision.id}", actor.org)
    content = a_access.content and b_access.content
    fields = [{"path": c.path, "before": c.before, "after": c.after}
              for c in field_changes(ra.resolved, rb.resolved)] if content else []
    hidden = a_access.hidden | b_access.hidden
    figures = [{"figure": c.key, "before": _finite(c.before), "after": _finite(c.after),
                "absolute": _finite(c.absolute), "relative": _finite(c.relative)}
               for c in figure_changes(_rack_report(ra), _rack_report(rb)) if c.key.split(".")[0] not in hidden]
    return {"before": _meta_for(_full_meta(ra), a_access), "after": _meta_for(_full_meta(rb), b_access),
            "fields": fields, "figures": figures, "fields_hidden": not content}


# --- status, sharing ----------------------------------------------------------------------

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
        raise Conflict(f"cannot move {org}/{name} from {design.status} to {status}",
                       hint=f"from {design.status}: {', '.join(allowed) or 'nothing (final)'}")
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
    _audit(session, actor, "design.status", f"design:{org}/{name}", design, before=before, after=status,
           **({"signers": design.signers} if before == "draft" else {}))
    return _design_view(session, design, level, actor.org_id)


def _participants(session: Session, design: Design) -> list[str]:
    """The organisations that read ``design`` now: its owner, then those it is shared with."""
    return [slug for _, slug, _ in _readers(session, design)]


def _bases(session: Session, design: Design) -> list[list[str]]:
    """The lineage of each revision that a revision of ``design`` extended (each once)."""
    base_ids = session.scalars(select(Revision.base_revision_id).distinct()
                               .where(Revision.design_id == design.id, Revision.base_revision_id.is_not(None)))
    return [session.scalar(_LINEAGE, {"id": base_id}) for base_id in base_ids.all()]


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
    target = session.scalar(select(Organisation).where(Organisation.slug == with_org))
    if target is None:
        raise NotFound(f"organisation {with_org!r} not found")
    if target.id == design.org_id:
        raise _invalid("org", "the owner always has full access")
    if level is not None and level not in SHARE_LEVELS:
        raise _invalid("level", f"unknown level {level!r}", f"one of: {', '.join(SHARE_LEVELS)}")
    for lineage in _bases(session, design) if level is not None else ():
        refusal = _chain_refusal(session, design, [(target.id, with_org, level)], lineage)
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
        _audit(session, actor, "design.status", f"design:{design.org.slug}/{design.slug}", design,
               before="approved", after="in_review", reason="who reads the design changed", signers=design.signers)


def set_confidential(session: Session, actor: Actor, org: str, name: str, sections: list[str]) -> dict:
    """Choose the figure sections (of :data:`CONFIDENTIAL_SECTIONS`) hidden from envelope viewers.

    Admins of the owner organisation only, like sharing. Envelope views follow at once: reports are
    filtered by ``design.confidential`` when they are read, never when they are cached."""
    design, own = _locate(session, actor, org, name)
    if own != "owner":
        raise Forbidden(f"only {org} chooses what {org}/{name} keeps confidential")
    actor.require("admin", "choosing confidential sections")
    before, design.confidential = design.confidential, _confidential(sections, "sections")
    _audit(session, actor, "design.confidential", f"design:{org}/{name}", design, before=before,
           after=design.confidential)
    session.flush()
    return get_design(session, actor, org, name)


# --- reviews and approvals ----------------------------------------------------------------

#: Moves that vouch for a revision: with rule errors in its head, only as an explicit override with a reason.
OVERRIDDEN = ("in_review", "approved")


def _override(session: Session, actor: Actor, design: Design, revision: Revision, what: str, reason: str | None,
              status: str) -> str | None:
    """The reason for vouching for ``revision`` despite its rule errors (None when it has none); without a
    reason, :class:`Conflict` naming the errors. An override is audited as ``design.override`` and shown to
    every organisation that reads the design (:func:`_overrides`)."""
    codes = sorted({v["code"] for v in revision.violations if v["severity"] == "error"})
    if not codes:
        return None
    reason = clean_text(reason or "", "reason", MAX_MESSAGE).strip()
    if not reason:
        raise Conflict(f"{what}: revision {revision.id} breaks {len(codes)} design rule(s) ({', '.join(codes)})",
                       errors=codes, hint="fix the design, or override with a reason (the field reason), which "
                                          "every organisation reading the design will see")
    _audit(session, actor, "design.override", f"revision:{revision.id}", design, status=status, errors=codes,
           reason=reason)
    return reason


def _overrides(session: Session, design: Design) -> list[dict]:
    """Every override of rule errors on ``design``, newest first: who, when, for which revision and move."""
    entries = session.execute(
        select(AuditEntry, User.username, Organisation.slug).join(User, AuditEntry.actor_id == User.id)
        .join(Organisation, User.org_id == Organisation.id)
        .where(AuditEntry.design_id == design.id, AuditEntry.action == "design.override")
        .order_by(AuditEntry.id.desc()))
    return [{"revision": entry.target.removeprefix("revision:"), "by": username, "org": org,
             "at": _iso(entry.created_at), **{k: entry.detail[k] for k in ("status", "errors", "reason")}}
            for entry, username, org in entries]

def open_thread(session: Session, actor: Actor, org: str, name: str, rev: str | None, path: str, body: str,
                internal: bool | None) -> dict:
    """A review thread on a revision anchored to a field path (``slots[3].part``) or figure key
    (``power.input_kw``); envelope viewers may anchor to the figures they see (or ``""``, the whole design).
    Whether it is ``internal`` (the owner organisation only) or shared is an explicit choice (None: not made)."""
    design, level = _locate(session, actor, org, name, lock=True)
    actor.require("engineer", "commenting")
    revision = _revision(session, design, rev)
    path = clean_text(path, "path", MAX_PATH, one_line=True)
    if path and _anchored(revision, _reader(session, actor, design, level, revision), path) is MISSING:
        raise _invalid("path", f"{path!r} is neither a field of revision {revision.id} nor a figure you can see",
                       "use a field path such as slots[3].part, a figure key such as power.input_kw, or ''")
    if internal is None:
        raise _invalid("internal", "choose who sees the thread",
                       "internal (your organisation only) or shared (every organisation that reads the design)")
    if internal and level != "owner":
        raise Forbidden("internal threads are for the owner organisation")
    thread = Thread(design_id=design.id, revision_id=revision.id, path=path, internal=internal,
                    created_by=actor.user_id)
    session.add(thread)
    session.flush()
    session.add(Comment(thread_id=thread.id, author_id=actor.user_id, body=_comment_body(body)))
    _audit(session, actor, "thread.create", f"thread:{thread.id}", design, path=path)
    session.flush()
    session.refresh(thread)
    return _thread_view(thread, _anchored_value(revision, _reader(session, actor, design, level, revision), path))


def _comment_body(body: str) -> str:
    body = clean_text(body, "body", MAX_COMMENT)
    if not body.strip():
        raise _invalid("body", "is empty", "write the comment")
    return body


def reply(session: Session, actor: Actor, org: str, name: str, thread_id: int, body: str,
          resolve: bool | None = None) -> dict:
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
    figure = _field(_report_view(revision, access), path)
    if figure is not MISSING and not isinstance(figure, (dict, list)):
        return figure
    return _field(revision.resolved, path) if access.content else MISSING


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


def approve(session: Session, actor: Actor, org: str, name: str, rev: str | None = None,
            reason: str | None = None) -> dict:
    """Sign a revision for the actor's organisation (an approver of a participating organisation); a revision
    with rule errors only with a ``reason`` (:func:`_override`)."""
    design, level = _locate(session, actor, org, name, lock=True)
    actor.require("approver", "approving")
    revision = _revision(session, design, rev)
    if session.scalar(select(Approval).where(Approval.revision_id == revision.id, Approval.user_id == actor.user_id)):
        raise Conflict(f"{actor.username} has already approved revision {revision.id}")
    override = _override(session, actor, design, revision, f"approving revision {revision.id}", reason,
                         status="signed")
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
    return {"revision": revision.id, "participants": participants, "missing": missing, "approved": not missing,
            "signatures": [{"user": a.user.username, "org": a.user.org.slug, "at": _iso(a.created_at),
                            "override": a.override} for a in signed]}


# --- qualification ------------------------------------------------------------------------

def attach_qualification(session: Session, actor: Actor, org: str, name: str, rev: str | None, filename: str,
                         content: str, racks: list[str] | None = None) -> dict:
    """Qualify measured results (CSV or JSON, as ``rackwright reliability qualify`` reads) against a revision
    and store file and verdicts with it."""
    from ..fleet.qualify import qualify

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
        design_file, results_file = Path(tmp) / "design.yaml", Path(tmp) / f"results{suffix}"
        design_file.write_text(json.dumps({k: v for k, v in revision.resolved.items() if k != "extends"}))
        results_file.write_text(content, encoding="utf-8")
        try:
            with checker.EVALUATION_LOCK:
                result = qualify(design_file, results_file, racks)
        except InputError as exc:
            raise Invalid("the results do not qualify", exc.problems) from None
    result["results"] = filename
    row = Qualification(revision_id=revision.id, uploaded_by=actor.user_id, filename=filename, content=content,
                        result=json.loads(json.dumps(result, default=str)))
    session.add(row)
    session.flush()
    _audit(session, actor, "qualification.create", f"qualification:{row.id}", design, revision=revision.id,
           summary=result["summary"])
    return _qualification_view(row, access)


def list_qualifications(session: Session, actor: Actor, org: str, name: str, rev: str | None = None) -> list[dict]:
    """Qualification results of a revision: verdict rows for full access, the summary for envelope viewers."""
    design, level = _locate(session, actor, org, name)
    revision = _revision(session, design, rev)
    access = _reader(session, actor, design, level, revision)
    rows = session.scalars(select(Qualification).where(Qualification.revision_id == revision.id)
                           .order_by(Qualification.id))
    return [_qualification_view(q, access) for q in rows]


# --- audit log ----------------------------------------------------------------------------

def _audit(session: Session, actor: Actor | None, action: str, target: str, design: Design | None = None,
           org_id: int | None = None, **detail) -> None:
    """An audit entry by ``actor`` (None: the operator, whose entry belongs to ``org_id``, the organisation
    acted on, so that its admins see it in their audit log)."""
    session.add(AuditEntry(actor_id=actor.user_id if actor else None, org_id=actor.org_id if actor else org_id,
                           design_id=design.id if design else None, action=action, target=target,
                           detail=json.loads(json.dumps(detail, default=str))))


def audit_log(session: Session, actor: Actor, limit: int = 200) -> list[dict]:
    """Newest entries by the actor's organisation or about its designs (admins only)."""
    actor.require("admin", "reading the audit log")
    own_designs = select(Design.id).where(Design.org_id == actor.org_id)
    query = (select(AuditEntry).where(or_(AuditEntry.org_id == actor.org_id, AuditEntry.design_id.in_(own_designs)))
             .order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000))))
    users = {u.id: u.username for u in session.scalars(select(User).where(User.org_id == actor.org_id))}
    return [{"id": e.id, "at": _iso(e.created_at),
             "actor": "operator" if e.actor_id is None else users.get(e.actor_id, "other organisation"),
             "action": e.action, "target": e.target, "detail": e.detail} for e in session.scalars(query)]


# --- views (what leaves the service, filtered by level) -----------------------------------

def _org_view(org: Organisation) -> dict:
    return {"slug": org.slug, "name": org.name}


def _user_view(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role, "org": user.org.slug}


def _programme_view(programme: Programme, designs: list[Design]) -> dict:
    board = {status: [f"{d.org.slug}/{d.slug}" for d in designs if d.status == status] for status in STATUSES}
    return {"org": programme.org.slug, "slug": programme.slug, "title": programme.title, "board": board}


def _design_view(session: Session, design: Design, level: str, viewer_org: int, head: Revision | None = None) -> dict:
    """A design's summary as organisation ``viewer_org``, at ``level`` on it, sees it: the head's name and generation
    only as far as it reads the head (they may come from a parent); ``head`` saves loading the head again."""
    head = head or (_revision(session, design, None) if design.head_revision_id else None)
    meta = _meta_for(_full_meta(head), _access(session, viewer_org, design, level, head.lineage)) if head else {}
    return {"org": design.org.slug, "name": design.slug, "access": level, "status": design.status,
            "programme": f"{design.programme.org.slug}/{design.programme.slug}" if design.programme else None,
            "head_revision": design.head_revision_id, "generation": meta.get("generation"),
            "title": meta.get("name"), "confidential": design.confidential if level != "envelope" else None}


#: Metadata of a revision that envelope viewers do not get: where it came from, and the digest of its file
#: (a SHA-256 of the YAML would confirm a guessed file).
CONTENT_META = ("lineage", "extends", "content_hash")
#: ... nor readers of no level (a revision whose ``extends`` chain is not shared with them): what it evaluated to.
EVALUATED_META = ("name", "generation", "errors", "warnings")


def _revision_meta(revision: Revision, author: tuple[str, str] | None = None) -> dict:
    """A revision's metadata at full access; ``author`` (username, organisation) saves loading them."""
    username, org = author or (revision.author.username, revision.author.org.slug)
    return {"id": revision.id, "number": revision.number, "parent": revision.parent_id,
            "author": username, "author_org": org, "message": revision.message,
            "created_at": _iso(revision.created_at), "content_hash": revision.content_hash,
            "name": revision.name, "generation": revision.generation,
            "errors": sum(v["severity"] == "error" for v in revision.violations),
            "warnings": sum(v["severity"] != "error" for v in revision.violations),
            "lineage": revision.lineage, "extends": revision.base_revision_id}


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


def _rack_report(revision: Revision) -> RackReport:
    figures = {k: float("nan") if v is None else v for k, v in revision.figures.items()}
    return RackReport(revision.name, revision.generation, None, revision.lineage, figures,
                      [Violation(**v) for v in revision.violations])


class _RevisionCache:
    """Views of revisions computed once per revision id and kept, the oldest dropped beyond ``size``.

    Safe because a revision never changes after it is written, and its id hashes the design, parent,
    content, base, author and time, so one id names one revision (in any database). Callers must not
    change a returned view. Route threads share it: reads are single dict look-ups, writes (which evict by
    iterating the dict) hold a lock.
    """

    def __init__(self, size: int):
        self.size, self.views, self.lock = size, {}, threading.Lock()

    def get(self, rev_id: str) -> dict | None:
        return self.views.get(rev_id)

    def put(self, rev_id: str, view: dict) -> dict:
        with self.lock:
            if len(self.views) >= self.size:
                self.views.pop(next(iter(self.views)))
            self.views[rev_id] = view
        return view


#: ``RackReport.to_dict()`` per revision: building it (unit conversion of every figure) was a third of a report read.
_REPORT_DOCUMENTS = _RevisionCache(1024)
#: :func:`_revision_meta` at full access per revision: a history lists every revision of a design.
_REVISION_METAS = _RevisionCache(16384)


def _report_document(revision: Revision) -> dict:
    """``RackReport.to_dict()`` of a revision (kept in :data:`_REPORT_DOCUMENTS`)."""
    return _REPORT_DOCUMENTS.get(revision.id) or _REPORT_DOCUMENTS.put(revision.id, _rack_report(revision).to_dict())


def _report_view(revision: Revision, access: Access) -> dict:
    """The stored evaluation as ``access`` reads it (an envelope or better)."""
    document = _report_document(revision)
    view = {k: v for k, v in document.items() if k not in access.hidden | {"file", "lineage"}}
    if access.level == "envelope":
        view["violations"] = [{"code": v["code"], "severity": v["severity"],
                               "description": SUMMARIES.get(v["code"], ""), "hint": v["hint"]}
                              for v in revision.violations]
        view["hidden_sections"] = sorted(access.hidden)
    return view


def _thread_view(thread: Thread, value) -> dict:
    """A thread, with ``value``: that of the field or figure it is anchored on in its revision (None: hidden)."""
    return {"id": thread.id, "revision": thread.revision_id, "path": thread.path, "internal": thread.internal,
            "resolved": thread.resolved, "value": value,
            "comments": [{"id": c.id, "author": c.author.username, "org": c.author.org.slug, "body": c.body,
                          "at": _iso(c.created_at)} for c in thread.comments]}


def _qualification_view(row: Qualification, access: Access) -> dict:
    view = {"id": row.id, "revision": row.revision_id, "filename": row.filename,
            "created_at": _iso(row.created_at), "summary": row.result["summary"]}
    if access.content:
        view["result"] = row.result
    return view


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite returns naive datetimes; they were stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment) -> str:
    """ISO 8601 in UTC."""
    return _utc(moment).isoformat()


def _finite(value):
    return None if value is None or value != value or value in (float("inf"), float("-inf")) else value
