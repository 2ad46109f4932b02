"""``rackwright factory ...``: simulate a rack integration-and-test line (being written)."""

import typer

app = typer.Typer(help="Simulate a rack integration-and-test line (SimPy).", no_args_is_help=True)
