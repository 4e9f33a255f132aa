"""Gaps of a model's history, as the `backfill.find_gaps` builder finds them.

Everything here renders the package's macros through dbt and runs them where
the data is: the missing ranges come from `find_gaps`, the per-period row
counts of the calendar from `period_counts` (the aggregate `find_gaps` itself
is built on). Nothing is recomputed in Python; the options are passed to the
macros as a dbt var (JSON), so no value is pasted into SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Optional

from backfill.dbt_runner import DbtProject, ModelInfo
from backfill.errors import DbtProjectError, InvalidInput
from backfill.planning import Bound, check_grain, last_in_period, parse_bound, period_start

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
    chosen = column or model.backfill_settings.get("period_column") or model.event_time
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
    excluded = tuple(_text(_bound(value, grain, "--exclude", is_end=False)) for value in _split_names(exclude))
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
    rows = _query(project, FIND_GAPS_SQL, check)
    ranges = []
    for row in rows:
        partition = {name: _plain(value) for name, value in row.items()
                     if name not in {"gap_start", "gap_end", "missing_periods"}}
        ranges.append(GapRange(
            gap_start=as_bound(row["gap_start"], check.grain),
            gap_end=as_bound(row["gap_end"], check.grain),
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


def gap_windows(project: DbtProject, model: ModelInfo, start, end, grain: str = "day",
                column: Optional[str] = None) -> list[tuple[Bound, Bound]]:
    """The missing ranges of `model` within [start, end] as inclusive windows for
    `planning.plan_batches_for_ranges`: (first day, last day) for day, week and
    month, (first hour, last hour) for hour. A gap's periods are clipped to
    [start, end], so a week or month that begins before `start` is not rewritten
    outside the asked range.
    """
    check = build_check(model, column, grain, start, end)
    windows = []
    for gap in gap_ranges(project, check):
        if gap.gap_start is None:  # no rows at all and no start: nothing says where to begin
            continue
        first = gap.gap_start if check.start is None else max(gap.gap_start, check.start)
        last = last_in_period(gap.gap_end, grain)
        windows.append((first, last if check.end is None else min(last, check.end)))
    return windows


def default_last_period(grain: str, now: Optional[datetime] = None) -> Bound:
    """The last complete period before `now` (UTC): what `find_gaps` checks up to by default."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    current = now.replace(minute=0, second=0, microsecond=0)
    this_period = period_start(current if grain == "hour" else current.date(), grain)
    one_step = timedelta(hours=1) if grain == "hour" else timedelta(days=1)
    return period_start(this_period - one_step, grain)


# -- helpers -------------------------------------------------------------------


def _query(project: DbtProject, sql: str, check: GapCheck) -> list[dict]:
    """Run a builder query; a refusal raised by the macros becomes their one sentence."""
    try:
        return project.query(sql, vars=check.query_vars())
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
