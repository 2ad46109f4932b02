"""Shared CLI plumbing: consoles, exit codes, JSON output and the bad-input guard."""

from __future__ import annotations

import functools
import json
import sys

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InputError

EXIT_OK, EXIT_RULES, EXIT_INPUT = 0, 1, 2

out = Console()
err = Console(stderr=True)


def guarded(command):
    """Turn bad input into one readable message on stderr and exit 2 (used on every command)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INPUT) from None

    return wrapper


def emit_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")
