"""Planning: turn a range (or a list of ranges) into batches of periods.

Pure Python, no I/O: everything here is decided before dbt is touched, so a
plan can be printed (`--dry-run`), tested alone, and refused before anything
is written.

Bounds are inclusive, as in the playbook's `start_date` / `end_date`: for the
grains day, week and month a bound is a date (the last day included); for the
grain hour it is the start of an hour (the last hour included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence, Union

from backfill.errors import InvalidInput

GRAINS = ("hour", "day", "week", "month")

Bound = Union[date, datetime]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2})(?::(\d{2}))?(?::(\d{2}))?$")


@dataclass(frozen=True)
class Batch:
    """A contiguous run of periods handled by one dbt invocation."""

    index: int  # 1-based position in the plan
    start: Bound  # first day (or hour) included
    end: Bound  # last day (or hour) included
    periods: int  # how many periods of the grain it covers

    def window_vars(self, start_var: str = "start_date", end_var: str = "end_date") -> dict:
        """The vars a model receives for this batch."""
        return {start_var: format_bound(self.start), end_var: format_bound(self.end)}

    def label(self) -> str:
        start, end = format_bound(self.start), format_bound(self.end)
        return start if start == end else f"{start} → {end}"


def check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise InvalidInput(f"Unknown grain '{grain}': use one of {', '.join(GRAINS)}.")
    return grain


def format_bound(value: Bound) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def parse_bound(text: str, grain: str, *, option: str, is_end: bool = False) -> Bound:
    """Parse a --start/--end value for a grain, or refuse it in one sentence.

    For the hour grain a plain date means the whole day: as a start its first
    hour, as an end its last hour.
    """
    check_grain(grain)
    raw = str(text).strip()
    if _DATE.match(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(f"{option} '{text}' is not a real date.") from None
        if grain == "hour":
            return datetime(day.year, day.month, day.day, 23 if is_end else 0)
        return day
    match = _HOUR.match(raw)
    if match is None:
        expected = "YYYY-MM-DD or YYYY-MM-DD HH:00" if grain == "hour" else "YYYY-MM-DD"
        raise InvalidInput(f"{option} '{text}' is not a date: expected {expected}.")
    if grain != "hour":
        raise InvalidInput(f"{option} '{text}' has a time of day, but the grain is {grain}: give a date (YYYY-MM-DD).")
    day_text, hour, minute, second = match.groups()
    if (minute or "00") != "00" or (second or "00") != "00":
        raise InvalidInput(f"{option} '{text}' is not the start of an hour.")
    try:
        day = date.fromisoformat(day_text)
        return datetime(day.year, day.month, day.day, int(hour))
    except ValueError:
        raise InvalidInput(f"{option} '{text}' is not a real date and hour.") from None


def period_start(value: Bound, grain: str) -> Bound:
    """The first instant (hour grain) or day of the period that holds `value`."""
    if grain == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    if grain == "day":
        return value
    if grain == "week":  # ISO weeks start on Monday
        return value - timedelta(days=value.weekday())
    if grain == "month":
        return value.replace(day=1)
    raise InvalidInput(f"Unknown grain '{grain}': use one of {', '.join(GRAINS)}.")


def next_period(value: Bound, grain: str) -> Bound:
    """The start of the period after the one that starts at `value`."""
    if grain == "hour":
        return value + timedelta(hours=1)
    if grain == "day":
        return value + timedelta(days=1)
    if grain == "week":
        return value + timedelta(days=7)
    if value.month == 12:
        return value.replace(year=value.year + 1, month=1, day=1)
    return value.replace(month=value.month + 1, day=1)


def last_in_period(value: Bound, grain: str) -> Bound:
    """The last day (or hour) of the period that starts at `value`."""
    step = timedelta(hours=1) if grain == "hour" else timedelta(days=1)
    return next_period(value, grain) - step


def periods_between(start: Bound, end: Bound, grain: str) -> list[Bound]:
    """Start of every period that overlaps [start, end]."""
    current = period_start(start, grain)
    starts = []
    while current <= end:
        starts.append(current)
        current = next_period(current, grain)
    return starts


def plan_batches(start: Bound, end: Bound, grain: str = "day", batch_size: int = 1) -> list[Batch]:
    """Split the inclusive range [start, end] into batches of `batch_size` periods.

    Periods follow the calendar (ISO weeks, months); the first and the last
    batch are clipped to the range, so no batch reaches outside it.
    """
    return plan_batches_for_ranges([(start, end)], grain, batch_size)


def plan_batches_for_ranges(
    ranges: Iterable[Sequence[Bound]], grain: str = "day", batch_size: int = 1
) -> list[Batch]:
    """Batches for several inclusive ranges (gaps, failing periods), in order.

    A batch never spans two ranges, so what lies between them is not touched.
    """
    check_grain(grain)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"--batch-size must be a whole number of periods, 1 or more (got {batch_size}).")
    batches: list[Batch] = []
    for start, end in sorted((tuple(r) for r in ranges), key=lambda r: r[0]):
        if end < start:
            raise InvalidInput(f"The range ends ({format_bound(end)}) before it starts ({format_bound(start)}).")
        starts = periods_between(start, end, grain)
        for offset in range(0, len(starts), batch_size):
            chunk = starts[offset : offset + batch_size]
            batches.append(
                Batch(
                    index=len(batches) + 1,
                    start=max(chunk[0], start),
                    end=min(last_in_period(chunk[-1], grain), end),
                    periods=len(chunk),
                )
            )
    return batches


def period_windows(periods: Iterable[Bound], grain: str) -> list[tuple[Bound, Bound]]:
    """Inclusive windows covering `periods` (any order, repeats allowed), adjacent
    periods merged: failing days 3, 4, 5 and 9 become (3, 5) and (9, 9). Each
    window runs from a period's start to the last day (or hour) of its last period.
    """
    check_grain(grain)
    windows: list[list[Bound]] = []
    for start in sorted({period_start(p, grain) for p in periods}):
        if windows and next_period(windows[-1][1], grain) == start:
            windows[-1][1] = start
        else:
            windows.append([start, start])
    return [(first, last_in_period(last, grain)) for first, last in windows]


def plan_repair(periods: Iterable[Bound], grain: str = "day", batch_size: int = 1,
                max_periods: int | None = None) -> list[Batch]:
    """Batches that rewrite exactly `periods` (adjacent ones share batches up to
    `batch_size`), refused when they are more than `max_periods`."""
    distinct = {period_start(p, grain) for p in periods}
    if max_periods is not None and len(distinct) > max_periods:
        raise TooManyPeriods(
            f"The repair would rewrite {len(distinct)} {grain}s, more than --max-periods {max_periods}; "
            "nothing was written: narrow it with --start/--end or --check, or raise --max-periods."
        )
    return plan_batches_for_ranges(period_windows(distinct, grain), grain, batch_size)


class TooManyPeriods(InvalidInput):
    """A repair would rewrite more history than the caller allowed."""
