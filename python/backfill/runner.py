"""Running a backfill: plan → check the model → run batch by batch → report.

`run_backfill` is the Python API (Airflow, Dagster, a notebook) and what the
CLI itself calls; it raises the same one-sentence errors the CLI prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from backfill.dbt_runner import DbtProject, ModelInfo
from backfill.errors import InvalidInput, UnsupportedModel
from backfill.planning import Batch, check_grain, parse_bound, plan_batches


@dataclass(frozen=True)
class BatchResult:
    batch: Batch
    status: str  # success | error
    seconds: float
    rows_affected: Optional[int] = None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "success"


@dataclass
class RunReport:
    model: ModelInfo
    grain: str
    plan: list[Batch]
    dry_run: bool = False
    results: list[BatchResult] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return len(self.results) == len(self.plan) and all(r.succeeded for r in self.results)

    @property
    def failed(self) -> list[BatchResult]:
        return [r for r in self.results if not r.succeeded]


# Progress callback: called with ("planned", RunReport) once, then
# ("batch_started", Batch) and ("batch_finished", BatchResult) per batch.
OnEvent = Callable[[str, object], None]


def check_backfillable(model: ModelInfo) -> None:
    if model.materialized != "incremental":
        raise UnsupportedModel(
            f"Model '{model.name}' is materialized as '{model.materialized}': only incremental "
            "models can be backfilled window by window."
        )


def plan_run(start, end, grain: str = "day", batch_size: int = 1) -> list[Batch]:
    """Validate the range options and plan the batches (no I/O)."""
    check_grain(grain)
    start_bound = parse_bound(start, grain, option="--start")
    end_bound = parse_bound(end, grain, option="--end", is_end=True)
    if end_bound < start_bound:
        raise InvalidInput(f"--start {start} is after --end {end}.")
    return plan_batches(start_bound, end_bound, grain, batch_size)


def run_backfill(
    model: str,
    start,
    end,
    *,
    grain: str = "day",
    batch_size: int = 1,
    vars: Optional[dict] = None,
    project_dir=".",
    profiles_dir=None,
    target: Optional[str] = None,
    dry_run: bool = False,
    on_event: Optional[OnEvent] = None,
    project: Optional[DbtProject] = None,
) -> RunReport:
    """Backfill `model` over the inclusive range [start, end], batch by batch.

    Each batch is one `dbt run` of the model with its window vars set; the run
    stops at the first failing batch, leaving the batches before it in place.
    """
    plan = plan_run(start, end, grain, batch_size)
    project = project or DbtProject(project_dir, profiles_dir, target, vars)
    info = project.model(model)
    check_backfillable(info)
    start_var, end_var = info.window_var_names
    clashing = sorted({start_var, end_var} & set(vars or {}))
    if clashing:
        raise InvalidInput(f"--vars sets {', '.join(clashing)}, which the runner sets for each batch.")
    report = RunReport(model=info, grain=grain, plan=plan, dry_run=dry_run)
    notify = on_event or (lambda kind, payload: None)
    notify("planned", report)
    if dry_run:
        return report
    for batch in plan:
        notify("batch_started", batch)
        started = time.monotonic()
        outcome = project.run_model(info, vars=batch.window_vars(start_var, end_var))
        result = BatchResult(
            batch=batch,
            status="success" if outcome.success else "error",
            seconds=time.monotonic() - started,
            rows_affected=outcome.rows_affected,
            message=outcome.message,
        )
        report.results.append(result)
        notify("batch_finished", result)
        if not result.succeeded:
            break
    return report
