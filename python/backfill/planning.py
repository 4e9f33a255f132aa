"""Planning: turn a range (or a list of ranges) into batches of periods.

Pure Python, no I/O: everything here is decided before dbt is touched, so a
plan can be printed (`--dry-run`), tested alone, and refused before anything
is written. The calendar arithmetic it stands on is `backfill.periods`.

A `Batch` is one item of a plan: the window one dbt run of the model rewrites.
Its bounds are inclusive, as in the playbook's `start_date` / `end_date`: for
the grains day, week and month a bound is a date (the last day included); for
the grain hour it is the start of an hour (the last hour included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from backfill.errors import InvalidInput
from backfill.periods import (GRAINS, Bound, Window, after, check_grain, count_periods, format_bound, instant,
                              last_in_period, parse_bound, parse_range, period_start, periods_between,
                              windows_of_periods)

__all__ = ["GRAINS", "Batch", "PlannedModel", "TooManyPeriods", "check_grain", "format_bound", "parse_bound",
           "parse_range", "period_windows", "plan_batches", "plan_batches_for_ranges", "plan_repair", "plan_run",
           "plan_selection"]


@dataclass(frozen=True)
class Batch:
    """One item of a plan: a contiguous run of periods that one dbt run rewrites."""

    index: int  # 1-based position in the plan
    start: Bound  # first day (or hour) included
    end: Bound  # last day (or hour) included
    periods: int  # how many periods of the grain it covers
    # The model it rewrites, in a run of several (`run --select`); None: the run's one model.
    model: Optional[str] = None

    def window_vars(self, start_var: str = "start_date", end_var: str = "end_date") -> dict:
        """The vars a model receives for this batch: its inclusive bounds."""
        return {start_var: format_bound(self.start), end_var: format_bound(self.end)}

    def event_time_bounds(self) -> tuple[str, str]:
        """The batch as dbt's microbatch takes it (--event-time-start/-end): half-open, ISO instants."""
        return instant(self.start).isoformat(), after(self.end).isoformat()

    def label(self) -> str:
        start, end = format_bound(self.start), format_bound(self.end)
        return start if start == end else f"{start} → {end}"


# A plan is held in memory and each batch is a dbt run: more than this is a mistake
# (hours over centuries) more often than a plan, so it is refused unless raised.
MAX_BATCHES = 100_000


def plan_run(start, end, grain: str = "day", batch_size: int = 1, max_batches: int = MAX_BATCHES) -> list[Batch]:
    """Validate the range options and plan the batches (no I/O)."""
    check_grain(grain)
    start_bound, end_bound = parse_range(start, end, grain)
    return plan_batches(start_bound, end_bound, grain, batch_size, max_batches)


def check_batch_size(batch_size) -> int:
    """The batch size, or the one sentence that refuses it."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InvalidInput(f"--batch-size must be a whole number of periods, 1 or more (got {batch_size}).")
    return batch_size


def plan_batches(start: Bound, end: Bound, grain: str = "day", batch_size: int = 1,
                 max_batches: int = MAX_BATCHES) -> list[Batch]:
    """Split the inclusive range [start, end] into batches of `batch_size` periods.

    Periods follow the calendar (ISO weeks, months); the first and the last
    batch are clipped to the range, so no batch reaches outside it.
    """
    return plan_batches_for_ranges([(start, end)], grain, batch_size, max_batches)


def plan_batches_for_ranges(
    ranges: Iterable[Sequence[Bound]], grain: str = "day", batch_size: int = 1, max_batches: int = MAX_BATCHES
) -> list[Batch]:
    """Batches for several inclusive ranges (gaps, failing periods), in order.

    A batch never spans two ranges, so what lies between them is not touched.
    More than `max_batches` is refused, counted before any batch is listed.
    """
    check_grain(grain)
    check_batch_size(batch_size)
    ranges = sorted((tuple(r) for r in ranges), key=lambda r: r[0])
    for start, end in ranges:
        if end < start:
            raise InvalidInput(f"The range ends ({format_bound(end)}) before it starts ({format_bound(start)}).")
    total = sum(-(-count_periods(start, end, grain) // batch_size) for start, end in ranges)
    if total > max_batches:
        raise InvalidInput(f"The plan would have {total:,} batches of {batch_size} {grain}(s), more than "
                           f"{max_batches:,}: narrow the range, raise --batch-size, or pass --max-batches {total}.")
    batches: list[Batch] = []
    for start, end in ranges:
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
    return windows_of_periods(periods, grain)


def plan_repair(periods: Iterable[Bound], grain: str = "day", batch_size: int = 1,
                max_periods: int | None = None) -> list[Batch]:
    """Batches that rewrite exactly `periods` (adjacent ones share batches up to
    `batch_size`), refused when they are more than `max_periods`."""
    check_grain(grain)
    distinct = {period_start(p, grain) for p in periods}
    if max_periods is not None and len(distinct) > max_periods:
        raise TooManyPeriods(
            f"The repair would rewrite {len(distinct)} {grain}s, more than --max-periods {max_periods}; "
            "nothing was written: narrow it with --start/--end or --check, or raise --max-periods."
        )
    return plan_batches_for_ranges(period_windows(distinct, grain), grain, batch_size)


class TooManyPeriods(InvalidInput):
    """A repair would rewrite more history than the caller allowed."""


# -- a selection of models, window by window ------------------------------------------


@dataclass(frozen=True)
class PlannedModel:
    """A model of a selection as the planner needs it (`run --select`)."""

    name: str
    grain: str  # its own: the periods its windows are made of
    # The selected models it is built from, directly or through models the run does not
    # rewrite (views, ephemerals): its windows follow theirs.
    parents: tuple[str, ...] = ()
    # Rebuilt whole (a table), once the last window of its parents is written.
    whole: bool = False


def plan_selection(models: Sequence[PlannedModel], batches: Sequence[Batch], grain: str,
                   max_batches: int = MAX_BATCHES, own: Optional[dict[str, list[Batch]]] = None) -> list[Batch]:
    """The batches of a run over several models, parents before children within each window.

    `models` come parents first; `batches` are the run's plan at `grain` (plan_run),
    and the windows of every model without a selected parent. A model built from
    others rewrites the periods of its own grain that hold its parents' windows (a
    day of a daily parent is the week that holds it in a weekly child), each period
    once, as soon as the last parent window it reads is written: the child's week
    runs after the parent's Sunday, never between its Monday and its Sunday, so no
    child reads a window its parent is still rewriting. A model rebuilt whole runs
    once, after its parents' last window. Each batch names its model; the order is
    the order to run them in.

    `own` (`--gaps-only`) gives models windows of their own (their gaps, at their
    grain), in place of `batches`: they run in the order of their starts, and a
    child rewrites both its own and those its parents' imply."""
    check_grain(grain)
    # Each model's windows as (window, when, grain): `when` is the position, among the
    # run's batches, of the last one that must be written before it.
    written: dict[str, list[tuple[Window, int, str]]] = {}
    steps: list[tuple[int, int, Window, str, PlannedModel]] = []
    driving = [(Window.of_bounds(b.start, b.end, grain), b.index, grain) for b in batches]
    grains = {model.name: check_grain(model.grain) for model in models}
    owned = sorted((Window.of_bounds(b.start, b.end, grains[name]), position, name)
                   for position, name in enumerate(grains) for b in (own or {}).get(name, []))
    own_sources: dict[str, list] = {}
    for when, (window, _, name) in enumerate(owned, start=1):
        # Bounded by the run's --start/--end, at the run's grain: a model of another grain
        # rewrites the whole periods they touch (a gap week cut by --end is the week).
        own_sources.setdefault(name, []).append((window, when, grain))
    for position, model in enumerate(models):
        sources = [source for parent in model.parents for source in written.get(parent, [])] \
            if model.parents else list(driving)
        sources += own_sources.get(model.name, [])
        if not sources:
            written[model.name] = []
            continue
        if model.whole:
            when = max(source[1] for source in sources)
            hull = Window(min(s[0].start for s in sources), max(s[0].end for s in sources))
            steps.append((when, position, hull, model.grain, model))
            written[model.name] = [(window, when, source_grain) for window, _, source_grain in sources]
            continue
        windows = _windows_after(sources, model.grain)
        written[model.name] = [(window, when, model.grain) for window, when in windows]
        steps.extend((when, position, window, model.grain, model) for window, when in windows)
    steps.sort(key=lambda step: (step[0], step[1], step[2]))
    if len(steps) > max_batches:
        raise InvalidInput(f"The plan would have {len(steps):,} batches over {len(models)} models, more than "
                           f"{max_batches:,}: narrow the range or the selection, raise --batch-size, or pass "
                           f"--max-batches {len(steps)}.")
    plan = []
    for index, (_, _, window, model_grain, model) in enumerate(steps, start=1):
        start, end = window.inclusive(model_grain)
        periods = 1 if model.whole else len(window.periods(model_grain))
        plan.append(Batch(index, start, end, periods, model=model.name))
    return plan


def _windows_after(sources: Sequence[tuple[Window, int, str]], grain: str) -> list[tuple[Window, int]]:
    """The windows of a model of `grain` built from `sources` (window, when, source grain):
    each period of `grain` a source window touches, clipped to it when the grains are the
    same (a run that starts on a Wednesday keeps its first week's batch from Wednesday
    on), whole otherwise; each period with the latest `when` of the sources it holds.
    Adjacent periods due at the same time make one window."""
    pieces: dict[Bound, tuple[Window, int]] = {}
    for window, when, source_grain in sources:
        for start in window.periods(grain):
            piece = Window.of_periods(start, start, grain)
            if source_grain == grain:
                piece = piece.clipped(window) or piece
            if start in pieces:
                held, held_when = pieces[start]
                piece, when_due = Window(min(held.start, piece.start), max(held.end, piece.end)), max(held_when, when)
            else:
                when_due = when
            pieces[start] = (piece, when_due)
    windows: list[tuple[Window, int]] = []
    for start in sorted(pieces):
        piece, when = pieces[start]
        if windows and windows[-1][1] == when and windows[-1][0].end == piece.start:
            windows[-1] = (Window(windows[-1][0].start, piece.end), when)
        else:
            windows.append((piece, when))
    return windows
