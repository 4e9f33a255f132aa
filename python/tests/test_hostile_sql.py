"""No injection through any option (issue 21), end to end on DuckDB and PostgreSQL.

Each hostile input goes through the CLI as an attacker would pass it. It must be
refused with exit 2 and one sentence (no traceback), and the warehouse must be as
it was: a canary table (its rows), a canary sequence (its value) and the list of
tables and views in the test's schemas. Legitimate inputs — filters on the demo's
data, a subquery that is a plain select, a real column in other case or quoted —
still work.
"""

from __future__ import annotations

import json

import pytest

from conftest import plant_canaries, warehouse_state

pytestmark = pytest.mark.slow

RANGE = ["--start", "2024-01-01", "--end", "2024-01-31"]
COLUMNS = "event_count, item_count, metric_date, total_amount, total_quantity"


@pytest.fixture(scope="module")
def built(demo_warehouse):
    """The demo data with daily_metrics built, a canary table and a canary sequence."""
    store = demo_warehouse
    store.dbt("run", "--select", "daily_metrics")
    # an audit trail to read: `status` and `resume` filter it on what they are given
    store.cli("run", "--model", "daily_metrics", "--start", "2024-01-02", "--end", "2024-01-02", "--no-verify",
              check=True)
    plant_canaries(store)
    return store


def sequence_name(store) -> str:
    return f"{store.schema}.canary_seq"


# (arguments after `gaps --model daily_metrics`, the sentence's fragment, the warehouses it applies to).
# `{schema}` and `{seq}` are filled in per warehouse.
HOSTILE = [
    pytest.param(["--where", "1 = 1; drop table {schema}.canary; commit"],
                 "--where must be one SQL expression", None, id="where-statements"),
    pytest.param(["--where", "event_count > 0); drop table {schema}.canary; select (1"],
                 "--where must be one SQL expression, without ';'", None, id="where-closes-the-query"),
    pytest.param(["--where", "event_count > 0) or (1 = 1"],
                 "--where is not a SQL expression", None, id="where-unbalanced"),
    pytest.param(["--where", "event_count in (select n from {schema}.canary for update)"],
                 "--where holds a subquery that is not a plain select", ["postgres"], id="where-for-update"),
    pytest.param(["--where", "event_count in (select 1 into {schema}.intruder)"],
                 "--where holds a subquery that is not a plain select", None, id="where-select-into"),
    pytest.param(["--where", "event_count > 0 -- the rest of the line"],
                 "--where has a comment", None, id="where-comment"),
    pytest.param(["--where", "nextval('{seq}') > 0"],
                 "--where calls nextval", None, id="where-nextval"),
    pytest.param(["--where", "setval('{seq}', 42) > 0"],
                 "--where calls setval", ["postgres"], id="where-setval"),
    pytest.param(["--where", "event_count in (select nextval('{seq}'))"],
                 "--where calls nextval", None, id="where-nextval-in-subquery"),
    pytest.param(["--where", "pg_sleep(0) is not null"],
                 "--where calls pg_sleep", ["postgres"], id="where-pg-sleep"),
    pytest.param(["--where", "pg_terminate_backend(0) is not null"],
                 "--where calls pg_terminate_backend", ["postgres"], id="where-terminate-backend"),
    pytest.param(["--where", "lo_import('/etc/hostname') > 0"],
                 "--where calls lo_import", ["postgres"], id="where-lo-import"),
    pytest.param(["--where", "exists (select 1 from read_csv('/etc/hostname'))"],
                 "--where reads files", ["duckdb"], id="where-read-csv"),
    pytest.param(["--where", "drop table {schema}.canary"],
                 "--where must be one boolean expression", None, id="where-a-statement"),
    pytest.param(["--where", "select 1"],
                 "--where must be one boolean expression", None, id="where-a-query"),
    pytest.param(["--where", "'{{{{ run_query(\"drop table {schema}.canary\") }}}}' is not null"],
                 "--where must not contain Jinja", None, id="where-jinja"),
    pytest.param(["--column", "metric_date + cast(nextval('{seq}') * 0 as integer)"],
                 f"--column 'metric_date + cast(nextval('{{seq}}') * 0 as integer)' is not a column of "
                 f"daily_metrics (it has: {COLUMNS})", None, id="column-expression"),
    pytest.param(["--column", "metric_date + cast(setval('{seq}', 42) * 0 as integer)"],
                 "--column 'metric_date + cast(setval(", ["postgres"], id="column-setval"),
    pytest.param(["--partition-by", "event_count + nextval('{seq}')"],
                 f"--partition-by 'event_count + nextval('{{seq}}')' is not a column of daily_metrics "
                 f"(it has: {COLUMNS})", None, id="partition-by-expression"),
    pytest.param(["--column", '"metric_date"; drop table {schema}.canary; --'],
                 "--column '\"metric_date\"; drop table", None, id="column-quoted-then-statement"),
    pytest.param(["--exclude", "select 1; drop table {schema}.canary"],
                 "is not a date", None, id="exclude-a-query"),
]


# Values the audit trail is filtered on: the query is a Jinja template, so a `{{ }}` in them would run.
JINJA_DROP = '{{{{ run_query("drop table {schema}.canary") }}}}'
AUDIT_READS = [
    pytest.param(["status", "--run", JINJA_DROP], "No backfill run '{{{{ run_query(", id="status-run-jinja"),
    pytest.param(["status", "--run", "x' or '1' = '1"], "No backfill run 'x' or '1' = '1'", id="status-run-quote"),
    pytest.param(["status", "--model", JINJA_DROP, "--run", "nothing"], "No backfill run 'nothing'",
                 id="status-model-jinja"),
    pytest.param(["resume", JINJA_DROP], "'{{{{ run_query(", id="resume-jinja"),
]


def _filled(values, store) -> list[str]:
    return [value.format(schema=store.schema, seq=sequence_name(store)) for value in values]


@pytest.mark.parametrize("args, fragment, only", HOSTILE)
def test_a_hostile_option_is_refused_and_changes_nothing(built, args, fragment, only):
    if only and built.kind not in only:
        pytest.skip(f"{built.kind} has no such function")
    plant_canaries(built)
    before = warehouse_state(built)
    result = built.cli("gaps", "--model", "daily_metrics", *RANGE, *_filled(args, built))
    after = warehouse_state(built)
    assert after == before, f"the warehouse changed: {before} -> {after}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    error = result.stderr.strip()
    assert error.startswith("Error: ") and len(error.splitlines()) == 1, error
    assert fragment.format(schema=built.schema, seq=sequence_name(built)) in error, error
    assert result.stdout == ""


# Legitimate inputs: (arguments, expected exit, the missing days expected in January).
PLANTED_JANUARY = [{"gap_start": "2024-01-15", "gap_end": "2024-01-15", "missing_periods": 1}]
LEGITIMATE = [
    pytest.param(["--where", "event_count >= 1"], 1, PLANTED_JANUARY, id="where-comparison"),
    pytest.param(["--where", "total_amount is not null and metric_date >= date '2024-01-01'"], 1, PLANTED_JANUARY,
                 id="where-and"),
    pytest.param(["--where", "coalesce(event_count, 0) > 0 and extract(day from metric_date) <> 3"], 1,
                 [{"gap_start": "2024-01-03", "gap_end": "2024-01-03", "missing_periods": 1}] + PLANTED_JANUARY,
                 id="where-known-functions"),
    pytest.param(["--where", "cast(metric_date as date) not in (date '2024-01-20', date '2024-01-21')"], 1,
                 PLANTED_JANUARY + [{"gap_start": "2024-01-20", "gap_end": "2024-01-21", "missing_periods": 2}],
                 id="where-in-list"),
    pytest.param(["--where", "metric_date in (select metric_date from {schema}.daily_metrics where event_count > 0)"],
                 1, PLANTED_JANUARY, id="where-plain-subquery"),
    pytest.param(["--where", "cast(event_count as varchar) <> 'a;b -- c /* d */'"], 1, PLANTED_JANUARY,
                 id="where-separators-inside-a-string"),
    pytest.param(["--column", "METRIC_DATE"], 1, PLANTED_JANUARY, id="column-other-case"),
    pytest.param(["--column", '"metric_date"'], 1, PLANTED_JANUARY, id="column-quoted"),
    pytest.param(["--partition-by", "Item_Count", "--no-tests"], 1, None,
                 id="partition-by-other-case"),
]


@pytest.mark.parametrize("args, exit_code, gaps", LEGITIMATE)
def test_a_legitimate_option_still_works(built, args, exit_code, gaps):
    before = warehouse_state(built)
    result = built.cli("gaps", "--model", "daily_metrics", *RANGE, *_filled(args, built), "--json")
    assert warehouse_state(built) == before
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == exit_code, result.stdout + result.stderr
    document = json.loads(result.stdout)
    if gaps is not None:
        assert document["gaps"] == gaps


@pytest.mark.parametrize("args, fragment", AUDIT_READS)
def test_a_hostile_run_id_or_model_is_text_to_the_audit_trail(built, args, fragment):
    plant_canaries(built)
    before = warehouse_state(built)
    result = built.cli(*_filled(args, built))
    after = warehouse_state(built)
    assert after == before, f"the warehouse changed: {before} -> {after}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    error = result.stderr.strip()
    assert error.startswith("Error: ") and len(error.splitlines()) == 1, error
    assert fragment.format(schema=built.schema) in error, error


def test_status_still_finds_a_run_by_its_id_and_model(built):
    listed = json.loads(built.cli("status", "--model", "daily_metrics", "--json", check=True).stdout)
    run_id = listed["runs"][0]["run_id"]
    one = json.loads(built.cli("status", "--run", run_id, "--json", check=True).stdout)
    assert [run["run_id"] for run in one["runs"]] == [run_id] and one["batches"]
