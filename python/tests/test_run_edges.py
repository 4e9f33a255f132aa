"""What a run says and records at its edges, on DuckDB and PostgreSQL: a batch
written but failing its checks, the run's own --vars (dry run, Python API,
resume), a repeated --model, which run `resume` picks, a first build that
reads all history, a snapshot with no version yet, and wall time."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project, parse_json_lines

pytestmark = pytest.mark.slow

# Two lines of a backfillable model, with a var in its body and a day it can be told to fail on.
SCALED = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('order_day') }}",
          meta={'backfill': {'period_column': 'order_day'}}) }}
select
    cast(raw_orders.occurred_at as date) as order_day,
    count(*) * {{ var('scale', 1) }} as orders,
    max(cast(case when blocked.day is not null then 'blocked on purpose' else '1' end as integer)) as ok
from {{ ref('raw_orders') }} as raw_orders
left join {{ this.schema }}.blocked_days as blocked on blocked.day = cast(raw_orders.occurred_at as date)
where {{ backfill.backfill_window('raw_orders.occurred_at', this_column='order_day') }}
group by cast(raw_orders.occurred_at as date)
"""

# The classic pattern: the window filter only on incremental runs, so a first build reads everything.
CLASSIC = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('order_day') }}",
          meta={'backfill': {'period_column': 'order_day'}}) }}
select cast(occurred_at as date) as order_day, count(*) as orders
from {{ ref('raw_orders') }}
{% if is_incremental() %}
where {{ backfill.backfill_window('occurred_at', this_column='order_day') }}
{% endif %}
group by cast(occurred_at as date)
"""

# Orders as a `check` snapshot saw them: its versions begin today, so no past day has any.
SNAPSHOTTED = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('order_day') }}",
          meta={'backfill': {'period_column': 'order_day'}}) }}
select cast(orders.occurred_at as date) as order_day, count(*) as orders
from {{ ref('orders_checked') }} as orders
where {{ backfill.backfill_window('orders.occurred_at', this_column='order_day') }}
    and {{ backfill.valid_at('cast(orders.occurred_at as date)') }}
group by cast(orders.occurred_at as date)
"""

CHECK_SNAPSHOT = """
snapshots:
  - name: orders_checked
    relation: ref('raw_orders')
    config: {unique_key: order_id, strategy: check, check_cols: all}
"""

# A window check: the orders per day agree with the source's rows (fails when scaled).
SCALED_TESTS = """
version: 2
models:
  - name: scaled_daily
    data_tests:
      - backfill.reconcile_sum:
          name: scaled_daily_counts_orders
          arguments:
            compare_model: ref('raw_orders')
            column: orders
            compare_column: "1"
            group_by: [order_day]
            compare_group_by: ["cast(occurred_at as date)"]
            window_column: order_day
            compare_window_column: occurred_at
"""

FILES = {
    "models/scaled_daily.sql": SCALED,
    "models/blocked_a.sql": SCALED,
    "models/blocked_b.sql": SCALED,
    "models/classic_daily.sql": CLASSIC,
    "models/orders_as_snapshotted.sql": SNAPSHOTTED,
    "models/scaled_tests.yml": SCALED_TESTS,
    "snapshots/orders_checked.yml": CHECK_SNAPSHOT,
}


@pytest.fixture(scope="module", params=WAREHOUSES)
def shop(request, tmp_path_factory):
    store = make_user_project(tmp_path_factory.mktemp("edges"), _warehouse_kind(request), FILES)
    store.dbt("seed")
    store.dbt("snapshot")
    store.sql(f'create table "{store.schema}".blocked_days (day date)')
    yield store
    store.drop()


def batches_of(shop, run_id: str) -> list[tuple]:
    rows = shop.sql(f"select batch_index, status, rows_written, checks from \"{shop.schema}\".backfill_batches "
                    f"where run_id = '{run_id}' order by batch_index")
    return [(int(index), status, None if rows is None else int(rows), json.loads(checks) if checks else [])
            for index, status, rows, checks in rows]


def table(shop, name: str) -> list[tuple]:
    return [(str(day), int(orders)) for day, orders, *_ in
            shop.sql(f'select * from "{shop.schema}".{name} order by 1')]


def run_id_in(text: str) -> str:
    return re.search(r"(\d{8}T\d{6}-[0-9a-f]{6})", text).group(1)


def test_a_batch_that_fails_its_checks_is_recorded_as_written(shop):
    # scale 2 doubles the orders: the window is written, then its reconciliation fails.
    result = shop.cli("run", "-m", "scaled_daily", "--start", "2024-02-27", "--end", "2024-02-28",
                      "--vars", "{scale: 2}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "written, checks FAILED" in result.stdout
    assert ("Failed: batch 1/2 (2024-02-27) of scaled_daily: its window was written (1 row), but its checks failed: "
            "scaled_daily_counts_orders:") in result.stderr
    assert "0 of 2 batches are done and recorded; finish the rest with: python -m backfill resume" in result.stderr
    # The audit trail says what the table holds.
    assert table(shop, "scaled_daily") == [("2024-02-27", 2)]
    run_id = run_id_in(result.stderr)
    assert [(index, status, rows) for index, status, rows, _ in batches_of(shop, run_id)] == [
        (1, "check_failed", 1), (2, "pending", None)]
    status = json.loads(shop.cli("status", "--run", run_id, "--json").stdout)
    assert status["runs"][0]["batches_done"] == 0 and status["batches"][0]["status"] == "check_failed"

    # Once the model is right again, a run over the same days replaces the checked-failed window.
    fixed = shop.cli("run", "-m", "scaled_daily", "--start", "2024-02-27", "--end", "2024-02-28")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert table(shop, "scaled_daily") == [("2024-02-27", 1), ("2024-02-28", 1)]


def test_the_runs_vars_reach_the_dry_run_every_batch_and_its_resume(shop):
    dry = shop.cli("run", "-m", "scaled_daily", "--start", "2024-02-27", "--end", "2024-02-28",
                   "--vars", "{scale: 3}", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    (planned,) = [e for e in parse_json_lines(dry.stdout) if e["event"] == "planned"]
    assert planned["batches"][0]["vars"] == {"scale": 3, "start_date": "2024-02-27", "end_date": "2024-02-27"}
    text = shop.cli("run", "-m", "scaled_daily", "--start", "2024-02-27", "--end", "2024-02-27",
                    "--vars", "{scale: 3}", "--dry-run")
    assert """--vars '{"scale": 3, "start_date": "2024-02-27", "end_date": "2024-02-27"}'""" in text.stdout

    # From Python with a project of one's own: the run's vars go to dbt, and the resume keeps
    # them, whatever vars the resuming project carries.
    shop.sql(f"insert into \"{shop.schema}\".blocked_days values (cast('2024-02-29' as date))")
    code = textwrap.dedent(f"""
        import json
        from backfill import resume_backfill, run_backfill
        from backfill.dbt import DbtProject
        first = run_backfill("scaled_daily", "2024-02-27", "2024-03-01", vars={{"scale": 3}}, verify=False,
                             project=DbtProject({str(shop.project_dir)!r}))
        print("RUN " + json.dumps([first.run_id, first.succeeded]))
    """)
    run_id, succeeded = json.loads(shop.python(code).stdout.split("RUN ", 1)[1])
    assert not succeeded
    assert table(shop, "scaled_daily") == [("2024-02-27", 3), ("2024-02-28", 3)]
    shop.sql(f'delete from "{shop.schema}".blocked_days')
    code = textwrap.dedent(f"""
        from backfill import resume_backfill
        from backfill.dbt import DbtProject
        report = resume_backfill({run_id!r}, project=DbtProject({str(shop.project_dir)!r}, vars={{"scale": 5}}))
        assert report.succeeded
    """)
    shop.python(code)
    assert table(shop, "scaled_daily") == [("2024-02-27", 3), ("2024-02-28", 3), ("2024-02-29", 6),
                                           ("2024-03-01", 3)]


@pytest.mark.parametrize("command", [
    ["run", "--start", "2024-02-27", "--end", "2024-02-27"], ["gaps"], ["verify", "--start", "2024-02-27"],
    ["repair", "--start", "2024-02-27", "--end", "2024-02-27"], ["status"], ["resume"],
])
def test_a_repeated_model_is_refused_by_every_command(shop, command):
    # click keeps the last of a repeated option: without the refusal, `-m A -m B` ran B alone
    result = shop.cli(command[0], "-m", "scaled_daily", "-m", "classic_daily", *command[1:])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (f"Error: --model is given 2 times (scaled_daily, classic_daily): {command[0]} "
                                     "takes one model, so run it once per model.")


def test_resume_without_a_run_id_asks_which_when_several_models_are_unfinished(shop):
    shop.sql(f"insert into \"{shop.schema}\".blocked_days values (cast('2024-02-28' as date))")
    for model in ("blocked_a", "blocked_b"):
        failed = shop.cli("run", "-m", model, "--start", "2024-02-27", "--end", "2024-02-29", "--no-verify")
        assert failed.returncode == 1, failed.stdout + failed.stderr
    refused = shop.cli("resume")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "have an unfinished backfill (" in refused.stderr and "name the one to resume" in refused.stderr
    assert "(blocked_a, failed, 1 of 3 batches done)" in refused.stderr
    assert "(blocked_b, failed, 1 of 3 batches done)" in refused.stderr
    assert refused.stderr.count("\n") == 1
    shop.sql(f'delete from "{shop.schema}".blocked_days')
    by_model = shop.cli("resume", "--model", "blocked_b")
    assert by_model.returncode == 0, by_model.stdout + by_model.stderr
    assert "of blocked_b: 2 of 3 batch(es) left" in by_model.stdout
    assert table(shop, "blocked_a") == [("2024-02-27", 1)]  # the other model's run was left alone


def test_a_first_build_that_reads_all_history_is_recorded_as_it_happened(shop):
    result = shop.cli("run", "-m", "classic_daily", "--start", "2024-02-28", "--end", "2024-02-28", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    (finished,) = [e for e in parse_json_lines(result.stdout) if e["event"] == "batch_finished"]
    assert finished["rows"] == 5  # every day of the source, not one
    (first_build,) = [c for c in finished["checks"] if c["name"] == "first_build"]
    assert first_build["status"] == "warn"
    assert "created it with 5 rows, 4 of them outside its window (2024-02-27 → 2024-03-02)" in first_build["detail"]
    recorded = batches_of(shop, finished_run(result.stdout))
    assert recorded[0][2] == 5 and "first_build" in {c["name"] for c in recorded[0][3]}
    assert len(table(shop, "classic_daily")) == 5

    # Once built, a batch is its window again. (The two-line model builds only its window from the
    # start: see the first test, where scaled_daily's first batch wrote one day.)
    again = shop.cli("run", "-m", "classic_daily", "--start", "2024-02-28", "--end", "2024-02-28", "--json")
    (finished,) = [e for e in parse_json_lines(again.stdout) if e["event"] == "batch_finished"]
    assert finished["rows"] == 1 and not [c for c in finished["checks"] if c["name"] == "first_build"]


def finished_run(stdout: str) -> str:
    return [e for e in parse_json_lines(stdout) if e["event"] == "finished"][0]["run_id"]


def test_a_window_before_the_first_snapshot_says_why_and_does_not_suggest_resume(shop):
    result = shop.cli("run", "-m", "orders_as_snapshotted", "--start", "2024-02-27", "--end", "2024-02-27")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "its rerun wrote no rows, because orders_checked has no version before " in result.stderr
    assert "(its first snapshot): no state of it existed for those days" in result.stderr
    assert "python -m backfill resume" not in result.stderr


def test_done_reports_wall_time_beside_batch_time(shop):
    result = shop.cli("run", "-m", "scaled_daily", "--start", "2024-02-27", "--end", "2024-02-28", "--sleep", "1.5")
    assert result.returncode == 0, result.stdout + result.stderr
    wall, batches = map(float, re.search(r"succeeded in ([\d.]+)s \(batches ([\d.]+)s\)", result.stdout).groups())
    assert wall >= batches + 1.5  # the pause between the two batches is part of the run's time
