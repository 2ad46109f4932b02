"""Shared CLI plumbing: consoles, exit codes, JSON output, the bad-input guard and checked options.

JSON goes out through :func:`emit` (the shape of :mod:`rackwright.report.jsonout`: ``schema_version``,
``command``, records); under ``--json`` bad input is a JSON error document on stdout (:func:`guarded`).
Lines on what a command did (``wrote …``) go through :func:`note` (left out under ``--quiet``), details of how
it got there through :func:`detail` (only under ``--verbose``).

Options are checked while the command line is parsed, before any work starts (exit 2 with the option's
name): numbers by typer's ``min`` and ``max`` (click refuses NaN there too), quantities of the validity table by
their domain (:func:`in_domain`), output paths by what they must be (:func:`output_file`,
:func:`output_folder`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperGroup, TyperOption

from ..errors import InputError
from ..report import folder as report_folder
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
    verbose: bool = False  # also the details (seeds, timings, inputs read) on stderr
    command: str = ""  # the command running, as typed after `rackwright` ("site plan"; see name_commands)
    as_json: bool = False  # the running command was asked for --json


settings = Settings()


def configure(*, quiet: bool, no_color: bool, verbose: bool = False) -> None:
    """Apply the options every command takes; colour also goes when ``NO_COLOR`` is set (https://no-color.org)."""
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose ask for opposite things; give one", param_hint="--verbose")
    settings.quiet, settings.verbose = quiet, verbose
    out.no_color = err.no_color = no_color or bool(os.environ.get("NO_COLOR"))


def note(message: str) -> None:
    """A line on what a command did (``wrote out/gb300.svg``), not its result: left out under ``--quiet``, and on
    stderr under ``--json`` so that stdout stays one JSON document."""
    if not settings.quiet:
        (err if settings.as_json else out).print(escape(message), highlight=False, soft_wrap=True)


def detail(message: str) -> None:
    """A line on how a command got its result (seed, solve time, files read): on stderr, only under ``--verbose``."""
    if settings.verbose:
        err.print(escape(message), highlight=False, soft_wrap=True, style="dim")


def emit(body) -> None:
    """Print the command's JSON document: ``body`` in the shape of :func:`rackwright.report.jsonout.document`
    (``schema_version``, ``command``, renamed keys); every command's ``--json`` goes through here."""
    from ..report.jsonout import document, dumps

    sys.stdout.write(dumps(document(settings.command, body)))


#: click's exception for bad usage (typer vendors click; reached through typer's public BadParameter).
USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class JsonUsageErrors(TyperGroup):
    """The root command: under ``--json``, a usage error that the parser finds before any command runs (an
    unknown option, a value outside an option's range, a missing argument) is a JSON error document on stdout
    too, exit 2; without ``--json`` typer prints it as always. Before it parses, it names what each argument and
    option of every command takes, for help and usage lines (:func:`_name_values`)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        _name_values(self)
        if self._prints_help(argv):
            _fit_help_tables()
        if not standalone_mode or "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except USAGE_ERROR as exc:
            from ..report.jsonout import dumps, error_document

            context = getattr(exc, "ctx", None)
            command = " ".join(context.command_path.split()[1:]) if context is not None else ""
            param = getattr(exc, "param", None)
            field = _param_name(param) if param is not None else ""
            problem = InputError.single(None, exc.format_message(), field, "see --help")  # type: ignore[attr-defined]
            sys.stdout.write(dumps(error_document(command, problem)))
            sys.exit(EXIT_INPUT)
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def _prints_help(self, argv: list[str]) -> bool:
        """Whether the command line asks for help: ``--help``, or words that stop at a group (which prints its help
        or its usage). Only then is typer's help formatter imported, to keep every other command's start quick."""
        command: Any = self
        for word in (w for w in argv if not w.startswith("-")):  # options before a command take no values
            if word not in getattr(command, "commands", {}):
                break
            command = command.commands[word]
        return "--help" in argv or hasattr(command, "commands")


#: The value an option of each type takes, as help names it, where the option names none of its own (``metavar``).
VALUE_NAMES: dict[Any, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


class _Argument(TyperArgument):
    """An argument named in help and usage lines by its metavar alone (``DESIGN...``; ``[NAME]`` when optional), not
    with typer's Python type (``<list[Path]>``) nor in braces (``{designs}``)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        return [str(self.metavar) if self.required else f"[{self.metavar}]"]


def _name_values(command: Any, parent: Any = None) -> None:
    """Name what each argument and option of ``command`` and the commands below it takes, in help and usage lines,
    where the code names nothing (``metavar``): an argument by its parameter's name in upper case (``RESULTS``;
    several values by the name of one, ``DESIGN...``), an option's value by its type (:data:`VALUE_NAMES`; the items
    of a list by theirs), a flag (``--help`` too) by nothing; not typer's Python types (``<bool>``, ``<path>``)."""
    context = command.context_class(command, parent=parent, **command.context_settings)  # as click makes it
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub, context)
    for param in (*command.params, command.get_help_option(context)):
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
            if param.metavar is None:
                name = str(param.name).upper()
                param.metavar = name if param.nargs == 1 else f"{name.removesuffix('S')}..."
        elif isinstance(param, TyperOption) and param.metavar is None:
            annotation = param.type_descriptor.annotation
            items = get_args(annotation) if param.type_descriptor.is_list else (annotation,)
            param.metavar = "" if param.is_flag or param.count else VALUE_NAMES.get(items[0])


def _fit_help_tables() -> None:
    """typer's help, at any width, cuts no option name and breaks no word. Its options table names no columns, so
    Rich adds them as the rows come, with its default overflow (an ellipsis); typer gives each row four columns of
    names (long, short, and the negative flag's), puts a number's range beside its value and sets an option's help,
    default and ``[required]`` side by side in Rich's Columns. Here a row's names share one column that never wraps,
    the negative flag's on a line of its own (``--in-network-reduction`` over ``--no-in-network-reduction``), a
    range goes below its value (``N`` over ``[1<=x<=520]``), and the help is one paragraph that wraps between
    words; a word wider than the column (a path, a URL) folds where report.tables folds one (after a ``/``, ``.``,
    ``=`` ..., before a ``-``)."""
    import re

    from rich.columns import Columns
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils

    from ..report.words import break_offsets

    class Help:
        def __init__(self, text: Text) -> None:
            self.text = text

        def __rich_measure__(self, console: Any, options: Any) -> Measurement:
            return Measurement.get(console, options, self.text)

        def __rich_console__(self, console: Any, options: Any) -> Any:
            width, words = options.max_width, re.finditer(r"\S+", self.text.plain)
            cuts = [w.start() + at for w in words if len(w.group()) > width for at in break_offsets(w.group(), width)]
            yield Text("\n").join(self.text.divide(cuts))

    def names(*cells: Text) -> Text:
        lines = [[n for cell in pair for n in cell.split(",") if n.plain] for pair in (cells[:2], cells[2:])]
        return Text("\n").join(Text(", ").join(line) for line in lines if line)

    class HelpTable(Table):
        def add_column(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("overflow", "fold")
            super().add_column(*args, **kwargs)

        def add_row(self, *cells: Any, **kwargs: Any) -> None:
            if len(cells) >= 6 and isinstance(cells[-1], Columns):  # an option's: [*,] 4 names, its value, its help
                *required, long, short, negative, negative_short, value, pieces = cells
                help = Text(" ").join(p for p in pieces.renderables if isinstance(p, Text))
                cells = (*required, names(long, short, negative, negative_short), value, Help(help))
            while len(self.columns) < len(cells):
                self.add_column(no_wrap=len(self.columns) < len(cells) - 2)  # names; then the value, the help
            super().add_row(*cells, **kwargs)

    rich_utils.Table = HelpTable  # type: ignore[misc]
    rich_utils.RANGE_STRING = "\n[{}]"


def _param_name(param) -> str:
    """An option as typed (its longest flag, ``--weeks``), an argument by its metavar (``SITE``)."""
    options = [o for o in param.opts if o.startswith("-")]
    return max(options, key=len) if options else str(param.metavar or param.name or "").upper()


def write_document(path: Path, body) -> None:
    """A machine file of ``-o DIR``: the command's JSON document, what ``--json`` prints (docs/json.md)."""
    from ..report.jsonout import document, write_json

    write_json(path, document(settings.command, body))


def write_folder(folder: Path, name: str, body, figure=None) -> None:
    """``-o DIR`` of a command: its JSON document (what ``--json`` prints) as ``NAME.json`` and, where it draws
    one, its HTML report as ``report.html`` (a plotly figure, or a whole page as a string; plotly.js once beside
    it where the page loads it) in ``folder``, made if missing. The page records the command that wrote it; one
    that replaces another command's page says so on stderr (rackwright.report.folder.write_report_page)."""
    from ..report.html import figure_page, loads_plotly, plotly_bundle

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_document(folder / f"{name}.json", body)
        if figure is not None:
            page = figure if isinstance(figure, str) else figure_page(figure)
            if loads_plotly(page):
                plotly_bundle(folder)
            report_folder.write_report_page(folder / "report.html", page)
    except OSError as exc:
        raise InputError.single(str(folder), f"cannot write: {exc}", "-o") from None
    note(f"wrote {folder / name}.json" + (f", {folder / 'report.html'}" if figure is not None else ""))


def _report_replaced(path: Path, before: str, command: str) -> None:
    """A report page that replaces another command's (two commands given one ``-o`` folder: their JSON files stay
    side by side, the folder holds one report): one line on stderr says whose, unless ``--quiet``."""
    if not settings.quiet:
        err.print(
            f"[yellow]warning:[/yellow] {escape(str(path))}, the report of `rackwright {escape(before)}`, is "
            f"replaced by that of `rackwright {escape(command)}`; use a separate -o folder to keep both",
            highlight=False,
            soft_wrap=True,
        )


# every report page, whoever writes it (write_folder, explore, site plan, sourcing whatif --sweep), records the
# running command and warns through this
report_folder.WRITER = report_folder.Writer(command=lambda: settings.command, replaced=_report_replaced)


def guarded(command):
    """Turn bad input into one readable message and exit 2 (used on every command): on stderr, or as a JSON
    error document on stdout when the command was asked for ``--json``."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        settings.command = getattr(wrapper, "command_name", command.__name__)
        settings.as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            _bad_input(exc, settings.as_json)
        except ModuleNotFoundError as exc:
            extra = OPTIONAL_MODULES.get((exc.name or "").split(".")[0])
            if extra is None:
                raise
            message = f"this command needs {exc.name}, part of the optional extra {extra!r}"
            _bad_input(InputError.single(None, message, hint=f"pip install 'rackwright[{extra}]'"), settings.as_json)

    return wrapper


def name_commands(group: typer.Typer, prefix: str = "") -> None:
    """Tell each guarded command its name as typed after ``rackwright`` (``"site plan"``), for the ``command``
    field of its JSON documents; run once the command tree is built."""
    for command in group.registered_commands:
        if command.callback is not None:
            name = command.name or command.callback.__name__.replace("_", "-")
            command.callback.command_name = f"{prefix}{name}"  # type: ignore[attr-defined]
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            name_commands(sub.typer_instance, f"{prefix}{sub.name} ")


def _bad_input(exc: InputError, as_json: bool) -> None:
    """Report bad input (on stderr, or as a JSON error document on stdout under ``--json``) and exit 2."""
    if as_json:
        from ..report.jsonout import dumps, error_document

        sys.stdout.write(dumps(error_document(settings.command, exc)))
    else:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT) from None


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


def progress_bar(enabled: bool, *, steps: bool = True):
    """The progress bar of a long command, on stderr and gone when done; off when ``enabled`` is false (``--json``),
    under ``--quiet`` and when stderr is no terminal (a log file keeps no frames, not even a blank line). Without
    ``steps`` (a solve or a search of unknown length) a spinner and the elapsed time instead of the bar and count."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (BarColumn(), MofNCompleteColumn()) if steps else (SpinnerColumn(),)
    return Progress(
        TextColumn("{task.description}"),
        *columns,
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled or settings.quiet or not err.is_terminal,
    )


@contextlib.contextmanager
def working(description: str, enabled: bool):
    """A spinner with ``description`` and the elapsed time on stderr while one long step runs (a MILP solve, a
    parallelism search): :func:`progress_bar` without steps, off under ``--json`` and ``--quiet``."""
    with progress_bar(enabled, steps=False) as bar:
        bar.add_task(description, total=None)
        yield


#: ``--wide`` of every command whose tables drop or fold columns to fit the terminal (report.tables.FitTable).
WIDE = typer.Option(
    False,
    "--wide",
    help="Show every column side by side however wide the table gets (by default low-priority ones give way).",
)


def only_option(sections: str):
    """``--only SECTION,...`` of a command whose output has sections, ``sections`` named in its help; the command
    checks the names with :func:`rackwright.report.tables.table_sections` (an unknown one lists them all)."""
    listed = ", ".join(sections.split(","))  # help wraps between words: after a comma, never inside a name
    return typer.Option(None, "--only", metavar="SECTION,...", help=f"Show only these sections ({listed}).")


def show(*renderables) -> None:
    """Print tables and text on stdout, never cropped: a table wider than the terminal (``--wide``) prints whole."""
    out.print(*renderables, crop=False)


def emit_json(document) -> None:
    """The document as it stands, without ``schema_version`` or renames: what programme and netbox still
    print; they move to :func:`emit` when their shapes follow docs/json.md."""
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


def output_option(help: str, *, required: bool = False, long: str = "--output", callback=None):
    """``-o DIR`` (``--output DIR``), the one way every command asks for its report: a folder (checked by
    :func:`output_folder`, or by ``callback`` where an older file form is still read) for the command's machine
    files and report.html. ``long`` is an older spelling a command still takes beside ``--output``."""
    names = ("-o", "--output") if long == "--output" else ("-o", "--output", long)
    return typer.Option(... if required else None, *names, metavar="DIR", callback=callback or output_folder, help=help)


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


def output_folder_or_file(*suffixes: str):
    """A callback for ``-o`` of a command that took a file before it took a folder: a name ending in one of
    ``suffixes`` (``.svg``) that is no folder is still that file (checked as :func:`output_file`; the command
    asks :func:`older_file`), any other name a folder (:func:`output_folder`)."""

    def check(value: Path | None) -> Path | None:
        return output_file(value) if _names_a_file(value, suffixes) else output_folder(value)

    return check


def older_file(value: Path | None, *suffixes: str) -> bool:
    """Whether ``-o`` named a file in the older form (:func:`output_folder_or_file`): then a deprecation note on
    stderr, even under ``--quiet``."""
    if not _names_a_file(value, suffixes):
        return False
    err.print(
        f"[yellow]deprecated:[/yellow] {escape(f'-o {value}')} writes only that file; give a folder instead, for its "
        "machine files and report.html",
        highlight=False,
        soft_wrap=True,
    )
    return True


def _names_a_file(value: Path | None, suffixes: tuple[str, ...]) -> bool:
    return value is not None and value.suffix.lower() in suffixes and not value.is_dir()


def _below_a_folder(value: Path | None) -> Path | None:
    existing = next((p for p in (value.parents if value is not None else ()) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise typer.BadParameter(f"{existing} is a file, so {value} cannot be written below it")
    return value
