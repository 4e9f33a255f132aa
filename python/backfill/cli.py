"""The command line: parse options, call the runner, print what happened.

    python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
"""

from __future__ import annotations

import json
import sys

import click
import yaml

from backfill import __version__
from backfill.errors import EXIT_FAILED, InvalidInput
from backfill.planning import GRAINS, format_bound

EXIT_CODES = """\b
Exit codes:
  0  everything asked for was done and passed
  1  work ran and something failed (a batch, a check)
  2  refused before anything was written (bad input, unknown model)
"""


def parse_vars(text: str | None) -> dict:
    """--vars takes YAML (or JSON), like dbt's own --vars."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"--vars is not valid YAML: {str(error).splitlines()[0]}.") from None
    if not isinstance(value, dict):
        raise InvalidInput("--vars must be a mapping, e.g. --vars '{region: eu}'.")
    return value


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(__version__, prog_name="backfill")
@click.option(
    "--project-dir",
    envvar="DBT_PROJECT_DIR",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The dbt project (folder with dbt_project.yml).",
)
@click.option(
    "--profiles-dir",
    envvar="DBT_PROFILES_DIR",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder with profiles.yml. Default: the project folder if it has one, else ~/.dbt.",
)
@click.option("--target", "-t", envvar="DBT_TARGET", default=None, help="Profile target. Default: the profile's own.")
@click.pass_context
def cli(ctx, project_dir, profiles_dir, target):
    """Find gaps in dbt history, backfill them in verified batches, reconcile sources.

    \b
    Backfill January in weekly batches, then check what is still missing:
      python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
      python -m backfill gaps --model daily_metrics

    Every command talks to the warehouse of the dbt profile's target (--target).
    """
    ctx.obj = {"project_dir": project_dir, "profiles_dir": profiles_dir, "target": target}


@cli.command()
@click.option("--model", "-m", required=True, help="The incremental model to backfill (name or package.name).")
@click.option("--start", required=True, help="First day (or hour) to backfill, inclusive: YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day (or hour) to backfill, inclusive: YYYY-MM-DD.")
@click.option("--batch-size", default=1, show_default=True, type=int, help="Periods per batch (one dbt run each).")
@click.option("--grain", default="day", show_default=True, help=f"Period of a batch step: {', '.join(GRAINS)}.")
@click.option("--vars", "vars_text", default=None, help="Extra dbt vars for every batch, as YAML: '{region: eu}'.")
@click.option("--dry-run", is_flag=True, help="Print the plan (batches and their vars) and write nothing.")
@click.pass_obj
def run(obj, model, start, end, batch_size, grain, vars_text, dry_run):
    """Backfill MODEL over [--start, --end] in batches, one dbt run per batch.

    Each batch receives the window as the vars start_date / end_date (inclusive
    dates, as in the playbook; a model can rename them in
    meta: {backfill: {start_var: ..., end_var: ...}}), and replaces exactly that
    window of the model's table. Stops at the first failing batch; the batches
    before it stay in place.

    \b
    Examples:
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-12-31 --grain month
      python -m backfill run -m hourly_sessions --start '2024-03-30 22:00' --end '2024-03-31 03:00' --grain hour
    """
    from backfill.runner import run_backfill

    if batch_size < 1:
        raise InvalidInput(f"--batch-size must be 1 or more (got {batch_size}).")
    extra_vars = parse_vars(vars_text)
    printer = BatchPrinter()
    report = run_backfill(
        model,
        start,
        end,
        grain=grain,
        batch_size=batch_size,
        vars=extra_vars,
        project_dir=obj["project_dir"],
        profiles_dir=obj["profiles_dir"],
        target=obj["target"],
        dry_run=dry_run,
        on_event=printer.event,
    )
    if dry_run:
        return
    done = [r for r in report.results if r.succeeded]
    seconds = sum(r.seconds for r in report.results)
    if report.succeeded:
        click.echo(f"Done: {len(done)}/{len(report.plan)} batches of {report.model.name} succeeded in {seconds:.1f}s.")
        return
    failed = report.failed[0]
    click.echo(
        f"Failed: batch {failed.batch.index}/{len(report.plan)} ({failed.batch.label()}) of {report.model.name}: "
        f"{failed.message}",
        err=True,
    )
    if done:
        first, last = format_bound(done[0].batch.start), format_bound(done[-1].batch.end)
        click.echo(f"The {len(done)} batch(es) before it are in place ({first} → {last}).", err=True)
    sys.exit(EXIT_FAILED)


class BatchPrinter:
    """The plan, then one line per finished batch (plain text: logs stay readable)."""

    def event(self, kind, payload):
        if kind == "planned":
            self.planned(payload)
        elif kind == "batch_finished":
            self.finished(payload)

    def planned(self, report):
        periods = sum(b.periods for b in report.plan)
        what = f"{report.model.name}: {periods} {report.grain}(s) in {len(report.plan)} batch(es)"
        if not report.dry_run:
            click.echo(f"Backfilling {what}.")
            return
        click.echo(f"Plan for {what}. Dry run: nothing is written.")
        start_var, end_var = report.model.window_var_names
        for batch in report.plan:
            window_vars = json.dumps(batch.window_vars(start_var, end_var))
            click.echo(f"  batch {batch.index:>3}  {batch.label():<27}  --vars '{window_vars}'")

    def finished(self, result):
        rows = f", {result.rows_affected} rows" if result.rows_affected is not None else ""
        state = "ok" if result.succeeded else "FAILED"
        click.echo(f"  batch {result.batch.index:>3}  {result.batch.label():<27}  {state}  {result.seconds:.1f}s{rows}")


# Each command group lives in its own module and registers here.
from backfill.cli_gaps import gaps  # noqa: E402
from backfill.cli_reconcile import reconcile  # noqa: E402
from backfill.cli_repair import repair  # noqa: E402
from backfill.cli_status import resume, status  # noqa: E402
from backfill.cli_verify import verify  # noqa: E402

for _command in (gaps, status, resume, reconcile, repair, verify):
    cli.add_command(_command)
