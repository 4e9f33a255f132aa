"""The calendar page on its own (no warehouse): each grain's grid, and that a
cell is missing exactly when it lies in a range the builder reported; the gap
options and the help that explains them."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from backfill.calendar_html import render_calendar
from backfill.model import ModelInfo
from backfill.errors import InvalidInput
from backfill.gaps import GapRange, PeriodCount, build_check, check_options, default_last_period, period_column

MODEL = ModelInfo(
    unique_id="model.shop.sales", name="sales", package_name="shop", fqn=("shop", "sales"),
    materialized="incremental", incremental_strategy=None, relation_name='"db"."main"."sales"',
    event_time="sold_at", columns=(), meta={},
)
CELL = re.compile(r'<div class="(cell [^"]*)" data-period="([^"]+)" data-state="(\w+)"')


def cells(page: str) -> dict[str, str]:
    return {period: state for _, period, state in CELL.findall(page)}


def test_day_grid_marks_exactly_the_reported_ranges_and_partial_days():
    check = build_check(MODEL, grain="day", start="2024-02-27", end="2024-03-03", min_rows=5, exclude=["2024-03-03"])
    ranges = [GapRange(date(2024, 2, 28), date(2024, 2, 29), 2)]
    counts = [PeriodCount(date(2024, 2, 27), 9), PeriodCount(date(2024, 2, 28), 3),
              PeriodCount(date(2024, 3, 1), 5), PeriodCount(date(2024, 3, 2), 7)]
    page = render_calendar(check, ranges, counts, check.start, check.end)
    assert cells(page) == {
        "2024-02-27": "present", "2024-02-28": "missing", "2024-02-29": "missing",
        "2024-03-01": "present", "2024-03-02": "present", "2024-03-03": "excluded",
    }
    # 02-28 has 3 rows (under min_rows): striped; 02-29 has none: crossed.
    assert 'class="cell missing partial" data-period="2024-02-28"' in page
    assert 'class="cell missing" data-period="2024-02-29"' in page
    assert "2 missing in 1 range(s)" in page
    assert "<script" not in page and "http" not in page  # self-contained


def test_hour_grid_has_a_row_per_day_across_midnight():
    check = build_check(MODEL, grain="hour", start="2024-03-30 22:00", end="2024-03-31 02:00")
    ranges = [GapRange(datetime(2024, 3, 30, 23), datetime(2024, 3, 31, 0), 2)]
    counts = [PeriodCount(datetime(2024, 3, 30, 22), 4), PeriodCount(datetime(2024, 3, 31, 1), 4),
              PeriodCount(datetime(2024, 3, 31, 2), 4)]
    page = render_calendar(check, ranges, counts, check.start, check.end)
    states = cells(page)
    assert [p for p, s in states.items() if s == "missing"] == ["2024-03-30 23:00", "2024-03-31 00:00"]
    assert len(states) == 5
    assert '<div class="label">2024-03-30</div>' in page and '<div class="label">2024-03-31</div>' in page


def test_month_grid_across_a_year_boundary_and_partitions_in_the_tooltip():
    check = build_check(MODEL, grain="month", start="2023-11-01", end="2024-02-29", partition_by=["store_id"])
    ranges = [GapRange(date(2023, 12, 1), date(2024, 1, 1), 2, {"store_id": 7})]
    counts = [PeriodCount(date(2023, m, 1) if m > 10 else date(2024, m, 1), 10) for m in (11, 12, 1, 2)]
    page = render_calendar(check, ranges, counts, check.start, check.end)
    assert [p for p, s in cells(page).items() if s == "missing"] == ["2023-12-01", "2024-01-01"]
    assert "missing in 1 partition(s): store_id=7" in page
    assert '<td>7</td><td>2023-12-01</td><td>2024-01-01</td><td class="number">2</td>' in page


def test_week_grid_uses_iso_weeks():
    check = build_check(MODEL, grain="week", start="2024-12-25", end="2025-01-08")
    page = render_calendar(check, [], [PeriodCount(date(2024, 12, 23), 1), PeriodCount(date(2024, 12, 30), 1),
                                      PeriodCount(date(2025, 1, 6), 1)], check.start, check.end)
    assert list(cells(page)) == ["2024-12-23", "2024-12-30", "2025-01-06"]
    assert "no gaps" in page
    # 2024-12-30 is in ISO week 1 of 2025: it sits in the 2025 row.
    assert page.index("2025 (ISO weeks)") < page.index('data-period="2024-12-30"')


def test_an_excluded_date_at_hour_grain_is_all_its_hours():
    check = build_check(MODEL, grain="hour", start="2024-03-09 22:00", end="2024-03-11 01:00",
                        exclude=["2024-03-10", "2024-03-11 00:00"])
    assert check.exclude == ("2024-03-10", "2024-03-11 00:00:00")  # the macro names the whole day by the date
    page = render_calendar(check, [], [], check.start, check.end)
    excluded = [period for period, state in cells(page).items() if state == "excluded"]
    assert excluded == [f"2024-03-10 {hour:02d}:00" for hour in range(24)] + ["2024-03-11 00:00"]


def test_a_null_partition_value_shows_as_null():
    check = build_check(MODEL, grain="day", start="2024-01-01", end="2024-01-02", partition_by=["store_id"])
    page = render_calendar(check, [GapRange(date(2024, 1, 1), date(2024, 1, 2), 2, {"store_id": None})], [],
                           check.start, check.end)
    assert "<td>null</td><td>2024-01-01</td>" in page and "store_id=null" in page
    assert "None" not in page


def test_an_empty_relation_without_start_says_so():
    check = build_check(MODEL, grain="day", end="2024-01-31")
    page = render_calendar(check, [GapRange(None, date(2024, 1, 31), None)], [], None, check.end)
    assert "No rows at all up to 2024-01-31." in page
    assert "(no rows at all)" in page


@pytest.mark.parametrize(
    "options, sentence",
    [
        ({"grain": "fortnight"}, "Unknown grain 'fortnight': use one of hour, day, week, month."),
        ({"start": "2024-03-01", "end": "2024-02-01"}, "--end 2024-02-01 is before --start 2024-03-01."),
        ({"start": "2024-02-30"}, "--start '2024-02-30' is not a real date."),
        ({"start": "2024-01-01 10:00"}, "--start '2024-01-01 10:00' has a time of day, but the grain is day: "
                                        "give a date (YYYY-MM-DD)."),
        ({"min_rows": 0}, "--min-rows must be a whole number, 1 or more (got 0)."),
        ({"exclude": ["christmas"]}, "--exclude 'christmas' is not a date: expected YYYY-MM-DD."),
    ],
)
def test_options_are_refused_in_one_sentence(options, sentence):
    with pytest.raises(InvalidInput) as refused:
        check_options(**options)
    assert refused.value.message == sentence


def test_the_period_column_comes_from_meta_then_event_time():
    assert period_column(MODEL) == "sold_at"
    with_meta = ModelInfo(**{**MODEL.__dict__, "meta": {"backfill": {"period_column": "booked_on"}}})
    assert period_column(with_meta) == "booked_on"
    assert period_column(with_meta, "shipped_at") == "shipped_at"
    bare = ModelInfo(**{**MODEL.__dict__, "event_time": None})
    with pytest.raises(InvalidInput, match="declares no period column"):
        period_column(bare)


def test_the_default_end_is_the_last_complete_period():
    now = datetime(2024, 3, 1, 0, 30)
    assert default_last_period("hour", now) == datetime(2024, 2, 29, 23)
    assert default_last_period("day", now) == date(2024, 2, 29)
    assert default_last_period("week", now) == date(2024, 2, 19)
    assert default_last_period("month", now) == date(2024, 2, 1)


def test_the_help_shows_the_hour_form_and_what_an_excluded_date_means():
    from click.testing import CliRunner

    from backfill.cli import cli

    def help_of(command: str) -> str:
        return " ".join(CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output.split())

    gaps_help, run_help = help_of("gaps"), help_of("run")
    assert "with --grain hour a date names all 24 of its hours" in gaps_help
    for text in (gaps_help, run_help):
        assert "--start TEXT First" in text and "YYYY-MM-DD HH:00 with --grain hour" in text
