"""``python -m rackwright`` runs the CLI."""

from .cli.app import main

main()
