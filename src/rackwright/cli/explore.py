"""``rackwright explore``: design-space exploration, Pareto fronts and sensitivity (issue 8; in progress)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Explore a design space: grid or sampling, feasibility, Pareto front, sensitivity.")
