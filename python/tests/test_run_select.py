"""`run --select` (issue 20): a model and everything built on it, window by window in DAG
order — a daily parent, a weekly incremental child, a view and a table on top — on
DuckDB and PostgreSQL: the plan, the result against a rebuild, SIGKILL between parent
and child then `resume`, and the refusals."""

from datetime import date, datetime, timedelta

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project, parse_json_lines

pytestmark = pytest.mark.slow

# The parent: events per day; `scale` lets a backfill change what it writes, so a child
# that missed its parent's new window would show it.
DAILY = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('event_day') }}",
          meta={'backfill': {'period_column': 'event_day', 'grain': 'day'}}) }}
select
    cast(events.occurred_at as date) as event_day,
    count(*) * {{ var('scale', 1) }} as events,
    sum(events.amount) * {{ var('scale', 1) }} as amount
from {{ ref('dag_events') }} as events
where {{ backfill.backfill_window('events.occurred_at', this_column='event_day') }}
group by cast(events.occurred_at as date)
"""

# The child: the parent's days summed per ISO week; its grain says a day of the parent is its week.
WEEKLY = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('week_start') }}",
          meta={'backfill': {'period_column': 'week_start', 'grain': 'week'}}) }}
select
    cast({{ dbt.date_trunc('week', 'daily.event_day') }} as date) as week_start,
    sum(daily.events) as events,
    sum(daily.amount) as amount
from {{ ref('dag_daily') }} as daily
where {{ backfill.backfill_window('daily.event_day', this_column='week_start') }}
group by cast({{ dbt.date_trunc('week', 'daily.event_day') }} as date)
"""

VIEW = """
{{ config(materialized='view') }}
select week_start, events from {{ ref('dag_weekly') }} where events > 0
"""

TOTALS = """
{{ config(materialized='table') }}
select count(*) as weeks, sum(events) as events from {{ ref('dag_weekly_view') }}
"""

# A weekly child that does not say its grain: its windows cannot be derived from the parent's.
UNDECLARED = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('week_start') }}",
          meta={'backfill': {'period_column': 'week_start'}}) }}
select cast({{ dbt.date_trunc('week', 'event_day') }} as date) as week_start, sum(events) as events
from {{ ref('dag_daily') }}
where {{ backfill.backfill_window('event_day', this_column='week_start') }}
group by cast({{ dbt.date_trunc('week', 'event_day') }} as date)
"""


def events_csv() -> str:
    """Three events a day over January 2024's first three weeks, one a minute before midnight."""
    lines = ["event_id,occurred_at,amount"]
    day = date(2024, 1, 1)
    for number in range(21):
        for hour, amount in ((0, 1.5), (12, 2.25), (23, 4.0)):
            moment = datetime(day.year, day.month, day.day, hour, 59 if hour == 23 else 0)
            lines.append(f"{len(lines)},{moment:%Y-%m-%d %H:%M:%S},{amount + number}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


FILES = {
    "models/dag/dag_daily.sql": DAILY,
    "models/dag/dag_weekly.sql": WEEKLY,
    "models/dag/dag_weekly_view.sql": VIEW,
    "models/dag/dag_totals.sql": TOTALS,
}


def built_dag(tmp_path, kind: str):
    store = make_user_project(tmp_path, kind, {**FILES, "seeds/dag_events.csv": events_csv()})
    store.dbt("seed")
    store.dbt("run", "--select", "dag_daily+")  # everything built once, at scale 1
    return store


@pytest.fixture(params=WAREHOUSES)
def dag(request, tmp_path):
    store = built_dag(tmp_path, _warehouse_kind(request))
    yield store
    store.drop()


@pytest.fixture(scope="module", params=WAREHOUSES)
def refusing_dag(request, tmp_path_factory):
    """One built project per warehouse for the refusals, which write nothing."""
    store = built_dag(tmp_path_factory.mktemp("dag"), _warehouse_kind(request))
    yield store
    store.drop()


def read(store, name: str) -> list[tuple]:
    return [tuple(float(v) if isinstance(v, (int, float)) or hasattr(v, "as_tuple") else str(v) for v in row)
            for row in store.sql(f'select * from "{store.schema}".{name} order by 1')]


def rebuilt_children(store) -> dict:
    """What the children hold when built again in one go from the parent as it is now."""
    store.dbt("run", "--select", "dag_weekly+", "--full-refresh")
    return {name: read(store, name) for name in ("dag_weekly", "dag_totals")}


def finished_models(events: list[dict]) -> list[tuple]:
    return [(e["model"], e["start"], e["end"]) for e in events if e["event"] == "batch_started"]


PLAN = [
    ("dag_daily", "2024-01-05", "2024-01-05"), ("dag_daily", "2024-01-06", "2024-01-06"),
    ("dag_daily", "2024-01-07", "2024-01-07"),
    ("dag_weekly", "2024-01-01", "2024-01-07"),  # after the parent's Sunday, not before
    ("dag_daily", "2024-01-08", "2024-01-08"), ("dag_daily", "2024-01-09", "2024-01-09"),
    ("dag_weekly", "2024-01-08", "2024-01-14"),
    ("dag_totals", "2024-01-01", "2024-01-14"),  # a table: rebuilt once, after its parents' last window
]


def test_a_parent_and_everything_built_on_it_are_backfilled_window_by_window(dag):
    dry = dag.cli("run", "-s", "dag_daily+", "--start", "2024-01-05", "--end", "2024-01-09", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    (planned,) = [e for e in parse_json_lines(dry.stdout) if e["event"] == "planned"]
    assert [(b["model"], b["start"], b["end"]) for b in planned["batches"]] == PLAN
    assert planned["models"] == ["dag_daily", "dag_weekly", "dag_totals"]
    assert planned["left_alone"] == [{"model": "dag_weekly_view", "reason": "a view reads its parents as they are"}]
    assert planned["batches"][3]["vars"] == {"start_date": "2024-01-01", "end_date": "2024-01-07"}
    before = {name: read(dag, name) for name in ("dag_daily", "dag_weekly", "dag_totals")}

    result = dag.cli("run", "-s", "dag_daily+", "--start", "2024-01-05", "--end", "2024-01-09",
                     "--vars", "{scale: 2}", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = parse_json_lines(result.stdout)
    assert finished_models(events) == PLAN
    assert all(e["status"] == "success" for e in events if e["event"] == "batch_finished")

    daily = read(dag, "dag_daily")
    changed = [row[0] for row, old in zip(daily, before["dag_daily"]) if row != old]
    assert changed == ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"]
    assert [row for row in daily if row[0] == "2024-01-05"] == [("2024-01-05", 6.0, 2 * (1.5 + 2.25 + 4.0 + 12))]
    backfilled = {name: read(dag, name) for name in ("dag_weekly", "dag_totals")}
    assert backfilled["dag_weekly"] != before["dag_weekly"]  # the children followed their parent
    assert backfilled == rebuilt_children(dag)

    run_id = events[-1]["run_id"]
    recorded = dag.sql(f"select batch_index, model, window_start, window_end, status from "
                       f"\"{dag.schema}\".backfill_batches where run_id = '{run_id}' order by batch_index")
    assert [(m, s, e) for _, m, s, e, _ in recorded] == PLAN
    (run,) = dag.sql(f"select model, status, range_start, range_end from \"{dag.schema}\".backfill_runs "
                     f"where run_id = '{run_id}'")
    assert run == ("dag_daily,dag_weekly,dag_totals", "success", "2024-01-01", "2024-01-14")
    status = dag.cli("status", "-m", "dag_weekly")  # a model's runs include the selections that rewrote it
    assert run_id in status.stdout, status.stdout
    detail = dag.cli("status", "--run", run_id)
    assert "dag_weekly  2024-01-01 → 2024-01-07" in detail.stdout, detail.stdout


def test_a_kill_between_parent_and_child_is_resumed_with_exactly_the_rest(dag):
    # The parent's week is written, the child's has started.
    run_id = dag.cli_killed("run", "-s", "dag_daily+", "--start", "2024-01-05", "--end", "2024-01-09",
                            "--vars", "{scale: 2}",
                            when=lambda event: event["event"] == "batch_started" and event.get("model") == "dag_weekly")
    recorded = dag.sql(f"select batch_index, model, status from \"{dag.schema}\".backfill_batches "
                       f"where run_id = '{run_id}' order by batch_index")
    assert [s for _, _, s in recorded] == ["success"] * 3 + ["running"] + ["pending"] * 4

    resumed = dag.cli("resume", "--model", "dag_weekly", "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    events = parse_json_lines(resumed.stdout)
    assert finished_models(events) == PLAN[3:]  # exactly the (model, window) pairs left, in order
    attempts = dag.sql(f"select attempts from \"{dag.schema}\".backfill_batches where run_id = '{run_id}' "
                       "order by batch_index")
    assert [int(a) for (a,) in attempts] == [1, 1, 1, 2, 1, 1, 1, 1]
    backfilled = {name: read(dag, name) for name in ("dag_weekly", "dag_totals")}
    assert backfilled == rebuilt_children(dag)


def test_a_child_whose_windows_cannot_be_derived_is_refused_unless_excluded(refusing_dag):
    dag = refusing_dag
    undeclared = dag.project_dir / "models" / "dag" / "dag_weekly_undeclared.sql"
    undeclared.write_text(UNDECLARED)
    try:
        refused_then_excluded(dag)
    finally:
        undeclared.unlink()


def refused_then_excluded(dag):
    before = read(dag, "dag_daily")
    refused = dag.cli("run", "-s", "dag_daily+", "--start", "2024-01-05", "--end", "2024-01-05")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ("Model 'dag_weekly_undeclared' is built from dag_daily but declares no grain, so the windows of it "
            "that theirs rewrite cannot be derived") in refused.stderr
    assert "--exclude dag_weekly_undeclared" in refused.stderr
    assert read(dag, "dag_daily") == before and not dag.table_exists(dag.schema, "backfill_runs")

    excluded = dag.cli("run", "-s", "dag_daily+", "--exclude", "dag_weekly_undeclared", "--start", "2024-01-05",
                       "--end", "2024-01-05", "--json")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr
    assert [m for m, _, _ in finished_models(parse_json_lines(excluded.stdout))] == \
        ["dag_daily", "dag_weekly", "dag_totals"]


@pytest.mark.parametrize("args, message", [
    (["-s", "dag_daily+", "-m", "dag_daily"], "Name the model to backfill with --model, or the models with --select"),
    (["-s", "dag_weekly_view"], "selects no incremental model, so there is no window to backfill"),
    (["-s", "no_such_model"], "selects no model"),
    (["-s", "dag_daily+", "--concurrency", "2"], "a run over a selection runs its models' batches in DAG order"),
])
def test_a_selection_that_cannot_run_is_refused_in_one_sentence(refusing_dag, args, message):
    result = refusing_dag.cli("run", *args, "--start", "2024-01-05", "--end", "2024-01-05")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_gaps_only_fills_each_models_own_gaps_and_the_weeks_a_parents_gap_implies(dag):
    dag.sql(f"delete from \"{dag.schema}\".dag_daily where event_day = '2024-01-10'")
    dag.sql(f"delete from \"{dag.schema}\".dag_weekly where week_start = '2024-01-15'")
    result = dag.cli("run", "-s", "dag_daily+", "--gaps-only", "--start", "2024-01-01", "--end", "2024-01-21",
                     "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert finished_models(parse_json_lines(result.stdout)) == [
        ("dag_daily", "2024-01-10", "2024-01-10"),  # the parent's gap
        ("dag_weekly", "2024-01-08", "2024-01-14"),  # the week it implies downstream
        ("dag_weekly", "2024-01-15", "2024-01-21"),  # the child's own gap
        ("dag_totals", "2024-01-08", "2024-01-21"),
    ]
    assert len(read(dag, "dag_daily")) == 21 and len(read(dag, "dag_weekly")) == 3
    assert {name: read(dag, name) for name in ("dag_weekly", "dag_totals")} == rebuilt_children(dag)


def test_an_audit_trail_from_before_selections_gains_the_batch_model_column_and_keeps_its_rows(refusing_dag):
    dag = refusing_dag
    for table in ("backfill_runs", "backfill_batches", "backfill_locks"):
        dag.sql(f'drop table if exists "{dag.schema}".{table}')
    # backfill_batches as an earlier version created it: no model column.
    dag.sql(f'create table "{dag.schema}".backfill_batches (run_id varchar, batch_index bigint, '
            "window_start varchar, window_end varchar, status varchar, attempts bigint, rows_written bigint, "
            "duration_s float, started_at timestamp, finished_at timestamp, checks varchar, error varchar, "
            "primary key (run_id, batch_index))")
    dag.sql(f"insert into \"{dag.schema}\".backfill_batches (run_id, batch_index, window_start, window_end, status, "
            "attempts) values ('old-run', 1, '2023-12-01', '2023-12-01', 'success', 1)")
    result = dag.cli("run", "-m", "dag_daily", "--start", "2024-01-02", "--end", "2024-01-02", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = dag.sql(f"select run_id, model, status from \"{dag.schema}\".backfill_batches order by run_id")
    assert rows[-1] == ("old-run", None, "success")  # kept as it was
    assert [(model, status) for _, model, status in rows[:-1]] == [("dag_daily", "success")]


CHECKS = """
version: 2
models:
  - name: dag_daily
    data_tests:
      - backfill.reconcile_sum:
          name: dag_daily_events_match_source
          arguments:
            compare_model: ref('dag_events')
            column: events
            compare_column: "1"
            group_by: [event_day]
            compare_group_by: ["cast(occurred_at as date)"]
            window_column: event_day
            compare_window_column: occurred_at
  - name: dag_weekly
    data_tests:
      - backfill.reconcile_sum:
          name: dag_weekly_events_match_daily
          arguments:
            compare_model: ref('dag_daily')
            column: events
            group_by: [week_start]
            compare_group_by: ["cast(date_trunc('week', event_day) as date)"]
            window_column: week_start
            compare_window_column: event_day
"""


def test_repair_select_rewrites_a_parents_failing_day_and_the_childs_week_then_rechecks_both(dag):
    (dag.project_dir / "models" / "dag" / "_checks.yml").write_text(CHECKS)
    dag.sql(f"update \"{dag.schema}\".dag_daily set events = 99 where event_day = '2024-01-10'")
    # The child rebuilt from its broken parent: consistent with it, its own check passes.
    dag.dbt("run", "--select", "dag_weekly+", "--full-refresh")
    result = dag.cli("repair", "-s", "dag_daily+", "--yes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = parse_json_lines(result.stdout)
    checked = [e for e in events if e["event"] == "checked"]
    assert [(e["model"], [c["status"] for c in e["checks"]]) for e in checked] == [
        ("dag_daily", ["fail"]), ("dag_weekly", ["pass"])]
    assert finished_models(events) == [
        ("dag_daily", "2024-01-10", "2024-01-10"), ("dag_weekly", "2024-01-08", "2024-01-14"),
        ("dag_totals", "2024-01-08", "2024-01-14")]
    (repaired,) = [e for e in events if e["event"] == "repaired"]
    assert repaired["succeeded"] is True
    assert [[c["status"] for c in model["checks_after"]] for model in repaired["models"]] == [["pass"], ["pass"]]
    assert [row for row in read(dag, "dag_daily") if row[0] == "2024-01-10"][0][1] == 3.0
    assert {name: read(dag, name) for name in ("dag_weekly", "dag_totals")} == rebuilt_children(dag)


def test_a_selection_takes_every_models_lock_or_none(refusing_dag):
    import os
    import socket

    dag = refusing_dag
    assert dag.cli("run", "-m", "dag_daily", "--start", "2024-01-03", "--end", "2024-01-03").returncode == 0
    # A live run (this process) holds the child's lock.
    dag.sql(f"insert into \"{dag.schema}\".backfill_locks (model, run_id, host, pid, acquired_at, heartbeat_at) "
            f"values ('dag_weekly', 'other-run', '{socket.gethostname()}', {os.getpid()}, current_timestamp, "
            "current_timestamp)")
    try:
        runs = dag.sql(f'select count(*) from "{dag.schema}".backfill_runs')
        refused = dag.cli("run", "-s", "dag_daily+", "--start", "2024-01-03", "--end", "2024-01-03")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "Model 'dag_weekly' is being backfilled by run other-run" in refused.stderr
        assert dag.sql(f'select model, run_id from "{dag.schema}".backfill_locks') == [("dag_weekly", "other-run")]
        assert dag.sql(f'select count(*) from "{dag.schema}".backfill_runs') == runs  # nothing recorded
    finally:
        dag.sql(f"delete from \"{dag.schema}\".backfill_locks where run_id = 'other-run'")
