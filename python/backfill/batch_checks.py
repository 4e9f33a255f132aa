"""The checks after a batch ran, with the package's own builders:

- every period of the window is present: each of the model's `backfill.no_gaps`
  tests applied by `backfill.find_gaps` as dbt applies it (its own grain,
  min_rows, partition_by, exclude, rendered by dbt, and its `where` config),
  with the window in place of its start and end, judged over the periods of its
  grain that lie wholly inside the window; without such a test, at least one row
  per period of the run's grain;
- the model's reconciliation tests that declare a `window_column` pass for the
  window (run through dbt with the batch's window vars).

Each check is a dict {name, status: pass|fail|warn, detail}; it goes into the
audit trail with the batch. A check whose test has `severity: warn` warns
instead of failing the batch.
"""

from __future__ import annotations

from typing import Optional

from backfill import no_gaps
from backfill.dbt import DbtProject
from backfill.model import ModelInfo
from backfill.periods import after, as_bound, format_bound
from backfill.planning import Batch
from backfill.reconcile import run_checks, window_checks_of


def check_batch(project: DbtProject, model: ModelInfo, batch: Batch, grain: str = "day",
                vars: Optional[dict] = None, later: tuple[str, ...] = ()) -> list[dict]:
    """Every check of a batch's window, after its model run; `vars`: the run's own --vars.
    An empty window is a missing period: the gap checks judge it, with the severity the
    model's own no_gaps test gives it. `later`: the unique_ids of the models a run over a
    selection rewrites after this one (see reconciliation_checks)."""
    # The model's own table is read afresh when its run may have changed its columns.
    with project.columns_read_once(written=None if model.keeps_its_columns else model):
        return (gap_checks(project, model, batch, grain, vars)
                + reconciliation_checks(project, model, batch, vars, later))


def _check(name: str, passed: bool, severity: str, detail: str) -> dict:
    status = "pass" if passed else ("warn" if severity == "warn" else "fail")
    return {"name": name, "status": status, "detail": detail}


def gap_checks(project: DbtProject, model: ModelInfo, batch: Batch, grain: str,
               vars: Optional[dict] = None) -> list[dict]:
    """The model's no_gaps tests (or the plain check) over the whole periods inside the window."""
    checks = []
    for check in no_gaps.no_gaps_checks(project, model, grain):
        outcome = no_gaps.apply_check(project, model, check, batch.start, batch.end, whole_periods=True, vars=vars)
        if not outcome.checked:
            detail = f"no whole {outcome.grain} lies inside the window: not checked"
        elif outcome.ranges:
            detail = "missing " + ", ".join(_missing_range(gap) for gap in outcome.ranges)
        else:
            detail = "every period present"
        checks.append(_check(check.name, not outcome.ranges, check.severity, detail))
    return checks


def _missing_range(gap) -> str:
    span = format_bound(gap.gap_start) if gap.gap_start == gap.gap_end else (
        f"{format_bound(gap.gap_start)} → {format_bound(gap.gap_end)}")
    if not gap.partition:
        return span
    values = ", ".join(f"{name}={'null' if value is None else value}" for name, value in gap.partition.items())
    return f"{span} ({values})"


def reconciliation_checks(project: DbtProject, model: ModelInfo, batch: Batch,
                          vars: Optional[dict] = None, later: tuple[str, ...] = ()) -> list[dict]:
    """The model's reconciliation tests that declare a window column, for the batch's window.

    A test that also reads a model rewritten `later` in the same run (a child compared with
    its parent) is that model's check: run now, it would judge a child its parent's new
    window has not reached yet, at the parent's grain."""
    windowed = [test for test in window_checks_of(project, model) if not any(map(test.reads, later))]
    if not windowed:
        return []
    results = run_checks(project, tests=windowed, vars={**(vars or {}), **batch.window_vars()}, store_failures=False)
    checks = []
    for result in results:
        detail = "agrees" if result.passed else (result.message or f"{result.failures} failing group(s)")
        if result.worst and not result.passed:
            detail += ": " + "; ".join(str({k: v for k, v in row.items() if v is not None}) for row in result.worst[:3])
        status = {"pass": "pass", "warn": "warn"}.get(result.status, "fail")
        checks.append({"name": result.name, "status": status, "detail": detail})
    return checks


def snapshots_without_versions(project: DbtProject, model: ModelInfo, batch: Batch) -> list[tuple[str, str]]:
    """The snapshots `model` reads whose first version begins after the batch window:
    (snapshot name, first version's start) each. Such a window has no state to read."""
    window_end = after(batch.end)
    found = []
    for snapshot in project.snapshot_parents(model):
        rows = project.query(
            f"select min({{{{ adapter.quote({snapshot.valid_from!r}) }}}}) as first_version "
            f"from {{{{ ref({snapshot.package_name!r}, {snapshot.name!r}) }}}}")
        first = as_bound(rows[0]["first_version"], "hour") if rows and rows[0]["first_version"] is not None else None
        if first is not None and first >= window_end:
            found.append((snapshot.name, format_bound(first).removesuffix(" 00:00:00")))
    return found
