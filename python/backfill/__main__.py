"""`python -m backfill`: the command line (backfill.cli)."""

from backfill.cli import main

main()
