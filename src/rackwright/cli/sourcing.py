"""``rackwright sourcing ...``: sourcing what-ifs and earliest build dates (being written)."""

import typer

app = typer.Typer(help="Sourcing what-ifs: substitutions, tariffs, second sources; earliest build dates.",
                  no_args_is_help=True)
