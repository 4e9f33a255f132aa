"""`python -m backfill reconcile` on the demo data: the reference pipeline's
checks report exactly the differences the generator planted."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import Warehouse

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

    rows = demo_warehouse.sql(
        f"select check_name, status, failures, window_start, window_end from {history} order by recorded_at, check_name")
    assert len(rows) == 7 and {row[1] for row in rows} == {"warn"}
    assert rows[:5] == sorted(rows[:5]) and {row[3] for row in rows[:5]} == {None}
    assert rows[5:] == [
        ("orders_vs_billing_amount_per_day", "warn", 1, day(0), day(14)),
        ("orders_vs_billing_count_per_day", "warn", 1, day(0), day(14)),
    ]


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
