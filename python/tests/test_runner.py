"""The runner (issue 6): audit trail, resume after SIGKILL, retries, the lock,
concurrency, microbatch models — on DuckDB and PostgreSQL."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project, parse_json_lines, usable_warehouse

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"


def days_in(warehouse, table="daily_metrics", column="metric_date"):
    return warehouse.sql(f'select count(*), count(distinct {column}) from "{warehouse.schema}".{table}')[0]


def audit_rows(warehouse, run_id):
    run = warehouse.sql(f"select status, batches_done, batches_total from \"{warehouse.schema}\".backfill_runs "
                        f"where run_id = '{run_id}'")
    batches = warehouse.sql(f"select batch_index, status, attempts from \"{warehouse.schema}\".backfill_batches "
                            f"where run_id = '{run_id}' order by batch_index")
    return run[0], [(int(i), s, int(a)) for i, s, a in batches]


def test_ninety_days_in_weekly_batches_equal_a_full_build(warehouse):
    warehouse.load_demo_data()
    result = warehouse.cli("run", "-m", "daily_metrics", "--start", "2024-01-01", "--end", "2024-03-30",
                           "--batch-size", "7", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = parse_json_lines(result.stdout)
    assert [e["event"] for e in events].count("batch_finished") == 13
    finished = events[-1]
    assert finished["event"] == "finished" and finished["status"] == "success" and finished["batches_done"] == 13
    batched = warehouse.sql(f'select * from "{warehouse.schema}".daily_metrics order by metric_date')

    # The same model built in one go (no window: everything), kept to the same 90 days.
    warehouse.dbt("run", "--select", "daily_metrics", "--full-refresh")
    full = warehouse.sql(f'select * from "{warehouse.schema}".daily_metrics '
                         "where metric_date between '2024-01-01' and '2024-03-30' order by metric_date")
    assert batched == full and len(full) == 90 - 6  # six planted missing days, 2024-03-30 the last

    run, batches = audit_rows(warehouse, finished["run_id"])
    assert run == ("success", 13, 13)
    assert batches == [(i, "success", 1) for i in range(1, 14)]


def test_sigkill_mid_batch_then_resume_leaves_every_day_exactly_once(warehouse):
    warehouse.load_demo_data()
    # In the middle of batch 4: its dbt run has started.
    run_id = warehouse.cli_killed("run", "-m", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-28",
                                  "--batch-size", "2",
                                  when=lambda event: event["event"] == "batch_started" and event["batch"] == 4)

    run, batches = audit_rows(warehouse, run_id)
    assert run[0] == "running"  # as the killed process left it
    assert batches[:3] == [(1, "success", 1), (2, "success", 1), (3, "success", 1)]
    assert batches[3] == (4, "running", 1)
    assert all(status == "pending" for _, status, _ in batches[4:])

    status = warehouse.cli("status", "--model", "daily_metrics")
    assert run_id in status.stdout and "interrupted" in status.stdout

    resumed = warehouse.cli("resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming run" in resumed.stdout and "11 of 14 batch(es) left (3 already done)" in resumed.stdout

    rows, distinct_days = days_in(warehouse)
    assert rows == distinct_days == 27  # 28 days, 2024-01-15 has no events in the source
    run, batches = audit_rows(warehouse, run_id)
    assert run == ("success", 14, 14)
    assert batches[3] == (4, "success", 2)  # the interrupted batch ran again
    assert [a for _, _, a in batches[:3]] == [1, 1, 1]  # finished batches were not re-run

    again = warehouse.cli("resume", run_id)
    assert again.returncode == 2 and "Nothing to resume" in again.stderr


@pytest.fixture(params=WAREHOUSES)
def runner_project(request, tmp_path):
    store = make_user_project(tmp_path, _warehouse_kind(request), {
        "models/flaky_daily.sql": (FIXTURES / "flaky_daily.sql").read_text(),
        "models/orders_microbatch.sql": (FIXTURES / "orders_microbatch.sql").read_text(),
        "seeds/_seeds.yml": (FIXTURES / "raw_orders_event_time.yml").read_text(),
    })
    store.dbt("seed")
    store.sql(f'create table "{store.schema}".flaky_attempts (attempt integer)')
    yield store
    store.drop()


def test_a_batch_that_fails_twice_succeeds_with_two_retries(runner_project):
    result = runner_project.cli("run", "-m", "flaky_daily", "--start", "2024-02-29", "--end", "2024-02-29",
                                "--retries", "2", "--backoff", "0.1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("retrying in") == 2
    assert "(3 attempts)" in result.stdout
    assert runner_project.sql(f'select order_day, orders from "{runner_project.schema}".flaky_daily') == [
        (__import__("datetime").date(2024, 2, 29), 2)
    ]
    assert runner_project.sql(f'select count(*) from "{runner_project.schema}".flaky_attempts') == [(3,)]


def test_a_batch_that_keeps_failing_stops_the_run_with_exit_1(runner_project):
    result = runner_project.cli("run", "-m", "flaky_daily", "--start", "2024-02-28", "--end", "2024-03-01",
                                "--retries", "1", "--backoff", "0", "--vars", "{fail_attempts: 5}")
    assert result.returncode == 1
    assert "Failed: batch 1/3 (2024-02-28) of flaky_daily" in result.stderr
    assert "0 of 3 batches are done and recorded; finish the rest with: python -m backfill resume" in result.stderr
    status = runner_project.cli("status", "--model", "flaky_daily", "--json")
    recorded = json.loads(status.stdout)
    assert recorded["runs"][0]["status"] == "failed"
    assert [(b["status"], int(b["attempts"])) for b in recorded["batches"]] == [
        ("failed", 2), ("pending", 0), ("pending", 0)]
    assert "failing on purpose" in recorded["batches"][0]["error"] or "integer" in recorded["batches"][0]["error"].lower()


def test_a_running_backfill_holds_the_lock_and_a_dead_one_does_not(runner_project):
    # The first run pauses ten minutes after its first batch: it is still running, holding the
    # model's lock (and, on DuckDB, the file), whatever the machine's speed, until it is killed.
    slow = [sys.executable, "-m", "backfill", "--project-dir", str(runner_project.project_dir), "run",
            "-m", "orders_daily", "--start", "2024-02-27", "--end", "2024-03-02", "--sleep", "600", "--json"]
    first = subprocess.Popen(slow, env=runner_project.env, cwd=runner_project.tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stdout:
            if json.loads(line)["event"] == "batch_finished":
                break
        if runner_project.kind == "postgres":  # the audit trail says so: running, the lock held by it
            run_id = runner_project.sql(f'select run_id from "{runner_project.schema}".backfill_locks '
                                        "where model = 'orders_daily'")[0][0]
            assert runner_project.sql(f'select status from "{runner_project.schema}".backfill_runs '
                                      f"where run_id = '{run_id}'") == [("running",)]
        second = runner_project.cli("run", "-m", "orders_daily", "--start", "2024-02-27", "--end", "2024-02-28")
        assert second.returncode == 2, second.stdout + second.stderr
        if runner_project.kind == "duckdb":  # the running process holds the file itself
            assert "is in use by another process" in second.stderr
        else:
            assert f"Model 'orders_daily' is being backfilled by run {run_id}" in second.stderr
        assert second.stderr.count("\n") == 1  # one sentence
        assert first.poll() is None  # the first run was running all along
    finally:
        first.kill()
        first.wait()
    # The killed run's lock names a dead process on this host: the next run takes it over.
    third = runner_project.cli("run", "-m", "orders_daily", "--start", "2024-02-27", "--end", "2024-02-28")
    assert third.returncode == 0, third.stdout + third.stderr


def test_microbatch_models_are_driven_by_event_time_flags(runner_project):
    plan = runner_project.cli("run", "-m", "orders_microbatch", "--start", "2024-02-28", "--end", "2024-03-01",
                              "--dry-run", "--json")
    batches = parse_json_lines(plan.stdout)[0]["batches"]
    assert batches[1]["vars"] == {"event_time_start": "2024-02-29T00:00:00", "event_time_end": "2024-03-01T00:00:00"}

    result = runner_project.cli("run", "-m", "orders_microbatch", "--start", "2024-02-28", "--end", "2024-03-01")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = runner_project.sql(f'select order_day, orders, amount from "{runner_project.schema}".orders_microbatch '
                              "order by 1")
    assert [(str(d), n, float(a)) for d, n, a in rows] == [
        ("2024-02-28", 1, 20.5), ("2024-02-29", 2, 13.0), ("2024-03-01", 1, 100.0)]


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_batches_on_postgres(tmp_path, kind):
    from conftest import Warehouse

    warehouse = Warehouse(usable_warehouse(kind), tmp_path)
    try:
        warehouse.load_demo_data()
        result = warehouse.cli("run", "-m", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-28",
                               "--batch-size", "7", "--concurrency", "2")
        assert result.returncode == 0, result.stdout + result.stderr
        assert days_in(warehouse) == (27, 27)
    finally:
        warehouse.drop()


def test_concurrency_is_refused_on_a_duckdb_file(tmp_path):
    from conftest import Warehouse

    warehouse = Warehouse("duckdb", tmp_path)
    warehouse.load_demo_data()
    result = warehouse.cli("run", "-m", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-28",
                           "--concurrency", "2")
    assert result.returncode == 2
    assert "--concurrency needs a warehouse that takes several writers" in result.stderr
    assert not warehouse.table_exists("main", "daily_metrics")


def test_verify_first_refuses_to_change_history_unless_accepted(warehouse):
    warehouse.load_demo_data()
    week = ["run", "-m", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-07", "--batch-size", "7"]
    assert warehouse.cli(*week).returncode == 0
    stored = lambda: warehouse.sql(f'select * from "{warehouse.schema}".daily_metrics order by metric_date')  # noqa: E731
    before = stored()
    raw = warehouse.raw_schema
    item_id, day = warehouse.sql(
        f'select min(events.item_id), min(events.event_date) from "{raw}".item_events as events '
        f'join "{raw}".item as item on item.id = events.item_id '
        "where item.status = 'ACTIVE' and events.event_date = '2024-01-03'")[0]
    warehouse.sql(f"update \"{raw}\".item set status = 'INACTIVE' where id = {item_id}")

    refused = warehouse.cli(*week, "--verify-first")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Recomputing daily_metrics would change stored history in" in refused.stderr
    assert "2024-01-03" in refused.stderr and "pass --accept-changes" in refused.stderr
    assert stored() == before

    accepted = warehouse.cli(*week, "--verify-first", "--accept-changes")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    after = {row[0].isoformat(): row for row in stored()}
    assert after["2024-01-03"] != {row[0].isoformat(): row for row in before}["2024-01-03"]


# A batch that waits, inside its own SQL, until a second batch has started: it passes only when
# batches run at the same time. A sequence's value is seen by every session at once, committed or not.
BARRIER_DAILY = """
{{ config(
    materialized='incremental',
    meta={'backfill': {'period_column': 'order_day'}},
    pre_hook=["{{ backfill.delete_window('order_day') }}", "
        {% if is_incremental() %}
        do $$
        declare started bigint;
        begin
            perform nextval('" ~ this.schema ~ ".batch_starts');
            for attempt in 1..{{ var('barrier_polls', 1200) }} loop
                select last_value into started from " ~ this.schema ~ ".batch_starts;
                exit when started >= 2;
                perform pg_sleep(0.05);
            end loop;
            if started < 2 then
                raise exception 'no other batch ran at the same time';
            end if;
        end $$
        {% endif %}"],
) }}
select cast(occurred_at as date) as order_day, count(*) as orders
from {{ ref('raw_orders') }}
where {{ backfill.backfill_window('occurred_at', this_column='order_day') }}
group by cast(occurred_at as date)
"""


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_batches_really_run_at_the_same_time(tmp_path, kind):
    project = make_user_project(tmp_path, usable_warehouse(kind), {"models/barrier_daily.sql": BARRIER_DAILY})
    try:
        project.dbt("seed")
        project.sql(f'create sequence "{project.schema}".batch_starts')
        days = ["--start", "2024-02-27", "--end", "2024-03-02"]
        result = project.cli("run", "-m", "barrier_daily", *days, "--concurrency", "2", "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        # Batch 1 built the table alone; each of the four others passed the barrier.
        assert project.sql(f'select last_value from "{project.schema}".batch_starts') == [(4,)]
        assert [e["status"] for e in parse_json_lines(result.stdout) if e["event"] == "batch_finished"] == \
            ["success"] * 5
        # One batch alone does not pass it: it waits for a partner that never comes (a short wait here).
        project.sql(f'alter sequence "{project.schema}".batch_starts restart')
        alone = project.cli("run", "-m", "barrier_daily", "--start", "2024-02-27", "--end", "2024-02-27",
                            "--vars", "{barrier_polls: 10}")
        assert alone.returncode == 1 and "no other batch ran at the same time" in alone.stderr, alone.stderr
    finally:
        project.drop()
