"""Writing a report page (``report.html`` of an output folder): the one place that does, for every command.

Each page records the command that wrote it, first in its head (``<meta name="rackwright-command" content="roadmap
plan">``); a page that replaces another command's is announced, since a folder holds one report while the JSON
documents of two commands sit side by side in it. Which command is running, and how a replaced page is announced,
the CLI says (:data:`WRITER`, set by rackwright.cli.common: the command typed, a warning on stderr unless
``--quiet``); a page written from the Python API records none and replaces silently. Standard library only, so
that the CLI can set :data:`WRITER` when it starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

#: The name of the page head's ``<meta>`` that records the command that wrote a report page (``roadmap plan``).
COMMAND_META = "rackwright-command"
#: How far into a page its head's record of the command is looked for [characters]: it comes first in the head.
COMMAND_META_WITHIN = 1000


@dataclass
class Writer:
    """Who writes the report pages: ``command`` gives the command running (empty: none, the page records nothing);
    ``replaced`` is told of a page that replaces another command's: its path, that command, the one running."""

    command: Callable[[], str] = lambda: ""
    replaced: Callable[[Path, str, str], None] = lambda path, before, command: None


WRITER = Writer()


def write_report_page(path: Path, page: str) -> None:
    """Write ``page`` at ``path``, recording the running command (:func:`with_command`); where it replaces the page
    of another command, :data:`WRITER` is told first. OSError passes to the caller (the command names its -o)."""
    command = WRITER.command()
    before = written_by(path)
    if before not in (None, command):
        WRITER.replaced(path, before, command)
    path.write_text(with_command(page, command) if command else page, encoding="utf-8")


def with_command(page: str, command: str) -> str:
    """``page`` with the command that wrote it recorded first in its head (``<meta name="rackwright-command"
    content="roadmap plan">``), read back by :func:`written_by`."""
    head = re.search(r"<head\b[^>]*>", page, re.IGNORECASE)
    at = head.end() if head else 0
    return f'{page[:at]}<meta name="{COMMAND_META}" content="{escape(command)}">{page[at:]}'


def written_by(path: Path) -> str | None:
    """The command recorded in the head of the page at ``path`` (:func:`with_command`); None when there is no page
    or it records none."""
    try:
        with path.open(encoding="utf-8", errors="replace") as page:
            head = page.read(COMMAND_META_WITHIN)
    except OSError:
        return None
    found = re.search(f'<meta name="{COMMAND_META}" content="([^"]*)">', head)
    return unescape(found.group(1)) if found else None
