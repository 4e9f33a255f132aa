"""What the runner says before and after the work, on DuckDB and PostgreSQL:
models whose reruns would not replace their window, a fresh audit trail that
reading leaves alone, dry runs and resumes as --json and text report them."""

import json

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project, parse_json_lines

pytestmark = pytest.mark.slow

# A user's daily model without the delete_window pre-hook: every rerun appends again.
APPENDING = """
{{ config(materialized='incremental', meta={'backfill': {'period_column': 'order_day'}}) }}
select cast(occurred_at as date) as order_day, count(*) as orders
from {{ ref('raw_orders') }}
where {{ backfill.backfill_window('occurred_at', this_column='order_day') }}
group by cast(occurred_at as date)
"""

# The same with a unique_key: a rerun replaces changed days, but keeps days it no longer produces.
MERGING = APPENDING.replace("materialized='incremental',", "materialized='incremental', unique_key='order_day',")


@pytest.fixture(params=WAREHOUSES)
def project(request, tmp_path):
    store = make_user_project(tmp_path, _warehouse_kind(request),
                              {"models/appending_daily.sql": APPENDING, "models/merging_daily.sql": MERGING})
    store.dbt("seed")
    yield store
    store.drop()


def audit_tables(project) -> list[str]:
    rows = project.sql("select table_name from information_schema.tables "
                       f"where table_schema = '{project.schema}' and table_name like 'backfill_%'")
    return sorted(name for (name,) in rows)


def test_an_appending_model_is_refused_unless_allowed_and_reading_the_trail_writes_nothing(project):
    # Reading an empty audit trail creates nothing and says there is nothing.
    status = project.cli("status")
    assert status.returncode == 0 and "No backfill runs recorded." in status.stdout
    resume = project.cli("resume")
    assert resume.returncode == 2
    assert "Nothing to resume: no backfill of this target is recorded in the audit trail." in resume.stderr
    unknown = project.cli("status", "--run", "nope")
    assert unknown.returncode == 2 and "No backfill run 'nope' in the audit trail." in unknown.stderr
    assert audit_tables(project) == []

    window = ["--start", "2024-02-28", "--end", "2024-02-29"]
    refused = project.cli("run", "-m", "appending_daily", *window)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Model 'appending_daily' only appends" in refused.stderr and "--allow-append" in refused.stderr
    assert not project.table_exists(project.schema, "appending_daily") and audit_tables(project) == []

    for _ in range(2):
        allowed = project.cli("run", "-m", "appending_daily", *window, "--allow-append", "--no-verify")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    # What the refusal warned of: the second run appended the window again.
    assert project.sql(f'select count(*) from "{project.schema}".appending_daily') == [(4,)]


def test_a_merging_model_warns_and_dry_run_and_resume_report_what_they_are(project):
    window = ["--start", "2024-02-28", "--end", "2024-03-01"]
    dry = project.cli("run", "-m", "merging_daily", *window, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    events = parse_json_lines(dry.stdout)
    assert events[0] == {"event": "warning", "message": events[0]["message"]}
    assert "rows of the window that the model no longer produces stay" in events[0]["message"]
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "dry_run"
    assert not project.table_exists(project.schema, "merging_daily")

    # A run that fails on its first batch (the source is gone), then resumed.
    project.sql(f'alter table "{project.schema}".raw_orders rename to raw_orders_away')
    failed = project.cli("run", "-m", "merging_daily", *window)
    assert failed.returncode == 1
    assert "Warning: merging_daily has no backfill.delete_window pre-hook" in failed.stdout
    project.sql(f'alter table "{project.schema}".raw_orders_away rename to raw_orders')
    resumed = project.cli("resume", "--model", "merging_daily")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming run" in resumed.stdout and "3 of 3 batch(es) left (0 already done)" in resumed.stdout

    status = json.loads(project.cli("status", "--model", "merging_daily", "--json").stdout)
    run = status["runs"][0]
    assert run["status"] == "success" and run["batches_done"] == 3 and isinstance(run["options"], dict)
    assert run["target_name"] == project.kind  # the profile's default target, named
    assert [(b["batch_index"], b["attempts"]) for b in status["batches"]] == [(1, 2), (2, 1), (3, 1)]
    assert all(isinstance(b["checks"], list) and isinstance(b["duration_s"], float) for b in status["batches"])
