"""Periods: the calendar arithmetic of the whole runner, pure and in one place.

Users and models speak in inclusive bounds, as the playbook does: `--start
2024-01-01 --end 2024-01-31`, vars `start_date` / `end_date`, a gap from its
first to its last missing period. A bound is a *period start*: a date for the
grains day, week and month (the last day included), a datetime at a whole hour
for the grain hour (the last hour included).

Inside, a stretch of time is a `Window`: half-open, [start, end) in instants,
the way dbt's MicrobatchBuilder and SQLMesh hold intervals. Half-open windows
merge, clip and cover without off-by-one cases: two windows touch when one ends
where the next starts, a window covers the periods of a grain whose instants it
contains, and converting back to inclusive bounds happens once, at the edge.

Nothing here touches dbt, the warehouse or the clock (but `default_last_period`,
which takes `now`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional, Union

from backfill.errors import InvalidInput

GRAINS = ("hour", "day", "week", "month")

Bound = Union[date, datetime]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2})(?::(\d{2}))?(?::(\d{2}))?$")


# The dates a bound may name: the period after the last one (a window's half-open end,
# the next month) must still be a date, and the warehouses hold every one of them.
FIRST_DATE, LAST_DATE = date(1, 1, 1), date(9998, 12, 31)


def check_grain(grain: str) -> str:
    """The grain, or the one sentence that refuses it."""
    if grain not in GRAINS:
        raise InvalidInput(f"Unknown grain '{grain}': use one of {', '.join(GRAINS)}.")
    return grain


# -- bounds: what users and vars write ------------------------------------------------


def parse_bound(text, grain: str, *, option: str, is_end: bool = False) -> Bound:
    """A --start/--end value (or a stored window bound) for a grain, or the one
    sentence that refuses it. At grain hour a plain date names the whole day: as a
    start its first hour, as an end its last hour."""
    check_grain(grain)
    raw = str(text).strip()
    text = _shown(text)
    if _DATE.match(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(f"{option} '{text}' is not a real date.") from None
        _check_in_range(day, text, option)
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
        moment = datetime(day.year, day.month, day.day, int(hour))
    except ValueError:
        raise InvalidInput(f"{option} '{text}' is not a real date and hour.") from None
    _check_in_range(day, text, option)
    return moment


def _shown(text) -> str:
    """A value as a sentence may quote it: control characters (a newline) escaped."""
    text = str(text)
    return text if text.isprintable() else repr(text)[1:-1]


def _check_in_range(day: date, text, option: str) -> None:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidInput(f"{option} '{text}' is out of range: dates from {FIRST_DATE.isoformat()} "
                           f"to {LAST_DATE.isoformat()} can be planned.")


def count_periods(start: Bound, end: Bound, grain: str) -> int:
    """How many periods of `grain` overlap the inclusive range [start, end], without listing them."""
    first, last = period_start(start, grain), period_start(end, grain)
    if last < first:
        return 0
    if grain == "hour":
        return int((instant(last) - instant(first)) / timedelta(hours=1)) + 1
    if grain == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if grain == "week" else 1) + 1


def parse_optional_bound(value, grain: str, *, option: str, is_end: bool = False) -> Optional[Bound]:
    """As parse_bound, for a value that may be missing (None, blank) or already a date or datetime."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M") if grain == "hour" else value.date().isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    return parse_bound(str(value), grain, option=option, is_end=is_end)


def parse_range(start, end, grain: str, *, start_option: str = "--start", end_option: str = "--end"):
    """Both bounds of an inclusive range, refused in one sentence when the start is after the end."""
    first = parse_bound(start, grain, option=start_option)
    last = parse_bound(end, grain, option=end_option, is_end=True)
    if last < first:
        raise InvalidInput(f"{start_option} {start} is after {end_option} {end}.")
    return first, last


def format_bound(value: Bound) -> str:
    """`YYYY-MM-DD`, or `YYYY-MM-DD HH:MM:SS` for an hour: what vars and the audit trail hold."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def as_bound(value, grain: str) -> Optional[Bound]:
    """A period start as the warehouse returns it (a date, a datetime, text), in the grain's type."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if grain == "hour":
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return value.replace(tzinfo=None)
    return value.date() if isinstance(value, datetime) else value


def after(bound: Bound) -> datetime:
    """The first instant after an inclusive bound: the end of its day, or of its hour."""
    return instant(bound) + (timedelta(hours=1) if isinstance(bound, datetime) else timedelta(days=1))


def instant(value: Bound) -> datetime:
    """The first instant of a date, or a datetime itself: to compare days with hours."""
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


# -- periods of a grain -------------------------------------------------------------


def period_start(value: Bound, grain: str) -> Bound:
    """The start of the period of `grain` that holds `value` (ISO weeks start on Monday)."""
    check_grain(grain)
    if grain == "hour":
        return instant(value).replace(minute=0, second=0, microsecond=0)
    day = value.date() if isinstance(value, datetime) else value
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


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
    """The last day (or hour) of the period that starts at `value`: its inclusive end."""
    return next_period(value, grain) - _step(grain)


def periods_between(start: Bound, end: Bound, grain: str) -> list[Bound]:
    """The start of every period of `grain` that overlaps the inclusive range [start, end]."""
    current = period_start(start, grain)
    starts = []
    while current <= end:
        starts.append(current)
        current = next_period(current, grain)
    return starts


def default_last_period(grain: str, now: Optional[datetime] = None) -> Bound:
    """The last complete period before `now` (UTC): what a gap check runs up to by default."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    current = now.replace(minute=0, second=0, microsecond=0)
    this_period = period_start(current if grain == "hour" else current.date(), grain)
    return period_start(this_period - _step(grain), grain)


# -- windows: half-open stretches of time -------------------------------------------


@dataclass(frozen=True, order=True)
class Window:
    """[start, end): every instant from `start` up to, not including, `end`."""

    start: datetime
    end: datetime

    @classmethod
    def of_periods(cls, first: Bound, last: Bound, grain: str) -> "Window":
        """The periods of `grain` from the one holding `first` to the one holding `last`, inclusive."""
        return cls(instant(period_start(first, grain)), instant(next_period(period_start(last, grain), grain)))

    @classmethod
    def of_bounds(cls, first: Optional[Bound], last: Optional[Bound], grain: str) -> "Window":
        """An inclusive range as users give it: from `first` to the end of the day (or, at grain
        hour, the hour) `last`; either may be None, open on that side. Not widened to periods."""
        start = instant(first) if first is not None else datetime.min
        end = after(last) if last is not None else datetime.max
        return cls(start, end)

    def covering(self, grain: str) -> "Window":
        """Widened to whole periods of `grain`: a missing hour's day, a missing day's week."""
        return Window.of_periods(self.start, self.end - timedelta(microseconds=1), grain)

    def clipped(self, other: "Window") -> Optional["Window"]:
        """The part inside `other`, or None when they do not overlap."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Window(start, end) if start < end else None

    def overlaps(self, other: "Window") -> bool:
        return self.start < other.end and other.start < self.end

    def periods(self, grain: str) -> list[Bound]:
        """The starts of the periods of `grain` this window overlaps."""
        last = self.end - timedelta(microseconds=1)
        return periods_between(_in_grain(self.start, grain), _in_grain(last, grain), grain)

    def inclusive(self, grain: str) -> tuple[Bound, Bound]:
        """The window as inclusive bounds in the type of `grain`: its first day (or hour) and
        its last day (or hour) — a period's start and last day when it is whole periods."""
        return _in_grain(self.start, grain), _in_grain(self.end - _step(grain), grain)


def merge(windows: Iterable[Window]) -> list[Window]:
    """Windows sorted, those that overlap or touch merged: two checks, or two hours of one day,
    never plan the same period twice."""
    merged: list[Window] = []
    for window in sorted(windows):
        if merged and window.start <= merged[-1].end:
            if window.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, window.end)
        else:
            merged.append(window)
    return merged


def windows_of_periods(periods: Iterable[Bound], grain: str) -> list[tuple[Bound, Bound]]:
    """Inclusive windows covering `periods` (any order, repeats allowed), adjacent ones merged:
    failing days 3, 4, 5 and 9 become (3, 5) and (9, 9)."""
    check_grain(grain)
    return [window.inclusive(grain) for window in merge(Window.of_periods(p, p, grain) for p in periods)]


def _step(grain: str) -> timedelta:
    """The smallest unit an inclusive bound of `grain` counts in: an hour, else a day."""
    return timedelta(hours=1) if grain == "hour" else timedelta(days=1)


def _in_grain(moment: datetime, grain: str) -> Bound:
    return moment.replace(minute=0, second=0, microsecond=0) if grain == "hour" else moment.date()
