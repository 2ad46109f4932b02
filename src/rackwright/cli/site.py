"""``rackwright site ...``: plan a data-centre site from rack generations (issue 5; in progress)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Plan a site: halls and rows, Ethernet fabric, cable plan, power chain, cooling plant, PUE, capex.",
                  no_args_is_help=True)
