"""`python -m backfill verify`: will a backfill change history, and where?"""

from __future__ import annotations

import sys

import click

from backfill.cli import options
from backfill.errors import EXIT_FAILED
from backfill.periods import GRAINS


@click.command()
@options.model("The incremental model to check")
@options.start("First day (or hour) of the window", required=True)
@options.end("Last day (or hour) of the window", required=True)
@click.option("--grain", default="day", show_default=True, help=f"Periods the report is broken into: {', '.join(GRAINS)}.")
@click.option(
    "--precision",
    type=int,
    default=None,
    help="Compare numbers to this many decimal places (float noise of a recomputed sum is no change).",
)
@options.vars("the recomputation")
@options.as_json("the report as one JSON object")
@click.pass_obj
def verify(obj, model, start, end, grain, precision, vars_text, as_json):
    """Recompute MODEL over [--start, --end] and compare it with what is stored.

    The window is compiled exactly as a backfill batch would run it, materialised
    into a scratch table beside the model (dropped afterwards), and compared with
    the stored rows of the window, per period: row counts, and which keys would
    change, disappear or appear. The stored table is never written.

    Rows are matched on the model's unique_key config, else
    meta: {backfill: {key: [...]}}, else the period column (event_time or
    meta: {backfill: {period_column: ...}}), which is always part of the key.

    \b
    Examples:
      python -m backfill verify -m daily_metrics --start 2024-01-01 --end 2024-01-31
      python -m backfill verify -m daily_metrics_reproducible --start 2024-01-01 --end 2024-03-31 --grain month --json

    \b
    Exit codes: 0 the recomputation matches what is stored; 1 it differs (the
    report says where); 2 refused (bad input, unknown model, model not built).
    """
    from backfill.dbt import DbtProject
    from backfill.recompute import verify_window

    extra_vars = options.parse_vars(vars_text)
    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    info = project.model(model)
    report = verify_window(project, info, start, end, grain, precision=precision, vars=extra_vars)
    click.echo(report.to_json() if as_json else report.summary())
    if report.differs:
        sys.exit(EXIT_FAILED)
