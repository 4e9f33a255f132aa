from backfill.cli import cli

cli(prog_name="python -m backfill")
