"""Rules, limits, errors and the acting user shared by every service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ...errors import Problem
from .. import security

#: Figure sections every organisation a design is shared with sees (the evaluated envelope).
ENVELOPE_SECTIONS = ("power", "thermal", "mechanical", "network", "cabling")
#: Sections an owner may hide from envelope viewers; all hidden unless the owner says otherwise.
CONFIDENTIAL_SECTIONS = ("compute", "cost", "sourcing", "reliability", "delivery")
#: Status workflow: allowed moves and the role (of the owner organisation) each needs.
TRANSITIONS = {
    ("draft", "in_review"): "engineer",
    ("in_review", "draft"): "engineer",
    ("in_review", "approved"): "approver",
    ("approved", "in_review"): "approver",
    ("approved", "frozen"): "approver",
    ("frozen", "shipped"): "approver",
}
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


HTTP_STATUS = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionRequired: 428,
    Invalid: 422,
    TooManyRequests: 429,
}


def _problem_dict(p: Problem) -> dict:
    return {"path": p.path, "message": p.message, "hint": p.hint, "line": p.line, "column": p.column}


def _invalid(field: str, message: str, hint: str = "") -> Invalid:
    return Invalid(f"{field}: {message}", [Problem(message, field, hint)])


def _name(value: str, field: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise _invalid(
            field,
            f"{value!r} is not a valid name",
            "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
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
        raise _invalid(
            field,
            f"contains the control character U+{code:04X}{' (NUL)' if code == 0 else ''} at position {control.start()}",
            "remove it" + (" (one line of text)" if one_line else ""),
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(field, "is not valid Unicode text (a lone surrogate)", "send UTF-8 text") from None
    return value


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


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite returns naive datetimes; they were stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment) -> str:
    """ISO 8601 in UTC."""
    return _utc(moment).isoformat()
