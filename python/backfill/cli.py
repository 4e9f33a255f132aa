"""The command line: parse options, call the runner, print what happened.

    python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
"""

from __future__ import annotations

import json
import sys

import click
import yaml

from backfill import __version__
from backfill.errors import EXIT_CODES, EXIT_FAILED, InvalidInput
from backfill.planning import GRAINS


def parse_vars(text: str | None) -> dict:
    """--vars takes YAML (or JSON), like dbt's own --vars."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"--vars is not valid YAML: {yaml_problem(error)}.") from None
    if not isinstance(value, dict):
        raise InvalidInput("--vars must be a mapping, e.g. --vars '{region: eu}'.")
    return value


def yaml_problem(error: "yaml.YAMLError") -> str:
    """What YAML found wrong, and where: `expected ',' or '}' (column 12)`."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (column {mark.column + 1})" if mark is not None else problem


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


@cli.command(epilog=EXIT_CODES)
@click.option("--model", "-m", "models", required=True, multiple=True,
              help="The incremental model to backfill (name or package.name); one per run.")
@click.option("--start", default=None,
              help="First day (or hour) to backfill, inclusive: YYYY-MM-DD, or YYYY-MM-DD HH:00 with --grain hour.")
@click.option("--end", default=None,
              help="Last day (or hour) to backfill, inclusive: YYYY-MM-DD, or YYYY-MM-DD HH:00 with --grain hour.")
@click.option("--batch-size", default=1, show_default=True, type=int, help="Periods per batch (one dbt run each).")
@click.option("--grain", default="day", show_default=True, help=f"Period of a batch step: {', '.join(GRAINS)}.")
@click.option("--gaps-only", is_flag=True,
              help="Backfill only the missing periods: those the model's backfill.no_gaps tests report (without "
                   "such a test: periods with no row), within --start/--end when given.")
@click.option("--vars", "vars_text", default=None, help="Extra dbt vars for every batch, as YAML: '{region: eu}'.")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="After each batch, check its window is complete and the model's window checks pass.")
@click.option("--retries", default=0, show_default=True, type=int, help="Retry a failing batch this many times.")
@click.option("--backoff", default=2.0, show_default=True, type=float,
              help="Seconds before the first retry; doubled for each further one.")
@click.option("--sleep", default=0.0, show_default=True, type=float, help="Seconds to wait between batches (rate limit).")
@click.option("--concurrency", default=1, show_default=True, type=int,
              help="Batches run at once, each in its own process and connection (not on DuckDB).")
@click.option("--verify-first", is_flag=True,
              help="Recompute the range into a scratch table first; refuse if stored history would change.")
@click.option("--accept-changes", is_flag=True, help="With --verify-first: overwrite history that would change.")
@click.option("--allow-append", is_flag=True,
              help="Run a model that only appends (no delete_window pre-hook, no unique_key): reruns duplicate rows.")
@click.option("--dry-run", is_flag=True, help="Print the plan (batches and their vars) and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines (one per event) instead of text.")
@click.pass_obj
def run(obj, models, start, end, batch_size, grain, gaps_only, vars_text, verify, retries, backoff, sleep,
        concurrency, verify_first, accept_changes, allow_append, dry_run, as_json):
    """Backfill MODEL over [--start, --end] in batches, one dbt run per batch.

    Each batch receives the window as the vars start_date / end_date (inclusive
    dates, as in the playbook; a model can rename them in
    meta: {backfill: {start_var: ..., end_var: ...}}; models with dbt's
    microbatch strategy get --event-time-start/--event-time-end instead) and
    replaces exactly that window of the model's table. After each batch the
    window is verified; the run and every batch are recorded in the audit
    trail (see `status`); a failed or killed run is finished with `resume`.
    One run per model at a time: a second one is refused while the first holds
    the model's lock.

    \b
    Examples:
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-12-31 --grain month --dry-run
      python -m backfill run -m daily_metrics --gaps-only --start 2024-01-01 --end 2024-04-30
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-01-31 --verify-first
      python -m backfill run -m hourly_sessions --start '2024-03-30 22:00' --end '2024-03-31 03:00' --grain hour
      python -m backfill -t postgres run -m daily_metrics --start 2024-01-01 --end 2024-12-31 \\
          --batch-size 7 --concurrency 4 --retries 2 --sleep 1
    """
    from backfill.progress import Progress
    from backfill.runner import run_backfill

    if len(models) > 1:
        raise InvalidInput(f"--model is given {len(models)} times ({', '.join(models)}): a run backfills one "
                           "model, so run them one at a time.")
    if batch_size < 1:
        raise InvalidInput(f"--batch-size must be 1 or more (got {batch_size}).")
    progress = Progress(as_json=as_json)
    report = run_backfill(
        models[0],
        start,
        end,
        grain=grain,
        batch_size=batch_size,
        vars=parse_vars(vars_text),
        verify=verify,
        retries=retries,
        backoff=backoff,
        sleep=sleep,
        concurrency=concurrency,
        gaps_only=gaps_only,
        verify_first=verify_first,
        accept_changes=accept_changes,
        allow_append=allow_append,
        dry_run=dry_run,
        project_dir=obj["project_dir"],
        profiles_dir=obj["profiles_dir"],
        target=obj["target"],
        on_event=progress.event,
    )
    finish(report, as_json)


def finish(report, as_json: bool) -> None:
    """The closing lines of `run` and `resume`, and the exit code."""
    if report.dry_run or not report.plan:
        return
    total = len(report.plan)
    timing = f"{report.wall_seconds:.1f}s (batches {report.batch_seconds:.1f}s)"
    if report.succeeded:
        if not as_json:
            click.echo(f"Done: {report.done}/{total} batches of {report.model.name} succeeded in {timing} "
                       f"(run {report.run_id}).")
        return
    if not as_json:
        failed = report.failed[0]
        what = (f"its window was written ({_rows(failed.rows_written)}), but its checks failed: "
                if failed.status == "check_failed" else "")
        click.echo(
            f"Failed: batch {failed.batch.index}/{total} ({failed.batch.label()}) of "
            f"{report.model.name}: {what}{failed.message}",
            err=True,
        )
        written = [r for r in report.results if r.status == "check_failed" and r is not failed]
        kept = (f"; {len(written)} more written but failing their checks, their rows in place"
                if written else "")
        if report.stop_reason:
            click.echo(f"{report.done} of {total} batches are done and recorded{kept}. The failed batch "
                       f"{report.stop_reason}, then run it again.", err=True)
        else:
            click.echo(f"{report.done} of {total} batches are done and recorded{kept}; finish the rest with: "
                       f"python -m backfill resume {report.run_id}", err=True)
    sys.exit(EXIT_FAILED)


def _rows(count) -> str:
    return "rows not counted" if count is None else f"{count} row{'' if count == 1 else 's'}"


# Each command group lives in its own module and registers here.
from backfill.cli_gaps import gaps  # noqa: E402
from backfill.cli_reconcile import reconcile  # noqa: E402
from backfill.cli_repair import repair  # noqa: E402
from backfill.cli_status import resume, status  # noqa: E402
from backfill.cli_verify import verify  # noqa: E402

for _command in (gaps, status, resume, reconcile, repair, verify):
    cli.add_command(_command)
