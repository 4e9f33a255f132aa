"""Gaps of a model's history, as the `backfill.find_gaps` builder finds them.

Everything here renders the package's macros through dbt and runs them where
the data is: the missing ranges come from `find_gaps`, the per-period row
counts of the calendar from `period_counts` (the aggregate `find_gaps` itself
is built on). Nothing is recomputed in Python; the options are passed to the
macros as a dbt var (JSON), so no value is pasted into SQL text.

A model's own `backfill.no_gaps` tests (what `run --gaps-only` plans from and
what verifies each batch) are applied by the same builder with their own
arguments: those written as Jinja (`"{{ var('min_rows', 1) }}"`,
`ref('holidays')`) are evaluated in the query as dbt evaluates them for the test,
the others are read from the var.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Optional

from backfill.dbt_runner import DbtProject, ModelInfo, describe_failure, raise_failure
from backfill.errors import DbtProjectError, InvalidInput
from backfill.planning import Bound, check_grain, last_in_period, next_period, parse_bound, period_start

# The var the queries below read their options from.
OPTIONS_VAR = "backfill_gap_check"

_CHECK_RELATION = """
{%- set check = var('backfill_gap_check') -%}
{%- set checked = ref(check.package, check.model) -%}
{%- if execute and load_relation(checked) is none -%}
    {{ exceptions.raise_compiler_error(
        "backfill: model '" ~ check.model ~ "' has no table in the warehouse yet: build it first (dbt run -s "
        ~ check.model ~ ").") }}
{%- endif -%}
"""

FIND_GAPS_SQL = _CHECK_RELATION + """
select * from ({{ backfill.find_gaps(checked, **check.options) }}) as gaps
"""

# Per-period rows over all partitions, and how many partitions had rows.
PERIOD_COUNTS_SQL = _CHECK_RELATION + """
{%- set options = check.options -%}
select
    counts.period_start,
    sum(counts.row_count) as row_count,
    count(*) as partitions_with_rows
from ({{ backfill.period_counts(checked, options.column, grain=options.grain, start=options.start, end=options.end,
                               partition_by=options.partition_by, where=options.where) }}) as counts
group by counts.period_start
"""

_MACRO_ERROR = re.compile(r"backfill: (.+?\.)(?:\s|$)")
# Columns of the builder's rows that are not partition columns.
_NOT_PARTITIONS = {"gap_start", "gap_end", "missing_periods", "checked_grain"}
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class GapCheck:
    """What to check: a model's column, at a grain, over an inclusive range."""

    model: ModelInfo
    column: str
    grain: str = "day"
    start: Optional[Bound] = None  # None: from the earliest value in the column
    end: Optional[Bound] = None  # None: up to the last complete period before now
    partition_by: tuple[str, ...] = ()
    min_rows: int = 1
    where: Optional[str] = None
    exclude: tuple[str, ...] = ()
    test: Optional[str] = None  # the model's no_gaps test this check applies (None: the plain check)
    severity: str = "error"
    shown_exclude: Any = None  # exclude as the test declares it (a relation's name, dates), for the report

    def macro_options(self) -> dict:
        """The keyword arguments of `backfill.find_gaps`, JSON-safe."""
        return {
            "column": self.column,
            "grain": self.grain,
            "start": _text(self.start),
            "end": _text(self.end),
            "min_rows": self.min_rows,
            "partition_by": list(self.partition_by) or None,
            "where": self.where,
            "exclude": list(self.exclude) or None,
        }

    def query_vars(self) -> dict:
        return {OPTIONS_VAR: {"package": self.model.package_name, "model": self.model.name,
                              "options": self.macro_options()}}

    @property
    def label(self) -> str:
        return f"{self.model.name}.{self.column}"


@dataclass(frozen=True)
class GapRange:
    """One run of consecutive missing periods (both ends inclusive period starts)."""

    gap_start: Optional[Bound]  # None: the relation has no checked row at all (and no start was given)
    gap_end: Bound
    missing_periods: Optional[int]
    partition: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict:
        """The builder's own row: partition columns, gap_start, gap_end, missing_periods."""
        return {**self.partition, "gap_start": self.gap_start, "gap_end": self.gap_end,
                "missing_periods": self.missing_periods}


@dataclass(frozen=True)
class PeriodCount:
    period_start: Bound
    row_count: int
    partitions_with_rows: int


def period_column(model: ModelInfo, column: Optional[str] = None) -> str:
    """The column to check: --column, else `meta: {backfill: {period_column}}`, else `event_time`."""
    chosen = column or model.period_column
    if not chosen:
        raise InvalidInput(
            f"Model '{model.name}' declares no period column: pass --column, or set its config "
            "event_time or meta: {backfill: {period_column: ...}}."
        )
    return str(chosen)


@dataclass(frozen=True)
class GapOptions:
    """The options of a gap check that need no project to validate."""

    grain: str
    start: Optional[Bound]
    end: Optional[Bound]
    partition_by: tuple[str, ...]
    min_rows: int
    where: Optional[str]
    exclude: tuple[str, ...]


def check_options(grain="day", start=None, end=None, partition_by=(), min_rows=1, where=None,
                  exclude=()) -> GapOptions:
    """Refuse unusable options in one sentence, before dbt is even loaded."""
    check_grain(grain)
    start_bound = _bound(start, grain, "--start", is_end=False)
    end_bound = _bound(end, grain, "--end", is_end=True)
    if start_bound is not None and end_bound is not None and end_bound < start_bound:
        raise InvalidInput(f"--end {_text(end_bound)} is before --start {_text(start_bound)}.")
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise InvalidInput(f"--min-rows must be a whole number, 1 or more (got {min_rows}).")
    excluded = tuple(_excluded_value(value, grain) for value in _split_names(exclude))
    return GapOptions(grain, start_bound, end_bound, tuple(_split_names(partition_by)), min_rows,
                      where or None, excluded)


def build_check(
    model: ModelInfo,
    column: Optional[str] = None,
    grain: str = "day",
    start=None,
    end=None,
    partition_by: Iterable[str] = (),
    min_rows: int = 1,
    where: Optional[str] = None,
    exclude: Iterable[str] = (),
) -> GapCheck:
    """Validate the options (one sentence when they cannot be used) into a GapCheck."""
    options = check_options(grain, start, end, partition_by, min_rows, where, exclude)
    return GapCheck(
        model=model,
        column=period_column(model, column),
        grain=options.grain,
        start=options.start,
        end=options.end,
        partition_by=options.partition_by,
        min_rows=options.min_rows,
        where=options.where,
        exclude=options.exclude,
    )


def find_gap_ranges(project: DbtProject, model: ModelInfo, column=None, grain="day", start=None, end=None,
                    partition_by=(), min_rows=1, where=None, exclude=None) -> list[GapRange]:
    """The missing ranges of `model`, as `backfill.find_gaps` returns them."""
    check = build_check(model, column, grain, start, end, partition_by, min_rows, where, exclude or ())
    return gap_ranges(project, check)


def gap_ranges(project: DbtProject, check: GapCheck) -> list[GapRange]:
    return _gap_ranges_of(_query(project, FIND_GAPS_SQL, check), check.grain)


def _gap_ranges_of(rows: list[dict], grain: str) -> list[GapRange]:
    """The builder's rows as GapRanges, partitions first, then by start."""
    ranges = []
    for row in rows:
        partition = {name: _plain(value) for name, value in row.items() if name not in _NOT_PARTITIONS}
        ranges.append(GapRange(
            gap_start=as_bound(row["gap_start"], grain),
            gap_end=as_bound(row["gap_end"], grain),
            missing_periods=None if row["missing_periods"] is None else int(row["missing_periods"]),
            partition=partition,
        ))
    return sorted(ranges, key=lambda r: (tuple(_sort_key(v) for v in r.partition.values()), _sort_key(r.gap_start)))


def period_counts(project: DbtProject, check: GapCheck) -> list[PeriodCount]:
    """Rows per period that has any (over all partitions), from `backfill.period_counts`."""
    rows = _query(project, PERIOD_COUNTS_SQL, check)
    counts = [
        PeriodCount(as_bound(row["period_start"], check.grain), int(row["row_count"]), int(row["partitions_with_rows"]))
        for row in rows
    ]
    return sorted(counts, key=lambda c: c.period_start)


@dataclass(frozen=True)
class GapReport:
    """One check of `gaps`, as applied (its arguments rendered), and what it found."""

    check: GapCheck
    ranges: list[GapRange]
    overridden: tuple[str, ...] = ()  # the test's arguments the caller's options replaced


def model_gap_reports(project: DbtProject, model: ModelInfo, column: Optional[str] = None, grain: Optional[str] = None,
                      start=None, end=None, partition_by=(), min_rows: Optional[int] = None,
                      where: Optional[str] = None, exclude=(), tests=(), use_tests: bool = True,
                      vars: Optional[dict] = None) -> list[GapReport]:
    """What `python -m backfill gaps` reports: the model's own `backfill.no_gaps` tests on
    `column` (the period column by default), as dbt runs them — the rows each returns are
    the rows the test fails with — with the options given here in place of the test's
    arguments (None / empty: not given); without such a test (or `use_tests` False), the
    plain check with these options. `tests` picks tests by name."""
    checked_column = period_column(model, column)
    # The options' syntax now, before any query; their grain may be the test's, so dates are
    # parsed again below once it is known.
    given = check_options(probe_grain(grain, start, end), start, end, partition_by,
                          1 if min_rows is None else min_rows, where, ())
    for value in _split_names(exclude):
        _bound(value, "hour", "--exclude", is_end=False)
    overrides = {name: value for name, value in (
        ("grain", grain), ("min_rows", min_rows), ("partition_by", list(given.partition_by) or None),
        ("exclude", [_exclude_text(value) for value in _split_names(exclude)] or None)) if value is not None}
    declared = [check for check in declared_tests(project, model)
                if _same_column(check.column, checked_column)] if use_tests else []
    if tests:
        by_name = {check.name: check for check in declared}
        unknown = [name for name in tests if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise InvalidInput(f"{model.name} has no backfill.no_gaps test named {', '.join(unknown)} on "
                               f"{checked_column} (its tests there: {known}).")
        declared = [by_name[name] for name in dict.fromkeys(tests)]
    checks = declared or [PresenceCheck("every_period_present", checked_column, {"grain": "day"})]
    reports = []
    for check in checks:
        check = PresenceCheck(check.name, check.column, check.arguments, where or check.where, check.severity,
                              overrides, check.declared)
        shown = describe_check(project, model, check, vars=vars)
        shown_grain = str(shown["grain"])
        effective = check_options(shown_grain, start or _in_grain(shown["start"], shown_grain),
                                  end or _in_grain(shown["end"], shown_grain), (), _whole(shown["min_rows"]), None,
                                  exclude)
        applied = GapCheck(
            model=model, column=checked_column, grain=effective.grain, start=effective.start, end=effective.end,
            partition_by=tuple(str(name) for name in shown["partition_by"]), min_rows=effective.min_rows,
            where=check.where, exclude=effective.exclude if exclude else _dates_of(shown["exclude"], effective.grain),
            test=check.name if check.declared else None, severity=check.severity, shown_exclude=shown["exclude"])
        outcome = apply_check(project, model, check, effective.start if start else None,
                              effective.end if end else None, vars=vars)
        given_names = [name for name in ("grain", "min_rows", "partition_by", "exclude") if name in overrides]
        given_names += [name for name, value in (("where", where), ("start", start), ("end", end)) if value]
        overridden = tuple(name for name in given_names if check.declared and (
            name in check.arguments or name in ("start", "end", "where")))
        reports.append(GapReport(applied, outcome.ranges, overridden))
    return reports


def probe_grain(grain: Optional[str], *values) -> str:
    """The grain to check option values with before a test's own grain is known: the one
    given, else hour when a value has a time of day, else day."""
    if grain:
        return grain
    return "hour" if any(value and not _DATE_ONLY.match(str(value)) for value in values) else "day"


def _in_grain(text: Optional[str], grain: str) -> Optional[str]:
    """A bound a test declares, as rendered, in the form the grain takes (a date at day, week, month)."""
    if text is None or grain == "hour":
        return text
    return str(text).strip()[:10]


def _whole(value) -> int:
    """min_rows as rendered: a whole number, or what the option check refuses in one sentence."""
    try:
        return int(str(value).strip())
    except ValueError:
        return value


def _exclude_text(value: str) -> str:
    """An --exclude value as the macro reads it whatever the grain: a date stays a date (at grain
    hour it names the day's 24 hours), an hour is written out."""
    return value.strip() if _DATE_ONLY.match(value) else _text(_bound(value, "hour", "--exclude", False))


def _dates_of(exclude, grain: str) -> tuple[str, ...]:
    """A test's exclude list of dates, for the calendar to shade; a relation or query: nothing to shade."""
    if not isinstance(exclude, list):
        return ()
    try:
        return tuple(_excluded_value(str(value), grain) for value in exclude)
    except InvalidInput:
        return ()


def gap_windows(project: DbtProject, model: ModelInfo, start, end, grain: str = "day",
                column: Optional[str] = None, vars: Optional[dict] = None) -> list[tuple[Bound, Bound]]:
    """The missing periods of `model` as inclusive windows of `grain` for
    `planning.plan_batches_for_ranges`: (first day, last day) for day, week and
    month, (first hour, last hour) for hour.

    What is missing is what the model's `backfill.no_gaps` tests on its period
    column report (their own grain, min_rows, partition_by, where and exclude),
    or, without such a test, every period of `grain` without a row. `start` and
    `end` (either may be None) take the place of a test's own bounds; a bound
    not given is the test's own, else the builder's default. A gap at another
    grain is widened to the periods of `grain` that hold it (a missing hour
    reruns its day), then clipped to [start, end], so nothing outside the asked
    range is rewritten.
    """
    check_grain(grain)
    first = _bound(start, grain, "--start", is_end=False)
    last = _bound(end, grain, "--end", is_end=True)
    windows = []
    for check in presence_checks(project, model, grain, column=period_column(model, column)):
        outcome = apply_check(project, model, check, first, last, vars=vars)
        for gap in outcome.ranges:
            if gap.gap_start is None:  # no rows at all and no start: nothing says where to begin
                continue
            window = _clipped(_covering_window(gap, outcome.grain, grain), first, last)
            if window is not None:
                windows.append(window)
    return _merged(windows, grain)


# -- presence checks: a model's no_gaps tests, applied by the same builder -------------

# dbt renders a test argument that looks like one of these calls as if written in
# {{ }} (dbt.clients.jinja.add_rendered_test_kwargs), so `exclude: ref('holidays')` is a relation.
_LOOKS_LIKE_CALL = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")
# Exactly one {{ expression }}: dbt's native rendering passes the expression's own value (a number, a relation).
_ONE_EXPRESSION = re.compile(r"^\{\{((?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)

# The no_gaps arguments the check reads, with the test's own defaults (macros/gaps/test_no_gaps.sql).
_TEST_ARGUMENTS = {"grain": "'day'", "start": "none", "end": "none", "min_rows": "1", "partition_by": "none",
                   "exclude": "none", "partitions": "none"}

# A presence check through `find_gaps`. `check.start` / `check.end`, when set, take the
# place of the test's own bounds; with `check.whole_periods` only the periods of the
# check's grain that lie wholly inside [start, end] are judged (none: one row saying so).
# The partitions that must be there are those the test sees over its own range (and
# its declared `partitions`), so a partition absent from a whole window still counts.
# The arguments are evaluated first, outside any condition, so dbt sees their refs at parse.
_CHECK_ARGUMENTS = _CHECK_RELATION + """
@RENDERED_ARGUMENTS@
{%- set grain = @grain@ -%}
{%- set test_start = @start@ -%}
{%- set test_end = @end@ -%}
{%- set min_rows = @min_rows@ -%}
{%- set partition_by = @partition_by@ -%}
{%- set exclude = @exclude@ -%}
{%- set declared_partitions = @partitions@ -%}
{%- set partitions = (declared_partitions | list) if (declared_partitions is iterable
    and declared_partitions is not string and declared_partitions.identifier is not defined)
    else [declared_partitions] -%}
{%- if partition_by and (check.start is not none or check.end is not none) -%}
    {%- do partitions.append(backfill.period_counts(checked, check.column, grain=grain, start=test_start,
                                                    end=test_end, partition_by=partition_by, where=check.where)) -%}
{%- endif -%}
{%- set first_bound = check.start if check.start is not none else test_start -%}
{%- set last_bound = check.end if check.end is not none else test_end -%}
"""

_PRESENCE_SQL = _CHECK_ARGUMENTS + """
{%- if check.whole_periods -%}
    {%- set periods = backfill.whole_periods(grain, first_bound, last_bound) -%}
{%- else -%}
    {%- do backfill.period_bounds(grain, first_bound, last_bound) -%}
    {%- set periods = {'first': first_bound, 'last': last_bound} -%}
{%- endif -%}
{%- if periods is none %}
select {{ dbt.string_literal(grain) }} as checked_grain, 1 as no_whole_period
{%- else %}
select
    gaps.*,
    {{ dbt.string_literal(grain) }} as checked_grain
from ({{ backfill.find_gaps(checked, check.column, grain=grain, start=periods.first, end=periods.last,
                            min_rows=min_rows, partition_by=partition_by, where=check.where,
                            exclude=exclude, partitions=partitions) }}) as gaps
{%- endif %}
"""

# What a check applies, rendered as dbt renders the test's arguments (for `gaps` to say so).
_DESCRIBE_SQL = _CHECK_ARGUMENTS + """
{%- set shown_exclude = none if exclude is none else (
    (exclude ~ '') if (exclude is string or exclude.identifier is defined) else (exclude | map('string') | list)) -%}
{%- set shown = {
    'grain': grain,
    'start': none if first_bound is none else (first_bound ~ ''),
    'end': none if last_bound is none else (last_bound ~ ''),
    'min_rows': min_rows,
    'partition_by': backfill._as_list(partition_by),
    'exclude': shown_exclude,
    'where': check.where,
} -%}
select '{{ tojson(shown) | replace("'", "''") }}' as options
"""



@dataclass(frozen=True)
class PresenceCheck:
    """One `backfill.no_gaps` test of a model, or the plain check (at least one
    row per period of a grain) of a model that declares none.

    `arguments` are the test's as dbt stores them, unrendered: they are rendered
    in the query that applies them, as dbt renders them for the test itself."""

    name: str
    column: str
    arguments: dict = field(default_factory=dict)
    where: Optional[str] = None  # the test's `where` config
    severity: str = "error"
    # Arguments set by the caller (the options of `gaps`), in place of the test's: plain values.
    overrides: dict = field(default_factory=dict)
    declared: bool = False  # a test of the model's, not the plain check


@dataclass(frozen=True)
class PresenceOutcome:
    grain: str  # the grain the check judged at
    ranges: list[GapRange]
    checked: bool = True  # False: no whole period of that grain lay inside the window


def declared_tests(project: DbtProject, model: ModelInfo) -> list[PresenceCheck]:
    """The `backfill.no_gaps` tests declared on `model` (not those that merely ref it)."""
    nodes = [
        node for node in project.manifest.nodes.values()
        if node.resource_type == "test"
        and getattr(node, "attached_node", None) == model.unique_id
        and getattr(node, "test_metadata", None) is not None
        and "macro.backfill.test_no_gaps" in (node.depends_on.macros or [])
    ]
    checks = []
    for node in sorted(nodes, key=lambda n: n.name):
        kwargs = dict(node.test_metadata.kwargs or {})
        checks.append(PresenceCheck(
            name=node.name,
            column=str(kwargs.get("column_name") or period_column(model)),
            arguments={name: kwargs[name] for name in _TEST_ARGUMENTS if name in kwargs},
            where=node.config.get("where") or None,
            severity=str(node.config.severity).lower(),
            declared=True,
        ))
    return checks


def presence_checks(project: DbtProject, model: ModelInfo, grain: str,
                    column: Optional[str] = None) -> list[PresenceCheck]:
    """The model's no_gaps tests (only those on `column`, when given), else the
    plain check of `column` (default: the period column) at `grain`."""
    declared = [check for check in declared_tests(project, model)
                if column is None or _same_column(check.column, column)]
    return declared or [PresenceCheck("every_period_present", column or period_column(model), {"grain": grain})]


def apply_check(project: DbtProject, model: ModelInfo, check: PresenceCheck, start: Optional[Bound] = None,
                end: Optional[Bound] = None, whole_periods: bool = False, vars: Optional[dict] = None) -> PresenceOutcome:
    """The missing ranges `check` reports over [start, end] (None: the test's own
    bound), with `whole_periods` only over the periods of its grain that lie
    wholly inside that window; `vars` reach the test's arguments (`var()`)."""
    sql, options = _check_query(_PRESENCE_SQL, model, check, start, end)
    rows = _query_with(project, sql, {**(vars or {}), OPTIONS_VAR: {**options, "whole_periods": whole_periods}})
    grain = str(rows[0]["checked_grain"]) if rows else "day"  # without rows nothing is read in it
    if rows and "no_whole_period" in rows[0]:
        return PresenceOutcome(grain, [], checked=False)
    return PresenceOutcome(grain, _gap_ranges_of(rows, grain))


def describe_check(project: DbtProject, model: ModelInfo, check: PresenceCheck, start: Optional[Bound] = None,
                   end: Optional[Bound] = None, vars: Optional[dict] = None) -> dict:
    """What `check` applies over [start, end], its arguments rendered as dbt renders them:
    grain, start, end (None: the builder's default), min_rows, partition_by, exclude, where."""
    sql, options = _check_query(_DESCRIBE_SQL, model, check, start, end)
    rows = _query_with(project, sql, {**(vars or {}), OPTIONS_VAR: options})
    return json.loads(rows[0]["options"])


def _check_query(template: str, model: ModelInfo, check: PresenceCheck, start, end) -> tuple[str, dict]:
    """The query of a presence check and the options var it reads: each argument a Jinja
    expression of the test's declared value, or of the value the caller set (`overrides`,
    plain values read from the var, never rendered), or the test's default."""
    arguments = _ArgumentExpressions("check.arguments")
    sql = template
    for name, default in _TEST_ARGUMENTS.items():
        if name in check.overrides:
            expression = f"check.overrides[{json.dumps(name)}]"
        elif name in check.arguments:
            expression = arguments.of(check.arguments[name], name)
        else:
            expression = default
        sql = sql.replace(f"@{name}@", expression)
    sql = sql.replace("@RENDERED_ARGUMENTS@", "\n".join(arguments.blocks))
    options = {"package": model.package_name, "model": model.name, "column": check.column,
               "arguments": check.arguments, "overrides": dict(check.overrides), "where": check.where,
               "start": _text(start), "end": _text(end), "whole_periods": False}
    return sql, options


class _ArgumentExpressions:
    """Jinja expressions that evaluate a test's declared arguments to what dbt
    passes the test: a value that is Jinja (`"{{ var('min_rows', 1) }}"`,
    `ref('holidays')`) becomes that expression, a template mixing text and Jinja
    a `{% set %}` block (its text, as dbt renders it), and a plain value is read
    from the query's var, never pasted into the query."""

    def __init__(self, var_path: str):
        self.var_path = var_path
        self.blocks: list[str] = []

    def of(self, value, name: str) -> str:
        return self._expression(value, f"{self.var_path}[{json.dumps(name)}]")

    def _expression(self, value, path: str) -> str:
        if isinstance(value, str):
            return self._text_expression(value, path)
        if isinstance(value, (list, tuple)):
            items = [self._expression(item, f"{path}[{index}]") for index, item in enumerate(value)]
            return "[" + ", ".join(items) + "]"
        if isinstance(value, dict):
            items = [f"{json.dumps(key)}: {self._expression(item, f'{path}[{json.dumps(key)}]')}"
                     for key, item in value.items()]
            return "{" + ", ".join(items) + "}"
        return path

    def _text_expression(self, value: str, path: str) -> str:
        if _LOOKS_LIKE_CALL.match(value):
            return f"({value.strip()})"
        single = _ONE_EXPRESSION.match(value)
        if single:
            return f"({single.group(1).strip()})"
        if "{{" in value or "{%" in value:
            name = f"rendered_argument_{len(self.blocks)}"
            self.blocks.append(f"{{% set {name} %}}{value}{{% endset %}}")
            return name
        return path


def _covering_window(gap: GapRange, gap_grain: str, grain: str) -> tuple[Bound, Bound]:
    """The periods of `grain` that hold a missing range of `gap_grain` periods, as an
    inclusive window (a missing hour: its day; a missing day: its 24 hours)."""
    after = _instant(next_period(gap.gap_end, gap_grain))  # the first instant after the gap
    first = period_start(as_bound(_instant(gap.gap_start), grain), grain)
    last = period_start(as_bound(after - timedelta(hours=1), grain), grain)
    return first, last_in_period(last, grain)


def _clipped(window: tuple[Bound, Bound], start: Optional[Bound], end: Optional[Bound]):
    first, last = window
    first = first if start is None else max(first, start)
    last = last if end is None else min(last, end)
    return (first, last) if first <= last else None


def _merged(windows: list[tuple[Bound, Bound]], grain: str) -> list[tuple[Bound, Bound]]:
    """Windows merged where they overlap or touch: two tests, or two hours of one day,
    must not plan the same period twice."""
    step = timedelta(hours=1) if grain == "hour" else timedelta(days=1)
    merged: list[list[Bound]] = []
    for first, last in sorted(windows):
        if merged and first <= merged[-1][1] + step:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(first, last) for first, last in merged]


def _same_column(declared: str, name: str) -> bool:
    """Column names as dbt may store them (quoted when `quote: true`), compared plainly."""
    return declared.strip('"`').lower() == name.strip('"`').lower()


def _instant(value: Bound) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


# -- refusing an unusable column before anything runs ---------------------------------


_PERIOD_COLUMN_SQL = """
{%- set asked = var('backfill_gap_check') -%}
select '{{ tojson(backfill.check_period_column(asked.package, asked.model, asked.column, asked.grain))
           | replace("'", "''") }}' as facts
"""


def refuse_unusable_column(project: DbtProject, model: ModelInfo, column: str, grain: str) -> Optional[dict]:
    """Refuse, in one sentence, a period column the model's table does not have, a
    date column at grain hour, or a column that is not a date or timestamp
    (macro `backfill.check_period_column`), before anything is written. What the
    column is when it is usable — {data_type, zoned, session_time_zone} — or None
    while the model's table is not built."""
    args = {"package": model.package_name, "model": model.name, "column": column, "grain": grain}
    rows = _query_with(project, _PERIOD_COLUMN_SQL, {OPTIONS_VAR: args})
    facts = json.loads(rows[0]["facts"]) if rows else None
    return facts or None


def default_last_period(grain: str, now: Optional[datetime] = None) -> Bound:
    """The last complete period before `now` (UTC): what `find_gaps` checks up to by default."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    current = now.replace(minute=0, second=0, microsecond=0)
    this_period = period_start(current if grain == "hour" else current.date(), grain)
    one_step = timedelta(hours=1) if grain == "hour" else timedelta(days=1)
    return period_start(this_period - one_step, grain)


# -- helpers -------------------------------------------------------------------


def _query(project: DbtProject, sql: str, check: GapCheck) -> list[dict]:
    return _query_with(project, sql, check.query_vars())


def _query_with(project: DbtProject, sql: str, vars: dict) -> list[dict]:
    """Run a builder query; a refusal raised by the macros becomes their one sentence."""
    try:
        return project.query(sql, vars=vars)
    except DbtProjectError as error:
        match = _MACRO_ERROR.search(str(error.message))
        if match:
            raise InvalidInput(match.group(1)) from None
        raise


def _bound(value, grain: str, option: str, is_end: bool) -> Optional[Bound]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M") if grain == "hour" else value.date().isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    return parse_bound(str(value), grain, option=option, is_end=is_end)


def _excluded_value(value: str, grain: str) -> str:
    """An --exclude value, checked, as the macro reads it: at grain hour a date stays
    a date, which names all 24 hours of its day (an hour names just that hour)."""
    bound = _bound(value, grain, "--exclude", is_end=False)
    if grain == "hour" and _DATE_ONLY.match(value):
        return bound.date().isoformat()
    return _text(bound)


def _split_names(values) -> list[str]:
    """Repeated options or comma-separated lists: ('a,b', 'c') -> ['a', 'b', 'c']."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def _text(value: Optional[Bound]) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def as_bound(value, grain: str) -> Optional[Bound]:
    """A period start from the warehouse: a date (day, week, month) or a datetime (hour)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if grain == "hour":
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return value.replace(tzinfo=None)
    return value.date() if isinstance(value, datetime) else value


def _plain(value):
    """agate's Decimal for whole numbers becomes int, so JSON and comparisons stay simple."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sort_key(value):
    return (value is not None, str(type(value).__name__), value if value is not None else 0)
