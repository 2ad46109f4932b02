"""``rackwright netbox ...``: load a site plan into a running NetBox through its REST API, and compare the two."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Push a site plan into NetBox (REST API, idempotent) and list what NetBox holds that differs from it.",
    no_args_is_help=True,
)
