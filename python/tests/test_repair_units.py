"""Which checks a repair can map to periods, decided from the test nodes alone
(no warehouse): the reason a check is refused is what the user reads."""

from types import SimpleNamespace

import pytest

from backfill.dbt.manifest import TestInfo
from backfill.repair import classify

MODEL = SimpleNamespace(unique_id="model.shop.orders_daily", name="orders_daily")


def node(kind, attached=MODEL.unique_id, namespace=None, **kwargs):
    macros = (f"macro.backfill.test_{kind}",) if namespace == "backfill" else ()  # dbt's own tests: none of ours
    return TestInfo(
        unique_id=f"test.shop.{kind}_check",
        name=f"{kind}_check",
        fqn=("shop", f"{kind}_check"),
        test_name=kind,
        namespace=namespace,
        kwargs=kwargs,
        attached_node=attached,
        depends_on=(MODEL.unique_id,),
        macros=macros,
    )


def test_no_gaps_on_the_period_column_maps_by_its_own_grain():
    check = classify(node("no_gaps", namespace="backfill", column_name="order_date", grain="week"), MODEL, "order_date")
    assert check.repairable and check.grain == "week"


def test_no_gaps_on_another_column_is_refused():
    check = classify(node("no_gaps", namespace="backfill", column_name="shipped_at"), MODEL, "order_date")
    assert check.reason == "it checks shipped_at, not the period column order_date"


@pytest.mark.parametrize("group_by, output", [
    (["order_date"], '"order_date"'),
    (["region", "ORDER_DATE"], '"ORDER_DATE"'),  # the failing rows keep the name as written
    (['"date"'], "group_1"),  # already quoted: an expression to the builder, so group_1
])
def test_reconciliation_grouped_by_the_period_column_reads_that_output(group_by, output):
    period = "date" if group_by == ['"date"'] else "order_date"
    check = classify(node("reconcile_sum", namespace="backfill", group_by=group_by), MODEL, period)
    assert check.repairable and check.period_output == output


@pytest.mark.parametrize("group_by, period, output", [
    (["region", "issue"], "issue", "group_2"),  # issue would collide with the builders' own columns ...
    (["region", "Difference"], "difference", "group_2"),
    (["group_1", "region"], "group_1", "group_1"),  # ... as would their numbered ones
    (["region", "day"], "day", '"day"'),
])
def test_a_group_named_like_a_builder_column_is_read_from_its_numbered_output(group_by, period, output):
    check = classify(node("reconcile_count", namespace="backfill", group_by=group_by), MODEL, period)
    assert check.repairable and check.period_output == output


def test_reconciliation_grouped_by_something_else_is_refused():
    check = classify(node("reconcile_count", namespace="backfill", group_by=["cast(ts as date)"]), MODEL, "order_date")
    assert check.reason == "it is grouped by cast(ts as date), not by the period column order_date"
    overall = classify(node("reconcile_count", namespace="backfill"), MODEL, "order_date")
    assert overall.reason == "it is grouped by nothing, not by the period column order_date"


def test_reconciliation_where_the_model_is_the_compare_side_uses_compare_names():
    check = classify(node("reconcile_count", namespace="backfill", attached="source.shop.raw.orders",
                          group_by=["created_day"], compare_group_by=["order_date"]), MODEL, "order_date")
    assert check.repairable and check.period_output == '"created_day"'  # the rows carry the model side's names


def test_keys_and_rows_map_by_key_and_a_summary_never_does():
    keyed = classify(node("reconcile_rows", namespace="backfill", key_columns=["order_date", "region"]), MODEL,
                     "order_date")
    assert keyed.period_output == '"order_date"'
    summary = classify(node("reconcile_rows", namespace="backfill", key_columns=["order_date"], summary=True), MODEL,
                       "order_date")
    assert summary.reason == "it reports per column (summary: true), not per period"


def test_dbt_unique_on_the_period_column_maps_and_not_null_does_not():
    unique = classify(node("unique", column_name='"order_date"'), MODEL, "order_date")
    assert unique.period_output == "unique_field"
    not_null = classify(node("not_null", column_name="order_date"), MODEL, "order_date")
    assert not_null.reason == "its failing rows are not grouped by the period column order_date"


def test_a_missing_range_is_expanded_to_the_repair_grain():
    from datetime import date, datetime

    from backfill.repair import gap_periods

    assert gap_periods(date(2024, 2, 28), date(2024, 3, 1), "day", "day") == [
        date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    hours = gap_periods(date(2024, 3, 30), date(2024, 3, 30), "day", "hour")
    assert hours[0] == datetime(2024, 3, 30, 0) and hours[-1] == datetime(2024, 3, 30, 23) and len(hours) == 24
    assert gap_periods(datetime(2024, 3, 30, 23), datetime(2024, 3, 31, 1), "hour", "day") == [
        date(2024, 3, 30), date(2024, 3, 31)]
    assert len(gap_periods(date(2024, 2, 1), date(2024, 2, 1), "month", "day")) == 29  # a leap February
