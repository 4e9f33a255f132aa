"""`python -m backfill run` end to end on DuckDB and PostgreSQL."""

import json

import pytest

pytestmark = pytest.mark.slow

JANUARY = ["run", "--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-31", "--batch-size", "7"]


def expected_daily_metrics(warehouse, start: str, end: str) -> list[tuple]:
    """The model's logic written out by hand over the raw tables."""
    return warehouse.sql(
        f"""
        select events.event_date, count(*), count(distinct events.item_id),
               sum(events.amount), sum(events.quantity)
        from "{warehouse.raw_schema}".item_events as events
        inner join "{warehouse.raw_schema}".item as item on item.id = events.item_id
        where item.status = 'ACTIVE' and events.event_date between '{start}' and '{end}'
        group by events.event_date
        order by 1
        """
    )


def stored_daily_metrics(warehouse) -> list[tuple]:
    return warehouse.sql(
        f'select metric_date, event_count, item_count, total_amount, total_quantity '
        f'from "{warehouse.schema}".daily_metrics order by metric_date'
    )


def test_january_in_weekly_batches_fills_exactly_january_and_a_rerun_changes_nothing(warehouse):
    warehouse.load_demo_data()
    first = warehouse.cli(*JANUARY)
    assert first.returncode == 0, first.stderr
    assert "Backfilling daily_metrics: 31 day(s) in 5 batch(es)." in first.stdout
    assert first.stdout.count(" ok ") == 5
    assert "2024-01-29 → 2024-01-31" in first.stdout

    stored = stored_daily_metrics(warehouse)
    assert stored == expected_daily_metrics(warehouse, "2024-01-01", "2024-01-31")
    # The demo data has no events on 2024-01-15 (a planted gap): 30 days of rows.
    assert len(stored) == 30 and stored[0][0].isoformat() == "2024-01-01" and stored[-1][0].isoformat() == "2024-01-31"

    again = warehouse.cli(*JANUARY)
    assert again.returncode == 0, again.stderr
    assert stored_daily_metrics(warehouse) == stored


def test_a_batch_replaces_its_window_and_leaves_the_rest_alone(warehouse):
    warehouse.load_demo_data()
    assert warehouse.cli(*JANUARY).returncode == 0
    before = {row[0].isoformat(): row for row in stored_daily_metrics(warehouse)}

    raw = warehouse.raw_schema
    # The source changes inside and outside the window that is re-run.
    warehouse.sql(f"delete from \"{raw}\".item_events where event_date = '2024-01-10'")
    warehouse.sql(f"update \"{raw}\".item_events set amount = amount + 1 where event_date in ('2024-01-12', '2024-01-20')")

    rerun = warehouse.cli("run", "--model", "daily_metrics", "--start", "2024-01-08", "--end", "2024-01-14", "--batch-size", "7")
    assert rerun.returncode == 0, rerun.stderr
    after = {row[0].isoformat(): row for row in stored_daily_metrics(warehouse)}

    assert "2024-01-10" not in after  # a day the new logic no longer produces is gone
    assert after["2024-01-12"][3] > before["2024-01-12"][3]  # inside the window: recomputed
    assert after["2024-01-20"] == before["2024-01-20"]  # outside the window: untouched
    assert {d: r for d, r in after.items() if d not in {"2024-01-12"}} == {
        d: r for d, r in before.items() if d not in {"2024-01-10", "2024-01-12"}
    }


def test_dry_run_prints_the_plan_and_writes_nothing(warehouse):
    warehouse.load_demo_data()
    result = warehouse.cli(*JANUARY, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Plan for daily_metrics: 31 day(s) in 5 batch(es). Dry run: nothing is written." in result.stdout
    assert '{"start_date": "2024-01-29", "end_date": "2024-01-31"}' in result.stdout
    assert not warehouse.table_exists(warehouse.schema, "daily_metrics")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "no_such_model", "--start", "2024-01-01", "--end", "2024-01-31"], "No model named 'no_such_model'"),
        (["--model", "daily_metrics", "--start", "2024-02-01", "--end", "2024-01-31"], "--start 2024-02-01 is after --end 2024-01-31."),
        (["--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-31", "--batch-size", "0"], "--batch-size must be a whole number of periods, 1 or more (got 0)."),
        (["--model", "daily_metrics", "--start", "2024-01-01", "--end", "Jan 31"], "--end 'Jan 31' is not a date: expected YYYY-MM-DD."),
        (["--model", "daily_metrics", "--start", "2024-02-30", "--end", "2024-03-31"], "--start '2024-02-30' is not a real date."),
        (["--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-31", "--grain", "year"], "Unknown grain 'year'"),
        (["--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-31", "--vars", "[1, 2"], "--vars is not valid YAML"),
        (["--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-31", "--vars", "{start_date: x}"], "--vars sets start_date"),
    ],
)
def test_bad_input_is_refused_with_one_sentence_and_nothing_is_written(warehouse, args, message):
    warehouse.load_demo_data()
    result = warehouse.cli("run", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("Error: "), result.stderr
    assert message in error_lines[0]
    assert "Traceback" not in result.stderr
    assert not warehouse.table_exists(warehouse.schema, "daily_metrics")


def test_a_failing_batch_exits_1_and_says_which_batch(warehouse):
    # No raw data at all: the first batch fails, the run stops there.
    result = warehouse.cli("run", "--model", "daily_metrics", "--start", "2024-01-01", "--end", "2024-01-02")
    assert result.returncode == 1
    assert "Failed: batch 1/2 (2024-01-01) of daily_metrics" in result.stderr
    assert "batch   2" not in result.stdout


def test_in_process_batches_see_each_others_writes(warehouse):
    """dbt runs in-process with one parsed manifest and changing vars; each
    invocation must see what the previous one committed (a DuckDB connection
    reopened between invocations has been seen to read stale data upstream)."""
    warehouse.load_demo_data()
    script = f"""
import json
from backfill.dbt import DbtProject
from backfill.runner import run_backfill

project = DbtProject({str(warehouse.project_dir)!r})
counts = []
for start, end in [("2024-01-01", "2024-01-03"), ("2024-01-04", "2024-01-06"), ("2024-01-02", "2024-01-05")]:
    report = run_backfill("daily_metrics", start, end, batch_size=1, project=project)
    assert report.succeeded, [r.message for r in report.results]
    rows = project.query("select count(*) as n, count(distinct metric_date) as d from {{{{ ref('daily_metrics') }}}}")
    counts.append([int(rows[0]["n"]), int(rows[0]["d"])])
print(json.dumps(counts))
"""
    result = warehouse.python(script)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[3, 3], [6, 6], [6, 6]]
    assert [r[0] for r in warehouse.sql(f'select count(*) from "{warehouse.schema}".daily_metrics')] == [6]
