"""Organisations, users, API tokens and sign-in (throttled per account and per address)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import Session

from .. import security
from ..db import ROLES, ApiToken, Organisation, SignInFailure, User, utcnow
from .audit import _audit
from .common import (
    MAX_ORG_SLUG,
    MAX_TITLE,
    NAME,
    Actor,
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    _invalid,
    _iso,
    _name,
    _utc,
    clean_text,
)


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
_TOKEN_HOLDER = (
    select(ApiToken.revoked, ApiToken.expires_at, User.id, User.username, User.org_id, Organisation.slug, User.role)
    .join(User, ApiToken.user_id == User.id)
    .join(Organisation, User.org_id == Organisation.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


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
    wait = max(
        _limit_lifted_in(session, SignInFailure.username, username, MAX_FAILURES_PER_ACCOUNT, now),
        _limit_lifted_in(session, SignInFailure.address, address, MAX_FAILURES_PER_ADDRESS, now),
    )
    if wait > 0:
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}", math.ceil(wait)
        )


def _limit_lifted_in(session: Session, column, key: str, limit: int, now: datetime) -> float:
    """Seconds until fewer than ``limit`` failures with ``column == key`` are in the window (0: fewer now): when
    the ``limit``-th newest leaves it."""
    last_counted = session.scalar(
        select(SignInFailure.at)
        .where(column == _throttle_key(key), SignInFailure.at > now - SIGN_IN_WINDOW)
        .order_by(SignInFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
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
    _audit(
        session,
        None,
        "auth.throttled" if throttled else "auth.failure",
        f"user:{_throttle_key(username)}",
        org_id=user.org_id if user else None,
        address=_throttle_key(address),
    )


def _user_named(session: Session, username: str) -> User | None:
    """The user called ``username``; None, without a query, for a name no user can have (one with NUL, which
    PostgreSQL refuses in a query, included)."""
    return session.scalar(select(User).where(User.username == username)) if NAME.fullmatch(username) else None


def _throttle_key(text: str) -> str:
    """A username or address as the database can store it: at most 64 characters, NUL and lone surrogates replaced."""
    return text[:MAX_THROTTLE_KEY].replace("\x00", "\ufffd").encode("utf-8", "replace").decode()


def issue_token(
    session: Session, actor: Actor, label: str = "", by_operator: bool = False, lifetime_s: float | None = None
) -> str:
    """A new API token for the actor (returned once; only its hash is stored), valid until revoked or, with
    ``lifetime_s``, until that many seconds from now (the web UI's sessions)."""
    token, now = security.new_token(), utcnow()
    expires = now + timedelta(seconds=lifetime_s) if lifetime_s is not None else None
    # the holder's revoked and expired tokens answer 401 like unknown ones: drop them rather than keep them forever
    session.execute(
        delete(ApiToken).where(ApiToken.user_id == actor.user_id, or_(ApiToken.revoked, ApiToken.expires_at <= now))
    )
    session.add(
        ApiToken(
            user_id=actor.user_id,
            token_hash=security.token_hash(token),
            label=clean_text(label, "label", MAX_TITLE, one_line=True),
            expires_at=expires,
        )
    )
    detail: dict[str, Any] = {"by": "operator"} if by_operator else {}
    _audit(session, actor, "token.create", f"user:{actor.username}", **detail)
    return token


def revoke_token(session: Session, actor: Actor, token: str) -> dict:
    """Revoke the actor's own API ``token`` (signing out); later requests with it answer 401."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == security.token_hash(token), ApiToken.user_id == actor.user_id)
    )
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


def create_user(
    session: Session, actor: Actor | None, org: str, username: str, password: str, role: str, display_name: str = ""
) -> dict:
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
    user = User(
        org_id=organisation.id,
        username=username,
        role=role,
        display_name=clean_text(display_name, "display_name", MAX_TITLE, one_line=True),
        password_hash=password_hash,
    )
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
    now, live = utcnow(), dict[int, int]()
    for user_id, expires_at in session.execute(
        select(ApiToken.user_id, ApiToken.expires_at).where(ApiToken.revoked.is_(False))
    ):
        live[user_id] = live.get(user_id, 0) + _unexpired(expires_at, now)
    users = sorted(session.scalars(query), key=lambda user: (user.org.slug, user.username))
    return [
        {**_user_view(user), "created": _iso(user.created_at), "live_tokens": live.get(user.id, 0)} for user in users
    ]


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


def _org_view(org: Organisation) -> dict:
    return {"slug": org.slug, "name": org.name}


def _user_view(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role, "org": user.org.slug}
