"""``rackwright netbox ...``: load a site plan into a running NetBox through its REST API, and compare the two."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from .common import EXIT_OK, EXIT_RULES, emit, err, guarded, out, output_option, progress_bar, show, write_folder

app = typer.Typer(
    help="Push a site plan into NetBox (REST API, idempotent) and list what NetBox holds that differs from it.",
    no_args_is_help=True,
)

PLAN_DIR = typer.Argument(..., metavar="PLAN_DIR", help="Folder written by `rackwright site plan`.")
URL = typer.Option(..., "--url", metavar="URL", help="NetBox's base URL, e.g. https://netbox.example.com.")
TOKEN = typer.Option(
    "",
    "--token",
    metavar="TOKEN",
    envvar="RACKWRIGHT_NETBOX_TOKEN",
    show_envvar=True,
    help="NetBox API token (or the variable).",
)
HALL = typer.Option(None, "--hall", min=1, help="This hall of the plan only.")


def shown_url(url: str) -> str:
    """The URL as the outputs show it: a user name or password typed into it (``https://u:p@host``) never leaves
    the command, in the JSON, the page or the terminal."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    port = "" if parts.port is None else f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{parts.hostname or ''}{port}"))


def _inputs(plan_dir: Path, url: str, site: str, hall: int | None, *more: str) -> list[str]:
    """What a push or diff page names as its inputs: never the token."""
    where = f"hall {hall} only" if hall is not None else "every hall"
    return [f"Plan folder: {plan_dir} (site {site}, {where}).", f"NetBox: {url}.", *more]


@app.command("push")
@guarded
def push_command(
    plan_dir: Path = PLAN_DIR,
    url: str = URL,
    token: str = TOKEN,
    hall: int = HALL,
    batch: int = typer.Option(200, "--batch", min=1, help="Objects per POST (devices: 50 at most)."),
    parallel: int = typer.Option(4, "--parallel", min=1, max=32, help="Cable POSTs in flight at a time."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    output: Path | None = output_option(
        "Folder for push.json (the --json document) and report.html (created, skipped and refused per kind of "
        "object, every refusal with NetBox's reason), made if missing."
    ),
):
    """Create in NetBox what the plan has and NetBox lacks: manufacturers, device, module and rack types, site,
    halls, roles, racks, devices, modules, power panels and feeds, cables and power cables, in batches (cables
    several at a time). Existing objects are left as they are, so a second push creates nothing.

    Exit 1 when NetBox refused some objects (they are listed), 0 otherwise.
    """
    from ..report.tables import ID, NUMBER, Column, FitTable
    from ..site.netbox import site_export
    from ..site.netbox_api import STEPS, NetBox, push

    shown = shown_url(url)
    with NetBox(url, token, batch=batch, parallel=parallel) as nb:
        export = site_export(plan_dir, hall)
        totals = dict(zip(STEPS, export.counts().values(), strict=True))
        with progress_bar(not as_json) as bar:
            tasks = {step: bar.add_task(step, total=totals[step]) for step in STEPS}
            tallies = push(nb, export, lambda step, done: bar.update(tasks[step], advance=done))
    refused = sum(len(t.refused) for t in tallies.values())
    doc = {
        "site": export.site,
        "url": shown,
        "steps": [
            {"step": step, "created": t.created, "skipped": t.skipped, "refused": t.refused}
            for step, t in tallies.items()
        ],
    }
    if output is not None:
        from ..report.netbox_pages import push_page

        more = f"Batches: {batch} objects per POST (devices 50 at most), {parallel} cable POSTs at a time."
        write_folder(output, "push", doc, push_page(doc, _inputs(plan_dir, shown, export.site, hall, more)))
    if as_json:
        emit(doc)
    else:
        counts = (Column(name, NUMBER) for name in ("created", "skipped (in NetBox)", "refused"))
        table = FitTable(escape(f"{export.site} → {shown}"), [Column("objects", ID), *counts])
        for step, t in tallies.items():
            table.add_row(step, f"{t.created:,}", f"{t.skipped:,}", f"{len(t.refused):,}")
        show(table)
        for step, t in tallies.items():
            for reason in t.refused[:20]:
                err.print(f"refused {step}: {reason}", highlight=False, soft_wrap=True)
            if len(t.refused) > 20:
                err.print(f"... and {len(t.refused) - 20} more {step} refused (--json lists all)", highlight=False)
    raise typer.Exit(EXIT_RULES if refused else EXIT_OK)


@app.command("diff")
@guarded
def diff_command(
    plan_dir: Path = PLAN_DIR,
    url: str = URL,
    token: str = TOKEN,
    hall: int = HALL,
    as_json: bool = typer.Option(False, "--json", help="Print the differences as JSON."),
    output: Path | None = output_option(
        "Folder for diff.json (the --json document) and report.html (missing, extra and changed per kind of "
        "object, then every difference), made if missing."
    ),
):
    """List the devices, modules, power feeds and cables where NetBox differs from the plan: missing (planned, not
    in NetBox), extra (in NetBox's site, not planned) and changed (type, rack, position, role; a module's type; a
    feed's panel, rack, supply, phase, voltage, amperage; a cable's ends, type, length).

    Exit 1 when there are differences, 0 when NetBox holds the plan.
    """
    from dataclasses import asdict

    from ..report.tables import ID, Column, FitTable
    from ..site.netbox import site_export
    from ..site.netbox_api import NetBox, diff

    shown = shown_url(url)
    with NetBox(url, token) as nb:
        export = site_export(plan_dir, hall)
        differences = diff(nb, export, hall)
    doc = {"site": export.site, "url": shown, "differences": [asdict(d) for d in differences]}
    if output is not None:
        from ..report.netbox_pages import diff_page

        write_folder(output, "diff", doc, diff_page(doc, _inputs(plan_dir, shown, export.site, hall)))
    if as_json:
        emit(doc)
    elif differences:
        title = escape(f"{len(differences):,} differences between the plan and {shown}")
        table = FitTable(title, [Column("object", ID), Column("name", ID), Column("status", ID), Column("detail")])
        for d in differences:
            table.add_row(d.kind, d.name, d.status, d.detail)
        show(table)
    else:
        out.print(f"NetBox at {shown} holds the plan of {export.site}: no differences")
    raise typer.Exit(EXIT_RULES if differences else EXIT_OK)
