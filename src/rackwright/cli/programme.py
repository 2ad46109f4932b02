"""``rackwright programme ...``: the whole programme in one model, from rack generations to GW delivered."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Programme: factories, roadmap, site plans, delivered compute, reliability, sourcing and cost by quarter.",
    no_args_is_help=True,
)
