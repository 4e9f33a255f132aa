"""`python -m backfill run`: backfill a model over a range, batch by batch."""

from __future__ import annotations

import sys

import click

from backfill.cli import options
from backfill.errors import EXIT_CODES, EXIT_FAILED
from backfill.periods import GRAINS
from backfill.planning import MAX_BATCHES


@click.command(epilog=EXIT_CODES)
@options.model("The incremental model to backfill", required=False)
@options.select("Instead of --model: the models to backfill, window by window in DAG order")
@options.exclude("Models to leave out of --select")
@options.start("First day (or hour) to backfill")
@options.end("Last day (or hour) to backfill")
@options.batch_size()
@click.option("--grain", default="day", show_default=True, help=f"Period of a batch step: {', '.join(GRAINS)}.")
@click.option("--gaps-only", is_flag=True,
              help="Backfill only the missing periods: those the model's backfill.no_gaps tests report (without "
                   "such a test: periods with no row), within --start/--end when given.")
@options.vars()
@options.verify("After each batch, check its window is complete and the model's window checks pass.")
@options.retries()
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
@click.option("--max-batches", default=MAX_BATCHES, show_default=True, type=int,
              help="Refuse a plan of more batches than this (hours over years is more often a typo than a plan).")
@click.option("--dry-run", is_flag=True, help="Print the plan (batches and their vars) and write nothing.")
@options.as_json()
@click.pass_obj
def run(obj, model, select, exclude, start, end, batch_size, grain, gaps_only, vars_text, verify, retries, backoff,
        sleep, concurrency, max_batches, verify_first, accept_changes, allow_append, dry_run, as_json):
    """Backfill MODEL (or the models of --select) over [--start, --end] in batches, one dbt run per batch.

    Each batch receives the window as the vars start_date / end_date (inclusive
    dates, as in the playbook; a model can rename them in
    meta: {backfill: {start_var: ..., end_var: ...}}; models with dbt's
    microbatch strategy get --event-time-start/--event-time-end instead) and
    replaces exactly that window of the model's table. After each batch the
    window is verified; the run and every batch are recorded in the audit
    trail (see `status`); a failed or killed run is finished with `resume`.
    One run per model at a time: a second one is refused while the first holds
    the model's lock.

    --select backfills a model and what is built on it (dbt's syntax:
    `daily_metrics+`, `tag:finance`, with --exclude): window by window, each
    model after its parents, so no model reads a window its parent is still
    rewriting. Each model runs at its own grain (meta: {backfill: {grain}}, or
    its no_gaps test's): a day of a daily parent is the week that holds it in a
    weekly child, rewritten once that week's last day is written. Tables are
    rebuilt once, after their parents' last window; views need nothing.

    \b
    Examples:
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-12-31 --grain month --dry-run
      python -m backfill run -m daily_metrics --gaps-only --start 2024-01-01 --end 2024-04-30
      python -m backfill run -m daily_metrics --start 2024-01-01 --end 2024-01-31 --verify-first
      python -m backfill run -s daily_metrics+ --start 2024-01-01 --end 2024-01-31 --dry-run
      python -m backfill run -s tag:finance --exclude finance_snapshot --gaps-only
      python -m backfill run -m hourly_sessions --start '2024-03-30 22:00' --end '2024-03-31 03:00' --grain hour
      python -m backfill -t postgres run -m daily_metrics --start 2024-01-01 --end 2024-12-31 \\
          --batch-size 7 --concurrency 4 --retries 2 --sleep 1
    """
    from backfill.cli.progress import Progress
    from backfill.runner import run_backfill

    progress = Progress(as_json=as_json)
    report = run_backfill(
        model,
        start,
        end,
        grain=grain,
        batch_size=batch_size,
        vars=options.parse_vars(vars_text),
        verify=verify,
        retries=retries,
        backoff=backoff,
        sleep=sleep,
        concurrency=concurrency,
        gaps_only=gaps_only,
        max_batches=max_batches,
        verify_first=verify_first,
        accept_changes=accept_changes,
        allow_append=allow_append,
        dry_run=dry_run,
        project_dir=obj["project_dir"],
        profiles_dir=obj["profiles_dir"],
        target=obj["target"],
        on_event=progress.event,
        select=list(select),
        exclude=list(exclude),
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
            click.echo(f"Done: {report.done}/{total} batches of {report.name} succeeded in {timing} "
                       f"(run {report.run_id}).")
        return
    if not as_json:
        failed = report.failed[0]
        what = (f"its window was written ({_rows(failed.rows_written)}), but its checks failed: "
                if failed.status == "check_failed" else "")
        click.echo(
            f"Failed: batch {failed.batch.index}/{total} ({failed.batch.label()}) of "
            f"{report.model_of(failed.batch).name}: {what}{failed.message}",
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
