"""``rackwright reliability ...`` and ``rackwright qualify``: fleet reliability, goodput, spares (being written)."""

import typer

app = typer.Typer(help="Fleet reliability: job interruptions, checkpointing and goodput, spare pools.",
                  no_args_is_help=True)
