"""plan_batches and friends: pure planning, no warehouse."""

from datetime import date, datetime, timedelta

import pytest

from backfill.errors import InvalidInput
from backfill.planning import Batch, parse_bound, plan_batches, plan_batches_for_ranges
from backfill.planning import plan_run


def windows(batches):
    return [(b.start, b.end, b.periods) for b in batches]


def test_january_in_weekly_batches_clips_the_last_batch():
    plan = plan_batches(date(2024, 1, 1), date(2024, 1, 31), "day", 7)
    assert windows(plan) == [
        (date(2024, 1, 1), date(2024, 1, 7), 7),
        (date(2024, 1, 8), date(2024, 1, 14), 7),
        (date(2024, 1, 15), date(2024, 1, 21), 7),
        (date(2024, 1, 22), date(2024, 1, 28), 7),
        (date(2024, 1, 29), date(2024, 1, 31), 3),
    ]
    assert [b.index for b in plan] == [1, 2, 3, 4, 5]
    assert plan[0].window_vars() == {"start_date": "2024-01-01", "end_date": "2024-01-07"}


def test_one_day_range_is_one_batch():
    assert windows(plan_batches(date(2024, 2, 29), date(2024, 2, 29), "day", 30)) == [
        (date(2024, 2, 29), date(2024, 2, 29), 1)
    ]


def test_leap_year_february_has_29_daily_batches():
    plan = plan_batches(date(2024, 2, 1), date(2024, 2, 29), "day", 1)
    assert len(plan) == 29 and plan[-1].start == date(2024, 2, 29)


def test_month_grain_across_a_year_boundary_ends_on_the_last_day_of_each_month():
    plan = plan_batches(date(2023, 11, 1), date(2024, 2, 29), "month", 1)
    assert windows(plan) == [
        (date(2023, 11, 1), date(2023, 11, 30), 1),
        (date(2023, 12, 1), date(2023, 12, 31), 1),
        (date(2024, 1, 1), date(2024, 1, 31), 1),
        (date(2024, 2, 1), date(2024, 2, 29), 1),
    ]


def test_month_grain_clips_a_range_that_starts_and_ends_mid_month():
    plan = plan_batches(date(2024, 1, 10), date(2024, 3, 5), "month", 2)
    assert windows(plan) == [(date(2024, 1, 10), date(2024, 2, 29), 2), (date(2024, 3, 1), date(2024, 3, 5), 1)]


def test_week_grain_follows_iso_weeks():
    # 2024-01-03 is a Wednesday: the first week is clipped to Wed..Sun.
    plan = plan_batches(date(2024, 1, 3), date(2024, 1, 21), "week", 1)
    assert windows(plan) == [
        (date(2024, 1, 3), date(2024, 1, 7), 1),
        (date(2024, 1, 8), date(2024, 1, 14), 1),
        (date(2024, 1, 15), date(2024, 1, 21), 1),
    ]


def test_hour_grain_across_midnight():
    plan = plan_batches(datetime(2024, 3, 30, 22), datetime(2024, 3, 31, 3), "hour", 4)
    assert windows(plan) == [
        (datetime(2024, 3, 30, 22), datetime(2024, 3, 31, 1), 4),
        (datetime(2024, 3, 31, 2), datetime(2024, 3, 31, 3), 2),
    ]
    assert plan[0].window_vars() == {"start_date": "2024-03-30 22:00:00", "end_date": "2024-03-31 01:00:00"}


def test_hour_grain_with_plain_dates_covers_whole_days():
    plan = plan_run("2024-01-01", "2024-01-02", "hour", 24)
    assert windows(plan) == [
        (datetime(2024, 1, 1, 0), datetime(2024, 1, 1, 23), 24),
        (datetime(2024, 1, 2, 0), datetime(2024, 1, 2, 23), 24),
    ]


def test_renamed_window_vars():
    batch = Batch(1, date(2024, 1, 1), date(2024, 1, 7), 7)
    assert batch.window_vars("from_day", "to_day") == {"from_day": "2024-01-01", "to_day": "2024-01-07"}


def test_ranges_are_batched_separately_and_in_order():
    plan = plan_batches_for_ranges(
        [(date(2024, 3, 1), date(2024, 3, 3)), (date(2024, 1, 1), date(2024, 1, 10))], "day", 7
    )
    assert windows(plan) == [
        (date(2024, 1, 1), date(2024, 1, 7), 7),
        (date(2024, 1, 8), date(2024, 1, 10), 3),
        (date(2024, 3, 1), date(2024, 3, 3), 3),
    ]
    assert [b.index for b in plan] == [1, 2, 3]


@pytest.mark.parametrize(
    "start, end, grain, batch_size, message",
    [
        ("2024-02-01", "2024-01-01", "day", 1, "--start 2024-02-01 is after --end 2024-01-01."),
        ("2024-01-01", "2024-01-31", "day", 0, "--batch-size must be a whole number of periods, 1 or more (got 0)."),
        ("2024-13-01", "2024-01-31", "day", 1, "--start '2024-13-01' is not a real date."),
        ("2023-02-29", "2023-03-01", "day", 1, "--start '2023-02-29' is not a real date."),
        ("yesterday", "2024-01-31", "day", 1, "--start 'yesterday' is not a date: expected YYYY-MM-DD."),
        ("2024-01-01", "2024-01-31", "fortnight", 1, "Unknown grain 'fortnight': use one of hour, day, week, month."),
        ("2024-01-01 10:00", "2024-01-31", "day", 1, "has a time of day, but the grain is day"),
        ("2024-01-01 10:30", "2024-01-01 12:00", "hour", 1, "is not the start of an hour"),
    ],
)
def test_bad_input_is_refused_in_one_sentence(start, end, grain, batch_size, message):
    with pytest.raises(InvalidInput) as error:
        plan_run(start, end, grain, batch_size)
    assert message in error.value.message
    assert error.value.message.count(". ") == 0  # one sentence


def test_parse_bound_accepts_iso_t_separator_for_hours():
    assert parse_bound("2024-01-01T05:00", "hour", option="--start") == datetime(2024, 1, 1, 5)


# -- repair plans ------------------------------------------------------------------


def test_failing_periods_become_merged_windows():
    from backfill.planning import period_windows

    days = [date(2024, 3, 5), date(2024, 3, 3), date(2024, 3, 4), date(2024, 3, 9), date(2024, 3, 4)]
    assert period_windows(days, "day") == [(date(2024, 3, 3), date(2024, 3, 5)), (date(2024, 3, 9), date(2024, 3, 9))]


def test_repair_windows_cross_a_leap_day_and_a_year_end():
    from backfill.planning import period_windows

    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2023, 12, 31), date(2024, 1, 1)]
    assert period_windows(days, "day") == [(date(2023, 12, 31), date(2024, 1, 1)), (date(2024, 2, 28), date(2024, 3, 1))]


def test_hourly_repair_windows_cross_midnight():
    from backfill.planning import period_windows

    hours = [datetime(2024, 3, 30, 23), datetime(2024, 3, 31, 0), datetime(2024, 3, 31, 5, 30)]
    assert period_windows(hours, "hour") == [
        (datetime(2024, 3, 30, 23), datetime(2024, 3, 31, 0)),
        (datetime(2024, 3, 31, 5), datetime(2024, 3, 31, 5)),
    ]


def test_monthly_repair_windows_span_whole_months():
    from backfill.planning import period_windows

    assert period_windows([date(2024, 2, 10), date(2024, 3, 31)], "month") == [(date(2024, 2, 1), date(2024, 3, 31))]


def test_repair_plan_respects_batch_size_and_never_joins_separate_windows():
    from backfill.planning import plan_repair

    days = [date(2024, 3, d) for d in (1, 2, 3, 4, 5, 20)]
    plan = plan_repair(days, "day", batch_size=2)
    assert [(b.start.day, b.end.day) for b in plan] == [(1, 2), (3, 4), (5, 5), (20, 20)]
    assert sum(b.periods for b in plan) == 6


def test_repair_over_max_periods_is_refused_in_one_sentence():
    from backfill.planning import TooManyPeriods, plan_repair

    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(40)]
    with pytest.raises(TooManyPeriods) as refused:
        plan_repair(days, "day", max_periods=31)
    assert refused.value.message == (
        "The repair would rewrite 40 days, more than --max-periods 31; nothing was written: "
        "narrow it with --start/--end or --check, or raise --max-periods."
    )
    assert len(plan_repair(days[:31], "day", max_periods=31)) == 31


# -- a selection of models, window by window (run --select) ---------------------------

from backfill.planning import PlannedModel, plan_selection  # noqa: E402
from backfill.selection import dag_order  # noqa: E402


def steps(plan):
    return [(b.model, str(b.start), str(b.end)) for b in plan]


def test_a_weekly_child_rewrites_each_week_once_after_the_parents_last_day_in_it():
    models = [PlannedModel("daily", "day"), PlannedModel("weekly", "week", ("daily",))]
    plan = plan_selection(models, plan_run("2024-01-06", "2024-01-09"), "day")
    assert steps(plan) == [
        ("daily", "2024-01-06", "2024-01-06"), ("daily", "2024-01-07", "2024-01-07"),
        ("weekly", "2024-01-01", "2024-01-07"),  # Saturday and Sunday written, never between them
        ("daily", "2024-01-08", "2024-01-08"), ("daily", "2024-01-09", "2024-01-09"),
        ("weekly", "2024-01-08", "2024-01-14"),  # the whole week that holds them, past the range
    ]
    assert [b.index for b in plan] == list(range(1, 7))
    assert [b.periods for b in plan] == [1, 1, 1, 1, 1, 1]


def test_a_child_of_the_same_grain_follows_its_parents_batches_as_they_are():
    models = [PlannedModel("daily", "day"), PlannedModel("cleaned", "day", ("daily",))]
    plan = plan_selection(models, plan_run("2024-02-27", "2024-03-02", batch_size=3), "day")
    assert steps(plan) == [
        ("daily", "2024-02-27", "2024-02-29"), ("cleaned", "2024-02-27", "2024-02-29"),  # the leap day inside
        ("daily", "2024-03-01", "2024-03-02"), ("cleaned", "2024-03-01", "2024-03-02"),
    ]


def test_a_run_that_starts_mid_week_keeps_its_first_weeks_batch_clipped_at_the_run_grain():
    models = [PlannedModel("weekly", "week"), PlannedModel("daily_of_weekly", "day", ("weekly",))]
    plan = plan_selection(models, plan_run("2024-01-03", "2024-01-10", grain="week"), "week")
    assert steps(plan) == [
        ("weekly", "2024-01-03", "2024-01-07"), ("daily_of_weekly", "2024-01-03", "2024-01-07"),
        ("weekly", "2024-01-08", "2024-01-10"), ("daily_of_weekly", "2024-01-08", "2024-01-10"),
    ]


def test_an_hourly_child_of_a_daily_parent_rewrites_every_hour_of_each_day_across_dst():
    models = [PlannedModel("daily", "day"), PlannedModel("hourly", "hour", ("daily",))]
    plan = plan_selection(models, plan_run("2024-03-30", "2024-03-31"), "day")
    assert steps(plan) == [
        ("daily", "2024-03-30", "2024-03-30"), ("hourly", "2024-03-30 00:00:00", "2024-03-30 23:00:00"),
        ("daily", "2024-03-31", "2024-03-31"), ("hourly", "2024-03-31 00:00:00", "2024-03-31 23:00:00"),
    ]
    assert plan[3].periods == 24  # bounds are UTC hours: a DST day in a local zone is still 24 of them


def test_a_table_is_rebuilt_once_after_its_parents_last_window_and_its_children_follow_it():
    models = [PlannedModel("daily", "day"), PlannedModel("weekly", "week", ("daily",)),
              PlannedModel("totals", "day", ("weekly",), whole=True),
              PlannedModel("monthly_of_totals", "month", ("totals",))]
    plan = plan_selection(models, plan_run("2024-01-30", "2024-02-01"), "day")
    assert steps(plan) == [
        ("daily", "2024-01-30", "2024-01-30"), ("daily", "2024-01-31", "2024-01-31"),
        ("daily", "2024-02-01", "2024-02-01"), ("weekly", "2024-01-29", "2024-02-04"),
        ("totals", "2024-01-29", "2024-02-04"),
        ("monthly_of_totals", "2024-01-01", "2024-02-29"),  # the months the table's windows touch
    ]


def test_a_child_of_two_parents_waits_for_the_later_one():
    models = [PlannedModel("orders", "day"), PlannedModel("refunds", "day"),
              PlannedModel("net", "week", ("orders", "refunds"))]
    plan = plan_selection(models, plan_run("2024-01-07", "2024-01-07"), "day")
    assert steps(plan) == [("orders", "2024-01-07", "2024-01-07"), ("refunds", "2024-01-07", "2024-01-07"),
                           ("net", "2024-01-01", "2024-01-07")]


def test_gaps_only_windows_of_each_model_run_in_time_order_and_imply_their_childrens():
    own = {"daily": plan_batches_for_ranges([(date(2024, 1, 3), date(2024, 1, 3)),
                                             (date(2024, 1, 9), date(2024, 1, 10))], "day", 2),
           "weekly": plan_batches_for_ranges([(date(2024, 1, 29), date(2024, 2, 4))], "week")}
    models = [PlannedModel("daily", "day"), PlannedModel("weekly", "week", ("daily",))]
    assert steps(plan_selection(models, [], "day", own=own)) == [
        ("daily", "2024-01-03", "2024-01-03"), ("weekly", "2024-01-01", "2024-01-07"),
        ("daily", "2024-01-09", "2024-01-10"), ("weekly", "2024-01-08", "2024-01-14"),
        ("weekly", "2024-01-29", "2024-02-04"),  # the child's own gap
    ]


def test_a_selection_plan_over_the_batch_limit_is_refused_before_anything_is_listed():
    models = [PlannedModel("daily", "day"), PlannedModel("weekly", "week", ("daily",))]
    with pytest.raises(InvalidInput, match=r"The plan would have 6 batches over 2 models, more than 5"):
        plan_selection(models, plan_run("2024-01-06", "2024-01-09"), "day", max_batches=5)


def test_dag_order_puts_every_model_after_its_parents_and_keeps_ties_in_order():
    parents = {"mart": ("weekly", "refunds"), "weekly": ("daily",), "daily": (), "refunds": ()}
    assert dag_order(parents) == ["daily", "refunds", "weekly", "mart"]


def test_a_childs_own_gap_cut_by_the_runs_end_is_rewritten_as_its_whole_period():
    # --end 2024-04-30 (a Tuesday) cuts the weekly model's gap week: rewriting two days of it would
    # write a week's row from two days of its parent.
    own = {"weekly": plan_batches_for_ranges([(date(2024, 4, 29), date(2024, 4, 30))], "week")}
    models = [PlannedModel("daily", "day"), PlannedModel("weekly", "week", ("daily",))]
    assert steps(plan_selection(models, [], "day", own=own)) == [("weekly", "2024-04-29", "2024-05-05")]
