"""`python -m backfill status` and `resume`: the audit trail, and finishing a run."""

from __future__ import annotations

import json

import click

from backfill.audit import RUNNING, derived_status, json_value, run_models
from backfill.cli import options
from backfill.errors import EXIT_CODES, BackfillError


@click.command(epilog=EXIT_CODES)
@options.model("Only runs of this model", required=False)
@click.option("--run", "run_id", default=None, help="One run, with all its batches.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1), help="How many recent runs.")
@options.as_json("JSON")
@click.pass_obj
def status(obj, model, run_id, limit, as_json):
    """Show backfill runs and their batches, from the audit trail in the warehouse.

    A run whose process died shows as `interrupted`: finish it with `resume`.

    \b
    Examples:
      python -m backfill status
      python -m backfill status --model daily_metrics
      python -m backfill status --run 20240101T120000-ab12cd --json
    """
    from backfill.audit import Audit
    from backfill.dbt import DbtProject

    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    audit = Audit(project)
    runs = [effective_status(audit, run) for run in audit.runs(model=model, run_id=run_id, limit=limit)]
    if run_id and not runs:
        raise BackfillError(f"No backfill run '{run_id}' in the audit trail.")
    detail = run_id or (len(runs) == 1 and runs[0]["run_id"])
    batches = audit.batches(detail) if detail else []
    if as_json:
        click.echo(json.dumps({"runs": [as_json_run(r) for r in runs], "batches": [as_json_batch(b) for b in batches]},
                              default=str, indent=2))
        return
    if not runs:
        click.echo("No backfill runs recorded" + (f" for model '{model}'." if model else "."))
        return
    click.echo(f"{'run':<23} {'model':<22} {'status':<11} {'range':<25} {'batches':>8}  started (UTC)        by")
    for run in runs:
        click.echo(
            f"{run['run_id']:<23} {run['model']:<22} {run['status']:<11} "
            f"{run['range_start'] + ' → ' + run['range_end']:<25} "
            f"{str(run['batches_done']) + '/' + str(run['batches_total']):>8}  "
            f"{str(run['started_at'])[:19]:<20} {run['invoked_by']}"
        )
    if batches:
        several = len(run_models(runs[0])) > 1
        width = max(len(str(batch.get("model") or "")) for batch in batches) if several else 0
        model_header = f"{'model':<{width}}  " if several else ""
        click.echo(f"\nBatches of {detail}:")
        click.echo(f"  {'#':>3}  {model_header}{'window':<27} {'status':<11} {'tries':>5} {'rows':>8} {'seconds':>8}  "
                   "error")
        for batch in batches:
            window = batch["window_start"] if batch["window_start"] == batch["window_end"] else \
                f"{batch['window_start']} → {batch['window_end']}"
            rows = "" if batch["rows_written"] is None else int(batch["rows_written"])
            seconds = "" if batch["duration_s"] is None else f"{float(batch['duration_s']):.1f}"
            model = f"{batch.get('model') or '':<{width}}  " if several else ""
            click.echo(f"  {int(batch['batch_index']):>3}  {model}{window:<27} {batch['status']:<11} "
                       f"{int(batch['attempts'] or 0):>5} {rows:>8} {seconds:>8}  {batch['error'] or ''}")
        show_repair(runs[0])


def as_json_run(run: dict) -> dict:
    """A run as --json shows it: options as an object, counts as numbers."""
    return {**run, "options": json_value(run["options"], {}),
            **{k: None if run[k] is None else int(run[k]) for k in ("batch_size", "batches_total", "batches_done")}}


def as_json_batch(batch: dict) -> dict:
    """A batch as --json shows it: checks as a list, numbers as numbers."""
    number = lambda value, kind: None if value is None else kind(value)  # noqa: E731
    return {**batch, "checks": json_value(batch["checks"], []), "batch_index": int(batch["batch_index"]),
            "attempts": number(batch["attempts"], int), "rows_written": number(batch["rows_written"], int),
            "duration_s": number(batch["duration_s"], float)}


def show_repair(run: dict) -> None:
    """A repair's checks, per period: what failed before the rerun and after it."""
    stored = json_value(run["options"], {})
    repair = (stored.get("notes") or {}).get("repair") or {}
    if not repair.get("periods"):
        return
    click.echo("\nRepair, per period: checks failing before → after:")
    for row in repair["periods"]:
        after = "not checked yet" if row["after"] is None else (", ".join(row["after"]) or "passes")
        model = f"{row['model']}  " if row.get("model") else ""  # a repair over a selection names it
        click.echo(f"  {model}{row['period']}  {', '.join(row['before'])}  →  {after}")


def effective_status(audit, run: dict) -> dict:
    """A run recorded as running whose lock is gone or stale was interrupted (audit.derived_status)."""
    # A run holds every model's lock or none (Audit.acquire_locks): its first model's tells.
    holder = audit.lock_holder(run_models(run)[0]) if run["status"] == RUNNING else None
    return {**run, "status": derived_status(run, holder)}


@click.command(epilog=EXIT_CODES)
@click.argument("run_id", required=False)
@options.model("Resume the latest run of this model", required=False)
@options.as_json()
@click.pass_obj
def resume(obj, run_id, model, as_json):
    """Finish a backfill run that failed or was killed.

    Runs the batches of RUN_ID that are not done yet (a batch written but
    failing its checks included), with the options and vars the run started
    with; batches already done are skipped. Without RUN_ID: the latest run of
    --model, or of the one model whose latest run is unfinished; with several
    such models it asks which (on a terminal) or refuses, naming them.
    Exit code 0 only when every batch is done.

    \b
    Examples:
      python -m backfill resume
      python -m backfill resume 20240101T120000-ab12cd
      python -m backfill resume --model daily_metrics
    """
    import sys

    from backfill.cli.progress import Progress
    from backfill.cli.run import finish
    from backfill.dbt import DbtProject
    from backfill.runner import AmbiguousResume, resume_backfill

    progress = Progress(as_json=as_json)
    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    try:
        report = resume_backfill(run_id, model=model, project=project, on_event=progress.event)
    except AmbiguousResume as ambiguous:
        if as_json or not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise
        click.echo("These models have an unfinished backfill:")
        for number, row in enumerate(ambiguous.runs, start=1):
            click.echo(f"  {number}  {row['run_id']}  {row['model']}  {row['status']}  "
                       f"{row['batches_done']}/{int(row['batches_total'])} batches done  "
                       f"{row['range_start']} → {row['range_end']}")
        choice = click.prompt("Resume which one (number)", type=click.IntRange(1, len(ambiguous.runs)))
        report = resume_backfill(ambiguous.runs[choice - 1]["run_id"], project=project, on_event=progress.event)
    finish(report, as_json)
