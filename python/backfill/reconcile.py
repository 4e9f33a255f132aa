"""Run the reconciliation tests through dbt and read back what they found.

The tests (`backfill.reconcile_count`, `_sum`, `_keys`, `_rows`) are the one
source of truth: this module selects them, runs `dbt test --store-failures` on
the parsed manifest, and reads only their results — the status and failure
count dbt reports, and a few of the failing rows dbt stored. A test configured
`store_failures: false` stores nothing (and a table left by an earlier run is
stale), so its failing rows are read from its own query, compiled again and
run where the data is. No table is read into Python to be compared.

    from backfill.reconcile import run_checks
    results = run_checks(DbtProject("."), select=["source:reference_raw"])
"""

from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from typing import TYPE_CHECKING

from backfill.errors import DbtProjectError, InvalidInput

if TYPE_CHECKING:
    from backfill.dbt import DbtProject, TestInfo
    from backfill.model import ModelInfo

# test_metadata.name -> the kind of check it is
KINDS = {
    "reconcile_count": "count",
    "reconcile_sum": "sum",
    "reconcile_keys": "keys",
    "reconcile_rows": "rows",
}
WORST_ROWS = 5


@dataclass
class ReconcileResult:
    """One reconciliation test as it ran."""

    name: str
    unique_id: str
    kind: str  # count, sum, keys, rows
    model: str
    compare_model: str
    status: str  # pass, fail, warn, error
    failures: int
    message: str = ""
    group_by: list[str] = field(default_factory=list)
    key_columns: list[str] = field(default_factory=list)
    column: Optional[str] = None
    compare_column: Optional[str] = None
    summary: bool = False
    # the check declares window_column / compare_window_column, so --start/--end narrow it
    windowed: bool = False
    # count and sum: both sides' totals over every group, from the failing rows
    model_total: Any = None
    compare_total: Any = None
    groups_compared: Optional[int] = None
    # the stored failing rows (none when the test stores none: store_failures false):
    # the worst few, and how many of each issue
    failures_relation: Optional[str] = None
    worst: list[dict] = field(default_factory=list)
    issues: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict:
        return {key: _plain(value) for key, value in asdict(self).items()}


def is_reconciliation(test: "TestInfo") -> bool:
    """One of the package's reconciliation tests (its own macro, not a homonym of another package)."""
    return any(test.is_package_test(name) for name in KINDS)


def reconciliation_tests(project: "DbtProject") -> dict[str, "TestInfo"]:
    """Every enabled reconciliation test of the project, by unique_id.

    dbt keeps a test of a disabled node in the manifest, disabled (a check on
    a model or source the project turned off): those are not checks of this
    project. A test dbt disabled because a `ref` or
    `source` of it names nothing is not skipped silently: see `broken_tests`."""
    return {test.unique_id: test for test in project.tests() if is_reconciliation(test)}


def window_checks_of(project: "DbtProject", model: "ModelInfo") -> list["TestInfo"]:
    """The reconciliation tests that read `model` and declare a window column: what checks
    each batch of it, for the batch's window."""
    return [test for test in project.tests()
            if is_reconciliation(test) and test.reads(model.unique_id) and test.kwargs.get("window_column")]


def broken_tests(project: "DbtProject") -> dict[str, str]:
    """Reconciliation tests dbt disabled because a ref() or source() of theirs
    names nothing in the project, by unique_id, with the sentence that says so."""
    return {test.unique_id: reason for test, reason in _broken(project)}


def _broken(project: "DbtProject") -> list[tuple["TestInfo", str]]:
    names, sources = project.resource_names(), project.source_names()
    broken = []
    for test in project.disabled_tests():
        if not is_reconciliation(test):
            continue
        missing = [f"ref('{name}')" for package, name in test.refs
                   if not any(known == name and (not package or known_package == package)
                              for known_package, known in names)]
        missing += [f"source('{source}', '{table}')" for source, table in test.sources
                    if (source, table) not in sources]
        if missing:
            broken.append((test, f"{' and '.join(missing)} names nothing in this project (no such model, seed, "
                                 "snapshot or source), so dbt does not run this check."))
    return broken


def select_tests(project: "DbtProject", select: Optional[list[str]] = None) -> list["TestInfo"]:
    """The reconciliation tests that `select` (dbt selection syntax) names; all without it.
    A broken test (see `broken_tests`) is among them when nothing is selected, or when a
    selection names it."""
    tests = reconciliation_tests(project)
    broken = {test.unique_id: test for test, _ in _broken(project)}
    if select:
        chosen = project.select_tests(list(select))
        tests = {unique_id: test for unique_id, test in tests.items() if unique_id in chosen}
        broken = {unique_id: test for unique_id, test in broken.items() if test.name in select}
    tests.update(broken)
    if not tests:
        where = f" match --select {' '.join(select)}" if select else " are declared in this project"
        raise InvalidInput(f"No reconciliation tests (backfill.reconcile_*){where}.")
    return sorted(tests.values(), key=lambda test: test.unique_id)


def fresh_failures(project: "DbtProject", tests: list["TestInfo"], vars: Optional[dict] = None) -> dict[str, str]:
    """For tests that store no failing rows: each one's own query, compiled now
    with these vars, as a parenthesised query to select from (by unique_id).
    The rows it returns are the test's failing rows at this moment, never a
    table an earlier run left behind."""
    compiled = project.compile_tests(tests, vars=vars)
    # The SQL goes through dbt once more (`show --inline`): kept out of Jinja's reach.
    return {unique_id: "(\n{% raw %}" + code.strip().rstrip(";") + "{% endraw %}\n)"
            for unique_id, code in compiled.items()}


def run_checks(project: "DbtProject", select: Optional[list[str]] = None, vars: Optional[dict] = None,
               tests: Optional[list["TestInfo"]] = None, store_failures: bool = True) -> list[ReconcileResult]:
    """Run the selected reconciliation tests (or exactly `tests`) in one `dbt test` and
    report each. Without `store_failures` (a batch's checks: most pass, and storing
    costs a table each time) the failing ones' rows are read from their own queries."""
    tests = select_tests(project, select) if tests is None else tests
    broken = broken_tests(project)
    runnable = [test for test in tests if test.unique_id not in broken]
    runs = {}
    if runnable:
        try:
            runs = project.run_tests(runnable, vars=vars, store_failures=store_failures)
        except DbtProjectError as error:
            raise DbtProjectError(
                f"dbt could not run the reconciliation tests: {error.message.split(': ', 1)[-1]}") from None
    labels = _RelationLabels(project, vars)
    checks = []
    for test in tests:
        check = _describe(test, labels)
        if test.unique_id in broken:
            check.status, check.message = "error", broken[test.unique_id]
            checks.append(check)
            continue
        run = runs[test.unique_id]
        check.status = "error" if run.status == "not run" else run.status
        check.failures, check.message = run.failures, _sentence(run.message)
        check.failures_relation = run.failures_relation if test.stores_failures else None
        checks.append(check)
    failing = [(test, check) for test, check in zip(tests, checks) if check.status in ("fail", "warn")]
    fresh = fresh_failures(project, [test for test, check in failing if not check.failures_relation], vars)
    for test, check in failing:
        source = check.failures_relation or fresh.get(test.unique_id)
        if source:
            _read_failures(project, check, source)
        else:  # the count dbt reported stands alone; never rows from elsewhere
            check.message = check.message or (
                "details not read (store_failures: false, and dbt could not compile the test again).")
    return checks


def _describe(test: "TestInfo", labels: Optional["_RelationLabels"] = None) -> ReconcileResult:
    kwargs = test.kwargs
    kind = KINDS[test.test_name]
    label = labels.label if labels is not None else _relation_label
    return ReconcileResult(
        name=test.name,
        unique_id=test.unique_id,
        kind=kind,
        model=label(kwargs.get("model")),
        compare_model=label(kwargs.get("compare_model")),
        status="",
        failures=0,
        group_by=as_list(kwargs.get("group_by")),
        key_columns=as_list(kwargs.get("key_columns") or kwargs.get("column_name")) if kind in ("keys", "rows") else [],
        column=(kwargs.get("column") or kwargs.get("column_name")) if kind == "sum" else None,
        compare_column=kwargs.get("compare_column") if kind == "sum" else None,
        summary=bool(kwargs.get("summary")) if kind == "rows" else False,
        windowed=bool(kwargs.get("window_column") or kwargs.get("compare_window_column")),
    )


def _read_failures(project: "DbtProject", check: ReconcileResult, source: str) -> None:
    """The few rows a person reads first, from `source`: the relation dbt stored
    the failures in, or the test's own query (see `fresh_failures`)."""
    if check.kind in ("count", "sum"):
        rows = project.query(f"select * from {source} as stored order by abs(difference) desc limit {WORST_ROWS}")
        if rows:
            check.model_total = rows[0].get("model_total")
            check.compare_total = rows[0].get("compare_total")
            check.groups_compared = rows[0].get("groups_compared")
        skip = {"model_total", "compare_total", "groups_compared"}
        check.worst = [{k: v for k, v in row.items() if k not in skip} for row in rows]
    elif check.kind == "rows" and check.summary:
        check.worst = project.query(f"select * from {source} as stored order by column_name")
    else:
        # One query: the count of each issue (per column for rows), and a few examples of each.
        detail = "issue, column_name" if check.kind == "rows" else "issue"
        rows = project.query(
            f"select * from (select stored.*, count(*) over (partition by {detail}) as issue_rows, "
            f"row_number() over (partition by {detail} order by {detail}) as issue_example "
            f"from {source} as stored) as examples where issue_example <= {WORST_ROWS} "
            f"order by issue_rows desc, {detail}"
        )
        for row in rows:
            # "missing in compare_model", or for a column of rows: "email: values differ"
            label = f"{row['column_name']}: {row['issue']}" if row.get("column_name") else str(row["issue"])
            check.issues[label] = int(row.pop("issue_rows"))
            row.pop("issue_example")
        check.worst = rows[:WORST_ROWS]


def history_rows(checks: list[ReconcileResult], invocation_id: str, vars: Optional[dict] = None) -> list[dict]:
    """One row per check for the history table (see macros/reconcile/append_reconcile_history.sql).
    The window is recorded only for checks it narrowed (those that declare window columns)."""
    vars = vars or {}
    return [
        {
            "invocation_id": invocation_id,
            "check_name": check.name,
            "unique_id": check.unique_id,
            "kind": check.kind,
            "model": check.model,
            "compare_model": check.compare_model,
            "status": check.status,
            "failures": check.failures,
            "model_total": _number(check.model_total),
            "compare_total": _number(check.compare_total),
            "window_start": _text(vars.get("start_date")) if check.windowed else None,
            "window_end": _text(vars.get("end_date")) if check.windowed else None,
            "message": check.message or None,
        }
        for check in checks
    ]


def append_history(project: "DbtProject", checks: list[ReconcileResult], invocation_id: str, vars=None) -> None:
    """Append the results to the history table with a run-operation (values bound, not pasted)."""
    project.operation("backfill.append_reconcile_history", {"checks": history_rows(checks, invocation_id, vars)},
                      "Could not append to the reconcile history")


# -- small helpers ---------------------------------------------------------------

_RELATION = re.compile(r"""(ref|source)\(\s*(['"][^'"]+['"](?:\s*,\s*['"][^'"]+['"])?)\s*\)""")


def _relation_label(text: Optional[str]) -> str:
    """`{{ get_where_subquery(source('raw', 'orders')) }}` -> `raw.orders`; `ref('x')` -> `x`."""
    if not text:
        return ""
    match = _RELATION.search(str(text))
    if not match:
        return str(text).strip()
    return ".".join(part.strip().strip("'\"") for part in match.group(2).split(","))


class _RelationLabels:
    """Relation labels for the report, a relation name written with Jinja
    (`"{{ target.schema }}.billing"`) shown as dbt renders it (`analytics.billing`):
    with the target and vars in use; left as written when it needs more than that."""

    def __init__(self, project: "DbtProject", vars: Optional[dict] = None):
        self.project = project
        self.vars = {**project.vars, **(vars or {})}
        self._context = None

    def label(self, text: Optional[str]) -> str:
        label = _relation_label(text)
        if "{{" not in label and "{%" not in label:
            return label
        try:
            import jinja2.sandbox

            environment = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
            return environment.from_string(label).render(self.context()).strip()
        except Exception:  # anything dbt's own context would be needed for: shown as written
            return label

    def context(self) -> dict:
        if self._context is None:
            import os

            credentials, target_name = self.project.credentials_and_target()
            target = {"name": target_name, "target_name": target_name, "type": credentials.type,
                      "schema": credentials.schema, "database": credentials.database}
            variables = self.vars

            def var(name, default=None):
                if name not in variables and default is None:
                    raise KeyError(name)
                return variables.get(name, default)

            self._context = {"target": target, "var": var,
                             "env_var": lambda name, default=None: os.environ.get(name, default)}
        return self._context


def _sentence(message: str) -> str:
    """dbt's compilation error cut to the package's own sentence: without the
    `Compilation Error in test x (path)` it opens with and the `> in macro ...`
    call stack it ends with."""
    text = re.sub(r"^Compilation Error in test \S+ \([^)]*\)\s*", "", message or "")
    return text.split(" > in macro ", 1)[0].strip()


def as_list(value) -> list[str]:
    """One column name or a list of them, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _plain(value):
    """Values as JSON has them: decimals as numbers, dates as ISO text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _number(value) -> Optional[float]:
    return None if value is None else float(value)


def _text(value) -> Optional[str]:
    return None if value is None else str(value)
