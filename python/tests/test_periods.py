"""The period arithmetic (backfill.periods), alone: bounds, half-open windows,
merging and covering — examples, then properties over generated ranges."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.errors import InvalidInput
from backfill.periods import (FIRST_DATE, GRAINS, LAST_DATE, Window, after, count_periods, as_bound, default_last_period, format_bound, instant, merge,
                              next_period, parse_bound, parse_range, period_start, periods_between, windows_of_periods)
from backfill.planning import plan_batches

# -- examples ------------------------------------------------------------------------


def test_bounds_are_inclusive_and_a_date_at_grain_hour_is_its_whole_day():
    assert parse_bound("2024-02-29", "day", option="--start") == date(2024, 2, 29)
    assert parse_bound("2024-02-29", "hour", option="--start") == datetime(2024, 2, 29, 0)
    assert parse_bound("2024-02-29", "hour", option="--end", is_end=True) == datetime(2024, 2, 29, 23)
    assert parse_bound("2024-03-31T02:00", "hour", option="--start") == datetime(2024, 3, 31, 2)
    assert after(date(2024, 2, 29)) == datetime(2024, 3, 1)
    assert after(datetime(2024, 3, 31, 23)) == datetime(2024, 4, 1, 0)


@pytest.mark.parametrize("text, grain, sentence", [
    ("2023-02-29", "day", "--start '2023-02-29' is not a real date."),
    ("2024-01-01 10:30", "hour", "--start '2024-01-01 10:30' is not the start of an hour."),
    ("2024-01-01 10:00", "week", "--start '2024-01-01 10:00' has a time of day, but the grain is week: "
                                 "give a date (YYYY-MM-DD)."),
    ("yesterday", "day", "--start 'yesterday' is not a date: expected YYYY-MM-DD."),
    ("2024-01-01", "year", "Unknown grain 'year': use one of hour, day, week, month."),
])
def test_a_bound_that_cannot_be_read_is_refused_in_one_sentence(text, grain, sentence):
    with pytest.raises(InvalidInput) as refused:
        parse_bound(text, grain, option="--start")
    assert refused.value.message == sentence


def test_a_range_whose_start_is_after_its_end_is_refused():
    with pytest.raises(InvalidInput, match=r"^--start 2024-02-01 is after --end 2024-01-31\.$"):
        parse_range("2024-02-01", "2024-01-31", "day")


def test_periods_follow_the_calendar():
    assert period_start(date(2024, 1, 3), "week") == date(2024, 1, 1)  # ISO weeks start on Monday
    assert period_start(date(2024, 2, 29), "month") == date(2024, 2, 1)
    assert next_period(date(2024, 12, 1), "month") == date(2025, 1, 1)
    assert periods_between(date(2024, 2, 27), date(2024, 3, 1), "day")[-2:] == [date(2024, 2, 29), date(2024, 3, 1)]
    assert default_last_period("day", datetime(2024, 3, 1, 0, 30)) == date(2024, 2, 29)


def test_a_window_covers_the_periods_of_another_grain_and_converts_back_to_inclusive_bounds():
    missing_hour = Window.of_periods(datetime(2024, 3, 30, 23), datetime(2024, 3, 30, 23), "hour")
    assert missing_hour.covering("day").inclusive("day") == (date(2024, 3, 30), date(2024, 3, 30))
    missing_day = Window.of_periods(date(2024, 3, 30), date(2024, 3, 30), "day")
    assert len(missing_day.periods("hour")) == 24
    week = missing_day.covering("week")
    assert week.inclusive("day") == (date(2024, 3, 25), date(2024, 3, 31))
    # clipped to a range given in days, the bounds are the range's, not the week's
    asked = Window.of_bounds(date(2024, 3, 27), date(2024, 3, 29), "week")
    assert week.clipped(asked).inclusive("week") == (date(2024, 3, 27), date(2024, 3, 29))
    assert Window.of_bounds(None, None, "day").clipped(week) == week


def test_merging_joins_windows_that_overlap_or_touch_and_keeps_the_others_apart():
    days = [Window.of_periods(date(2024, 1, d), date(2024, 1, d), "day") for d in (9, 3, 4, 5, 4)]
    assert [w.inclusive("day") for w in merge(days)] == [(date(2024, 1, 3), date(2024, 1, 5)),
                                                         (date(2024, 1, 9), date(2024, 1, 9))]
    assert windows_of_periods([date(2024, 1, 5), date(2024, 1, 3), date(2024, 1, 4)], "day") == [
        (date(2024, 1, 3), date(2024, 1, 5))]


def test_values_from_the_warehouse_become_bounds_of_the_grain():
    assert as_bound("2024-03-31T02:00:00", "hour") == datetime(2024, 3, 31, 2)
    assert as_bound(datetime(2024, 3, 31, 0, 0), "day") == date(2024, 3, 31)
    assert as_bound(date(2024, 3, 31), "hour") == datetime(2024, 3, 31)
    assert format_bound(datetime(2024, 3, 31, 2)) == "2024-03-31 02:00:00"
    assert format_bound(date(2024, 3, 31)) == "2024-03-31"


# -- properties ------------------------------------------------------------------------

DAYS = st.dates(min_value=date(1999, 1, 1), max_value=date(2101, 12, 31))
HOURS = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2101, 12, 31)).map(
    lambda moment: moment.replace(minute=0, second=0, microsecond=0))


@st.composite
def ranges(draw, grain=None):
    """(grain, first, last): an inclusive range of bounds of a grain, at most ~a year."""
    grain = grain or draw(st.sampled_from(GRAINS))
    first = draw(HOURS if grain == "hour" else DAYS)
    span = draw(st.integers(min_value=0, max_value=24 * 40 if grain == "hour" else 400))
    last = first + (timedelta(hours=span) if grain == "hour" else timedelta(days=span))
    return grain, first, last


@st.composite
def windows(draw):
    start = draw(HOURS)
    hours = draw(st.integers(min_value=1, max_value=24 * 60))
    return Window(start, start + timedelta(hours=hours))


@settings(max_examples=200, deadline=None)
@given(st.lists(windows(), max_size=12))
def test_merging_is_idempotent_covers_the_same_instants_and_leaves_gaps_between(parts):
    merged = merge(parts)
    assert merge(merged) == merged
    assert merged == sorted(merged)
    for earlier, later in zip(merged, merged[1:]):
        assert earlier.end < later.start  # neither overlapping nor touching
    for part in parts:  # every instant of every part is in exactly one merged window
        assert sum(w.start <= part.start and part.end <= w.end for w in merged) == 1


@settings(max_examples=200, deadline=None)
@given(ranges(), st.integers(min_value=1, max_value=9))
def test_the_batches_of_a_range_partition_it(case, batch_size):
    grain, first, last = case
    batches = plan_batches(first, last, grain, batch_size)
    assert batches[0].start == first and batches[-1].end == last
    for previous, batch in zip(batches, batches[1:]):
        assert instant(batch.start) == after(previous.end)  # back to back: no gap, no overlap
    assert [b.index for b in batches] == list(range(1, len(batches) + 1))
    assert all(1 <= b.periods <= batch_size for b in batches)
    assert sum(b.periods for b in batches) == len(periods_between(first, last, grain))


@settings(max_examples=200, deadline=None)
@given(ranges(), st.sampled_from(GRAINS))
def test_covering_a_range_with_another_grain_yields_whole_periods_that_contain_it(case, other):
    grain, first, last = case
    window = Window.of_bounds(first, last, grain)
    covering = window.covering(other)
    assert covering.start <= window.start and window.end <= covering.end
    assert covering.covering(other) == covering  # already whole periods
    periods = covering.periods(other)
    assert instant(periods[0]) == covering.start and instant(next_period(periods[-1], other)) == covering.end


@settings(max_examples=200, deadline=None)
@given(st.lists(DAYS, min_size=1, max_size=20), st.sampled_from(["day", "week", "month"]))
def test_the_windows_of_periods_hold_exactly_those_periods(days, grain):
    covered = windows_of_periods(days, grain)
    held = {p for first, last in covered for p in periods_between(first, last, grain)}
    assert held == {period_start(day, grain) for day in days}
    assert windows_of_periods([p for first, last in covered for p in periods_between(first, last, grain)],
                              grain) == covered


@settings(max_examples=200, deadline=None)
@given(st.one_of(DAYS, HOURS))
def test_a_bound_reads_back_as_it_was_written(bound):
    grain = "hour" if isinstance(bound, datetime) else "day"
    assert parse_bound(format_bound(bound), grain, option="--start") == bound


# -- hostile input (issue 21): any text is a bound or one sentence, never a crash -----------


@settings(max_examples=300)
@given(st.text(max_size=30), st.sampled_from(GRAINS), st.booleans())
def test_any_text_is_a_bound_in_range_or_refused_in_one_sentence(text, grain, is_end):
    try:
        bound = parse_bound(text, grain, option="--end", is_end=is_end)
    except InvalidInput as refused:
        assert refused.message.startswith(("--end ", "Unknown grain")) and "\n" not in refused.message
    else:
        day = bound.date() if isinstance(bound, datetime) else bound
        assert FIRST_DATE <= day <= LAST_DATE
        after(bound)  # the period arithmetic never overflows on a bound that was accepted


@settings(max_examples=200)
@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)), st.sampled_from(GRAINS))
def test_every_date_the_arithmetic_could_overflow_on_is_refused(day, grain):
    text = day.isoformat()
    if FIRST_DATE <= day <= LAST_DATE:
        bound = parse_bound(text, grain, option="--end", is_end=True)
        assert next_period(period_start(bound, grain), grain) > bound
    else:
        with pytest.raises(InvalidInput, match="is out of range: dates from 0001-01-01 to 9998-12-31"):
            parse_bound(text, grain, option="--end")


@given(ranges())
def test_periods_are_counted_without_listing_them(case):
    grain, first, last = case
    assert count_periods(first, last, grain) == len(periods_between(first, last, grain))


def test_a_plan_of_more_batches_than_the_bound_is_refused_before_it_is_listed():
    with pytest.raises(InvalidInput) as refused:
        plan_batches(datetime(1, 1, 1, 0), datetime(9998, 12, 31, 23), "hour")  # 87 million hours: instant
    assert refused.value.message == (
        "The plan would have 87,640,656 batches of 1 hour(s), more than 100,000: narrow the range, raise "
        "--batch-size, or pass --max-batches 87640656.")
    assert len(plan_batches(date(2024, 1, 1), date(2024, 1, 31), "day", max_batches=31)) == 31
