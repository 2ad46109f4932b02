"""Identifiers in the URLs of the API and the pages, checked by one rule at the edge: a bad one is a 422 before
any route runs (never a 500 from a database that refuses a NUL, never a name with a trailing newline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from .services import NAME_PATTERN, REVISION_PATTERN

NAME_RULE = f"^{NAME_PATTERN}$"  # pydantic's regular expressions match `$` at the very end only
REVISION_RULE = f"^{REVISION_PATTERN}$"
NAME_HELP = "1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"

#: An organisation, user, programme or design name.
Name = Annotated[str, Path(pattern=NAME_RULE, description=NAME_HELP)]
#: A revision id, or ``head`` for the newest.
Revision = Annotated[str, Path(pattern=f"^(head|{REVISION_PATTERN})$", description="16 hex digits, or `head`")]
#: The same in a query (``?after=``).
RevisionQuery = Annotated[str, Query(pattern=f"^(head|{REVISION_PATTERN})$", description="16 hex digits, or `head`")]
#: A revision id, or empty for the head (the pages' ``?rev=``).
OptionalRevision = Annotated[str, Query(pattern=f"^({REVISION_PATTERN})?$", description="16 hex digits")]
#: What a diff compares with: a revision of the design, or ``ORG/NAME`` (its head) or ``ORG/NAME@REV``.
COMPARED = f"{REVISION_PATTERN}|{NAME_PATTERN}/{NAME_PATTERN}(@{REVISION_PATTERN})?"
Compared = Annotated[str, Query(pattern=f"^({COMPARED})$", description="REV, ORG/NAME or ORG/NAME@REV")]
#: The same, or empty (the pages' diff form before a choice).
OptionalCompared = Annotated[str, Query(pattern=f"^({COMPARED})?$", description="REV, ORG/NAME or ORG/NAME@REV")]
