"""`python -m backfill repair`: the failing checks' periods, backfilled and checked again."""

from __future__ import annotations

import sys

import click

from backfill.cli import options
from backfill.errors import EXIT_FAILED
from backfill.periods import GRAINS, format_bound


@click.command()
@options.model("The incremental model to repair", required=False)
@options.select("Instead of --model: the models to repair together, parents with their children")
@options.exclude("Models to leave out of --select")
@click.option("--check", "checks", multiple=True,
              help="Only this check (test name; repeat for several). Default: every check of the model.")
@options.start("Repair only periods from this day (or hour) on")
@options.end("Repair only periods up to this day (or hour)")
@click.option("--grain", default="day", show_default=True, help=f"Period the model is rebuilt by: {', '.join(GRAINS)}.")
@options.batch_size("Adjacent failing periods per batch (one dbt run each).")
@click.option("--max-periods", default=31, show_default=True, type=int,
              help="Refuse a repair that would rewrite more periods than this.")
@click.option("--yes", "-y", is_flag=True, help="Run the plan without asking (schedulers, cron).")
@options.vars("the checks and every batch")
@options.verify("Verify each batch as `run` does (the checks run again at the end either way).")
@options.retries()
@click.option("--warn-error", is_flag=True,
              help="Exit 1 when checks of severity warn still fail after the repair (default: report them, exit 0).")
@options.as_json()
@click.pass_obj
def repair(obj, model, select, exclude, checks, start, end, grain, batch_size, max_periods, yes, vars_text, verify,
           retries, warn_error, as_json):
    """Backfill exactly the periods where MODEL's checks fail, then check again.

    \b
    1. runs the model's checks that are grouped by its period column
       (event_time or meta: {backfill: {period_column}}): backfill.no_gaps on
       it, backfill.reconcile_* grouped or keyed by it, dbt's unique on it;
    2. plans batches for the periods they fail on (adjacent ones merged) and
       shows the plan; nothing runs without --yes or a "y" on a terminal;
    3. runs them through the same runner as `run` (lock, audit trail, retries;
       a failed repair is finished with `resume`);
    4. runs the same checks again and shows, per period, before → after.

    A check whose failures do not name periods (not_null, a reconciliation
    grouped by something else) is reported as not repairable and skipped.

    --select repairs the incremental models of a dbt selection together: each
    model's failing periods, at its own grain, and downstream the windows a
    parent's rewrite implies (a failing day of a daily parent is its week in a
    weekly child), in one run, parents first, as `run --select` plans them;
    then every model's checks run again, and a child that fails where it passed
    before fails the repair.
    The checks' results before and after are stored with the run in the audit
    trail (`status --run RUN_ID`).

    \b
    Examples:
      python -m backfill repair -m daily_metrics
      python -m backfill repair -m daily_metrics --start 2024-03-01 --end 2024-03-31 --yes
      python -m backfill repair -m daily_metrics --check daily_metrics_amount_matches_events --yes
      python -m backfill repair -s daily_metrics+ --start 2024-03-01 --end 2024-03-31 --yes

    \b
    Exit codes: 0 nothing failed, or every failing period was repaired and
    passes now — but for checks of severity warn, whose leftovers (a day the
    source has no data for) are reported (--warn-error fails on them); 1 checks
    still fail (not repaired: no --yes; or failing after the repair), or a batch
    failed; 2 refused before anything was written (bad input, over
    --max-periods, no check maps to periods).
    """
    from backfill.cli.progress import Progress
    from backfill.repair import repair_model

    progress = Progress(as_json=as_json)
    say = _Printer(progress)
    several = bool(select)  # repair_model refuses --model with --select

    def found(repair) -> None:
        for report in (repair.reports if several else [repair]):
            say.found(report, start, end)

    def confirm(repair) -> bool:
        found(repair)
        say.plan_several(repair) if several else say.plan(repair)
        if yes:
            return True
        if not as_json and sys.stdin.isatty() and sys.stdout.isatty():
            what = f"these {repair.periods} period(s) and what they imply downstream" if several else \
                f"these {len(repair.periods)} {grain}(s)"
            return click.confirm(f"Repair {what}?", default=False)
        return False

    repair = repair_model(
        model, select=list(select), exclude=list(exclude), checks=checks, start=start, end=end, grain=grain,
        batch_size=batch_size, max_periods=max_periods, vars=options.parse_vars(vars_text), verify=verify,
        retries=retries, confirm=confirm, warn_error=warn_error, project_dir=obj["project_dir"],
        profiles_dir=obj["profiles_dir"], target=obj["target"], on_event=progress.event,
    )
    if not repair.plan:
        found(repair)
    elif not repair.confirmed:
        say.not_run_several(repair) if several else say.not_run(repair)
        sys.exit(EXIT_FAILED)
    if repair.confirmed:
        say.outcome_several(repair) if several else say.outcome(repair)
    if not repair.succeeded:
        sys.exit(EXIT_FAILED)


class _Printer:
    """The repair's own lines (the batches print through the runner's Progress)."""

    def __init__(self, progress):
        self.progress = progress
        self.as_json = progress.as_json

    def found(self, report, start, end) -> None:
        if self.as_json:
            return self.progress.emit("checked", model=report.model.name,
                                      checks=[o.as_dict() for o in report.before],
                                      not_repairable=[{"name": c.name, "reason": c.reason}
                                                      for c in report.not_repairable])
        scope = f" in {start} … {end}" if start else ""
        line = self.progress.line
        failing = [o for o in report.before if o.failing]
        if not failing:
            line(f"All {len(report.before)} check(s) of {report.model.name} pass{scope}: nothing to repair.")
        elif not report.periods:
            line(f"No check of {report.model.name} fails on a {report.grain}{scope}: "
                 "nothing to repair.")
        else:
            line(f"{len(failing)} of {len(report.before)} check(s) of {report.model.name}{scope} fail on "
                 f"{len(report.periods)} {report.grain}(s):")
        width = max([len(o.check.name) for o in report.before] + [0])
        for outcome in report.before:
            line(f"  {outcome.check.name:<{width}}  {outcome.status:<5}  {_periods_text(outcome.periods)}"
                 + _aside(outcome))
        for check in report.not_repairable:
            line(f"  not repairable, skipped: {check.name}: {check.reason}.")

    def plan(self, report) -> None:
        if self.as_json:
            return self.progress.emit("plan", batches=[{"index": b.index, "start": format_bound(b.start),
                                                        "end": format_bound(b.end)} for b in report.plan])
        self.progress.line(f"Plan: rewrite {len(report.periods)} {report.grain}(s) of {report.model.name} "
                           f"in {len(report.plan)} batch(es):")
        shown = report.plan if len(report.plan) <= 12 else report.plan[:10]
        for batch in shown:
            self.progress.line(f"  batch {batch.index:>3}  {batch.label()}")
        if len(shown) < len(report.plan):
            self.progress.line(f"  … and {len(report.plan) - len(shown)} more, up to {report.plan[-1].label()}")

    def plan_several(self, repair) -> None:
        if self.as_json:
            return self.progress.emit("plan", batches=repair.as_dict()["batches"])
        self.progress.line(f"Plan: rewrite {repair.periods} failing period(s) and the windows they imply "
                           f"downstream, in {len(repair.plan)} batch(es), parents first:")
        width = max(len(b.model or "") for b in repair.plan)
        for batch in repair.plan:
            self.progress.line(f"  batch {batch.index:>3}  {batch.model:<{width}}  {batch.label()}")

    def not_run_several(self, repair) -> None:
        if self.as_json:
            return self.progress.emit("not_run", reason="no --yes")
        click.echo(f"Nothing was run: pass --yes to repair these {repair.periods} period(s).", err=True)

    def outcome_several(self, repair) -> None:
        if self.as_json:
            return self.progress.emit("repaired", **repair.as_dict())
        line = self.progress.line
        for report in repair.reports:
            if report.periods:
                line(f"{report.model.name}, before → after, per {report.grain}:")
                for row in report.period_rows():
                    line(f"  {row['period']}  {', '.join(row['before'])}  →  {', '.join(row['after']) or 'passes'}")
            if report.newly_failing:
                shown = ", ".join(format_bound(p) for p in report.newly_failing)
                click.echo(f"{report.model.name} fails its checks after the repair where it passed before: {shown}.",
                           err=True)
        run_id = repair.run.run_id
        if repair.succeeded:
            line(f"Repaired {repair.periods} period(s) of {repair.run.name} (run {run_id}): every check of "
                 "severity error passes for them now.")
        elif not repair.run.succeeded:
            click.echo(_stopped(repair.run, run_id), err=True)
        else:
            click.echo(f"Checks still fail after the rerun (run {run_id}): see above.", err=True)

    def not_run(self, report) -> None:
        if self.as_json:
            return self.progress.emit("not_run", reason="no --yes")
        click.echo(f"Nothing was run: pass --yes to repair these {len(report.periods)} {report.grain}(s).",
                   err=True)

    def outcome(self, report) -> None:
        if self.as_json:
            return self.progress.emit("repaired", **report.as_dict())
        line = self.progress.line
        line(f"Before → after, per {report.grain}:")
        # Periods that went the same way share a line, so a long repair stays readable.
        groups: dict[tuple, list] = {}
        for row in report.period_rows():
            groups.setdefault((tuple(row["before"]), tuple(row["after"])), []).append(row["period"])
        for (before, after), periods in groups.items():
            shown = ", ".join(periods[:8]) + (f" … ({len(periods)} {report.grain}s)" if len(periods) > 8 else "")
            line(f"  {shown}  {', '.join(before)}  →  {', '.join(after) or 'passes'}")
        run_id = report.run.run_id
        if report.succeeded and report.still_warning:
            warned = ", ".join(format_bound(p) for p in report.still_warning)
            line(f"Repaired {len(report.periods)} {report.grain}(s) of {report.model.name} (run {run_id}): every "
                 f"check of severity error passes for them now; checks of severity warn still report {warned} "
                 "(rerunning did not change them: the source has nothing more there; --warn-error fails on this).")
        elif report.succeeded:
            line(f"Repaired {len(report.periods)} {report.grain}(s) of {report.model.name} (run {run_id}): "
                 "every check passes for them now.")
        elif not report.run.succeeded:
            click.echo(_stopped(report.run, run_id), err=True)
        else:
            still = ", ".join(format_bound(p) for p in report.still_failing_errors)
            click.echo(f"Still failing after the rerun (run {run_id}): {still}. Rerunning did not fix them: "
                       "look at the source data for those periods.", err=True)


def _stopped(run, run_id) -> str:
    """Why the repair stopped at a failed batch, and what to do: `resume` only when it can help."""
    if run.stop_reason:
        batch = run.failed[0].batch
        return (f"The repair stopped at batch {batch.index} ({batch.label()}) of run {run_id}: {run.stop_reason}, "
                "then repair again.")
    return f"The repair stopped at a failed batch; finish it with: python -m backfill resume {run_id}"


def _periods_text(periods) -> str:
    if not periods:
        return "-"
    shown = ", ".join(format_bound(p) for p in periods[:6])
    return shown + (f" … ({len(periods)} in all)" if len(periods) > 6 else "")


def _aside(outcome) -> str:
    notes = []
    if outcome.outside:
        notes.append(f"{outcome.outside} outside the range, left alone")
    if outcome.unmapped:
        notes.append(f"{outcome.unmapped} failing row(s) with no period")
    return f"  ({'; '.join(notes)})" if notes else ""
