"""Repair: from the checks that fail, to the periods they point at, to a
verified backfill of exactly those periods.

    checks = repairable_checks(project, model, period)   which checks map to periods (and why not)
    before = run_period_checks(project, checks, ...)      run them, read the failing periods
    plan   = planning.plan_repair(periods, ...)           pure: merged windows, --max-periods
    run_backfill(windows=...)                             the same runner as `run`
    after  = run_period_checks(project, checks, ...)      the same checks again

A check maps to periods only when its failing rows name the model's period
column: `backfill.no_gaps` on that column (its failing rows are missing
ranges), `backfill.reconcile_*` grouped or keyed by it, dbt's `unique` on it.
Anything else is reported as not repairable and left alone, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from backfill.errors import BackfillFailed, InvalidInput
from backfill.model import (PLAIN_NAME, ModelInfo, check_backfillable, require_built, require_period_column,
                            same_column)
from backfill.periods import Bound, Window, as_bound, format_bound, parse_range, period_start
from backfill.planning import Batch, period_windows, plan_repair
from backfill.reconcile import as_list, fresh_failures
from backfill.runner import Options, run_backfill

if TYPE_CHECKING:
    from backfill.dbt import DbtProject, TestInfo

DEFAULT_MAX_PERIODS = 31

RECONCILE_KINDS = ("reconcile_count", "reconcile_sum", "reconcile_keys", "reconcile_rows")
# The reconciliation builders' own output columns: a key or group column named so comes out as key_n / group_n.
BUILDER_COLUMNS = frozenset({
    "model_value", "compare_value", "difference", "difference_pct", "missing_in", "model_rows", "compare_rows",
    "model_total", "compare_total", "groups_compared", "issue", "column_name", "compare_column_name"})


@dataclass(frozen=True)
class RepairableCheck:
    """One of the model's tests, and how its failing rows name periods (or why they cannot)."""

    name: str
    test: "TestInfo" = field(repr=False, compare=False)
    kind: str  # no_gaps, reconcile_count/_sum/_keys/_rows, unique, or dbt's test name
    period_output: Optional[str] = None  # the stored failures' column holding the period
    grain: Optional[str] = None  # no_gaps: the grain its gap ranges are in
    reason: Optional[str] = None  # why it cannot be mapped to periods

    @property
    def repairable(self) -> bool:
        return self.reason is None


@dataclass
class CheckPeriods:
    """A check as it ran: its status and the periods its failing rows name."""

    check: RepairableCheck
    status: str  # pass, fail, warn, error
    failures: int = 0
    periods: list[Bound] = field(default_factory=list)  # failing periods within the range
    outside: int = 0  # failing periods outside --start/--end, left alone
    unmapped: int = 0  # failing rows that name no period (a null period value)
    message: str = ""

    @property
    def failing(self) -> bool:
        return self.status in ("fail", "warn")

    @property
    def severity(self) -> str:
        """The check's severity config: `warn` leftovers are reported, not failed on (unless --warn-error)."""
        return self.check.test.severity

    def as_dict(self) -> dict:
        return {"name": self.check.name, "kind": self.check.kind, "status": self.status,
                "failures": self.failures, "periods": [format_bound(p) for p in self.periods],
                "outside_range": self.outside, "unmapped_rows": self.unmapped,
                **({"message": self.message} if self.message else {})}


@dataclass
class RepairReport:
    model: ModelInfo
    grain: str
    checks: list[RepairableCheck]
    before: list[CheckPeriods]
    plan: list[Batch] = field(default_factory=list)
    after: list[CheckPeriods] = field(default_factory=list)
    run: object = None  # the runner's RunReport, when batches ran
    confirmed: bool = False
    warn_error: bool = False  # checks of severity warn that still fail count as failures

    @property
    def periods(self) -> list[Bound]:
        return sorted({p for outcome in self.before for p in outcome.periods})

    @property
    def not_repairable(self) -> list[RepairableCheck]:
        return [c for c in self.checks if not c.repairable]

    def failing_before(self, period: Bound) -> list[str]:
        return [o.check.name for o in self.before if period in o.periods]

    def failing_after(self, period: Bound) -> list[str]:
        return [o.check.name for o in self.after if period in o.periods]

    @property
    def still_failing(self) -> list[Bound]:
        return [p for p in self.periods if self.failing_after(p)]

    def failing_after_as_error(self, period: Bound) -> list[str]:
        """The checks still failing for `period` whose severity makes them failures."""
        return [o.check.name for o in self.after if period in o.periods
                and (self.warn_error or o.severity != "warn")]

    @property
    def still_failing_errors(self) -> list[Bound]:
        """Periods still failing a check of severity error (or any, with warn_error)."""
        return [p for p in self.periods if self.failing_after_as_error(p)]

    @property
    def still_warning(self) -> list[Bound]:
        """Periods that only checks of severity warn still fail: reported, not failed on."""
        return [p for p in self.still_failing if p not in self.still_failing_errors]

    @property
    def succeeded(self) -> bool:
        """Every period the checks pointed at was rewritten and passes now, but for
        what checks of severity warn still report (a day the source can never fill),
        unless warn_error."""
        if not self.periods:
            return True
        return bool(self.after) and self.run is not None and self.run.succeeded and not self.still_failing_errors

    @property
    def newly_failing(self) -> list[Bound]:
        """Periods failing a check (of severity error, or any with warn_error) after the repair
        that passed before it: a child a parent's rewrite broke (`repair --select`)."""
        before = set(self.periods)
        return sorted({p for o in self.after for p in o.periods if p not in before
                       and (self.warn_error or o.severity != "warn")})

    def period_rows(self) -> list[dict]:
        return [{"period": format_bound(p), "before": self.failing_before(p),
                 "after": self.failing_after(p) if self.after else None} for p in self.periods]

    def as_dict(self) -> dict:
        return {
            "model": self.model.name,
            "grain": self.grain,
            "run_id": getattr(self.run, "run_id", None),
            "periods": self.period_rows(),
            "checks_before": [o.as_dict() for o in self.before],
            "checks_after": [o.as_dict() for o in self.after],
            "not_repairable": [{"name": c.name, "reason": c.reason} for c in self.not_repairable],
            "batches": [{"index": b.index, "start": format_bound(b.start), "end": format_bound(b.end)}
                        for b in self.plan],
            "still_warning": [format_bound(p) for p in self.still_warning] if self.after else [],
            "succeeded": self.succeeded,
        }


class RepairFailed(BackfillFailed):
    """A check could not run, or periods still fail after the repair."""


# -- which checks map to periods ----------------------------------------------------


def repairable_checks(project: "DbtProject", model: ModelInfo, period_col: str, names=()) -> list[RepairableCheck]:
    """The model's enabled tests (declared on it, or reconciliations comparing with it),
    each with how its failures map to periods or why they cannot."""
    tests = [test for test in project.tests() if _checks_model(test, model)]
    if names:
        by_name = {test.name: test for test in tests}
        unknown = [name for name in names if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise InvalidInput(f"{model.name} has no check named {', '.join(unknown)} (its checks: {known}).")
        tests = [by_name[name] for name in dict.fromkeys(names)]
    return [classify(test, model, period_col) for test in sorted(tests, key=lambda t: t.name)]


def classify(test: "TestInfo", model: ModelInfo, period_col: str) -> RepairableCheck:
    kind = test.test_name or "singular"
    kwargs = test.kwargs

    def refused(reason: str) -> RepairableCheck:
        return RepairableCheck(test.name, test, kind, reason=reason)

    if test.is_package_test("no_gaps"):
        if not same_column(kwargs.get("column_name"), period_col):
            return refused(f"it checks {kwargs.get('column_name')}, not the period column {period_col}")
        # With partition_by, a partition missing a period still names the period: it is rerun whole.
        return RepairableCheck(test.name, test, kind, grain=str(kwargs.get("grain", "day")))
    if kind in RECONCILE_KINDS and test.is_package_test(kind):
        return _classify_reconcile(test, kind, kwargs, model, period_col)
    if kind == "unique" and test.namespace is None:
        if same_column(kwargs.get("column_name"), period_col):
            return RepairableCheck(test.name, test, kind, period_output="unique_field")
        return refused(f"it is on {kwargs.get('column_name')}, not the period column {period_col}")
    return refused(f"its failing rows are not grouped by the period column {period_col}")


def _classify_reconcile(test: "TestInfo", kind: str, kwargs: dict, model: ModelInfo,
                        period_col: str) -> RepairableCheck:
    by_key = kind in ("reconcile_keys", "reconcile_rows")
    if kind == "reconcile_rows" and kwargs.get("summary"):
        return RepairableCheck(test.name, test, kind, reason="it reports per column (summary: true), not per period")
    model_side = as_list(kwargs.get("key_columns") or kwargs.get("column_name")) if by_key else as_list(
        kwargs.get("group_by"))
    if test.attached_node == model.unique_id:
        columns = model_side
    else:  # the model is the compare side: its names are the compare_* ones, in the same order
        columns = as_list(kwargs.get("compare_key_columns" if by_key else "compare_group_by")) or model_side
    what = "keyed" if by_key else "grouped"
    positions = [i for i, column in enumerate(columns) if same_column(column, period_col)]
    if not positions:
        shown = ", ".join(columns) if columns else "nothing"
        return RepairableCheck(test.name, test, kind,
                               reason=f"it is {what} by {shown}, not by the period column {period_col}")
    position = positions[0]
    # The failing rows carry the model side's names (plain names) or key_n / group_n: for an
    # expression, and for a name the builders use for their own columns (macros/reconcile/_reconcile_output_name.sql).
    output = model_side[position].strip()
    prefix = "key" if by_key else "group"
    own_name = output.lower() in BUILDER_COLUMNS or re.match(r"^(group|key)_[0-9]+$", output.lower())
    period_output = f'"{output}"' if PLAIN_NAME.match(output) and not own_name else f"{prefix}_{position + 1}"
    return RepairableCheck(test.name, test, kind, period_output=period_output)


def _checks_model(test: "TestInfo", model: ModelInfo) -> bool:
    if test.attached_node == model.unique_id:
        return True
    return any(test.is_package_test(kind) for kind in RECONCILE_KINDS) and test.reads(model.unique_id)


# -- running them --------------------------------------------------------------------


def run_period_checks(project: "DbtProject", checks: list[RepairableCheck], grain: str,
                      start: Optional[Bound] = None, end: Optional[Bound] = None) -> list[CheckPeriods]:
    """Run the repairable checks in one `dbt test --store-failures` and read the
    failing periods they store. With a range, reconciliations that declare a
    window_column compare only that window, and periods outside it are counted,
    not returned."""
    runnable = [c for c in checks if c.repairable]
    if not runnable:
        return []
    window = None
    if start is not None and end is not None:
        last = Window.of_periods(start, end, grain).inclusive(grain)[1]
        window = {"start_date": format_bound(start), "end_date": format_bound(last)}
    runs = project.run_tests([c.test for c in runnable], vars=window)
    outcomes = []
    for check in runnable:
        run = runs[check.test.unique_id]
        outcome = CheckPeriods(check, "error" if run.status == "not run" else run.status, run.failures,
                               message=run.message)
        outcomes.append(outcome)
    # A check that stores no failures (store_failures: false) is read from its own query, run now:
    # a table an earlier run left behind would name stale periods.
    failing = [o for o in outcomes if o.failing]
    fresh = fresh_failures(project, [o.check.test for o in failing if not o.check.test.stores_failures], window)
    asked = Window.of_bounds(start, end, grain) if start is not None or end is not None else None
    for outcome in failing:
        test = outcome.check.test
        source = runs[test.unique_id].failures_relation if test.stores_failures else fresh.get(test.unique_id)
        if source:
            periods, unmapped = _failing_periods(project, outcome.check, source, grain)
            inside = [p for p in periods if asked is None or Window.of_periods(p, p, grain).overlaps(asked)]
            outcome.periods, outcome.outside, outcome.unmapped = inside, len(periods) - len(inside), unmapped
        else:  # no period is guessed, nor read from a table an earlier run left behind
            outcome.message = outcome.message or (
                "its failing rows could not be read (store_failures: false, and dbt could not compile it again)")
    return outcomes


def _failing_periods(project: "DbtProject", check: RepairableCheck, source: str,
                     grain: str) -> tuple[list[Bound], int]:
    """The periods the failing rows in `source` (the stored relation, or the check's own query) name."""
    if check.kind == "no_gaps":
        rows = project.query(f"select gap_start, gap_end from {source} as failing_rows")
        periods, unmapped = set(), 0
        for row in rows:
            if row["gap_start"] is None:  # no rows at all and no start: nothing names the periods
                unmapped += 1
                continue
            periods.update(gap_periods(row["gap_start"], row["gap_end"], check.grain, grain))
        return sorted(periods), unmapped
    output = check.period_output
    if output.startswith('"') and output.endswith('"'):  # a user's column name: quoted as the warehouse quotes
        output = f"{{{{ adapter.quote({output[1:-1]!r}) }}}}"
    rows = project.query(f"select distinct {output} as failing_period from {source} as failing_rows")
    values = [row["failing_period"] for row in rows]
    periods = {period_start(as_bound(v, grain), grain) for v in values if v is not None}
    return sorted(periods), sum(v is None for v in values)


def gap_periods(gap_start, gap_end, gap_grain: str, grain: str) -> list[Bound]:
    """The periods of `grain` a missing range of `gap_grain` periods covers
    (a missing day is 24 hours; a missing hour is its day)."""
    return Window.of_periods(as_bound(gap_start, gap_grain), as_bound(gap_end, gap_grain), gap_grain).periods(grain)


# -- the whole repair ----------------------------------------------------------------

REPAIR_NEEDS_A_TABLE = "repairing it (a first run builds it: python -m backfill run or dbt run)"


def _checked_options(start, end, grain, batch_size, max_periods, vars, verify, retries):
    """The range's bounds (None, None without one), once every option is checked: before the
    checks run and store their failures."""
    if (start is None) != (end is None):
        raise InvalidInput("--start and --end go together: give both, or neither to repair every failing period.")
    bounds = parse_range(start, end, grain) if start is not None else (None, None)
    if not isinstance(max_periods, int) or max_periods < 1:
        raise InvalidInput(f"--max-periods must be a whole number, 1 or more (got {max_periods}).")
    Options(grain=grain, batch_size=batch_size, vars=dict(vars or {}), verify=verify, retries=retries).check()
    return bounds


def repair_model(
    model: Optional[str] = None,
    *,
    select=(),
    exclude=(),
    checks=(),
    start=None,
    end=None,
    grain: str = "day",
    batch_size: int = 1,
    max_periods: int = DEFAULT_MAX_PERIODS,
    vars: Optional[dict] = None,
    verify: bool = True,
    retries: int = 0,
    confirm: Callable[[RepairReport], bool] = lambda report: False,
    warn_error: bool = False,
    project_dir=".",
    profiles_dir=None,
    target: Optional[str] = None,
    on_event=None,
    project: Optional["DbtProject"] = None,
) -> RepairReport:
    """Find the periods the model's checks fail on, backfill exactly those (when
    `confirm(report)` says so), and run the same checks again. With `select` (dbt
    selectors, and `exclude`) in place of `model`: the selection's models together
    (a SelectionRepair, see repair_selection).

    Refuses (InvalidInput) before anything is written: an unknown check, a
    range without both ends, no check that maps to periods, more periods than
    `max_periods`. A check that errors raises RepairFailed, nothing written.
    """
    if bool(model) == bool(select):
        raise InvalidInput("Name the model to repair with --model, or the models with --select (one of the two).")
    if select and checks:
        raise InvalidInput("--check names one model's checks: use it with --model, not --select.")
    start_bound, end_bound = _checked_options(start, end, grain, batch_size, max_periods, vars, verify, retries)
    if project is None:
        from backfill.dbt import DbtProject

        project = DbtProject(project_dir, profiles_dir, target, vars)
    if select:
        return repair_selection(project, list(select), list(exclude), start_bound, end_bound, grain, batch_size,
                                max_periods, vars, verify, retries, confirm, warn_error, on_event)
    info = project.model(model)
    check_backfillable(info, verify)
    require_built(project, info, REPAIR_NEEDS_A_TABLE)
    found = repairable_checks(project, info, require_period_column(info), checks)
    if not any(c.repairable for c in found):
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in found)
        raise InvalidInput(f"No check of {info.name} can be mapped to periods, so nothing can be repaired"
                           + (f" ({reasons})." if reasons else ": it declares no checks."))

    report = RepairReport(info, grain, found, run_period_checks(project, found, grain, start_bound, end_bound),
                          warn_error=warn_error)
    broken = [o for o in report.before if o.status == "error"]
    if broken:
        raise RepairFailed(f"Check {broken[0].check.name} could not run ({broken[0].message or 'dbt error'}); "
                           "nothing was repaired.")
    report.plan = plan_repair(report.periods, grain, batch_size, max_periods)
    if not report.plan or not confirm(report):  # nothing failing, or not confirmed: nothing is written
        return report
    report.confirmed = True
    report.run = run_backfill(
        info.name, windows=[(format_bound(a), format_bound(b)) for a, b in period_windows(report.periods, grain)],
        grain=grain, batch_size=batch_size, vars=vars, verify=verify, retries=retries,
        notes={"repair": {"checks_before": [o.as_dict() for o in report.before],
                          "periods": report.period_rows()}},
        project=project, on_event=on_event,
    )
    report.after = run_period_checks(project, found, grain, start_bound, end_bound)
    _record_after(project, report)
    return report


def _record_after(project: "DbtProject", report: RepairReport) -> None:
    """The checks after the repair, and each period before → after, go into the run's audit record."""
    from backfill.audit import Audit

    Audit(project).add_notes(report.run.run_id, repair={
        "checks_before": [o.as_dict() for o in report.before],
        "checks_after": [o.as_dict() for o in report.after],
        "periods": report.period_rows(),
    })


# -- a selection: the parents' failing periods repaired with their children ---------------


@dataclass
class SelectionRepair:
    """`repair --select`: each incremental model's checks before and after, and the one run
    that rewrote every model's failing periods and the windows they imply downstream."""

    reports: list[RepairReport]  # parents first; a model with no repairable check has none
    plan: list[Batch] = field(default_factory=list)
    run: object = None
    confirmed: bool = False

    @property
    def periods(self) -> int:
        return sum(len(report.periods) for report in self.reports)

    @property
    def succeeded(self) -> bool:
        if not self.periods:
            return True
        return (self.run is not None and self.run.succeeded
                and all(report.succeeded and not report.newly_failing for report in self.reports))

    def as_dict(self) -> dict:
        return {"run_id": getattr(self.run, "run_id", None), "models": [r.as_dict() for r in self.reports],
                "batches": [{"index": b.index, "model": b.model, "start": format_bound(b.start),
                             "end": format_bound(b.end)} for b in self.plan],
                "succeeded": self.succeeded}


def repair_selection(project: "DbtProject", select: list, exclude: list, start_bound, end_bound, grain: str,
                     batch_size: int, max_periods: int, vars: Optional[dict], verify: bool, retries: int,
                     confirm: Callable[[SelectionRepair], bool], warn_error: bool, on_event) -> SelectionRepair:
    """Repair the incremental models of a dbt selection together (`repair_model(select=...)`, its
    options checked): each model's failing periods (its own checks, at its own grain) and,
    downstream, the windows a parent's rewrite implies, in one run, parents first
    (runner.run_backfill with `select`); then every model's checks again."""
    from backfill.selection import resolve_selection

    selection = resolve_selection(project, select, exclude, grain, verify, allow_append=False)
    reports = []
    for info in selection.models:
        if not info.is_incremental:
            continue
        require_built(project, info, REPAIR_NEEDS_A_TABLE)
        model_grain = selection.grains[info.name]
        # A check that also reads a model rewritten after this one is that model's (batch_checks).
        later = [model.unique_id for model in selection.models[selection.models.index(info) + 1:]]
        found = [check for check in repairable_checks(project, info, require_period_column(info))
                 if not any(map(check.test.reads, later))]
        before = run_period_checks(project, found, model_grain, start_bound, end_bound)
        broken = [o for o in before if o.status == "error"]
        if broken:
            raise RepairFailed(f"Check {broken[0].check.name} of {info.name} could not run "
                               f"({broken[0].message or 'dbt error'}); nothing was repaired.")
        report = RepairReport(info, model_grain, found, before, warn_error=warn_error)
        report.plan = plan_repair(report.periods, model_grain, batch_size, max_periods)
        reports.append(report)
    if not any(check.repairable for report in reports for check in report.checks):
        raise InvalidInput(f"No check of the models of --select {' '.join(select)} can be mapped to periods, so "
                           "nothing can be repaired.")
    repair = SelectionRepair(reports)
    windows = {report.model.name: [(format_bound(a), format_bound(b))
                                   for a, b in period_windows(report.periods, report.grain)]
               for report in reports if report.periods}
    common = dict(select=select, exclude=exclude, windows=windows, grain=grain, batch_size=batch_size,
                  vars=vars, verify=verify, retries=retries, project=project)
    if windows:
        repair.plan = run_backfill(dry_run=True, **common).plan
    if not repair.plan or not confirm(repair):
        return repair
    repair.confirmed = True
    repair.run = run_backfill(notes={"repair": _selection_notes(repair)}, on_event=on_event, **common)
    for report in reports:
        report.run = repair.run
        report.after = run_period_checks(project, report.checks, report.grain, start_bound, end_bound)
    from backfill.audit import Audit

    Audit(project).add_notes(repair.run.run_id, repair=_selection_notes(repair))
    return repair


def _selection_notes(repair: SelectionRepair) -> dict:
    """What the audit trail keeps of a repair over a selection: per model and period, before → after."""
    return {"periods": [{**row, "model": report.model.name} for report in repair.reports
                        for row in report.period_rows()],
            "checks_before": [{**o.as_dict(), "model": r.model.name} for r in repair.reports for o in r.before],
            "checks_after": [{**o.as_dict(), "model": r.model.name} for r in repair.reports for o in r.after]}

