"""The pure pieces that the end-to-end tests only reach through a warehouse, alone:
the audit trail's SQL and literals, a run's shown status, a no_gaps test's
arguments as Jinja, and what a run prints as it goes."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import pytest

from backfill.audit import (INTERRUPTED, RUNNING, BatchRecord, RunRecord, _literal, derived_status, json_value,
                            lock_is_stale, write_statements)
from backfill.cli.progress import Progress
from backfill.model import ModelInfo
from backfill.no_gaps import NoGapsCheck, _ArgumentExpressions, _check_query
from backfill.planning import plan_batches
from backfill.runner import BatchResult, RunReport

RELATIONS = {"backfill_runs": '"db"."s"."backfill_runs"', "backfill_batches": '"db"."s"."backfill_batches"',
             "backfill_locks": '"db"."s"."backfill_locks"'}


# -- the audit trail's SQL ---------------------------------------------------------------


def test_a_write_replaces_rows_by_their_keys_in_one_delete_and_one_insert_per_table():
    first = BatchRecord("run-1", 1, "2024-01-01", "2024-01-07", status="success", attempts=1, rows_written=7,
                        duration_s=1.23456)
    second = BatchRecord("run-1", 2, "2024-01-08", "2024-01-14", status="running", attempts=1,
                         started_at="2026-12-03 10:00:00")
    statements = write_statements(RELATIONS, [{"table": "backfill_batches", "values": first.values()},
                                              {"table": "backfill_batches", "values": second.values()}])
    assert statements[0] == ('delete from "db"."s"."backfill_batches" where (run_id = \'run-1\' and batch_index = 1) '
                             "or (run_id = 'run-1' and batch_index = 2)")
    assert statements[1].startswith('insert into "db"."s"."backfill_batches" (run_id, batch_index, window_start, ')
    assert "('run-1', 1, '2024-01-01', '2024-01-07', 'success', 1, 7, 1.235, null, null, null, null, null)" in statements[1]
    assert "cast('2026-12-03 10:00:00' as timestamp)" in statements[1]
    assert len(statements) == 2


def test_a_lock_is_inserted_alone_and_deletes_go_first():
    statements = write_statements(
        RELATIONS, [{"table": "backfill_locks", "values": {"model": "m", "run_id": "new", "host": "h", "pid": 7,
                                                           "acquired_at": "2026-12-03 10:00:00",
                                                           "heartbeat_at": "2026-12-03 10:00:00"},
                     "insert_only": True}],
        [{"table": "backfill_locks", "values": {"model": "m", "run_id": "dead"}}])
    assert statements[0] == "delete from \"db\".\"s\".\"backfill_locks\" where model = 'm' and run_id = 'dead'"
    assert statements[1].startswith('insert into "db"."s"."backfill_locks"') and len(statements) == 2


@pytest.mark.parametrize("value, kind, literal", [
    (None, "text", "null"),
    (7, "bigint", "7"),
    (1.5, "float", "1.5"),
    ("it's; drop table t; --", "text", "'it''s; drop table t; --'"),
    ("line\nbreak \\ and $1 %s ?", "text", "'line\nbreak \\ and $1 %s ?'"),
    ("2026-12-03 10:00:00", "timestamp", "cast('2026-12-03 10:00:00' as timestamp)"),
    (True, "text", "'True'"),
])
def test_literals_are_escaped_the_sql_standard_way(value, kind, literal):
    assert _literal(value, kind) == literal


def test_json_columns_read_back_alike_from_text_or_parsed_values():
    assert json_value('{"a": 1}') == {"a": 1}
    assert json_value({"a": 1}) == {"a": 1}
    assert json_value("", {}) == {} and json_value(None, []) == []
    run = RunRecord("r", "m", "duckdb", "2024-01-01", "2024-01-02", "day", 1, 2, {"vars": {"x": "it's"}})
    assert json.loads(run.values()["options"]) == {"vars": {"x": "it's"}}


# -- the status a run is shown with ------------------------------------------------------

NOW = datetime(2026, 12, 3, 12, 0)


def lock(run_id="r", host="here", pid=1, age_hours=0.0):
    return {"model": "m", "run_id": run_id, "host": host, "pid": pid,
            "heartbeat_at": NOW - timedelta(hours=age_hours)}


@pytest.mark.parametrize("status, held, alive, shown", [
    ("success", None, True, "success"),
    ("failed", None, True, "failed"),
    (RUNNING, lock(), True, RUNNING),  # its process is alive and holds the lock
    (RUNNING, None, True, INTERRUPTED),  # the lock is gone
    (RUNNING, lock(run_id="other"), True, INTERRUPTED),  # another run holds it now
    (RUNNING, lock(), False, INTERRUPTED),  # its process died on this host
    (RUNNING, lock(host="elsewhere"), False, RUNNING),  # another host's process: its heartbeat decides
    (RUNNING, lock(host="elsewhere", age_hours=7), False, INTERRUPTED),  # no heartbeat for over six hours
])
def test_a_run_recorded_running_without_a_live_lock_is_shown_interrupted(status, held, alive, shown):
    run = {"run_id": "r", "status": status}
    assert derived_status(run, held, now=NOW, host="here", alive=lambda pid: alive) == shown


def test_a_lock_goes_stale_after_its_time_to_live():
    assert not lock_is_stale(lock(host="x", age_hours=5.9), now=NOW, host="here")
    assert lock_is_stale(lock(host="x", age_hours=6.1), now=NOW, host="here")


# -- a no_gaps test's arguments, rendered as dbt renders them -------------------------------


@pytest.mark.parametrize("value, expression", [
    ("day", 'check.arguments["grain"]'),  # a plain value: read from the var, never pasted
    ("{{ var('shop_grain', 'day') }}", "(var('shop_grain', 'day'))"),  # one Jinja expression: its own value
    ("ref('holidays')", "(ref('holidays'))"),  # a call dbt renders as if in {{ }}: a relation
    (3, 'check.arguments["grain"]'),
    (["store_id", "{{ var('x') }}"], '[check.arguments["grain"][0], (var(\'x\'))]'),
])
def test_a_test_argument_becomes_the_jinja_that_gives_its_value(value, expression):
    assert _ArgumentExpressions("check.arguments").of(value, "grain") == expression


def test_text_mixing_jinja_is_rendered_in_a_block_and_overrides_are_never_rendered():
    arguments = _ArgumentExpressions("check.arguments")
    assert arguments.of("select day from {{ ref('holidays') }}", "exclude") == "rendered_argument_0"
    assert arguments.blocks == ["{% set rendered_argument_0 %}select day from {{ ref('holidays') }}{% endset %}"]
    check = NoGapsCheck("t", "day", {"grain": "{{ var('g') }}"}, overrides={"grain": "ref('x')"}, declared=True)
    sql, options = _check_query("{{ @grain@ }}", MODEL, check, None, None)
    assert sql.strip() == '{{ check.overrides["grain"] }}' and options["overrides"] == {"grain": "ref('x')"}


MODEL = ModelInfo(unique_id="model.shop.orders", name="orders", package_name="shop", fqn=("shop", "orders"),
                  materialized="incremental", incremental_strategy=None, relation_name='"db"."s"."orders"',
                  event_time="order_day", columns=())


# -- what a run prints -----------------------------------------------------------------------


def printed(events) -> list[str]:
    stream = io.StringIO()
    progress = Progress(stream=stream)
    for kind, payload in events:
        progress.event(kind, payload)
    return stream.getvalue().splitlines()


def test_a_run_prints_its_plan_each_batch_and_warnings_in_aligned_columns():
    plan = plan_batches(date(2024, 1, 1), date(2024, 1, 10), "day", 7)
    report = RunReport(model=MODEL, grain="day", plan=plan, vars={"region": "eu"})
    ok = BatchResult(plan[0], "success", 1.04, rows_written=7,
                     checks=({"name": "orders_has_no_gaps", "status": "warn", "detail": "missing 2024-01-03"},))
    written = BatchResult(plan[1], "check_failed", 0.5, rows_written=1, message="orders_match: 1 failing group(s)")
    lines = printed([("planned", report), ("batch_finished", ok), ("batch_finished", written)])
    assert lines[0] == "Backfilling orders: 10 day(s) in 2 batch(es)."
    assert lines[1] == "  batch   1  2024-01-01 → 2024-01-07  ok  1.0s  7 rows"
    assert lines[2] == "             warning: orders_has_no_gaps: missing 2024-01-03"
    assert lines[3] == "  batch   2  2024-01-08 → 2024-01-10  written, checks FAILED  0.5s  1 row"
    assert lines[4] == "             orders_match: 1 failing group(s)"


def test_a_dry_run_prints_each_batch_with_every_var_it_gets():
    report = RunReport(model=MODEL, grain="day", plan=plan_batches(date(2024, 1, 1), date(2024, 1, 2)), dry_run=True,
                       vars={"region": "eu"})
    lines = printed([("planned", report)])
    assert lines[0] == "Plan for orders: 2 day(s) in 2 batch(es). Dry run: nothing is written."
    assert lines[2] == """  batch   2  2024-01-02  --vars '{"region": "eu", "start_date": "2024-01-02", "end_date": "2024-01-02"}'"""


def test_json_lines_carry_the_same_events_for_machines():
    plan = plan_batches(date(2024, 1, 1), date(2024, 1, 1))
    report = RunReport(model=MODEL, grain="day", plan=plan, run_id="r1")
    stream = io.StringIO()
    progress = Progress(as_json=True, stream=stream)
    progress.event("planned", report)
    progress.event("batch_finished", BatchResult(plan[0], "success", 0.25, rows_written=3))
    report.finished = report.started + 2.0
    report.results.append(BatchResult(plan[0], "success", 0.25, rows_written=3))
    progress.event("finished", report)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["planned", "batch_finished", "finished"]
    assert events[0]["batches"] == [{"batch": 1, "start": "2024-01-01", "end": "2024-01-01",
                                     "vars": {"start_date": "2024-01-01", "end_date": "2024-01-01"}}]
    assert events[2] == {"event": "finished", "run_id": "r1", "status": "success", "batches_done": 1,
                         "batches_total": 1, "rows": 3, "seconds": 2.0, "batch_seconds": 0.25}


def test_only_an_incremental_model_that_never_alters_its_table_keeps_its_columns():
    # What a batch's checks may keep of the model's table from one batch to the next (batch_checks).
    def model(materialized, on_schema_change=None):
        return ModelInfo(**{**MODEL.__dict__, "materialized": materialized, "on_schema_change": on_schema_change})

    assert model("incremental").keeps_its_columns and model("incremental", "fail").keeps_its_columns
    assert not model("incremental", "append_new_columns").keeps_its_columns
    assert not model("incremental", "sync_all_columns").keeps_its_columns
    assert not model("table").keeps_its_columns
