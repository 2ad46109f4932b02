"""Database: SQLAlchemy 2 models, the engine (SQLite or PostgreSQL) and transactions.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``: a
transaction that returned is on disk, so a ``kill -9`` or power cut loses no
acknowledged write (https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous).
Write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
write lock instead of failing when a read transaction would be upgraded; within one server
process they queue on a Python lock first (first come, first served, instead of SQLite's
sleep-and-retry busy handler, whose waits grow long under many writers).
PostgreSQL is used by URL (``postgresql+psycopg://...``); its default
``synchronous_commit=on`` gives the same guarantee.

Revisions and the audit log are append-only: the migration adds triggers that
refuse ``UPDATE`` and ``DELETE`` on them (:mod:`.migrations`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from ..errors import InputError

ROLES = ("viewer", "engineer", "approver", "admin")
STATUSES = ("draft", "in_review", "approved", "frozen", "shipped")
SHARE_LEVELS = ("full", "envelope")
PLAN_LEVELS = ("read", "write")  # what an organisation granted a programme plan may do
MAX_ID = 2**63 - 1  # the largest integer SQLite and PostgreSQL store: a larger id or number is a 422, not a 500


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    org: Mapped[Organisation] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # None: until revoked
    user: Mapped[User] = relationship(lazy="joined")


class Programme(Base):
    __tablename__ = "programmes"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    org: Mapped[Organisation] = relationship(lazy="joined")


class Design(Base):
    """A rack generation's design: owned by one organisation, its history a chain of revisions."""

    __tablename__ = "designs"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), nullable=True, index=True)
    slug: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    head_revision_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    confidential: Mapped[list] = mapped_column(JSON, default=list)  # figure sections hidden from envelope viewers
    #: organisations that must sign, fixed when a review starts (owner first); None in draft
    signers: Mapped[list | None] = mapped_column(JSON, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    org: Mapped[Organisation] = relationship(lazy="joined")
    programme: Mapped[Programme | None] = relationship(lazy="joined")


class DesignShare(Base):
    __tablename__ = "design_shares"
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    org: Mapped[Organisation] = relationship(lazy="joined")


class Revision(Base):
    """One immutable saved state of a design, with its server-side check and evaluation."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("design_id", "number"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    base_revision_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the revision it extends
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    resolved: Mapped[dict] = mapped_column(JSON)  # the merged design mapping (extends applied)
    lineage: Mapped[list] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(200))
    generation: Mapped[str] = mapped_column(String(200))
    figures: Mapped[dict] = mapped_column(JSON)  # SI figures of the evaluation
    violations: Mapped[list] = mapped_column(JSON)
    author: Mapped[User] = relationship(lazy="joined")


class Thread(Base):
    """A review thread anchored to a field path (``slots[3].part``) or figure key of a revision."""

    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"), index=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("revisions.id"))
    path: Mapped[str] = mapped_column(String(200))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # visible to the owner organisation only
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    comments: Mapped[list[Comment]] = relationship(order_by="Comment.id", lazy="selectin")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[User] = relationship(lazy="joined")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("revision_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("revisions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    override: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it was signed despite rule errors
    user: Mapped[User] = relationship(lazy="joined")


class Qualification(Base):
    """A qualification results file attached to a revision, with its verdicts (rackwright.fleet.qualify)."""

    __tablename__ = "qualifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("revisions.id"), index=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProgrammePlan(Base):
    """A programme file (:mod:`rackwright.programme`) planned on designs stored here, with its dashboard.

    Its generations name designs of this server (``ORG/NAME``); each plan pins the head revision of each
    (``pins``), so the dashboard shows the revisions it was planned on and goes stale when a newer one lands."""

    __tablename__ = "programme_plans"
    __table_args__ = (UniqueConstraint("org_id", "slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)  # the programme YAML as uploaded
    files: Mapped[dict] = mapped_column(JSON, default=dict)  # {file name: text}: the line, site and scenario files
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    planned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: per generation: {generation, org, design, revision, number} of the design revision it was planned on
    pins: Mapped[list] = mapped_column(JSON)
    document: Mapped[dict] = mapped_column(JSON)  # programme.plan.programme_document
    figure: Mapped[str] = mapped_column(Text)  # the dashboard (programme.report.dashboard) as plotly JSON
    org: Mapped[Organisation] = relationship(lazy="joined")
    planner: Mapped[User] = relationship(foreign_keys=[planned_by], lazy="joined")


class ProgrammePlanShare(Base):
    """A programme plan granted to another organisation: ``read`` (its page) or ``write`` (re-plan too)."""

    __tablename__ = "programme_plan_shares"
    plan_id: Mapped[int] = mapped_column(ForeignKey("programme_plans.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True, index=True)
    design_id: Mapped[int | None] = mapped_column(ForeignKey("designs.id"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class SignInFailure(Base):
    """A failed sign-in, kept while it counts towards the sign-in throttle (:data:`.services.SIGN_IN_WINDOW`)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(String(64))  # as typed (truncated): unknown usernames are throttled too
    address: Mapped[str] = mapped_column(String(64))


# --- engine and transactions ----------------------------------------------------------------


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, ``synchronous=FULL``, foreign keys and explicit BEGIN."""
    if url.startswith("sqlite") and url.removeprefix("sqlite://").strip("/") in ("", ":memory:"):
        raise InputError.single(
            None,
            "an in-memory SQLite database would lose every write when the server stops",
            "--db",
            "give a file: sqlite:///rackwright.db",
        )
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=20
            )
            _sqlite_pragmas(engine)
            return engine
        return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    except (ArgumentError, ImportError, TypeError, ValueError) as exc:
        raise InputError.single(
            None,
            f"cannot use database URL: {exc}",
            "--db",
            "use sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB",
        ) from None


#: One lock per SQLite engine that its write transactions take before ``BEGIN IMMEDIATE``.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def _sqlite_pragmas(engine: Engine) -> None:
    _SQLITE_WRITERS[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        write = connection.get_execution_options().get("rackwright_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(engine: Engine, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on any exception."""
    with _SQLITE_WRITERS.get(engine, nullcontext()) if write else nullcontext(), engine.connect() as connection:
        connection.execution_options(rackwright_write=write)
        with Session(bind=connection, expire_on_commit=False) as session:
            with session.begin():
                yield session


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run on every server start)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise InputError.single(
            None,
            f"cannot open the database: {exc.orig}",
            "--db",
            "check the URL, that the server runs and the user may connect",
        ) from None
