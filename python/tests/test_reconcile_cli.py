"""`python -m backfill reconcile` on the demo data: the reference pipeline's
checks report exactly the differences the generator planted."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import WAREHOUSES, Warehouse, make_user_project, usable_warehouse

from backfill.demo_data import (
    BILLING_DOUBLE_BILLED_DAY,
    BILLING_UNBILLED_DAY,
    BILLING_WRONG_AMOUNT_DAY,
    REPLICA_CHANGED_EMAIL_USERS,
    REPLICA_MISSING_USERS,
    REPLICA_NULL_COUNTRY_USERS,
    DemoSize,
)

pytestmark = pytest.mark.slow

START = DemoSize().start_date


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


class Hook:
    """A webhook receiver on 127.0.0.1 that keeps what it was sent."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers["Content-Type"], json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/dbt"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    receiver = Hook()
    yield receiver
    receiver.close()


# The sources' checks (daily_metrics has one too, but it is not built in these tests).
SOURCE_CHECKS = ("--select", "source:reference_raw.orders", "--select", "source:reference_raw.users")


def by_name(document) -> dict:
    return {check["name"]: check for check in document["checks"]}


def test_json_and_webhook_report_exactly_the_planted_differences(demo_warehouse, hook):
    result = demo_warehouse.cli("reconcile", *SOURCE_CHECKS, "--json", "--warn-error", "--webhook", hook.url)
    # the reference checks have severity warn; --warn-error makes them failures
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    checks = by_name(document)
    assert document["counts"] == {"pass": 0, "warn": 5, "fail": 0, "error": 0}

    count = checks["orders_vs_billing_count_per_day"]
    assert (count["kind"], count["model"], count["compare_model"]) == (
        "count", "reference_raw.orders", "reference_raw.billing_records")
    assert {row["order_date"]: (row["model_value"], row["compare_value"]) for row in count["worst"]} == {
        day(BILLING_UNBILLED_DAY): (12, 11), day(BILLING_DOUBLE_BILLED_DAY): (12, 13)}
    assert (count["failures"], count["model_total"], count["compare_total"], count["groups_compared"]) == (
        2, 1452, 1452, 121)

    amount = checks["orders_vs_billing_amount_per_day"]
    assert amount["failures"] == 3
    assert {row["order_date"] for row in amount["worst"]} == {
        day(BILLING_UNBILLED_DAY), day(BILLING_WRONG_AMOUNT_DAY), day(BILLING_DOUBLE_BILLED_DAY)}
    wrong_amount = next(r for r in amount["worst"] if r["order_date"] == day(BILLING_WRONG_AMOUNT_DAY))
    assert wrong_amount["difference"] == -5  # billed 5.00 more

    keys = checks["users_vs_replica_keys"]
    assert keys["issues"] == {"missing in compare_model": len(REPLICA_MISSING_USERS)}
    assert {row["user_id"] for row in keys["worst"]} == set(REPLICA_MISSING_USERS)

    rows = checks["users_vs_replica_rows"]
    assert rows["issues"] == {
        "missing in compare_model": len(REPLICA_MISSING_USERS),
        "email: values differ": len(REPLICA_CHANGED_EMAIL_USERS),
        "country: null in compare_model": len(REPLICA_NULL_COUNTRY_USERS),
    }
    assert {(r["user_id"], r["column_name"]) for r in rows["worst"]} == (
        {(u, None) for u in REPLICA_MISSING_USERS}
        | {(u, "email") for u in REPLICA_CHANGED_EMAIL_USERS}
        | {(u, "country") for u in REPLICA_NULL_COUNTRY_USERS})

    summary = {r["column_name"]: r for r in checks["users_vs_replica_columns"]["worst"]}
    assert set(summary) == {None, "email", "country"}  # full_name and created_at agree everywhere
    assert summary["email"]["differing_rows"] == len(REPLICA_CHANGED_EMAIL_USERS)
    assert summary["country"]["null_in_compare_rows"] == len(REPLICA_NULL_COUNTRY_USERS)
    assert summary[None]["keys_missing_in_compare"] == len(REPLICA_MISSING_USERS)

    # the webhook got the same failing checks, once, as JSON
    assert len(hook.received) == 1
    path, content_type, payload = hook.received[0]
    assert (path, content_type) == ("/hooks/dbt", "application/json")
    assert payload["failed"] == 5 and payload["invocation_id"] == document["invocation_id"]
    # no --target: the profile's default, named (BACKFILL_TARGET picks it in these tests)
    assert payload["target"] == demo_warehouse.kind
    assert by_name(payload) == checks


def test_text_report_and_history_follow_each_run(demo_warehouse):
    history = f'"{demo_warehouse.schema}".backfill_reconcile_history'
    first = demo_warehouse.cli("reconcile", *SOURCE_CHECKS, "--history")
    assert first.returncode == 0, first.stderr  # warnings only
    lines = first.stdout.splitlines()
    count_line = next(line for line in lines if "orders_vs_billing_count_per_day" in line)
    assert count_line.startswith("WARN ")
    assert f"2 of 121 group(s) differ, totals 1,452 vs 1,452; worst: {day(BILLING_UNBILLED_DAY)} 12 vs 11 (+1)" in count_line
    assert "OK: 5 check(s), 0 passed, 5 warned." in lines
    assert "Appended 5 result(s) to backfill_reconcile_history." in lines

    # a batch window: the checks that declare window columns compare only those days
    window = demo_warehouse.cli(
        "reconcile", "--start", day(0), "--end", day(14), "--json", "--history",
        "--select", "orders_vs_billing_count_per_day", "--select", "orders_vs_billing_amount_per_day")
    assert window.returncode == 0, window.stderr
    checks = by_name(json.loads(window.stdout))
    assert set(checks) == {"orders_vs_billing_count_per_day", "orders_vs_billing_amount_per_day"}
    for check in checks.values():
        assert [row["order_date"] for row in check["worst"]] == [day(BILLING_UNBILLED_DAY)]
        assert check["groups_compared"] == 15

    # a window on a check that declares no window column compares all history: no window recorded
    unwindowed = demo_warehouse.cli(
        "reconcile", "--start", day(0), "--end", day(14), "--history", "--select", "users_vs_replica_keys")
    assert unwindowed.returncode == 0, unwindowed.stderr

    rows = demo_warehouse.sql(
        f"select check_name, status, failures, window_start, window_end from {history} order by recorded_at, check_name")
    assert len(rows) == 8 and {row[1] for row in rows} == {"warn"}
    assert rows[:5] == sorted(rows[:5]) and {row[3] for row in rows[:5]} == {None}
    assert rows[5:] == [
        ("orders_vs_billing_amount_per_day", "warn", 1, day(0), day(14)),
        ("orders_vs_billing_count_per_day", "warn", 1, day(0), day(14)),
        ("users_vs_replica_keys", "warn", len(REPLICA_MISSING_USERS), None, None),
    ]

    # the totals keep every cent (a 4-byte float turned 644,317.26 into 644,317.25)
    raw = f'"{demo_warehouse.raw_schema}"'
    (orders_total,), = demo_warehouse.sql(f"select sum(amount) from {raw}.orders")
    (billed_total,), = demo_warehouse.sql(f"select sum(billed_amount) from {raw}.billing_records")
    (model_total, compare_total), = demo_warehouse.sql(
        f"select model_total, compare_total from {history} "
        "where check_name = 'orders_vs_billing_amount_per_day' and window_start is null")
    assert (Decimal(str(model_total)), Decimal(str(compare_total))) == (orders_total, billed_total)


def test_bad_input_is_refused_before_anything_runs(tmp_path):
    # refused before any warehouse is touched: the same everywhere, checked once
    store = Warehouse("duckdb", tmp_path)
    result = store.cli("reconcile", "--webhook", "ftp://example.com/x")
    assert result.returncode == 2
    assert "--webhook must be an http:// or https:// URL (got 'ftp://example.com/x')." in result.stderr
    result = store.cli("reconcile", "--start", "2024-01-01")
    assert result.returncode == 2 and "Give both --start and --end, or neither." in result.stderr
    result = store.cli("reconcile", "--select", "daily_metrics_reproducible", "--history")
    assert result.returncode == 2
    assert "No reconciliation tests (backfill.reconcile_*) match --select daily_metrics_reproducible." in result.stderr
    assert not store.duckdb_path.exists()


def test_an_unreachable_webhook_is_a_failure(demo_warehouse):
    with_hook = demo_warehouse.cli("reconcile", "--warn-error", "--select", "users_vs_replica_keys",
                                   "--webhook", "http://127.0.0.1:9/nothing-listens-here")
    assert with_hook.returncode == 1
    assert "Could not post to --webhook: the webhook could not be reached" in with_hook.stderr


@pytest.mark.parametrize("start, end, sentence", [
    ("2024-02-30", "2024-03-01", "Error: --start '2024-02-30' is not a real date."),
    ("2024-03-01", "1 March", "Error: --end '1 March' is not a date: expected YYYY-MM-DD."),
    ("2024-03-02", "2024-03-01", "Error: --start 2024-03-02 is after --end 2024-03-01."),
])
def test_the_window_is_refused_as_run_refuses_it(warehouse, start, end, sentence):
    result = warehouse.cli("reconcile", "--start", start, "--end", end, "--history")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == sentence
    assert not warehouse.duckdb_path.exists()  # refused before any warehouse was touched


# A user's project: checks on its own model and seeds, one of them storing no failures,
# one keyed by a column named `issue`, one whose compare_model names nothing.
USER_CHECKS = """\
version: 2

models:
  - name: orders_daily
    data_tests:
      - backfill.reconcile_sum:
          name: orders_daily_amount_not_stored
          arguments:
            compare_model: "{{ target.schema }}.raw_orders"
            column: amount
            group_by: [date]
            compare_group_by: ["cast(occurred_at as date)"]
          config:
            store_failures: false

seeds:
  - name: tickets_a
    data_tests:
      - backfill.reconcile_keys:
          name: tickets_match
          arguments: {compare_model: ref('tickets_b'), key_columns: [issue]}
      - backfill.reconcile_count:
          name: tickets_against_nothing
          arguments: {compare_model: ref('no_such_model')}
"""

TICKETS_A = "issue,points\nJIRA-1,1\nJIRA-2,2\n"
TICKETS_B = "issue,points\nJIRA-1,1\nJIRA-3,5\n"


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_a_user_project_report_reads_fresh_rows_and_names_what_it_checks(tmp_path, kind):
    store = make_user_project(tmp_path, usable_warehouse(kind), {
        "models/_models.yml": USER_CHECKS, "seeds/tickets_a.csv": TICKETS_A, "seeds/tickets_b.csv": TICKETS_B})
    try:
        store.dbt("seed")
        store.dbt("run")
        # billing of 2024-03-02 changes after the model was built: that day differs now ...
        store.sql(f'update "{store.schema}".raw_orders set amount = 3 where order_id = 6')
        # ... and an earlier run left a failures table behind that names another day
        audit = f'"{store.schema}_dbt_test__audit"'
        store.sql(f"create schema if not exists {audit}")
        store.sql(f"create table {audit}.orders_daily_amount_not_stored as select cast('1999-12-31' as date) as "
                  '"date", 1 as model_value, 2 as compare_value, -1 as difference, -50.0 as difference_pct, '
                  "cast(null as varchar(20)) as missing_in, 1 as model_rows, 1 as compare_rows, "
                  "1 as model_total, 2 as compare_total, 1 as groups_compared")

        result = store.cli("reconcile", "--json")
        assert result.returncode == 1, result.stdout + result.stderr
        checks = by_name(json.loads(result.stdout))

        not_stored = checks["orders_daily_amount_not_stored"]
        assert (not_stored["status"], not_stored["failures"], not_stored["failures_relation"]) == ("fail", 1, None)
        assert [(row["date"], row["model_value"], row["compare_value"]) for row in not_stored["worst"]] == [
            ("2024-03-02", 1, 3)]  # the rows as they are now, not the stale table's
        # a relation name written with Jinja, shown as dbt renders it
        assert not_stored["compare_model"] == f"{store.schema}.raw_orders"

        tickets = checks["tickets_match"]
        assert tickets["status"] == "fail"
        assert tickets["issues"] == {"missing in compare_model": 1, "missing in model": 1}
        assert sorted(row["key_1"] for row in tickets["worst"]) == ["JIRA-2", "JIRA-3"]

        nothing = checks["tickets_against_nothing"]
        assert nothing["status"] == "error"
        assert nothing["message"] == ("ref('no_such_model') names nothing in this project (no such model, seed, "
                                      "snapshot or source), so dbt does not run this check.")

        text = store.cli("reconcile").stdout
        assert (f"FAIL   orders_daily_amount_not_stored  sum: orders_daily.amount vs {store.schema}.raw_orders.amount "
                "per date — 1 of 5 group(s) differ, totals 144.50 vs 146.50; worst: 2024-03-02 1 vs 3 (-2)") in text
        assert "e.g. issue=JIRA-2 (missing in compare_model), issue=JIRA-3 (missing in model)" in text
        assert "ERROR  tickets_against_nothing  count: tickets_a vs no_such_model — ref('no_such_model') names" in text
    finally:
        store.drop()
