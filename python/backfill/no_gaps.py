"""A model's own `backfill.no_gaps` tests, applied by the `find_gaps` builder
exactly as dbt applies them — so what `gaps` reports, what `run --gaps-only`
plans and what each batch is checked with are the rows the test fails with.

Each test's arguments are rendered in the query that applies it, as dbt renders
them for the test itself: those written as Jinja (`"{{ var('min_rows', 1) }}"`,
`ref('holidays')`) are evaluated there, the others are read from a var, never
pasted into SQL. The caller's own values (the options of `gaps`) may take the
place of a test's arguments (`overrides`); the window of a batch takes the place
of its bounds. A model without such a test gets the plain check: at least one
row per period.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from backfill.errors import InvalidInput
from backfill.gaps import (CHECK_RELATION, DATE_ONLY, OPTIONS_VAR, GapRange, GapSettings, check_options, excluded_value,
                           period_column, query_builder, ranges_of, split_names, text_of)
from backfill.model import ModelInfo, same_column
from backfill.periods import Bound, Window, check_grain, merge, parse_optional_bound

if TYPE_CHECKING:
    from backfill.dbt import DbtProject

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
_CHECK_ARGUMENTS = CHECK_RELATION + """
@RENDERED_ARGUMENTS@
{%- set grain = @grain@ -%}
{%- set test_start = @start@ -%}
{%- set test_end = @end@ -%}
{%- set min_rows = @min_rows@ -%}
{%- set partition_by = @partition_by@ -%}
{%- set exclude = @exclude@ -%}
{%- set declared_partitions = @partitions@ -%}
{#- a relation is tested first: asking whether dbt's relation is iterable raises an error -#}
{%- set partitions = (declared_partitions | list) if (declared_partitions is not string
    and declared_partitions.identifier is not defined and declared_partitions is iterable)
    else [declared_partitions] -%}
{%- if partition_by and (check.start is not none or check.end is not none) -%}
    {%- do partitions.append(backfill.period_counts(checked, check.column, grain=grain, start=test_start,
                                                    end=test_end, partition_by=partition_by, where=check.where)) -%}
{%- endif -%}
{%- set first_bound = check.start if check.start is not none else test_start -%}
{%- set last_bound = check.end if check.end is not none else test_end -%}
"""

_NO_GAPS_SQL = _CHECK_ARGUMENTS + """
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
class NoGapsCheck:
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
class NoGapsOutcome:
    grain: str  # the grain the check judged at
    ranges: list[GapRange]
    checked: bool = True  # False: no whole period of that grain lay inside the window


def declared_tests(project: "DbtProject", model: ModelInfo) -> list[NoGapsCheck]:
    """The enabled `backfill.no_gaps` tests declared on `model` (not those that merely ref it)."""
    tests = [test for test in project.tests()
             if test.attached_node == model.unique_id and test.is_package_test("no_gaps")]
    return [
        NoGapsCheck(
            name=test.name,
            column=str(test.kwargs.get("column_name") or period_column(model)),
            arguments={name: test.kwargs[name] for name in _TEST_ARGUMENTS if name in test.kwargs},
            where=test.where,
            severity=test.severity,
            declared=True,
        )
        for test in sorted(tests, key=lambda t: t.name)
    ]


def no_gaps_checks(project: "DbtProject", model: ModelInfo, grain: str,
                   column: Optional[str] = None) -> list[NoGapsCheck]:
    """The model's no_gaps tests (only those on `column`, when given), else the
    plain check of `column` (default: the period column) at `grain`."""
    declared = [check for check in declared_tests(project, model)
                if column is None or same_column(check.column, column)]
    return declared or [NoGapsCheck("every_period_present", column or period_column(model), {"grain": grain})]


def apply_check(project: "DbtProject", model: ModelInfo, check: NoGapsCheck, start: Optional[Bound] = None,
                end: Optional[Bound] = None, whole_periods: bool = False, vars: Optional[dict] = None) -> NoGapsOutcome:
    """The missing ranges `check` reports over [start, end] (None: the test's own
    bound), with `whole_periods` only over the periods of its grain that lie
    wholly inside that window; `vars` reach the test's arguments (`var()`)."""
    sql, options = _check_query(_NO_GAPS_SQL, model, check, start, end)
    rows = query_builder(project, sql, {**(vars or {}), OPTIONS_VAR: {**options, "whole_periods": whole_periods}})
    grain = str(rows[0]["checked_grain"]) if rows else "day"  # without rows nothing is read in it
    if rows and "no_whole_period" in rows[0]:
        return NoGapsOutcome(grain, [], checked=False)
    return NoGapsOutcome(grain, ranges_of(rows, grain))


def describe_check(project: "DbtProject", model: ModelInfo, check: NoGapsCheck, start: Optional[Bound] = None,
                   end: Optional[Bound] = None, vars: Optional[dict] = None) -> dict:
    """What `check` applies over [start, end], its arguments rendered as dbt renders them:
    grain, start, end (None: the builder's default), min_rows, partition_by, exclude, where."""
    sql, options = _check_query(_DESCRIBE_SQL, model, check, start, end)
    rows = query_builder(project, sql, {**(vars or {}), OPTIONS_VAR: options})
    return json.loads(rows[0]["options"])


def _check_query(template: str, model: ModelInfo, check: NoGapsCheck, start, end) -> tuple[str, dict]:
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
               "start": text_of(start), "end": text_of(end), "whole_periods": False}
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




# -- what --gaps-only plans, and what `gaps` reports ----------------------------------


def gap_windows(project: "DbtProject", model: ModelInfo, start, end, grain: str = "day",
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
    first = parse_optional_bound(start, grain, option="--start")
    last = parse_optional_bound(end, grain, option="--end", is_end=True)
    asked = Window.of_bounds(first, last, grain)
    windows = []
    for check in no_gaps_checks(project, model, grain, column=period_column(model, column)):
        outcome = apply_check(project, model, check, first, last, vars=vars)
        for gap in outcome.ranges:
            if gap.gap_start is None:  # no rows at all and no start: nothing says where to begin
                continue
            window = Window.of_periods(gap.gap_start, gap.gap_end, outcome.grain).covering(grain).clipped(asked)
            if window is not None:
                windows.append(window)
    return [window.inclusive(grain) for window in merge(windows)]


@dataclass(frozen=True)
class GapReport:
    """One check of `gaps`, as applied (its arguments rendered), and what it found."""

    check: GapSettings
    ranges: list[GapRange]
    overridden: tuple[str, ...] = ()  # the test's arguments the caller's options replaced


def model_gap_reports(project: "DbtProject", model: ModelInfo, column: Optional[str] = None,
                      grain: Optional[str] = None, start=None, end=None, partition_by=(),
                      min_rows: Optional[int] = None, where: Optional[str] = None, exclude=(), tests=(),
                      use_tests: bool = True, vars: Optional[dict] = None) -> list[GapReport]:
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
    for value in split_names(exclude):
        parse_optional_bound(value, "hour", option="--exclude")
    overrides = {name: value for name, value in (
        ("grain", grain), ("min_rows", min_rows), ("partition_by", list(given.partition_by) or None),
        ("exclude", [_exclude_text(value) for value in split_names(exclude)] or None)) if value is not None}
    declared = [check for check in declared_tests(project, model)
                if same_column(check.column, checked_column)] if use_tests else []
    if tests:
        by_name = {check.name: check for check in declared}
        unknown = [name for name in tests if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise InvalidInput(f"{model.name} has no backfill.no_gaps test named {', '.join(unknown)} on "
                               f"{checked_column} (its tests there: {known}).")
        declared = [by_name[name] for name in dict.fromkeys(tests)]
    checks = declared or [NoGapsCheck("every_period_present", checked_column, {"grain": "day"})]
    reports = []
    for check in checks:
        check = NoGapsCheck(check.name, check.column, check.arguments, where or check.where, check.severity,
                            overrides, check.declared)
        shown = describe_check(project, model, check, vars=vars)
        shown_grain = str(shown["grain"])
        effective = check_options(shown_grain, start or _in_grain(shown["start"], shown_grain),
                                  end or _in_grain(shown["end"], shown_grain), (), _whole(shown["min_rows"]), None,
                                  exclude)
        applied = GapSettings(
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
    return "hour" if any(value and not DATE_ONLY.match(str(value)) for value in values) else "day"


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
    if DATE_ONLY.match(value):
        return value.strip()
    return text_of(parse_optional_bound(value, "hour", option="--exclude"))


def _dates_of(exclude, grain: str) -> tuple[str, ...]:
    """A test's exclude list of dates, for the calendar to shade; a relation or query: nothing to shade."""
    if not isinstance(exclude, list):
        return ()
    try:
        return tuple(excluded_value(str(value), grain) for value in exclude)
    except InvalidInput:
        return ()
