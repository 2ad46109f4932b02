"""Command-line interface (Typer + Rich), one module per noun."""
