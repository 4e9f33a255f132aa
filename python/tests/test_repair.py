"""`repair`: the periods failing checks point at, backfilled through the runner,
then checked again — on DuckDB and PostgreSQL, through the CLI as a user runs it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from conftest import WAREHOUSES, Warehouse, _warehouse_kind, make_user_project, parse_json_lines, usable_warehouse

pytestmark = pytest.mark.slow

MISSING, WRONG_TOTAL, EXTRA_ROW = date(2024, 3, 5), date(2024, 3, 12), date(2024, 3, 19)
MARK = -7  # item_count of rows the repair must not rewrite (no check reads item_count)


@pytest.fixture(params=WAREHOUSES)
def march(request, tmp_path):
    """daily_metrics built for March 2024 from the demo data, every row marked."""
    store = Warehouse(_warehouse_kind(request), tmp_path)
    store.load_demo_data()
    store.cli("run", "-m", "daily_metrics", "--start", "2024-03-01", "--end", "2024-03-31", "--batch-size", "31",
              "--no-verify", check=True)
    store.table = f"{store.schema}.daily_metrics"
    store.sql(f"update {store.table} set item_count = {MARK}")
    yield store
    store.drop()


def plant_three_bad_days(store: Warehouse) -> None:
    store.sql(f"delete from {store.table} where metric_date = '{MISSING}'")
    store.sql(f"update {store.table} set total_amount = total_amount + 100 where metric_date = '{WRONG_TOTAL}'")
    store.sql(f"insert into {store.table} select * from {store.table} where metric_date = '{EXTRA_ROW}'")


def runs_recorded(store: Warehouse) -> int:
    if not store.table_exists(store.schema, "backfill_runs"):
        return 0
    return store.sql(f"select count(*) from {store.schema}.backfill_runs")[0][0]


def test_three_bad_days_are_rewritten_and_pass_afterwards(march):
    plant_three_bad_days(march)
    runs_before = runs_recorded(march)

    result = march.cli("repair", "-m", "daily_metrics", "--start", "2024-03-01", "--end", "2024-03-28", "--yes",
                       "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = {e["event"]: e for e in parse_json_lines(result.stdout)}

    # What the checks found before, per day, and that none fails after.
    assert events["checked"]["not_repairable"] == [{
        "name": "not_null_daily_metrics_metric_date",
        "reason": "its failing rows are not grouped by the period column metric_date"}]
    repaired = events["repaired"]
    assert repaired["periods"] == [
        {"period": "2024-03-05", "before": ["daily_metrics_amount_matches_events", "daily_metrics_has_no_gaps"],
         "after": []},
        {"period": "2024-03-12", "before": ["daily_metrics_amount_matches_events"], "after": []},
        {"period": "2024-03-19", "before": ["daily_metrics_amount_matches_events", "unique_daily_metrics_metric_date"],
         "after": []},
    ]
    assert repaired["succeeded"] is True
    assert {c["name"]: c["status"] for c in repaired["checks_after"]} == {
        "daily_metrics_amount_matches_events": "pass",
        "daily_metrics_has_no_gaps": "warn",  # the demo's own source gaps, outside the range
        "unique_daily_metrics_metric_date": "pass",
    }
    assert all(c["periods"] == [] for c in repaired["checks_after"])

    # Exactly those three days were rewritten: every other day keeps its mark.
    rows = march.sql(f"select metric_date, item_count from {march.table} order by metric_date")
    rewritten = sorted(str(d) for d, count in rows if count != MARK)
    assert rewritten == [str(MISSING), str(WRONG_TOTAL), str(EXTRA_ROW)]
    assert len(rows) == 31 - 1  # one row a day; 2024-03-30 has no source events at all
    assert all(count > 0 for d, count in rows if count != MARK)

    # The audit trail: one run, a batch per day, the checks before and after.
    run_id = repaired["run_id"]
    assert runs_recorded(march) == runs_before + 1
    batches = march.sql(f"select window_start, window_end, status from {march.schema}.backfill_batches "
                        f"where run_id = '{run_id}' order by batch_index")
    assert [(str(a), str(b), s) for a, b, s in batches] == [
        (str(d), str(d), "success") for d in (MISSING, WRONG_TOTAL, EXTRA_ROW)]
    options = json.loads(march.sql(f"select options from {march.schema}.backfill_runs "
                                   f"where run_id = '{run_id}'")[0][0])
    notes = options["notes"]["repair"]
    assert {c["name"]: c["status"] for c in notes["checks_before"]}["daily_metrics_amount_matches_events"] == "fail"
    assert {c["name"]: c["periods"] for c in notes["checks_before"]}["daily_metrics_amount_matches_events"] == [
        "2024-03-05", "2024-03-12", "2024-03-19"]
    assert {c["name"]: c["status"] for c in notes["checks_after"]}["daily_metrics_amount_matches_events"] == "pass"
    assert notes["periods"] == repaired["periods"]

    # `status` shows the repair's before → after.
    status = march.cli("status", "--run", run_id)
    assert "2024-03-12  daily_metrics_amount_matches_events  →  passes" in status.stdout

    # Checks that pass: nothing to do, said so, nothing recorded.
    again = march.cli("repair", "-m", "daily_metrics", "--start", "2024-03-01", "--end", "2024-03-28", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(
        "No check of daily_metrics fails on a day in 2024-03-01 … 2024-03-28: nothing to repair.\n")
    assert "daily_metrics_has_no_gaps            warn   -  (" in again.stdout  # its failures lie outside
    assert runs_recorded(march) == runs_before + 1


def test_refused_repairs_write_nothing(march):
    for day in range(1, 6):
        march.sql(f"delete from {march.table} where metric_date = '2024-03-0{day}'")
    runs_before = runs_recorded(march)
    scope = ("--start", "2024-03-01", "--end", "2024-03-28")

    too_many = march.cli("repair", "-m", "daily_metrics", *scope, "--max-periods", "3", "--yes")
    assert too_many.returncode == 2, too_many.stdout + too_many.stderr
    assert too_many.stderr.strip() == (
        "Error: The repair would rewrite 5 days, more than --max-periods 3; nothing was written: "
        "narrow it with --start/--end or --check, or raise --max-periods.")

    not_grouped = march.cli("repair", "-m", "daily_metrics", "--check", "not_null_daily_metrics_metric_date", "--yes")
    assert not_grouped.returncode == 2, not_grouped.stdout + not_grouped.stderr
    assert not_grouped.stderr.strip() == (
        "Error: No check of daily_metrics can be mapped to periods, so nothing can be repaired "
        "(not_null_daily_metrics_metric_date: its failing rows are not grouped by the period column metric_date).")

    unknown = march.cli("repair", "-m", "daily_metrics", "--check", "no_such_check")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("Error: daily_metrics has no check named no_such_check (its checks: ")

    unconfirmed = march.cli("repair", "-m", "daily_metrics", *scope)  # not a terminal, no --yes
    assert unconfirmed.returncode == 1, unconfirmed.stdout + unconfirmed.stderr
    assert "Plan: rewrite 5 day(s) of daily_metrics in 5 batch(es):" in unconfirmed.stdout
    assert unconfirmed.stderr.strip() == "Nothing was run: pass --yes to repair these 5 day(s)."

    assert march.sql(f"select count(*) from {march.table}")[0][0] == 30 - 5
    assert runs_recorded(march) == runs_before


def test_a_period_the_rerun_cannot_fix_is_reported_and_its_severity_decides_the_exit(march):
    # 2024-03-30 has no events in the source (planted): rerunning it adds nothing. Only
    # daily_metrics_has_no_gaps reports it, with severity warn: reported, exit 0, as `reconcile` does
    # (a nightly `reconcile || repair` does not mail after a repair that did all it could).
    scope = ("--start", "2024-03-29", "--end", "2024-03-31", "--yes")
    result = march.cli("repair", "-m", "daily_metrics", *scope)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2024-03-30  daily_metrics_has_no_gaps  →  daily_metrics_has_no_gaps" in result.stdout
    assert ("every check of severity error passes for them now; checks of severity warn still report 2024-03-30"
            in result.stdout)
    # --warn-error fails on them.
    strict = march.cli("repair", "-m", "daily_metrics", *scope, "--warn-error")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "Still failing after the rerun" in strict.stderr
    assert "2024-03-30" in strict.stderr


USER_CHECKS = """\
version: 2

models:
  - name: orders_daily
    data_tests:
      - backfill.reconcile_sum:
          name: orders_daily_orders_match_raw
          arguments:
            compare_model: ref('raw_orders')
            column: '"order"'
            compare_column: "1"
            group_by: [date]
            compare_group_by: ["cast(occurred_at as date)"]
      - backfill.reconcile_sum:
          name: orders_daily_amount_matches_raw
          arguments:
            compare_model: ref('raw_orders')
            column: amount
            group_by: [date]
            compare_group_by: ["cast(occurred_at as date)"]
      - backfill.reconcile_sum:
          name: orders_daily_amount_by_order_count
          arguments:
            compare_model: ref('raw_orders')
            column: amount
            group_by: ['"order"']
            compare_group_by: [order_id]
    columns:
      - name: date
        quote: true
        data_tests:
          - unique
          - not_null
"""


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_repair_in_a_user_project_with_keyword_columns_on_a_leap_day(tmp_path, kind):
    """A user's model whose period column is `date` (a keyword), window vars renamed."""
    store = make_user_project(tmp_path, usable_warehouse(kind),
                              {"models/_models.yml": USER_CHECKS})
    try:
        store.dbt("seed")
        store.cli("run", "-m", "orders_daily", "--start", "2024-02-27", "--end", "2024-03-02", "--no-verify",
                  check=True)
        table = f'{store.schema}.orders_daily'
        store.sql(f'update {table} set amount = amount * 2 where "date" = \'2024-02-29\'')
        store.sql(f'insert into {table} select * from {table} where "date" = \'2024-02-28\'')

        result = store.cli("repair", "-m", "orders_daily", "--yes", "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        events = {e["event"]: e for e in parse_json_lines(result.stdout)}
        reasons = {c["name"]: c["reason"] for c in events["checked"]["not_repairable"]}
        assert reasons["orders_daily_amount_by_order_count"] == (
            'it is grouped by "order", not by the period column date')
        assert [(p["period"], p["after"]) for p in events["repaired"]["periods"]] == [
            ("2024-02-28", []), ("2024-02-29", [])]
        # count(*) per day and the amounts are right again, one row a day
        rows = store.sql(f'select "date", "order", amount from {table} order by "date"')
        assert [(str(d), n, float(a)) for d, n, a in rows] == [
            ("2024-02-27", 1, 10.0), ("2024-02-28", 1, 20.5), ("2024-02-29", 2, 13.0), ("2024-03-01", 1, 100.0), ("2024-03-02", 1, 1.0)]
    finally:
        store.drop()


FRESH_CHECKS = """\
version: 2

models:
  - name: orders_daily
    data_tests:
      - backfill.reconcile_sum:
          name: orders_daily_amount_not_stored
          arguments:
            compare_model: ref('raw_orders')
            column: amount
            group_by: [date]
            compare_group_by: ["cast(occurred_at as date)"]
          config:
            store_failures: false
    columns:
      - name: date
        quote: true
        data_tests:
          - backfill.no_gaps:
              name: orders_daily_from_the_26th
              arguments: {start: '2024-02-26', end: '2024-03-02'}
"""


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_repair_reads_fresh_failures_and_says_why_an_empty_period_cannot_be_fixed(tmp_path, kind):
    store = make_user_project(tmp_path, usable_warehouse(kind),
                              {"models/_models.yml": FRESH_CHECKS})
    try:
        store.dbt("seed")
        store.cli("run", "-m", "orders_daily", "--start", "2024-02-27", "--end", "2024-03-02", "--no-verify",
                  check=True)
        table = f'"{store.schema}".orders_daily'
        store.sql(f'update {table} set amount = amount * 2 where "date" = \'2024-02-29\'')
        # A failures table an earlier run left behind (the check stores none now) names another day.
        audit = f'"{store.schema}_dbt_test__audit"'
        store.sql(f"create schema if not exists {audit}")
        store.sql(f"create table {audit}.orders_daily_amount_not_stored as "
                  "select cast('2024-03-01' as date) as \"date\", 1 as model_value")

        planned = store.cli("repair", "-m", "orders_daily", "--check", "orders_daily_amount_not_stored", "--json")
        assert planned.returncode == 1, planned.stdout + planned.stderr  # planned, not run: no --yes
        checked = {e["event"]: e for e in parse_json_lines(planned.stdout)}["checked"]
        assert [(c["name"], c["status"], c["periods"]) for c in checked["checks"]] == [
            ("orders_daily_amount_not_stored", "fail", ["2024-02-29"])]

        # 2024-02-26 has no source rows: its rerun writes nothing and the check fails again.
        empty = store.cli("repair", "-m", "orders_daily", "--check", "orders_daily_from_the_26th", "--yes")
        assert empty.returncode == 1, empty.stdout + empty.stderr
        assert "resume" not in empty.stderr.replace("`resume` would only fail the same way", "")
        assert ("The repair stopped at batch 1 (2024-02-26) of run " in empty.stderr
                and ": its rerun wrote no rows, because the source has none for that period, so `resume` would "
                    "only fail the same way; load the missing source data (or exclude the period from the check), "
                    "then repair again." in empty.stderr), empty.stderr
    finally:
        store.drop()
