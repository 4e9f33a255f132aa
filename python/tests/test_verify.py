"""`python -m backfill verify` and `verify_window` on DuckDB and PostgreSQL:
a window recomputed into a scratch table and compared with what is stored."""

from __future__ import annotations

import json

import pytest

from conftest import WAREHOUSES, make_user_project, usable_warehouse

pytestmark = pytest.mark.slow

WINDOW = ["--start", "2024-01-01", "--end", "2024-01-10"]


def stored_rows(warehouse) -> list[tuple]:
    return warehouse.sql(f'select * from "{warehouse.schema}".daily_metrics order by metric_date')


def scratch_tables(warehouse) -> list[str]:
    rows = warehouse.sql(
        "select table_name from information_schema.tables "
        f"where table_schema = '{warehouse.schema}' and table_name like 'backfill_verify_%'"
    )
    return [name for (name,) in rows]


def test_verify_reports_the_days_and_keys_a_rerun_would_change_and_writes_nothing(warehouse):
    warehouse.load_demo_data()
    built = warehouse.cli("run", "--model", "daily_metrics", *WINDOW, "--batch-size", "10")
    assert built.returncode == 0, built.stderr

    clean = warehouse.cli("verify", "--model", "daily_metrics", *WINDOW)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "matches what is stored (compared on metric_date); a rerun changes nothing." in clean.stdout

    # History drifts in three ways: a stored day lost, a stored value tampered with, and a
    # source change (an item no longer ACTIVE) that changes every day it has events on.
    schema, raw = warehouse.schema, warehouse.raw_schema
    warehouse.sql(f"delete from \"{schema}\".daily_metrics where metric_date = '2024-01-03'")
    warehouse.sql(f"update \"{schema}\".daily_metrics set event_count = event_count + 100 where metric_date = '2024-01-05'")
    (item_id,) = warehouse.sql(
        f"select min(events.item_id) from \"{raw}\".item_events as events "
        f"inner join \"{raw}\".item as item on item.id = events.item_id "
        f"where item.status = 'ACTIVE' and events.event_date = '2024-01-08'"
    )[0]
    warehouse.sql(f"update \"{raw}\".item set status = 'INACTIVE' where id = {item_id}")
    item_days = {
        day.isoformat()
        for (day,) in warehouse.sql(
            f"select distinct event_date from \"{raw}\".item_events "
            f"where item_id = {item_id} and event_date between '2024-01-01' and '2024-01-10'"
        )
    }
    before = stored_rows(warehouse)

    result = warehouse.cli("verify", "--model", "daily_metrics", *WINDOW, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["differs"] is True and report["key_columns"] == ["metric_date"]
    periods = {period["period"]: period for period in report["periods"]}
    assert sorted(periods) == sorted(item_days | {"2024-01-03", "2024-01-05"})

    lost = periods["2024-01-03"]
    assert (lost["stored_count"], lost["recomputed_count"], lost["only_recomputed_keys"], lost["differing_keys"]) == (0, 1, 1, 1)
    assert lost["sample_keys"] == [{"key": {"metric_date": "2024-01-03"}, "issue": "only recomputed: a rerun adds it"}]
    tampered = periods["2024-01-05"]
    assert (tampered["stored_count"], tampered["recomputed_count"], tampered["changed_keys"]) == (1, 1, 1)
    assert "event_count" in tampered["sample_keys"][0]["issue"]
    for day in item_days - {"2024-01-03"}:
        assert periods[day]["changed_keys"] == 1
        assert periods[day]["sample_keys"][0]["issue"].startswith("differs: event_count")

    # The same, for a person: one line per day.
    text = warehouse.cli("verify", "--model", "daily_metrics", *WINDOW)
    assert text.returncode == 1
    assert f"{len(periods)} day(s) would change if rerun (compared on metric_date):" in text.stdout
    assert "metric_date=2024-01-03 (only recomputed: a rerun adds it)" in text.stdout

    # Weekly periods: the first ISO week of 2024 holds every difference but those after the 7th.
    weekly = json.loads(warehouse.cli("verify", "--model", "daily_metrics", *WINDOW, "--grain", "week", "--json").stdout)
    week_days = {"2024-01-01": [d for d in periods if d <= "2024-01-07"], "2024-01-08": [d for d in periods if d > "2024-01-07"]}
    assert {p["period"]: p["differing_keys"] for p in weekly["periods"]} == {
        week: len(days) for week, days in week_days.items() if days
    }
    first_week = next(p for p in weekly["periods"] if p["period"] == "2024-01-01")
    assert (first_week["stored_count"], first_week["recomputed_count"]) == (6, 7)

    # Nothing stored was touched, and no scratch table is left behind.
    assert stored_rows(warehouse) == before
    assert scratch_tables(warehouse) == []

    # The Python API the runner's --verify-first uses; its scratch table goes even when it fails.
    result = warehouse.python(
        """
import json
import backfill.recompute as verify
from backfill.dbt import DbtProject

project = DbtProject(%r)
model = project.model("daily_metrics")
report = verify.verify_window(project, model, "2024-01-01", "2024-01-10")
print(json.dumps({"differs": report.differs, "periods": [p.period for p in report.periods],
                  "summary": report.summary()}))

def broken(*args, **kwargs):
    raise RuntimeError("the comparison broke")

verify._compare = broken
try:
    verify.verify_window(project, model, "2024-01-01", "2024-01-10")
except RuntimeError as error:
    print(json.dumps({"raised": str(error)}))
"""
        % str(warehouse.project_dir)
    )
    api, failed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert api["differs"] is True and api["periods"] == sorted(periods)
    assert api["summary"] == text.stdout.rstrip("\n")
    assert failed == {"raised": "the comparison broke"}
    assert scratch_tables(warehouse) == []
    assert stored_rows(warehouse) == before


def test_verify_refuses_bad_input_before_creating_anything(warehouse):
    not_built = warehouse.cli("verify", "--model", "daily_metrics", *WINDOW)
    assert not_built.returncode == 2
    assert "Model 'daily_metrics' has no table yet" in not_built.stderr
    backwards = warehouse.cli("verify", "--model", "daily_metrics", "--start", "2024-01-10", "--end", "2024-01-01")
    assert backwards.returncode == 2 and "--start 2024-01-10 is after --end 2024-01-01." in backwards.stderr
    fuzzy = warehouse.cli("verify", "--model", "daily_metrics", *WINDOW, "--precision", "-1")
    assert fuzzy.returncode == 2 and "--precision is a number of decimal places, 0 or more (got -1)." in fuzzy.stderr
    unknown = warehouse.cli("verify", "--model", "no_such_model", *WINDOW)
    assert unknown.returncode == 2 and "No model named 'no_such_model'" in unknown.stderr
    assert scratch_tables(warehouse) == []


# One row per order: the period column alone (the default key) does not identify a row.
ORDER_LINES = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('order_day') }}",
          meta={'backfill': {'period_column': 'order_day'}}) }}
select cast(occurred_at as date) as order_day, order_id, amount
from {{ ref('raw_orders') }}
where {{ backfill.backfill_window('occurred_at', this_column='order_day') }}
"""


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_a_key_the_models_rows_repeat_is_refused_before_comparing(tmp_path, kind):
    keyed = ORDER_LINES.replace("'period_column': 'order_day'", "'period_column': 'order_day', 'key': ['order_id']")
    project = make_user_project(tmp_path, usable_warehouse(kind),
                                {"models/order_lines.sql": ORDER_LINES, "models/keyed_lines.sql": keyed})
    try:
        project.dbt("seed")
        days = ["--start", "2024-02-27", "--end", "2024-03-02"]
        for model in ("order_lines", "keyed_lines"):
            project.cli("run", "-m", model, *days, "--no-verify", check=True)
        # Identical rows, but 2024-02-29 has two orders: matched on order_day alone they would "differ".
        refused = project.cli("verify", "-m", "order_lines", *days)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.strip() == (
            "Error: order_lines's rows are not unique on order_day (order_day=2024-02-29 has 2 rows), so they "
            "cannot be matched row by row: set the model's unique_key config or meta: {backfill: {key: [...]}} to "
            "the columns that identify a row; nothing was compared.")
        first = project.cli("run", "-m", "order_lines", *days, "--verify-first")
        assert first.returncode == 2 and "are not unique on order_day" in first.stderr
        # With the key declared, the same rows match: a rerun changes nothing.
        clean = project.cli("verify", "-m", "keyed_lines", *days)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "matches what is stored (compared on order_id, order_day)" in clean.stdout
    finally:
        project.drop()
