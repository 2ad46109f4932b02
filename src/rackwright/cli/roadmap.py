"""``rackwright roadmap ...``: multi-generation, multi-site deployment roadmap and its risk (issue 7; in progress)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Roadmap to a GW target: MILP schedule over generations, sites, factories and supply; Monte Carlo risk.",
                  no_args_is_help=True)
