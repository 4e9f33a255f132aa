"""Running one batch: the model for its window, its rows counted, then the
window's checks (`batch_checks`).

Used by the runner in its own process and by the worker processes of
`--concurrency`; everything it returns is plain data (picklable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from backfill.batch_checks import check_batch
from backfill.dbt import DbtProject
from backfill.model import ModelInfo
from backfill.planning import Batch


@dataclass(frozen=True)
class BatchOutcome:
    success: bool
    seconds: float
    rows_written: Optional[int] = None
    error: str = ""
    checks: list = field(default_factory=list)  # [{name, status, detail}]
    written: bool = False  # the model run wrote the window (whatever its checks said)


def run_window(project: DbtProject, model: ModelInfo, batch: Batch, vars: Optional[dict] = None):
    """`dbt run` of the model for the batch window: vars, or microbatch's event-time flags;
    `vars` are the run's own (--vars), passed with every batch. A table (of a run over a
    selection) is rebuilt whole: it has no window."""
    if not model.is_incremental:
        return project.run_model(model, vars=dict(vars or {}))
    if model.is_microbatch:
        return project.run_model(model, vars=dict(vars or {}), event_time=batch.event_time_bounds())
    return project.run_model(model, vars={**(vars or {}), **batch.window_vars(*model.window_var_names)})


def rows_in_window(project: DbtProject, model: ModelInfo, batch: Batch) -> Optional[int]:
    """How many rows of the model's table fall in the batch window now."""
    column = model.period_column
    if not column or not model.relation_name:
        return None
    start, end = batch.window_vars().values()
    return int(project.macro_value("backfill.rows_in_window", {
        "relation": model.relation_name, "column": column, "start_value": start, "end_value": end}))


def execute_batch(project: DbtProject, model: ModelInfo, batch: Batch, verify: bool = True, grain: str = "day",
                  vars: Optional[dict] = None, later: tuple[str, ...] = ()) -> BatchOutcome:
    """Run one batch and, when asked, verify it; never raises for a failing batch.

    A batch whose checks fail after its model run has written the window is
    `written`: its rows stay (they are what the model produces for the window now),
    and the runner records it as written with its checks failed, not as nothing done.
    `later`: in a run over a selection, the models it rewrites after this one (check_batch)."""
    started = time.monotonic()
    written, rows = False, None
    try:
        outcome = run_window(project, model, batch, vars)
        if not outcome.success:
            return BatchOutcome(False, time.monotonic() - started, error=outcome.message)
        written = True
        # PostgreSQL reports the rows the window's insert wrote; DuckDB does not, so count them.
        rows = outcome.rows_affected
        if model.is_incremental and (rows is None or model.is_microbatch):
            rows = rows_in_window(project, model, batch)
        # A table rebuilt whole is checked over the windows its parents rewrote, when it has a period column.
        checks = check_batch(project, model, batch, grain, vars, later) \
            if verify and (model.is_incremental or model.period_column) else []
        failed = [c for c in checks if c["status"] == "fail"]
        error = "; ".join(f"{c['name']}: {c['detail']}" for c in failed)
        return BatchOutcome(not failed, time.monotonic() - started, rows, error, checks, written=True)
    except Exception as error:  # a broken connection mid-run must fail the batch, not the runner
        return BatchOutcome(False, time.monotonic() - started, rows, error=f"{type(error).__name__}: {error}",
                            written=written)


# -- worker processes for --concurrency ------------------------------------------

_worker_project: Optional[DbtProject] = None


def init_worker(project_dir, profiles_dir, target, vars) -> None:
    """Each worker parses the project once and keeps its own connection."""
    global _worker_project
    _worker_project = DbtProject(project_dir, profiles_dir, target, vars)
    _worker_project.parse()


def worker_execute(model_name: str, batch: Batch, verify: bool, grain: str, vars: dict) -> BatchOutcome:
    model = _worker_project.model(model_name)
    return execute_batch(_worker_project, model, batch, verify, grain, vars)
