"""Shared CLI plumbing: consoles, exit codes, JSON output, the bad-input guard and checked options.

Options are checked while the command line is parsed, before any work starts (exit 2 with the option's
name): numbers by typer's ``min`` and ``max`` (click refuses NaN there too), quantities of the validity table by
their domain (:func:`in_domain`), output paths by what they must be (:func:`output_file`,
:func:`output_folder`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InputError
from ..validity import DOMAINS

EXIT_OK, EXIT_RULES, EXIT_INPUT = 0, 1, 2

#: Most racks, accelerators, batches or parallel degrees an option takes: the count domain's bound.
MAX_COUNT = int(DOMAINS["count"].high)
#: Most processes or chunks a command starts.
MAX_WORKERS = 256

out = Console()
err = Console(stderr=True)


@dataclass
class Settings:
    """The options every command takes (``rackwright --quiet --no-color COMMAND``)."""

    quiet: bool = False  # only errors and the result: no notes, no progress bars


settings = Settings()


def configure(*, quiet: bool, no_color: bool) -> None:
    """Apply the options every command takes; colour also goes when ``NO_COLOR`` is set (https://no-color.org)."""
    settings.quiet = quiet
    out.no_color = err.no_color = no_color or bool(os.environ.get("NO_COLOR"))


def note(message: str) -> None:
    """A line on what a command did (``wrote out/gb300.svg``), not its result: left out under ``--quiet``."""
    if not settings.quiet:
        out.print(escape(message), highlight=False, soft_wrap=True)


def guarded(command):
    """Turn bad input into one readable message on stderr and exit 2 (used on every command)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INPUT) from None
        except ModuleNotFoundError as exc:
            extra = OPTIONAL_MODULES.get((exc.name or "").split(".")[0])
            if extra is None:
                raise
            err.print(
                "[bold red]error:[/bold red] "
                + escape(
                    f"this command needs {exc.name}, part of the optional "
                    f"extra {extra!r}: pip install 'rackwright[{extra}]'"
                ),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INPUT) from None

    return wrapper


#: Modules of the optional extras (pyproject.toml) → the extra that installs them.
OPTIONAL_MODULES = {
    name: "server"
    for name in (
        "fastapi",
        "fastapi_offline",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "jinja2",
        "multipart",
        "httpx",
        "psycopg",
    )
} | {"ray": "ray"}


def progress_bar(enabled: bool):
    """The progress bar of a long command, on stderr and gone when done; off when ``enabled`` is false (``--json``,
    or no terminal) and under ``--quiet``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled or settings.quiet,
    )


def show(*renderables) -> None:
    """Print tables and text on stdout, never cropped: a table wider than the terminal (``--wide``) prints whole."""
    out.print(*renderables, crop=False)


def emit_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")


def in_domain(quantity: str, si_per_unit: float = 1.0):
    """A callback: the option's value (``si_per_unit`` SI units each) lies in the domain of ``quantity``."""
    domain = DOMAINS[quantity]

    def check(value):
        problem = None if value is None else domain.problem(value * si_per_unit)
        if problem:
            raise typer.BadParameter(f"{value:g}: {problem} ({domain.why})")
        return value

    return check


def output_file(value: Path | None) -> Path | None:
    """A file to write: not a folder, and not below a file."""
    if value is not None and value.is_dir():
        raise typer.BadParameter(f"{value} is a folder; give the name of a file to write")
    return _below_a_folder(value)


def output_folder(value: Path | None) -> Path | None:
    """A folder to write into: an existing folder or one that can be made, not a file."""
    if value is not None and value.exists() and not value.is_dir():
        raise typer.BadParameter(f"{value} is a file; give a folder (it is made if missing)")
    return _below_a_folder(value)


def _below_a_folder(value: Path | None) -> Path | None:
    existing = next((p for p in (value.parents if value is not None else ()) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise typer.BadParameter(f"{existing} is a file, so {value} cannot be written below it")
    return value
