"""Running a backfill: plan → check → lock → run batch by batch → record.

    CLI (backfill.cli) → planning (pure) → run_backfill / resume_backfill (here)
      → batch_run.execute_batch (the model's window, then batch_checks) → audit (the record)

A run rewrites one model (`model`), or the models of a dbt selection (`select`,
resolved by backfill.selection), each batch naming its model, in the order
planning.plan_selection puts them: parents before children within each window.

`run_backfill` and `resume_backfill` are the Python API (Airflow, Dagster, a
notebook) and what the CLI itself calls; they raise the same one-sentence
errors the CLI prints. Everything a run does is written to the audit trail as
it happens (see audit.py), so a failed or killed run can be resumed.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from multiprocessing import get_context
from typing import Callable, Optional

from backfill.audit import (CHECK_FAILED, FAILED, INTERRUPTED, RUNNING, SUCCESS, Audit, BatchRecord, RunRecord,
                            safely, json_value, new_run_id, now_utc, run_models, run_record)
from backfill.batch_checks import snapshots_without_versions
from backfill.batch_run import BatchOutcome, execute_batch, init_worker, worker_execute
from backfill.dbt import DbtProject
from backfill.errors import EXIT_FAILED, BackfillError, BackfillFailed, InvalidInput
from backfill.gaps import refuse_unusable_column
from backfill.model import ModelInfo, check_backfillable, check_rerun_replaces
from backfill.no_gaps import gap_windows
from backfill.selection import resolve_selection
from backfill.periods import check_grain, format_bound, instant, parse_bound, parse_optional_bound, parse_range
from backfill.planning import (MAX_BATCHES, Batch, check_batch_size, plan_batches_for_ranges, plan_run,
                               plan_selection)
from backfill.recompute import verify_window


@dataclass(frozen=True)
class BatchResult:
    batch: Batch
    status: str  # success | failed (nothing written) | check_failed (written, its checks failed)
    seconds: float
    attempts: int = 1
    rows_written: Optional[int] = None
    message: str = ""
    checks: tuple = ()

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCESS

    @property
    def written(self) -> bool:
        """The window holds what this batch wrote (whether or not its checks passed)."""
        return self.status in (SUCCESS, CHECK_FAILED)

    @property
    def rows_affected(self) -> Optional[int]:  # the name of earlier versions
        return self.rows_written


@dataclass
class RunReport:
    model: ModelInfo
    grain: str
    plan: list[Batch]
    run_id: Optional[str] = None
    dry_run: bool = False
    skipped: list[Batch] = field(default_factory=list)  # done by an earlier attempt (resume)
    resumed: bool = False
    results: list[BatchResult] = field(default_factory=list)
    vars: dict = field(default_factory=dict)  # the run's own --vars, passed to every batch
    started: float = field(default_factory=time.monotonic)
    finished: Optional[float] = None
    # Why the failed batch cannot be fixed by running it again (its rerun wrote no rows), or "".
    stop_reason: str = ""
    # The models whose table does not exist yet: their first batch creates it.
    unbuilt: set = field(default_factory=set)
    # A run over a selection: its models by name, parents first (`model` is the first), and
    # the selected models it leaves alone, with why (views, ephemerals).
    models: dict = field(default_factory=dict)
    left_alone: list = field(default_factory=list)

    def model_of(self, batch: Batch) -> ModelInfo:
        """The model a batch rewrites."""
        return self.models[batch.model] if batch.model else self.model

    def rewritten_after(self, model: ModelInfo) -> tuple[str, ...]:
        """The unique_ids of the models the run rewrites after `model` (parents come first)."""
        names = list(self.models)
        return tuple(self.models[name].unique_id for name in names[names.index(model.name) + 1:]) \
            if model.name in self.models else ()

    @property
    def name(self) -> str:
        """What the run rewrites, as a sentence names it: the model, or the selection's models."""
        return ", ".join(self.models) if self.models else self.model.name

    @property
    def succeeded(self) -> bool:
        return self.done == len(self.plan)

    @property
    def done(self) -> int:
        """Batches done: skipped (an earlier attempt did them) and succeeded now."""
        return len(self.skipped) + sum(r.succeeded for r in self.results)

    @property
    def failed(self) -> list[BatchResult]:
        return [r for r in self.results if not r.succeeded]

    @property
    def wall_seconds(self) -> float:
        """From the start of the run to its end (or now): sleeps, retries and checks included."""
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    @property
    def batch_seconds(self) -> float:
        """The time the batches themselves took (their model runs and checks)."""
        return sum(r.seconds for r in self.results)

    def batch_vars(self, batch: Batch) -> dict:
        """The vars a batch gets: the run's --vars, then its window (or microbatch's event time);
        a table of a selection, rebuilt whole, gets the run's --vars alone."""
        model = self.model_of(batch)
        if model.is_microbatch:
            event_time_start, event_time_end = batch.event_time_bounds()
            return {**self.vars, "event_time_start": event_time_start, "event_time_end": event_time_end}
        if not model.is_incremental:
            return dict(self.vars)
        return {**self.vars, **batch.window_vars(*model.window_var_names)}


@dataclass(frozen=True)
class Options:
    """How batches are run; stored with the run so `resume` runs the rest the same way."""

    grain: str = "day"
    batch_size: int = 1
    vars: dict = field(default_factory=dict)
    verify: bool = True
    retries: int = 0
    backoff: float = 2.0
    sleep: float = 0.0
    concurrency: int = 1
    gaps_only: bool = False
    max_batches: int = MAX_BATCHES
    # A run over a selection: each model's own grain, by name (the others run at `grain`).
    grains: dict = field(default_factory=dict)

    def grain_of(self, model: str) -> str:
        return self.grains.get(model, self.grain)

    def check(self) -> "Options":
        check_grain(self.grain)
        check_batch_size(self.batch_size)
        for name, value, low in [("--retries", self.retries, 0), ("--concurrency", self.concurrency, 1),
                                 ("--max-batches", self.max_batches, 1)]:
            if not isinstance(value, int) or value < low:
                raise InvalidInput(f"{name} must be a whole number, {low} or more (got {value}).")
        for name, value in [("--sleep", self.sleep), ("--backoff", self.backoff)]:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InvalidInput(f"{name} must be a finite number of seconds, 0 or more (got {value}).")
        return self


# Progress callback, called as on_event(kind, payload):
#   "planned" RunReport · "batch_started" (Batch, attempt) · "batch_retry" (Batch, attempt, error, wait_s)
#   "batch_finished" BatchResult · "finished" RunReport
OnEvent = Callable[[str, object], None]


def check_period_column(project: DbtProject, model: ModelInfo, grain: str, notify=None) -> Optional[dict]:
    """Refuse a period column the model's table does not have, or hours of a date
    column, before anything is written: otherwise each batch would write its
    window and only then fail its checks (or, unverified, rewrite a day per hour).
    What the column is (see gaps.refuse_unusable_column), or None when the table is
    not built yet or the model declares no period column."""
    column = model.period_column
    if not column:
        return None
    facts = refuse_unusable_column(project, model, column, grain)
    zone = (facts or {}).get("session_time_zone")
    if notify and zone and str(zone).upper() not in ("UTC", "ETC/UTC", "GMT", "UCT", "Z", "ZULU", "UNIVERSAL"):
        notify("warning", f"{model.name}.{column} is a timestamp with time zone and the session's time zone is "
                          f"{zone}: gap checks read it in UTC periods, while the batch window's bounds are read in "
                          f"{zone}, so windows and checks disagree by the zone's offset; run the session in UTC.")
    return facts


def parse_open_range(start, end, grain: str):
    """The bounds of --gaps-only: either may be missing (None); both given, refused when reversed."""
    if start and end:
        return parse_range(start, end, grain)
    check_grain(grain)
    return (parse_optional_bound(start, grain, option="--start"),
            parse_optional_bound(end, grain, option="--end", is_end=True))


def run_backfill(
    model: Optional[str] = None,
    start=None,
    end=None,
    *,
    grain: str = "day",
    batch_size: int = 1,
    vars: Optional[dict] = None,
    verify: bool = True,
    retries: int = 0,
    backoff: float = 2.0,
    sleep: float = 0.0,
    concurrency: int = 1,
    gaps_only: bool = False,
    max_batches: int = MAX_BATCHES,
    windows: Optional[list] = None,
    notes: Optional[dict] = None,
    verify_first: bool = False,
    accept_changes: bool = False,
    allow_append: bool = False,
    dry_run: bool = False,
    project_dir=".",
    profiles_dir=None,
    target: Optional[str] = None,
    on_event: Optional[OnEvent] = None,
    project: Optional[DbtProject] = None,
    select: Optional[list] = None,
    exclude: Optional[list] = None,
) -> RunReport:
    """Backfill `model` over the inclusive range [start, end], batch by batch.

    Each batch is one `dbt run` of the model with its window set, verified
    afterwards (unless verify=False) and recorded in the audit trail. A batch
    that fails is retried `retries` times (waiting backoff, 2×backoff, …); if it
    still fails the run stops, leaving every finished batch in place.

    `gaps_only` plans only the missing periods within [start, end] (either may
    be None): those the model's `backfill.no_gaps` tests on its period column
    report, else the periods without a row, found by `backfill.find_gaps`;
    `windows` (a list of inclusive (start, end) pairs, strings or dates) plans
    exactly those ranges instead of [start, end]; with `select`, a dict of such
    lists by model name, each model's own (what `repair --select` found). `notes` is stored with the
    run's options in the audit trail (e.g. why the run happened).

    `verify_first` recomputes the planned range into a scratch table before
    anything is written and refuses (HistoryWouldChange) when stored rows would
    change or disappear, unless `accept_changes`. Periods that would only gain
    rows (gaps) do not count as overwriting history.

    `select` (and `exclude`), dbt selectors in place of `model`, backfill every
    incremental model selected, each at its own grain, parents before children
    within each window; tables selected are rebuilt once their parents' windows
    are written (planning.plan_selection). With `gaps_only`, each model's own gaps
    and the windows they imply downstream.
    """
    started = time.monotonic()
    if bool(model) == bool(select):
        raise InvalidInput("Name the model to backfill with --model, or the models with --select (one of the two).")
    options = Options(grain, batch_size, dict(vars or {}), verify, retries, backoff, sleep, concurrency, gaps_only,
                      max_batches).check()
    plan: list[Batch] = []  # with `select` and `windows`: each model's own, at its grain, once it is known
    if windows is not None and not select:
        plan = plan_batches_for_ranges([parse_range(str(a), str(b), grain) for a, b in windows], grain, batch_size,
                                       max_batches)
    elif gaps_only:
        start_bound, end_bound = parse_open_range(start, end, grain)
    elif windows is None:
        if start is None or end is None:
            raise InvalidInput("--start and --end are both needed (or --gaps-only to backfill what is missing).")
        plan = plan_run(start, end, grain, batch_size, max_batches)
    project = project or DbtProject(project_dir, profiles_dir, target, options.vars)
    selection = None
    if select:
        if concurrency > 1:
            raise InvalidInput("--concurrency runs one model's batches side by side; a run over a selection "
                               "runs its models' batches in DAG order, one at a time: use --concurrency 1.")
        selection = resolve_selection(project, list(select), list(exclude or []), grain, verify, allow_append)
        options = replace(options, grains=selection.grains)
        models = selection.models
    else:
        models = [project.model(model)]
        check_backfillable(models[0], verify)
        check_rerun_replaces(models[0], allow_append)
    windowed = [info for info in models if info.is_incremental]
    for info in windowed:
        clashing = sorted(set(info.window_var_names) & set(options.vars))
        if clashing:
            whose = f" (for {info.name})" if selection else ""
            raise InvalidInput(f"--vars sets {', '.join(clashing)}, which the runner sets for each batch{whose}.")
    if concurrency > 1:
        check_concurrency(project)
    notify = on_event or (lambda kind, payload: None)
    unbuilt = set()
    for info in windowed:
        facts = check_period_column(project, info, options.grain_of(info.name), notify)
        if info.period_column and facts is None:
            unbuilt.add(info.name)
    if selection and windows is not None:
        own = {name: plan_batches_for_ranges([parse_range(str(a), str(b), options.grain_of(name)) for a, b in ranges],
                                             options.grain_of(name), batch_size, max_batches)
               for name, ranges in dict(windows).items()}
        plan = plan_selection(selection.planned, [], grain, max_batches, own=own)
    elif selection and gaps_only:
        own = {info.name: plan_gaps(project, info, start_bound, end_bound, options.grain_of(info.name), batch_size,
                                    options.vars, max_batches) for info in windowed}
        plan = plan_selection(selection.planned, [], grain, max_batches, own=own)
    elif selection:
        plan = plan_selection(selection.planned, plan, grain, max_batches)
    elif gaps_only:
        plan = plan_gaps(project, models[0], start_bound, end_bound, grain, batch_size, options.vars, max_batches)
    report = RunReport(model=models[0], grain=grain, plan=plan, dry_run=dry_run, vars=dict(options.vars),
                       started=started, unbuilt=unbuilt,
                       models={info.name: info for info in models} if selection else {},
                       left_alone=list(selection.left_alone) if selection else [])
    for info in windowed:
        if info.rerun_behaviour == "merged":
            notify("warning", f"{info.name} has no backfill.delete_window pre-hook: a batch updates rows by its "
                              "unique_key, but rows of the window that the model no longer produces stay.")
    if verify_first:
        for info in windowed:
            batches = [batch for batch in plan if report.model_of(batch) is info]
            if batches:
                check_history(project, info, batches, options.grain_of(info.name), accept_changes, notify,
                              options.vars)
    if dry_run or not plan:
        report.finished = time.monotonic()
        notify("planned", report)
        notify("finished", report)
        return report

    first = min(plan, key=lambda batch: instant(batch.start))
    last = max(plan, key=lambda batch: instant(batch.end))
    selected = {"selection": {"select": list(select), "exclude": list(exclude or [])}} if selection else {}
    run = RunRecord(
        run_id=new_run_id(),
        model=",".join(info.name for info in models),
        target_name=project.target_name,
        range_start=format_bound(first.start),
        range_end=format_bound(last.end),
        grain=grain,
        batch_size=batch_size,
        batches_total=len(plan),
        options={**_options_dict(options), **selected, **({"notes": notes} if notes else {})},
    )
    report.run_id = run.run_id
    audit = Audit(project)
    audit.acquire_locks([info.name for info in models], run.run_id)
    notify("planned", report)
    records = [BatchRecord(run.run_id, b.index, format_bound(b.start), format_bound(b.end),
                           model=report.model_of(b).name) for b in plan]
    return _execute(audit, run, plan, records, options, report, notify, fresh=True)


def resume_backfill(
    run_id: Optional[str] = None,
    *,
    model: Optional[str] = None,
    project_dir=".",
    profiles_dir=None,
    target: Optional[str] = None,
    on_event: Optional[OnEvent] = None,
    project: Optional[DbtProject] = None,
) -> RunReport:
    """Finish a run that failed or was killed: its batches not yet done, with its options
    and vars as they were stored (nothing of the caller's project overrides them).

    Without `run_id`, the run to resume is the latest run of `model` (or of each model)
    when it is unfinished; a model's later run supersedes its earlier unfinished ones,
    which stay resumable by id. When several models have one, it refuses
    (`AmbiguousResume`, listing them) rather than pick one."""
    started = time.monotonic()
    project = project or DbtProject(project_dir, profiles_dir, target)
    audit = Audit(project)
    row = _run_to_resume(audit, run_id, model)
    stored = _options_from_dict(json_value(row["options"], {}))
    names = run_models(row)
    infos = {name: project.model(name) for name in names}
    for info in infos.values():
        if info.is_incremental or len(names) == 1:
            check_backfillable(info, stored.verify)

    batch_rows = audit.batches(row["run_id"])
    plan, records, skipped = [], [], []
    for batch_row in batch_rows:
        name = batch_row.get("model") or names[0]  # rows written before batches named their model have none
        batch = Batch(
            int(batch_row["batch_index"]),
            parse_bound(batch_row["window_start"], stored.grain_of(name), option="window_start"),
            parse_bound(batch_row["window_end"], stored.grain_of(name), option="window_end"),
            0,
            model=name if len(names) > 1 else None,
        )
        record = BatchRecord(**{k: batch_row.get(k) for k in BatchRecord.__dataclass_fields__})
        record.batch_index = int(record.batch_index)
        record.attempts = int(record.attempts or 0)
        plan.append(batch)
        records.append(record)
        if record.status == SUCCESS:
            skipped.append(batch)
    run = run_record(row)
    report = RunReport(model=infos[names[0]], grain=stored.grain, plan=plan, run_id=run.run_id, skipped=skipped,
                       resumed=True, vars=dict(stored.vars), started=started,
                       models=infos if len(names) > 1 else {})
    notify = on_event or (lambda kind, payload: None)
    audit.acquire_locks(names, run.run_id)
    notify("planned", report)
    return _execute(audit, run, plan, records, stored, report, notify, fresh=False)


class AmbiguousResume(BackfillError):
    """Several models have an unfinished latest run: which one to resume must be said."""

    def __init__(self, message: str, runs: list[dict]):
        super().__init__(message)
        self.runs = runs


def _run_to_resume(audit: Audit, run_id: Optional[str], model: Optional[str]) -> dict:
    """The audit row of the run `resume` finishes, or the one-sentence refusal."""
    candidates = audit.runs(model=model, run_id=run_id, limit=200)
    scope = f"run {run_id}" if run_id else (f"model '{model}'" if model else "this target")
    if run_id and not candidates:
        raise BackfillError(f"No backfill run '{run_id}' in the audit trail.")
    if not candidates:
        raise BackfillError(f"Nothing to resume: no backfill of {scope} is recorded in the audit trail.")
    if run_id:
        if candidates[0]["status"] == SUCCESS:
            raise BackfillError(f"Nothing to resume: every recorded backfill of {scope} finished successfully.")
        return candidates[0]
    latest: dict[str, dict] = {}
    for row in candidates:  # newest first
        latest.setdefault(row["model"], row)
    unfinished = [row for row in latest.values() if row["status"] != SUCCESS]
    superseded = [row["run_id"] for row in candidates
                  if row["status"] != SUCCESS and latest[row["model"]] is not row]
    if not unfinished:
        older = (f"; older unfinished runs ({', '.join(superseded[:5])}) were superseded by later ones and can "
                 "be resumed by id" if superseded else "")
        if superseded:
            raise BackfillError(f"Nothing to resume: the latest backfill of every model of {scope} finished "
                                f"successfully{older}.")
        raise BackfillError(f"Nothing to resume: every recorded backfill of {scope} finished successfully.")
    if len(unfinished) > 1:
        listed = "; ".join(f"{row['run_id']} ({row['model']}, {row['status']}, {row['batches_done']} of "
                           f"{int(row['batches_total'])} batches done)" for row in unfinished[:10])
        raise AmbiguousResume(f"{len(unfinished)} models have an unfinished backfill ({listed}): name the one to "
                              "resume, e.g. python -m backfill resume RUN_ID (or --model MODEL).", unfinished)
    return unfinished[0]


# -- execution --------------------------------------------------------------------


def _execute(audit, run, plan, records, options, report, notify, fresh) -> RunReport:
    """Run the batches not yet done; the caller holds the models' locks."""
    try:
        return _execute_batches(audit, run, plan, records, options, report, notify, fresh)
    finally:
        audit.project.close_connections()  # the one the batches shared


def _execute_batches(audit, run, plan, records, options, report, notify, fresh) -> RunReport:
    project = audit.project
    run.status, run.finished_at, run.error = RUNNING, None, None
    try:
        for record in records:  # what a killed attempt left running was interrupted
            if record.status == RUNNING:
                record.status = INTERRUPTED
        audit.record(run.run_id, run, *records) if fresh else audit.record(run.run_id, run)
        todo = [(b, r) for b, r in zip(plan, records) if r.status != SUCCESS]
        if options.concurrency > 1:
            _run_concurrently(project, report.model, run, todo, options, report, notify, audit)
        else:
            _run_in_order(project, run, todo, options, report, notify, audit)
        run.status = SUCCESS if report.succeeded else FAILED
        run.finished_at = now_utc()
        run.batches_done = report.done
        run.error = report.failed[0].message if report.failed else None
        if report.failed:
            failed = report.failed[0]
            report.stop_reason = why_a_rerun_cannot_help(project, report.model_of(failed.batch), failed)
        audit.record(run.run_id, run)
        audit.release_locks(run.run_id)
    except BaseException as error:  # Ctrl-C, a crash, an audit trail that cannot be written: record it, propagate
        run.status, run.error, run.finished_at = FAILED, f"{type(error).__name__}: {error}", now_utc()
        run.batches_done = report.done
        safely(audit.record, run.run_id, run)
        safely(audit.release_locks, run.run_id)
        written = [result for result in report.results if result.status in (SUCCESS, CHECK_FAILED)]
        if isinstance(error, BackfillError) and error.exit_code != EXIT_FAILED and written:
            # Not a refusal any more: batches were written, and exit 2 would say nothing was.
            raise BackfillFailed(_stopped_after(run, written, len(plan), error)) from error
        raise
    report.finished = time.monotonic()
    notify("finished", report)
    return report


def _stopped_after(run: RunRecord, written: list, total: int, error: BackfillError) -> str:
    """The sentence for a run stopped by an error after it had written batches."""
    first, last = written[0].batch, written[-1].batch
    span = format_bound(first.start) if len(written) == 1 and first.start == first.end else \
        f"{format_bound(first.start)} … {format_bound(last.end)}"
    return (f"The run stopped after writing {len(written)} of {total} batch(es) ({span}, kept): {error.message.rstrip('.')}. "
            f"Once that is fixed, finish it with: python -m backfill resume {run.run_id}")


def _start(record: BatchRecord, run, audit, notify, batch) -> None:
    record.status, record.started_at, record.finished_at = RUNNING, now_utc(), None
    record.attempts += 1
    audit.record(run.run_id, record, periodic=True)
    notify("batch_started", (batch, record.attempts))


def _finish(record: BatchRecord, outcome: BatchOutcome, run, audit, report, notify, batch, attempts) -> BatchResult:
    import json

    record.status = SUCCESS if outcome.success else (CHECK_FAILED if outcome.written else FAILED)
    record.finished_at = now_utc()
    record.rows_written = outcome.rows_written
    record.duration_s = outcome.seconds
    record.error = outcome.error or None
    record.checks = json.dumps(outcome.checks) if outcome.checks else None
    run.batches_done = report.done + int(outcome.success)
    audit.stage(run, record)  # written with the next batch's start, or at the end of the run
    result = BatchResult(batch, record.status, outcome.seconds, attempts, outcome.rows_written, outcome.error,
                         tuple(outcome.checks))
    report.results.append(result)
    notify("batch_finished", result)
    return result


def _run_in_order(project, run, todo, options, report, notify, audit) -> None:
    for position, (batch, record) in enumerate(todo):
        info = report.model_of(batch)
        attempt = 0
        while True:
            attempt += 1
            _start(record, run, audit, notify, batch)
            outcome = execute_batch(project, info, batch, options.verify, options.grain_of(info.name), options.vars,
                                    report.rewritten_after(info))
            if info.name in report.unbuilt and outcome.written:
                outcome = record_first_build(project, info, batch, outcome)
                report.unbuilt.discard(info.name)
            if outcome.success or attempt > options.retries:
                break
            wait_s = options.backoff * (2 ** (attempt - 1))
            record.status, record.error = (CHECK_FAILED if outcome.written else FAILED), outcome.error
            audit.record(run.run_id, record)
            notify("batch_retry", (batch, attempt, outcome.error, wait_s))
            time.sleep(wait_s)
        result = _finish(record, outcome, run, audit, report, notify, batch, attempt)
        if not result.succeeded:
            return
        if options.sleep and position < len(todo) - 1:
            audit.record(run.run_id)  # a paused run shows its progress
            time.sleep(options.sleep)


def _run_concurrently(project, info, run, todo, options, report, notify, audit) -> None:
    """Independent batches in separate processes (dbtRunner is not thread-safe),
    each with its own connection; the audit trail is written from here."""
    if todo and not project.relation_exists(f"ref('{info.package_name}', '{info.name}')"):
        # The first batch creates the table; two batches doing that at once collide
        # ("relation already exists"), so it runs alone before the others fan out.
        _run_in_order(project, run, todo[:1], options, report, notify, audit)
        if report.failed:
            return
        todo = todo[1:]
    queue = list(todo)
    attempts: dict[int, int] = {}
    context = get_context("spawn")
    init_args = (str(project.project_dir), project.profiles_dir, project.target, project.vars)
    with ProcessPoolExecutor(options.concurrency, mp_context=context, initializer=init_worker, initargs=init_args) as pool:
        running = {}
        stop = False
        while queue or running:
            while queue and not stop and len(running) < options.concurrency:
                batch, record = queue.pop(0)
                attempts[batch.index] = attempts.get(batch.index, 0) + 1
                _start(record, run, audit, notify, batch)
                running[pool.submit(worker_execute, info.name, batch, options.verify, options.grain,
                                    options.vars)] = (batch, record)
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                batch, record = running.pop(future)
                outcome = future.result()
                if not outcome.success and attempts[batch.index] <= options.retries and not stop:
                    wait_s = options.backoff * (2 ** (attempts[batch.index] - 1))
                    notify("batch_retry", (batch, attempts[batch.index], outcome.error, wait_s))
                    time.sleep(wait_s)
                    queue.insert(0, (batch, record))
                    continue
                result = _finish(record, outcome, run, audit, report, notify, batch, attempts[batch.index])
                if not result.succeeded:
                    stop = True  # let running batches finish, start no new ones
            if options.sleep and queue and not stop:
                audit.record(run.run_id)
                time.sleep(options.sleep)


class HistoryWouldChange(BackfillError):
    """--verify-first found stored rows that the backfill would change or remove."""


def check_history(project, info, plan, grain, accept_changes: bool, notify, vars: Optional[dict] = None) -> None:
    """Recompute the planned range and compare with what is stored (nothing is written)."""
    verified = verify_window(project, info, format_bound(plan[0].start), format_bound(plan[-1].end), grain,
                             vars=vars)
    notify("verified", verified)
    overwritten = [p for p in verified.periods if p.changed_keys or p.only_stored_keys]
    if overwritten and not accept_changes:
        shown = ", ".join(p.period for p in overwritten[:5]) + (" …" if len(overwritten) > 5 else "")
        raise HistoryWouldChange(
            f"Recomputing {info.name} would change stored history in {len(overwritten)} {grain}(s) ({shown}); "
            "nothing was written: pass --accept-changes to overwrite them."
        )


def check_concurrency(project: DbtProject) -> None:
    if project.adapter_type == "duckdb":
        raise InvalidInput(
            "--concurrency needs a warehouse that takes several writers: a DuckDB file is written by one "
            "process at a time, so use --concurrency 1."
        )


def plan_gaps(project, info, start, end, grain, batch_size, vars: Optional[dict] = None,
              max_batches: int = MAX_BATCHES) -> list[Batch]:
    return plan_batches_for_ranges(gap_windows(project, info, start, end, grain, vars=vars), grain, batch_size,
                                   max_batches)


def record_first_build(project: DbtProject, info: ModelInfo, batch: Batch, outcome: BatchOutcome) -> BatchOutcome:
    """The batch that created the model's table, as it really happened: a model that reads
    all history when its table does not exist yet (its window filter inside
    `is_incremental()`) wrote rows outside the window, and the batch's record says how
    many and over which range, with every row it wrote counted."""
    from dataclasses import replace

    try:
        written = rows_outside_window(project, info, batch)
    except Exception:  # recording what happened must not fail a batch that worked
        return outcome
    if not written or not written["outside_rows"]:
        return outcome
    detail = (f"the table did not exist: this batch created it with {written['total_rows']} rows, "
              f"{written['outside_rows']} of them outside its window ({written['first_value']} → "
              f"{written['last_value']}), since the model reads all history on a first build; the window "
              "filter (backfill.backfill_window) is what keeps a batch to its window")
    check = {"name": "first_build", "status": "warn", "detail": detail}
    return replace(outcome, rows_written=written["total_rows"], checks=[*outcome.checks, check])


def rows_outside_window(project: DbtProject, info: ModelInfo, batch: Batch) -> Optional[dict]:
    """{total_rows, outside_rows, first_value, last_value} of the model's table against a batch window."""
    column = info.period_column
    if not column:
        return None
    start, end = batch.window_vars().values()
    rows = project.query(
        f"{{%- set bounds = backfill.window_bounds({start!r}, {end!r}) -%}}"
        f"{{%- set period = adapter.quote({column.strip(chr(34))!r}) -%}}"
        "select count(*) as total_rows, "
        "coalesce(sum(case when {{ period }} >= {{ bounds.start }} and {{ period }} < {{ bounds.end_exclusive }} "
        "then 0 else 1 end), 0) as outside_rows, "
        "min({{ period }}) as first_value, max({{ period }}) as last_value "
        f"from {{{{ ref({info.package_name!r}, {info.name!r}) }}}}")
    row = rows[0]
    return {"total_rows": int(row["total_rows"]), "outside_rows": int(row["outside_rows"]),
            "first_value": _day_text(row["first_value"]), "last_value": _day_text(row["last_value"])}


def _day_text(value) -> str:
    if isinstance(value, datetime):
        return format_bound(value).removesuffix(" 00:00:00")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def why_a_rerun_cannot_help(project: DbtProject, info: ModelInfo, result: BatchResult) -> str:
    """Why rerunning a failed batch (all `resume` does) would fail the same way, or "" when it may not:
    its model run wrote no rows for the window, so the model has nothing to produce there — its
    sources have no rows then, or a snapshot it reads has no version yet for those days. A clause
    for "…: <reason>, then <do it> again."."""
    if result.rows_written != 0:
        return ""
    try:
        missing = snapshots_without_versions(project, info, result.batch)
    except Exception:  # explaining must not hide the failure itself
        missing = []
    if missing:
        names = "; ".join(f"{name} has no version before {first} (its first snapshot)" for name, first in missing)
        return (f"its rerun wrote no rows, because {names}: no state of it existed for those days, so `resume` "
                "would only fail the same way; backfill from the first snapshot on (or load that history into the "
                "snapshot)")
    return ("its rerun wrote no rows, because the source has none for that period, so `resume` would only fail "
            "the same way; load the missing source data (or exclude the period from the check)")


# -- helpers ----------------------------------------------------------------------


def _options_dict(options: Options) -> dict:
    return {k: getattr(options, k) for k in Options.__dataclass_fields__}


def _options_from_dict(values: dict) -> Options:
    return Options(**{k: v for k, v in values.items() if k in Options.__dataclass_fields__})
