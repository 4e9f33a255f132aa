"""Batches after a model's first run without a dbt invocation each (backfill.dbt.fast_path), on
DuckDB and PostgreSQL, in a user's project: every batch compiles with its own
window, its pre-hook replaces exactly its window, its checks still decide, a
failing batch reports dbt's error; projects with on-run hooks keep an invocation
per batch, as BACKFILL_INVOCATION_PER_BATCH=1 does for any project."""

import json
from datetime import date, datetime, timedelta

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project, shadow_installed, usable_warehouse

pytestmark = pytest.mark.slow

# Which batch wrote a row is in the row: each batch must compile with its own vars.
WINDOWED = """
{{ config(
    materialized='incremental',
    pre_hook="{{ backfill.delete_window('event_day') }}",
    meta={'backfill': {'period_column': 'event_day'}},
) }}
select
    cast(happened_at as date) as event_day,
    count(*) as events,
    sum(amount) as amount,
    '{{ var("start_date", "none") }}' as written_by,
    {% if var("start_date", "") == var("broken_day", "never") %}
        cast('not a number' as integer)
    {% else %}
        1
    {% endif %} as checked
from {{ ref('events') }}
where {{ backfill.backfill_window('happened_at', this_column='event_day') }}
group by cast(happened_at as date)
"""

MODELS_YML = """
version: 2
models:
  - name: windowed_days
    data_tests:
      - backfill.reconcile_sum:
          name: windowed_days_amount_matches_events
          arguments:
            compare_model: ref('events')
            column: amount
            group_by: [event_day]
            compare_group_by: ["cast(happened_at as date)"]
            window_column: event_day
            compare_window_column: happened_at
"""

HOOKS = """
on-run-start: ["create table if not exists {{ target.schema }}.hook_log (fired integer)"]
on-run-end: ["insert into {{ target.schema }}.hook_log values (1)"]
"""

FIRST, LAST = date(2024, 2, 26), date(2024, 3, 4)  # across the leap day


def events_csv() -> str:
    """Three events a day, one at 23:30 and one at midnight: hourly data across midnight."""
    lines = ["id,happened_at,amount"]
    day = FIRST
    while day <= LAST:
        for hour, minute in [(0, 0), (12, 15), (23, 30)]:
            stamp = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, minutes=minute)
            lines.append(f"{len(lines)},{stamp:%Y-%m-%d %H:%M:%S},{day.day + hour / 100:.2f}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def user_project(tmp_path, kind, hooks: bool = False):
    files = {"seeds/events.csv": events_csv(), "models/windowed_days.sql": WINDOWED, "models/_direct.yml": MODELS_YML}
    store = make_user_project(tmp_path, kind, files)
    if hooks:
        config = store.project_dir / "dbt_project.yml"
        config.write_text(config.read_text() + HOOKS)
    store.dbt("seed")
    return store


@pytest.fixture(params=WAREHOUSES)
def project(request, tmp_path):
    store = user_project(tmp_path, _warehouse_kind(request))
    yield store
    store.drop()


def backfill(store, runs: list[dict], vars: dict | None = None) -> list[dict]:
    """run_backfill in one process (one DbtProject) for each of `runs`; what each did."""
    script = f"""
import json
from backfill.dbt import DbtProject
from backfill.runner import run_backfill

project = DbtProject({str(store.project_dir)!r}, vars={vars or {}!r})
done = []
for arguments in {runs!r}:
    before = (project.direct_model_runs, project.direct_test_runs, project.direct_queries)
    report = run_backfill("windowed_days", project=project, **arguments)
    done.append({{
        "succeeded": report.succeeded,
        "statuses": [result.status for result in report.results],
        "errors": [result.message for result in report.results],
        "checks": [[check["status"] for check in result.checks] for result in report.results],
        "direct_runs": project.direct_model_runs - before[0],
        "direct_tests": project.direct_test_runs - before[1],
        "direct_queries": project.direct_queries - before[2],
    }})
print(json.dumps(done))
"""
    return json.loads(store.python(script).stdout.strip().splitlines()[-1])


def table(store) -> dict:
    rows = store.sql(f"select event_day, events, amount, written_by from {store.schema}.windowed_days")
    return {str(day): (int(events), round(float(amount), 2), written_by) for day, events, amount, written_by in rows}


def expected_amount(day: date, factor: float = 1) -> float:
    return round(sum(day.day + hour / 100 for hour in (0, 12, 23)) * factor, 2)


def test_later_batches_run_in_process_with_their_own_window_and_checks(project):
    done = backfill(project, [
        {"start": "2024-02-26", "end": "2024-03-04", "batch_size": 2},
        # The same process, rerunning three days one at a time after the source changed.
        {"start": "2024-02-28", "end": "2024-03-01", "batch_size": 1},
    ], vars={})
    first = done[0]
    assert first["succeeded"] and first["statuses"] == ["success"] * 4, first
    # Batch 1 is a dbt invocation; batches 2-4 run on what it set up; the checks too.
    assert first["direct_runs"] == 3 and first["direct_tests"] == 4 and first["direct_queries"] >= 4, first
    assert all(checks == ["pass", "pass"] for checks in first["checks"]), first["checks"]

    # The second run of the same process goes on in-process from its first batch.
    assert done[1]["succeeded"] and done[1]["direct_runs"] == 3, done[1]

    rows = table(project)
    starts = ["2024-02-26", "2024-02-28", "2024-03-01", "2024-03-03"]
    rerun = {"2024-02-28", "2024-02-29", "2024-03-01"}
    assert len(rows) == 8
    for offset in range(8):
        day = FIRST + timedelta(days=offset)
        written_by = day.isoformat() if day.isoformat() in rerun else starts[offset // 2]
        assert rows[day.isoformat()] == (3, expected_amount(day), written_by), day


def test_a_rerun_replaces_exactly_its_window_when_the_source_changed(project):
    backfill(project, [{"start": "2024-02-26", "end": "2024-03-04", "batch_size": 2}])
    project.sql(f"update {project.schema}.events set amount = amount * 10 "
                "where cast(happened_at as date) = '2024-02-29'")
    done = backfill(project, [
        {"start": "2024-02-26", "end": "2024-02-26", "batch_size": 1},  # a first run, invoked
        {"start": "2024-02-28", "end": "2024-03-01", "batch_size": 1},  # then three in-process
    ])
    assert [d["direct_runs"] for d in done] == [0, 3] and all(d["succeeded"] for d in done), done
    rows = table(project)
    assert len(rows) == 8  # no day twice
    assert rows["2024-02-29"] == (3, expected_amount(date(2024, 2, 29), 10), "2024-02-29")
    assert rows["2024-02-28"][2] == "2024-02-28" and rows["2024-03-01"][2] == "2024-03-01"
    assert rows["2024-02-27"][2] == "2024-02-26" and rows["2024-03-04"][2] == "2024-03-03"  # untouched


def test_a_failing_in_process_batch_reports_the_databases_error_and_keeps_earlier_days(project):
    done = backfill(project, [{"start": "2024-02-26", "end": "2024-03-01", "batch_size": 1}],
                    vars={"broken_day": "2024-02-28"})[0]
    assert not done["succeeded"]
    assert done["statuses"] == ["success", "success", "failed"], done
    assert "not a number" in done["errors"][2], done["errors"]
    assert sorted(table(project)) == ["2024-02-26", "2024-02-27"]


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_projects_with_run_hooks_and_the_switch_get_an_invocation_per_batch(kind, tmp_path):
    store = user_project(tmp_path, usable_warehouse(kind), hooks=True)
    try:
        done = backfill(store, [{"start": "2024-02-26", "end": "2024-02-29", "batch_size": 1, "verify": False}])[0]
        assert done["succeeded"] and done["direct_runs"] == 0, done
        # on-run-end ran once for every batch's `dbt run`, as it does without this runner
        assert store.sql(f"select count(*) from {store.schema}.hook_log")[0][0] >= 4

        store.env["BACKFILL_INVOCATION_PER_BATCH"] = "1"
        config = store.project_dir / "dbt_project.yml"
        config.write_text(config.read_text().replace(HOOKS, ""))
        done = backfill(store, [{"start": "2024-02-26", "end": "2024-03-04", "batch_size": 2}])[0]
        assert done["succeeded"] and done["direct_runs"] == 0 and done["direct_tests"] == 0, done
        rows = table(store)
        assert len(rows) == 8 and rows["2024-03-04"] == (3, expected_amount(LAST), "2024-03-03")
    finally:
        store.drop()


# The session's connection: a pre-hook logs which server process ran the batch and
# how many temporary tables that session held when the batch began.
SESSION_LOGGED = """
{{ config(
    materialized='incremental',
    pre_hook=[
        "{{ backfill.delete_window('event_day') }}",
        "insert into {{ target.schema }}.session_log select pg_backend_pid(), "
        ~ "(select count(*) from pg_class where relnamespace = pg_my_temp_schema())",
    ],
    meta={'backfill': {'period_column': 'event_day'}},
) }}
select cast(happened_at as date) as event_day, count(*) as events
from {{ ref('events') }}
where {{ backfill.backfill_window('happened_at', this_column='event_day') }}
group by cast(happened_at as date)
"""


def test_postgres_batches_share_one_connection_without_leftover_temporary_tables(tmp_path):
    store = make_user_project(tmp_path, usable_warehouse("postgres"),
                              {"seeds/events.csv": events_csv(), "models/session_days.sql": SESSION_LOGGED})
    try:
        store.dbt("seed")
        store.sql(f"create table {store.schema}.session_log (backend integer, temporary_tables integer)")
        script = f"""
import json
from backfill.dbt import fast_path
from backfill.dbt import DbtProject
from backfill.runner import run_backfill

project = DbtProject({str(store.project_dir)!r})
report = run_backfill("session_days", start="2024-02-26", end="2024-03-02", batch_size=1, project=project)
session = project._model_session
connection = session.adapter.connections.get_if_exists()
print(json.dumps({{"succeeded": report.succeeded, "kept": fast_path.is_kept(session.adapter),
                   "open": connection is not None and connection.state == "open"}}))
"""
        done = json.loads(store.python(script).stdout.strip().splitlines()[-1])
        assert done == {"succeeded": True, "kept": False, "open": False}, done  # closed at the end of the run
        log = store.sql(f"select backend, temporary_tables from {store.schema}.session_log")
        assert len(log) == 6, log
        # Batch 1 is a dbt invocation with its own connection; batches 2-6 share one,
        # and each starts without the temporary tables of the batch before it.
        assert len({backend for backend, _ in log[1:]}) == 1 and log[0][0] != log[1][0], log
        assert all(count == 0 for _, count in log), log
        assert len(store.sql(f"select event_day from {store.schema}.session_days")) == 6
    finally:
        store.drop()


NASTY = "it's; done \\ 100% ? $1 -- not a comment\nsecond line, ünïcode"


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_audit_writes_keep_any_text_whichever_way_they_go(kind, tmp_path):
    """The audit trail renders its own SQL: quotes, semicolons, backslashes,
    placeholders and newlines survive the one-round-trip write on the adapter and
    the run-operation write alike, and a rewrite replaces the row."""
    store = make_user_project(tmp_path, usable_warehouse(kind), {})
    try:
        script = f"""
import json
from backfill.audit import Audit, BatchRecord, RunRecord, write_statements
from backfill.dbt import DbtProject

nasty = {NASTY!r}
project = DbtProject({str(store.project_dir)!r})
audit = Audit(project)
run = RunRecord(run_id="r'1", model="m", target_name=None, range_start="2024-02-29", range_end="2024-02-29",
                grain="day", batch_size=1, batches_total=2, options={{"note": nasty}})
failed = BatchRecord("r'1", 0, "2024-02-29", "2024-02-29", status="failed", attempts=1, rows_written=0,
                     duration_s=0.25, started_at="2024-02-29 23:30:00", error=nasty)
audit.write(run, failed)  # on the adapter dbt set up for creating the tables
direct = project.direct_writes
failed.status, failed.attempts = "success", 2
second = BatchRecord("r'1", 1, "2024-03-01", "2024-03-01", status="failed", error=nasty + "!")
statements = write_statements(audit._relations, [{{"table": "backfill_batches", "values": r.values()}} for r in (failed, second)])
operation = project.invoke(["run-operation", "backfill.audit_write", "--args", json.dumps({{"statements": statements}})])
rows = audit.batches("r'1")
print(json.dumps({{"direct": direct, "operation": bool(operation.success),
                   "batches": [[r["batch_index"], r["status"], r["attempts"], r["error"], str(r["started_at"])] for r in rows],
                   "options": json.loads(audit.runs(run_id="r'1")[0]["options"])}}))
"""
        done = json.loads(store.python(script).stdout.strip().splitlines()[-1])
        assert done["direct"] == 1 and done["operation"], done
        assert done["batches"] == [[0, "success", 2, NASTY, "2024-02-29 23:30:00"],
                                   [1, "failed", 0, NASTY + "!", "None"]], done["batches"]
        assert done["options"] == {"note": NASTY}
    finally:
        store.drop()


FALLBACK_SCRIPT = """
import json, logging, sys
logging.basicConfig(stream=sys.stderr, format="%(name)s: %(message)s")
logging.getLogger("backfill").setLevel(logging.DEBUG)
from backfill.dbt import DbtProject
from backfill.runner import run_backfill

project = DbtProject({project_dir!r})
for start, end in [("2024-02-26", "2024-03-04"), ("2024-02-28", "2024-03-01")]:
    report = run_backfill("windowed_days", project=project, start=start, end=end, batch_size=2)
    assert report.succeeded, [result.message for result in report.results]
print(json.dumps({{"direct_runs": project.direct_model_runs, "direct_tests": project.direct_test_runs}}))
"""


def audit_trail(store) -> list[tuple]:
    runs = store.sql(f"select status, range_start, range_end, batches_total, batches_done "
                     f"from {store.schema}.backfill_runs order by started_at")
    batches = store.sql(f"select runs.range_start, batches.batch_index, batches.window_start, batches.window_end, "
                        f"batches.status, batches.attempts, batches.rows_written, batches.checks "
                        f"from {store.schema}.backfill_batches as batches "
                        f"join {store.schema}.backfill_runs as runs on runs.run_id = batches.run_id "
                        f"order by runs.started_at, batches.batch_index")
    return runs + [batch[:-1] + (json.dumps([(c["name"], c["status"]) for c in json.loads(batch[-1])]),)
                   for batch in batches]


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_an_untested_dbt_falls_back_to_invocations_with_the_same_tables_and_audit_trail(kind, tmp_path):
    # The same two runs, on the installed dbt and on one whose dbt-common the fast path was not
    # tested on (a dist-info earlier on the path is what importlib.metadata then reports).
    kind = usable_warehouse(kind)
    outcomes = {}
    for name in ["tested", "untested"]:
        store = user_project(tmp_path / name, kind)
        try:
            if name == "untested":
                store.env["PYTHONPATH"] = shadow_installed(tmp_path, "dbt-common", "1.99.0")
            result = store.python(FALLBACK_SCRIPT.format(project_dir=str(store.project_dir)))
            outcomes[name] = (json.loads(result.stdout.strip().splitlines()[-1]), table(store), audit_trail(store),
                              [line for line in result.stderr.splitlines() if "fast path is off" in line])
        finally:
            store.drop()
    (tested_runs, tested_table, tested_audit, tested_said) = outcomes["tested"]
    (untested_runs, untested_table, untested_audit, untested_said) = outcomes["untested"]
    assert tested_runs["direct_runs"] == 5 and tested_said == [], outcomes["tested"]
    assert untested_runs == {"direct_runs": 0, "direct_tests": 0}, untested_runs
    assert untested_table == tested_table and len(tested_table) == 8
    assert untested_audit == tested_audit and len(tested_audit) == 2 + 4 + 2
    # Why, said once (in the debug log), not once per batch.
    assert len(untested_said) == 1 and "dbt-common 1.99.0 is outside the versions" in untested_said[0], untested_said
