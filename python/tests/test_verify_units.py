"""The pure parts of `backfill.verify`: which column is the period, how periods are
labelled, and what the report says (no warehouse needed)."""

from datetime import date, datetime

import pytest

from backfill.model import ModelInfo
from backfill.errors import UnsupportedModel
from backfill.model import unquoted as _unquoted
from backfill.recompute import PeriodDifference, VerifyReport, _period_label, period_column_of


def model(event_time=None, meta=None) -> ModelInfo:
    return ModelInfo(
        unique_id="model.backfill.m",
        name="m",
        package_name="backfill",
        fqn=("backfill", "m"),
        materialized="incremental",
        incremental_strategy=None,
        relation_name='"db"."s"."m"',
        event_time=event_time,
        columns=(),
        meta=meta or {},
    )


def test_the_period_column_is_meta_first_then_event_time_and_quotes_are_taken_off():
    assert period_column_of(model(event_time="metric_date")) == "metric_date"
    assert period_column_of(model("metric_date", {"backfill": {"period_column": "day"}})) == "day"
    assert period_column_of(model('"date"')) == "date"
    assert _unquoted('"odd ""name"""') == 'odd "name"'


def test_a_model_without_a_period_column_is_refused_in_one_sentence():
    with pytest.raises(UnsupportedModel, match=r"^Model 'm' declares no period column: set its event_time"):
        period_column_of(model())


@pytest.mark.parametrize(
    "value, grain, label",
    [
        (date(2024, 2, 29), "day", "2024-02-29"),
        (datetime(2024, 2, 29, 0, 0), "day", "2024-02-29"),  # date_trunc gives a timestamp on PostgreSQL
        ("2024-02-29T00:00:00", "day", "2024-02-29"),
        (date(2024, 2, 29), "week", "2024-02-26"),  # ISO week, Monday first
        (date(2024, 1, 1), "week", "2024-01-01"),
        (datetime(2024, 12, 31, 0, 0), "month", "2024-12-01"),
        (datetime(2024, 3, 31, 23, 0), "hour", "2024-03-31 23:00:00"),
    ],
)
def test_periods_are_labelled_by_their_first_instant(value, grain, label):
    assert _period_label(value, grain) == label


def test_the_report_says_where_a_rerun_changes_history():
    same = VerifyReport("m", "2024-01-01", "2024-01-31", "day", "metric_date", ["metric_date"], [])
    assert not same.differs
    assert same.summary() == (
        "m 2024-01-01 → 2024-01-31: the recomputation matches what is stored (compared on metric_date); "
        "a rerun changes nothing."
    )
    changed = VerifyReport(
        "m", "2024-01-01", "2024-01-31", "day", "metric_date", ["metric_date"],
        [PeriodDifference("2024-01-03", 0, 1, 1, 0, 0, 1,
                          [{"key": {"metric_date": date(2024, 1, 3)}, "issue": "only recomputed: a rerun adds it"}])],
    )
    assert changed.differs and changed.to_dict()["differs"] is True
    lines = changed.summary().splitlines()
    assert lines[0] == "m 2024-01-01 → 2024-01-31: 1 day(s) would change if rerun (compared on metric_date):"
    assert lines[2].split()[:7] == ["2024-01-03", "0", "1", "1", "0", "0", "1"]
    assert lines[2].endswith("metric_date=2024-01-03 (only recomputed: a rerun adds it)")
    assert '"metric_date": "2024-01-03"' in changed.to_json()


def test_a_null_key_value_prints_as_null_not_none():
    report = VerifyReport("m", "2024-01-01", "2024-01-01", "day", "metric_date", ["metric_date", "item_id"], [
        PeriodDifference(period="2024-01-01", stored_count=2, recomputed_count=2, differing_keys=1, changed_keys=1,
                         only_stored_keys=0, only_recomputed_keys=0,
                         sample_keys=[{"key": {"metric_date": date(2024, 1, 1), "item_id": None}, "issue": "total"}])])
    line = report.summary().splitlines()[-1]
    assert line.endswith("metric_date=2024-01-01, item_id=null (total)")
    assert "None" not in line
