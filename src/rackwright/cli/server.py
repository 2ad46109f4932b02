"""``rackwright serve``, ``push`` and ``pull``: the collaboration server and its client (issue 10; in progress)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Collaboration server and client.")
