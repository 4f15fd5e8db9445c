"""``python -m bindeled`` runs the command line."""

from .cli import main

main()
