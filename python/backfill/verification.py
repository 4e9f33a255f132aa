"""Verification of a batch after it ran, with the package's own builders:

- every period of the window is present: the model's `backfill.no_gaps` tests
  (their grain, min_rows, partition_by, where and list of excluded dates)
  applied to the window through `backfill.find_gaps`; without such a test, at
  least one row per period of the run's grain;
- the model's reconciliation tests that declare a `window_column` pass for the
  window (run through dbt with the batch's window vars).

Each check is a dict {name, status: pass|fail|warn, detail}; it goes into the
audit trail with the batch. A check whose test has `severity: warn` warns
instead of failing the batch.
"""

from __future__ import annotations

from typing import Optional

from backfill.dbt_runner import DbtProject, ModelInfo
from backfill.planning import Batch, format_bound


def verify_batch(project: DbtProject, model: ModelInfo, batch: Batch, rows: Optional[int], grain: str = "day") -> list[dict]:
    # An empty window is a missing period: the presence checks judge it, with the
    # severity the model's own no_gaps test gives it.
    checks = presence_checks(project, model, batch, grain)
    checks += reconciliation_checks(project, model, batch)
    return checks


def _check(name: str, passed: bool, severity: str, detail: str) -> dict:
    status = "pass" if passed else ("warn" if severity == "warn" else "fail")
    return {"name": name, "status": status, "detail": detail}


def tests_on(project: DbtProject, model: ModelInfo, test_macro: str) -> list:
    """The model's tests that use the package's generic test `test_macro`."""
    return [
        node for node in project.manifest.nodes.values()
        if node.resource_type == "test"
        and getattr(node, "test_metadata", None) is not None
        and f"macro.backfill.{test_macro}" in (node.depends_on.macros or [])
        and model.unique_id in (node.depends_on.nodes or [])
    ]


def presence_checks(project: DbtProject, model: ModelInfo, batch: Batch, grain: str) -> list[dict]:
    from backfill.gaps import find_gap_ranges

    declared = tests_on(project, model, "test_no_gaps")
    specs = [(node.name, node.test_metadata.kwargs or {}, str(node.config.severity).lower()) for node in declared]
    if not specs:
        specs = [("every_period_present", {"grain": grain}, "error")]
    checks = []
    for name, kwargs, severity in specs:
        exclude = kwargs.get("exclude")
        gaps = find_gap_ranges(
            project, model,
            column=kwargs.get("column_name"),
            grain=kwargs.get("grain", grain),
            start=format_bound(batch.start),
            end=format_bound(batch.end),
            partition_by=kwargs.get("partition_by") or (),
            min_rows=int(kwargs.get("min_rows", 1)),
            where=kwargs.get("where"),
            exclude=exclude if isinstance(exclude, (list, tuple)) else None,
        )
        missing = ", ".join(
            (format_bound(g.gap_start) if g.gap_start == g.gap_end else f"{format_bound(g.gap_start)} → {format_bound(g.gap_end)}")
            + (f" ({', '.join(f'{k}={v}' for k, v in g.partition.items())})" if g.partition else "")
            for g in gaps
        )
        detail = f"missing {missing}" if gaps else "every period present"
        checks.append(_check(name, not gaps, severity, detail))
    return checks


def reconciliation_checks(project: DbtProject, model: ModelInfo, batch: Batch) -> list[dict]:
    from backfill.reconcile import run_checks

    windowed = [
        node for prefix in ("count", "sum", "keys", "rows")
        for node in tests_on(project, model, f"test_reconcile_{prefix}")
        if (node.test_metadata.kwargs or {}).get("window_column")
    ]
    if not windowed:
        return []
    results = run_checks(project, select=[node.name for node in windowed], vars=batch.window_vars())
    checks = []
    for result in results:
        detail = "agrees" if result.passed else (result.message or f"{result.failures} failing group(s)")
        if result.worst and not result.passed:
            detail += ": " + "; ".join(str({k: v for k, v in row.items() if v is not None}) for row in result.worst[:3])
        status = {"pass": "pass", "warn": "warn"}.get(result.status, "fail")
        checks.append({"name": result.name, "status": status, "detail": detail})
    return checks
