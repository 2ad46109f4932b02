"""``python -m rackwright`` runs the CLI, under the name it has as a command (usage lines, JSON documents)."""

from .cli.app import app

app(prog_name="rackwright")
