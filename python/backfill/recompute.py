"""Recompute a window beside the stored table and compare the two: will a
backfill change history, and where? (`python -m backfill verify`, and what
`run --verify-first` asks before it writes.) The stored table is never touched.

    report = verify_window(project, project.model("daily_metrics"), "2024-01-01", "2024-01-31")
    if report.differs:
        print(report.summary())

1. Compile the model with the window vars (the SQL a backfill batch would run).
2. Materialise it into a scratch table `backfill_verify_<model>_<random>` in the
   model's schema; it is dropped afterwards, also when anything fails.
3. Compare stored and recomputed rows of the window with the reconciliation
   builders, `backfill.compare_counts` (rows per period) and
   `backfill.compare_rows` (rows matched on key, column by column): the
   comparison runs in the warehouse; only the per-period summary and a few
   sample keys come back.

The key a model is compared on: its `unique_key` config, else
`meta: {backfill: {key: [...]}}`, else the period column alone (one row per
period, like `daily_metrics`). The period column (`event_time`, or
`meta: {backfill: {period_column: ...}}`) is always part of the key, so every
differing key belongs to one period.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Optional

from typing import TYPE_CHECKING

from backfill.model import ModelInfo, key_columns, require_built, require_period_column, unquoted
from backfill.errors import BackfillError, DbtProjectError, InvalidInput, UnsupportedModel
from backfill.periods import check_grain, format_bound, parse_range, period_start

if TYPE_CHECKING:
    from backfill.dbt import DbtProject

SAMPLE_KEYS_PER_PERIOD = 5
SAMPLE_ROWS_FETCHED = 500


class VerifyError(BackfillError):
    """The window could not be recomputed; nothing stored was touched."""


@dataclass(frozen=True)
class PeriodDifference:
    """One period whose recomputation differs from what is stored."""

    period: str
    stored_count: int
    recomputed_count: int
    differing_keys: int
    changed_keys: int  # on both sides, other values (or duplicated)
    only_stored_keys: int  # a rerun would remove them
    only_recomputed_keys: int  # a rerun would add them
    sample_keys: list[dict] = field(default_factory=list)


@dataclass
class VerifyReport:
    model: str
    start: str
    end: str
    grain: str
    period_column: str
    key_columns: list[str]
    periods: list[PeriodDifference]
    seconds: float = 0.0

    @property
    def differs(self) -> bool:
        return bool(self.periods)

    def to_dict(self) -> dict:
        return {**asdict(self), "differs": self.differs}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def summary(self) -> str:
        """What a person reads: one line, then one line per differing period."""
        window = f"{self.model} {self.start} → {self.end}"
        keys = ", ".join(self.key_columns)
        if not self.differs:
            return f"{window}: the recomputation matches what is stored (compared on {keys}); a rerun changes nothing."
        lines = [
            f"{window}: {len(self.periods)} {self.grain}(s) would change if rerun (compared on {keys}):",
            f"  {'period':<19} {'stored':>7} {'recomputed':>10}  {'keys':>5}  {'changed':>7}  "
            f"{'only stored':>11}  {'only new':>8}  sample",
        ]
        for period in self.periods:
            sample = "; ".join(_describe_key(key) for key in period.sample_keys)
            lines.append(
                f"  {period.period:<19} {period.stored_count:>7} {period.recomputed_count:>10}  "
                f"{period.differing_keys:>5}  {period.changed_keys:>7}  {period.only_stored_keys:>11}  "
                f"{period.only_recomputed_keys:>8}  {sample}"
            )
        return "\n".join(lines)


def _describe_key(key: dict) -> str:
    values = ", ".join(f"{name}={_plain(value)}" for name, value in key["key"].items())
    return f"{values} ({key['issue']})"


def _plain(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# -- what is compared ---------------------------------------------------------------


def period_column_of(model: ModelInfo) -> str:
    """The model's period column, unquoted: what the builders quote and compare on."""
    return unquoted(require_period_column(model))


# -- the work -----------------------------------------------------------------------


def verify_window(
    project: "DbtProject",
    model: ModelInfo,
    start,
    end,
    grain: str = "day",
    *,
    precision: Optional[int] = None,
    vars: Optional[dict] = None,
) -> VerifyReport:
    """Recompute `model` over [start, end] into a scratch table and compare it with the stored rows.

    Raises the runner's one-sentence errors (exit 2) on bad input, an unknown or
    unbuilt model, or a window that does not compile; nothing stored is written.
    """
    started = time.monotonic()
    check_grain(grain)
    start_bound, end_bound = parse_range(start, end, grain)
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int) or precision < 0):
        raise InvalidInput(f"--precision is a number of decimal places, 0 or more (got {precision}).")
    period_column = period_column_of(model)
    keys = key_columns(model, period_column)
    start_var, end_var = model.window_var_names
    window_vars = {**(vars or {}), start_var: format_bound(start_bound), end_var: format_bound(end_bound)}

    require_built(project, model, "verifying a window")
    sql = _compiled_sql(project, model, window_vars)
    # The comparison queries are dbt's own inline nodes: they read the window from the default var names.
    compare_vars = {**(vars or {}), "start_date": format_bound(start_bound), "end_date": format_bound(end_bound)}
    scratch = {
        "database": model.database,
        "schema": model.schema,
        "identifier": f"backfill_verify_{model.name}"[:45].lower() + "_" + uuid.uuid4().hex[:12],
    }
    _operation(project, "create_scratch_table", {**scratch, "sql": sql}, "create the scratch table")
    try:
        _refuse_a_key_that_repeats(project, model, scratch, keys)
        periods = _compare(project, model, scratch, keys, period_column, grain, precision, compare_vars)
    except BaseException:
        # Drop it on any failure (Ctrl-C included), keeping the original error.
        try:
            _operation(project, "drop_scratch_table", scratch, "drop the scratch table")
        except Exception:
            pass
        raise
    _operation(project, "drop_scratch_table", scratch, "drop the scratch table")
    return VerifyReport(
        model=model.name,
        start=format_bound(start_bound),
        end=format_bound(end_bound),
        grain=grain,
        period_column=period_column,
        key_columns=keys,
        periods=periods,
        seconds=round(time.monotonic() - started, 2),
    )


class KeyNotUnique(UnsupportedModel):
    """The recomputed rows repeat the key verify matches them on: it would report changes that are not there."""


def _refuse_a_key_that_repeats(project: "DbtProject", model: ModelInfo, scratch: dict, keys: list[str]) -> None:
    """Rows are matched on `keys`; when the model's own logic produces several rows per key,
    every such key would look "duplicated" on both sides and be reported as a change. Refuse
    before comparing. (Repeated keys in the stored rows alone are real: a rerun removes them.)"""
    quoted = ", ".join(f"{{{{ adapter.quote({_jinja_string(key)}) }}}}" for key in keys)
    relation = (f"api.Relation.create(database={_jinja_string(scratch['database'] or '')} or none, "
                f"schema={_jinja_string(scratch['schema'])}, identifier={_jinja_string(scratch['identifier'])})")
    rows = project.query(
        f"select {quoted}, count(*) as key_rows from {{{{ {relation} }}}} "
        f"group by {quoted} having count(*) > 1 order by count(*) desc limit 3")
    if not rows:
        return
    example = ", ".join(f"{name}={_plain(rows[0][name])}" for name in keys)
    raise KeyNotUnique(
        f"{model.name}'s rows are not unique on {', '.join(keys)} ({example} has {int(rows[0]['key_rows'])} rows), so "
        "they cannot be matched row by row: set the model's unique_key config or meta: {backfill: {key: [...]}} "
        "to the columns that identify a row; nothing was compared."
    )


def _compiled_sql(project: "DbtProject", model: ModelInfo, window_vars: dict) -> str:
    try:
        return project.compile_model(model, window_vars)
    except DbtProjectError as error:
        raise VerifyError(error.message) from None


def _operation(project: "DbtProject", macro: str, args: dict, doing: str) -> None:
    try:
        project.operation(f"backfill.{macro}", args, f"Could not {doing} {args['schema']}.{args['identifier']}")
    except DbtProjectError as error:
        raise VerifyError(error.message) from None


def _jinja_string(value: str) -> str:
    """A Python string as a Jinja string literal (JSON escaping is valid Jinja)."""
    return json.dumps(value)


def _compare(project, model, scratch, keys, period_column, grain, precision, compare_vars) -> list[PeriodDifference]:
    stored = f"ref({_jinja_string(model.package_name)}, {_jinja_string(model.name)})"
    recomputed = (
        f"api.Relation.create(database={_jinja_string(scratch['database'] or '')} or none, "
        f"schema={_jinja_string(scratch['schema'])}, identifier={_jinja_string(scratch['identifier'])})"
    )
    period = _jinja_string(period_column)
    # The period each row belongs to, as a Jinja expression (the builders take SQL expressions).
    period_of_row = f"dbt.date_trunc({_jinja_string(grain)}, adapter.quote({period}))"
    window = f"window_column={period}, compare_window_column={period}"
    counts = project.query(
        f"{{{{ backfill.compare_counts({stored}, {recomputed}, group_by=[{period_of_row}], {window}) }}}}",
        vars=compare_vars,
    )
    rows_sql = (
        f"{{{{ backfill.compare_rows({stored}, {json.dumps(keys)}, {recomputed}, "
        f"precision={'none' if precision is None else int(precision)}, {window}) }}}}"
    )
    failing = project.query(_summarised_failures(rows_sql, keys), vars=compare_vars)

    by_period: dict[str, dict] = {}
    for row in counts:
        entry = by_period.setdefault(_period_label(row["group_1"], grain), _empty_entry())
        entry["stored_count"] = int(row["model_value"])
        entry["recomputed_count"] = int(row["compare_value"])
        entry["counts_known"] = True
    for row in failing:
        entry = by_period.setdefault(_period_label(row[period_column], grain), _empty_entry())
        entry[row["kind"]] += 1
        if len(entry["sample"]) < SAMPLE_KEYS_PER_PERIOD:
            entry["sample"].append({"key": {name: row[name] for name in keys}, "issue": row["issue"]})
    if any(not entry["counts_known"] for entry in by_period.values()):
        _fill_equal_counts(project, stored, period, period_of_row, grain, compare_vars, by_period)
    return [
        PeriodDifference(
            period=label,
            stored_count=entry["stored_count"],
            recomputed_count=entry["recomputed_count"],
            differing_keys=entry["changed"] + entry["only_stored"] + entry["only_recomputed"],
            changed_keys=entry["changed"],
            only_stored_keys=entry["only_stored"],
            only_recomputed_keys=entry["only_recomputed"],
            sample_keys=entry["sample"],
        )
        for label, entry in sorted(by_period.items())
    ]


def _empty_entry() -> dict:
    return {"stored_count": 0, "recomputed_count": 0, "counts_known": False,
            "changed": 0, "only_stored": 0, "only_recomputed": 0, "sample": []}


def _summarised_failures(rows_sql: str, keys: list[str]) -> str:
    """compare_rows' failing rows folded to one row per differing key, saying what is wrong with
    it; at most SAMPLE_ROWS_FETCHED keys come back."""
    quoted = ", ".join(f"{{{{ adapter.quote({_jinja_string(key)}) }}}}" for key in keys)
    issues = "{{ dbt.listagg('coalesce(column_name, issue)', \"', '\", 'order by coalesce(column_name, issue)') }}"
    return f"""
with failing_rows as (
{rows_sql}
),

failing_keys as (
    select
        {quoted},
        max(case when missing_in = 'compare_model' then 1 else 0 end) as only_stored,
        max(case when missing_in = 'model' then 1 else 0 end) as only_recomputed,
        {issues} as issues
    from failing_rows
    group by {quoted}
)

select
    {quoted},
    case
        when only_stored = 1 then 'only_stored'
        when only_recomputed = 1 then 'only_recomputed'
        else 'changed'
    end as kind,
    case
        when only_stored = 1 then 'only stored: a rerun removes it'
        when only_recomputed = 1 then 'only recomputed: a rerun adds it'
        else 'differs: ' || issues
    end as issue
from failing_keys
order by {quoted}
limit {SAMPLE_ROWS_FETCHED}
"""


def _fill_equal_counts(project, stored, period, period_of_row, grain, compare_vars, by_period) -> None:
    """Periods whose keys differ but whose row counts agree (compare_counts returned no row for
    them): their stored row count is the count on both sides."""
    rows = project.query(
        f"select {{{{ {period_of_row} }}}} as period, count(*) as row_count "
        f"from {{{{ {stored} }}}} where {{{{ backfill.backfill_window(adapter.quote({period})) }}}} "
        f"group by {{{{ {period_of_row} }}}}",
        vars=compare_vars,
    )
    counted = {_period_label(row["period"], grain): int(row["row_count"]) for row in rows}
    for label, entry in by_period.items():
        if not entry["counts_known"]:
            entry["stored_count"] = entry["recomputed_count"] = counted.get(label, 0)


def _period_label(value: Any, grain: str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime) and grain != "hour":
        value = value.date()
    if isinstance(value, (date, datetime)):
        return format_bound(period_start(value, grain))
    return str(value)
