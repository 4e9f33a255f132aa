"""Gaps of a model's history, as the `backfill.find_gaps` builder finds them.

Everything here renders the package's macros through dbt and runs them where
the data is: the missing ranges come from `find_gaps`, the per-period row
counts of the calendar from `period_counts` (the aggregate `find_gaps` itself
is built on). Nothing is recomputed in Python; the options are passed to the
macros as a dbt var (JSON), so no value is pasted into SQL text.

A model's own `backfill.no_gaps` tests — what `gaps` reports, `run --gaps-only`
plans from and each batch is checked with — are applied by the same builder in
`backfill.no_gaps`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Optional

from backfill.errors import DbtProjectError, InvalidInput
from backfill.model import ModelInfo, require_period_column
from backfill.periods import (Bound, as_bound, check_grain, default_last_period, format_bound, parse_optional_bound)

if TYPE_CHECKING:
    from backfill.dbt import DbtProject

__all__ = ["GapRange", "GapSettings", "PeriodCount", "build_check", "check_options", "default_last_period",
           "find_gap_ranges", "gap_ranges", "period_column", "period_counts", "refuse_unusable_column",
           "relation_columns"]

# The var the queries below read their options from.
OPTIONS_VAR = "backfill_gap_check"

CHECK_RELATION = """
{%- set check = var('backfill_gap_check') -%}
{%- set checked = ref(check.package, check.model) -%}
{%- if execute and load_relation(checked) is none -%}
    {{ exceptions.raise_compiler_error(
        "backfill: model '" ~ check.model ~ "' has no table in the warehouse yet: build it first (dbt run -s "
        ~ check.model ~ ").") }}
{%- endif -%}
"""

FIND_GAPS_SQL = CHECK_RELATION + """
select * from ({{ backfill.find_gaps(checked, **check.options) }}) as gaps
"""

# Per-period rows over all partitions.
PERIOD_COUNTS_SQL = CHECK_RELATION + """
{%- set options = check.options -%}
select
    counts.period_start,
    sum(counts.row_count) as row_count
from ({{ backfill.period_counts(checked, options.column, grain=options.grain, start=options.start, end=options.end,
                               partition_by=options.partition_by, where=options.where) }}) as counts
group by counts.period_start
"""

_MACRO_ERROR = re.compile(r"backfill: (.+?\.)(?:\s|$)")
# Columns of the builder's rows that are not partition columns.
_NOT_PARTITIONS = {"gap_start", "gap_end", "missing_periods", "checked_grain"}
DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class GapSettings:
    """What a gap check applies: a model's column, at a grain, over an inclusive range, with
    its partitions, minimum rows, filter and excluded periods (the plain check's options, or
    a no_gaps test's arguments as dbt renders them)."""

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
            "start": text_of(self.start),
            "end": text_of(self.end),
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


def period_column(model: ModelInfo, column: Optional[str] = None) -> str:
    """The column to check: --column, else the model's period column."""
    return require_period_column(model, column, remedy="pass --column")


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
    start_bound = parse_optional_bound(start, grain, option="--start")
    end_bound = parse_optional_bound(end, grain, option="--end", is_end=True)
    if start_bound is not None and end_bound is not None and end_bound < start_bound:
        raise InvalidInput(f"--end {text_of(end_bound)} is before --start {text_of(start_bound)}.")
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise InvalidInput(f"--min-rows must be a whole number, 1 or more (got {min_rows}).")
    excluded = tuple(excluded_value(value, grain) for value in split_names(exclude))
    return GapOptions(grain, start_bound, end_bound, tuple(split_names(partition_by)), min_rows,
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
) -> GapSettings:
    """Validate the options (one sentence when they cannot be used) into GapSettings."""
    options = check_options(grain, start, end, partition_by, min_rows, where, exclude)
    return GapSettings(
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


def find_gap_ranges(project: "DbtProject", model: ModelInfo, column=None, grain="day", start=None, end=None,
                    partition_by=(), min_rows=1, where=None, exclude=None) -> list[GapRange]:
    """The missing ranges of `model`, as `backfill.find_gaps` returns them."""
    check = build_check(model, column, grain, start, end, partition_by, min_rows, where, exclude or ())
    return gap_ranges(project, check)


def gap_ranges(project: "DbtProject", check: GapSettings) -> list[GapRange]:
    return ranges_of(query_builder(project, FIND_GAPS_SQL, check.query_vars()), check.grain)


def ranges_of(rows: list[dict], grain: str) -> list[GapRange]:
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


def period_counts(project: "DbtProject", check: GapSettings) -> list[PeriodCount]:
    """Rows per period that has any (over all partitions), from `backfill.period_counts`."""
    rows = query_builder(project, PERIOD_COUNTS_SQL, check.query_vars())
    counts = [PeriodCount(as_bound(row["period_start"], check.grain), int(row["row_count"])) for row in rows]
    return sorted(counts, key=lambda c: c.period_start)


# -- refusing an unusable column before anything runs ---------------------------------

_PERIOD_COLUMN_SQL = """
{%- set asked = var('backfill_gap_check') -%}
select '{{ tojson(backfill.check_period_column(asked.package, asked.model, asked.column, asked.grain))
           | replace("'", "''") }}' as facts
"""


def refuse_unusable_column(project: "DbtProject", model: ModelInfo, column: str, grain: str) -> Optional[dict]:
    """Refuse, in one sentence, a period column the model's table does not have, a
    date column at grain hour, or a column that is not a date or timestamp
    (macro `backfill.check_period_column`), before anything is written. What the
    column is when it is usable — {data_type, zoned, session_time_zone} — or None
    while the model's table is not built."""
    args = {"package": model.package_name, "model": model.name, "column": column, "grain": grain}
    rows = query_builder(project, _PERIOD_COLUMN_SQL, {OPTIONS_VAR: args})
    facts = json.loads(rows[0]["facts"]) if rows else None
    return facts or None


_COLUMNS_SQL = """
{%- set asked = var('backfill_gap_check') -%}
{%- set relation = load_relation(ref(asked.package, asked.model)) -%}
{%- set names = none if relation is none else (adapter.get_columns_in_relation(relation) | map(attribute='name')
                                                | list) -%}
select '{{ tojson(names) | replace("'", "''") }}' as names
"""


def relation_columns(project: "DbtProject", model: ModelInfo) -> Optional[list[str]]:
    """The real column names of the model's table, or None while it is not built (a catalog
    lookup: nothing the user typed is in the query)."""
    args = {"package": model.package_name, "model": model.name}
    rows = query_builder(project, _COLUMNS_SQL, {OPTIONS_VAR: args})
    return json.loads(rows[0]["names"]) if rows else None


# -- helpers -------------------------------------------------------------------


def query_builder(project: "DbtProject", sql: str, vars: dict) -> list[dict]:
    """Run a builder query; a refusal raised by the macros becomes their one sentence."""
    try:
        return project.query(sql, vars=vars)
    except DbtProjectError as error:
        match = _MACRO_ERROR.search(str(error.message))
        if match:
            raise InvalidInput(match.group(1)) from None
        raise


def excluded_value(value: str, grain: str) -> str:
    """An --exclude value, checked, as the macro reads it: at grain hour a date stays
    a date, which names all 24 hours of its day (an hour names just that hour)."""
    bound = parse_optional_bound(value, grain, option="--exclude")
    if grain == "hour" and DATE_ONLY.match(value):
        return bound.date().isoformat()
    return text_of(bound)


def split_names(values) -> list[str]:
    """Repeated options or comma-separated lists: ('a,b', 'c') -> ['a', 'b', 'c']."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def text_of(value: Optional[Bound]) -> Optional[str]:
    """A bound as the builders read it (YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS), or None."""
    return None if value is None else format_bound(value)


def _plain(value):
    """agate's Decimal for whole numbers becomes int, so JSON and comparisons stay simple."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sort_key(value):
    return (value is not None, str(type(value).__name__), value if value is not None else 0)

