"""Run the reconciliation tests through dbt and read back what they found.

The tests (`backfill.reconcile_count`, `_sum`, `_keys`, `_rows`) are the one
source of truth: this module selects them, runs `dbt test --store-failures` on
the parsed manifest, and reads only their results — the status and failure
count dbt reports, and a few of the failing rows dbt stored. No table is read
into Python to be compared.

    from backfill.reconcile import run_checks
    results = run_checks(DbtProject("."), select=["source:reference_raw"])
"""

from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from backfill.dbt_runner import DbtProject, describe_failure
from backfill.errors import DbtProjectError, InvalidInput

# test_metadata.name -> the kind of check it is
KINDS = {
    "reconcile_count": "count",
    "reconcile_sum": "sum",
    "reconcile_keys": "keys",
    "reconcile_rows": "rows",
}
WORST_ROWS = 5


@dataclass
class CheckResult:
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
    # count and sum: both sides' totals over every group, from the failing rows
    model_total: Any = None
    compare_total: Any = None
    groups_compared: Optional[int] = None
    # the stored failing rows: the worst few, and how many of each issue
    failures_relation: Optional[str] = None
    worst: list[dict] = field(default_factory=list)
    issues: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict:
        return {key: _plain(value) for key, value in asdict(self).items()}


def reconciliation_tests(project: DbtProject) -> dict[str, Any]:
    """Every reconciliation test of the project, by unique_id."""
    tests = {}
    for node in project.manifest.nodes.values():
        metadata = getattr(node, "test_metadata", None)
        if node.resource_type != "test" or metadata is None or metadata.name not in KINDS:
            continue
        # The package's own test macro, not a homonym from another package.
        if f"macro.backfill.test_{metadata.name}" in (node.depends_on.macros or []):
            tests[node.unique_id] = node
    return tests


def select_tests(project: DbtProject, select: Optional[list[str]] = None) -> list[Any]:
    """The reconciliation tests that `select` (dbt selection syntax) names; all without it."""
    tests = reconciliation_tests(project)
    if select:
        listed = project.invoke(
            ["ls", "--resource-type", "test", "--output", "json", "--output-keys", "unique_id", "--select", *select]
        )
        if not listed.success:
            raise InvalidInput(f"--select {' '.join(select)} is not a valid dbt selection: {describe_failure(listed)}")
        chosen = {_unique_id(line) for line in listed.result or []}
        tests = {unique_id: node for unique_id, node in tests.items() if unique_id in chosen}
    if not tests:
        where = f" match --select {' '.join(select)}" if select else " are declared in this project"
        raise InvalidInput(f"No reconciliation tests (backfill.reconcile_*){where}.")
    return sorted(tests.values(), key=lambda node: node.unique_id)


def run_checks(project: DbtProject, select: Optional[list[str]] = None, vars: Optional[dict] = None) -> list[CheckResult]:
    """Run the selected reconciliation tests in one `dbt test` and report each."""
    nodes = select_tests(project, select)
    try:
        runs = project.run_tests(nodes, vars=vars)
    except DbtProjectError as error:
        raise DbtProjectError(f"dbt could not run the reconciliation tests: {error.message.split(': ', 1)[-1]}") from None
    checks = []
    for node in nodes:
        run = runs[node.unique_id]
        check = _describe(node)
        check.status = "error" if run.status == "not run" else run.status
        check.failures, check.message, check.failures_relation = run.failures, run.message, run.failures_relation
        if check.status in ("fail", "warn") and check.failures_relation:
            _read_failures(project, check)
        checks.append(check)
    return checks


def _describe(node) -> CheckResult:
    kwargs = node.test_metadata.kwargs or {}
    kind = KINDS[node.test_metadata.name]
    return CheckResult(
        name=node.name,
        unique_id=node.unique_id,
        kind=kind,
        model=_relation_label(kwargs.get("model")),
        compare_model=_relation_label(kwargs.get("compare_model")),
        status="",
        failures=0,
        group_by=_as_list(kwargs.get("group_by")),
        key_columns=_as_list(kwargs.get("key_columns") or kwargs.get("column_name")) if kind in ("keys", "rows") else [],
        column=(kwargs.get("column") or kwargs.get("column_name")) if kind == "sum" else None,
        compare_column=kwargs.get("compare_column") if kind == "sum" else None,
        summary=bool(kwargs.get("summary")) if kind == "rows" else False,
    )


def _read_failures(project: DbtProject, check: CheckResult) -> None:
    """The few rows a person reads first, from the relation dbt stored the failures in."""
    stored = check.failures_relation
    if check.kind in ("count", "sum"):
        rows = project.query(f"select * from {stored} order by abs(difference) desc limit {WORST_ROWS}")
        if rows:
            check.model_total = rows[0].get("model_total")
            check.compare_total = rows[0].get("compare_total")
            check.groups_compared = rows[0].get("groups_compared")
        skip = {"model_total", "compare_total", "groups_compared"}
        check.worst = [{k: v for k, v in row.items() if k not in skip} for row in rows]
    elif check.kind == "rows" and check.summary:
        check.worst = project.query(f"select * from {stored} order by column_name")
    else:
        # One query: the count of each issue (per column for rows), and a few examples of each.
        detail = "issue, column_name" if check.kind == "rows" else "issue"
        rows = project.query(
            f"select * from (select stored.*, count(*) over (partition by {detail}) as issue_rows, "
            f"row_number() over (partition by {detail} order by {detail}) as issue_example "
            f"from {stored} as stored) as examples where issue_example <= {WORST_ROWS} order by issue_rows desc, {detail}"
        )
        for row in rows:
            # "missing in compare_model", or for a column of rows: "email: values differ"
            label = f"{row['column_name']}: {row['issue']}" if row.get("column_name") else str(row["issue"])
            check.issues[label] = int(row.pop("issue_rows"))
            row.pop("issue_example")
        check.worst = rows[:WORST_ROWS]


def history_rows(checks: list[CheckResult], invocation_id: str, vars: Optional[dict] = None) -> list[dict]:
    """One row per check for the history table (see macros/reconcile/append_reconcile_history.sql)."""
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
            "window_start": _text(vars.get("start_date")),
            "window_end": _text(vars.get("end_date")),
            "message": check.message or None,
        }
        for check in checks
    ]


def append_history(project: DbtProject, checks: list[CheckResult], invocation_id: str, vars=None) -> None:
    """Append the results to the history table with a run-operation (values bound, not pasted)."""
    import json

    rows = history_rows(checks, invocation_id, vars)
    outcome = project.invoke(["run-operation", "backfill.append_reconcile_history", "--args", json.dumps({"checks": rows})])
    if not outcome.success:
        raise DbtProjectError(f"Could not append to the reconcile history: {describe_failure(outcome)}")


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


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _unique_id(line) -> str:
    import json

    try:
        return json.loads(line)["unique_id"]
    except (TypeError, ValueError, KeyError):
        return str(line)


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
