"""Hostile and broken input (issue 21), on DuckDB and PostgreSQL: every case is a row
of a table — the command, the input, the exit code and the sentence expected — and
after each one a canary table, a canary sequence and the catalog of the warehouse's
schemas are as they were (conftest's plant_canaries and warehouse_state): nothing written,
nothing injected, unless the row says the command legitimately writes. No input produces a traceback.

A new option is covered by adding a row. SQL-valued options (`--where`, `--column`, …)
have their own table in test_hostile_sql.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import WAREHOUSES, Warehouse, _warehouse_kind, make_user_project, plant_canaries, warehouse_state

pytestmark = pytest.mark.slow

RUN = ["run", "-m", "daily_metrics"]
DAYS = ["--start", "2024-01-01", "--end", "2024-01-02"]

# (id, arguments with {schema} for the warehouse's schema, exit code, sentence, writes)
CASES = [
    ("end-beyond-the-calendar", [*RUN, "--start", "2024-01-01", "--end", "9999-12-31"], 2,
     "--end '9999-12-31' is out of range: dates from 0001-01-01 to 9998-12-31 can be planned.", False),
    ("start-before-the-calendar", [*RUN, "--start", "0000-12-31", "--end", "2024-01-01"], 2,
     "--start '0000-12-31' is not a real date.", False),
    ("every-day-there-is", [*RUN, "--start", "0001-01-01", "--end", "9998-12-31", "--dry-run"], 2,
     "The plan would have 3,651,694 batches of 1 day(s), more than 100,000", False),
    ("hours-over-decades", [*RUN, "--start", "2000-01-01", "--end", "2024-12-31", "--grain", "hour", "--dry-run"],
     2, "The plan would have 219,168 batches of 1 hour(s), more than 100,000: narrow the range, raise "
        "--batch-size, or pass --max-batches 219168.", False),
    ("max-batches-zero", [*RUN, *DAYS, "--max-batches", "0"], 2,
     "--max-batches must be a whole number, 1 or more (got 0).", False),
    ("sleep-infinite", [*RUN, *DAYS, "--sleep", "inf"], 2,
     "--sleep must be a finite number of seconds, 0 or more (got inf).", False),
    ("sleep-negative", [*RUN, *DAYS, "--sleep", "-1"], 2,
     "--sleep must be a finite number of seconds, 0 or more (got -1.0).", False),
    ("backoff-not-a-number", [*RUN, *DAYS, "--backoff", "nan", "--dry-run"], 2,
     "--backoff must be a finite number of seconds, 0 or more (got nan).", False),
    ("batch-size-zero", [*RUN, *DAYS, "--batch-size", "0"], 2,
     "--batch-size must be a whole number of periods, 1 or more (got 0).", False),
    ("grain-unknown", [*RUN, *DAYS, "--grain", "fortnight"], 2,
     "Unknown grain 'fortnight': use one of hour, day, week, month.", False),
    ("date-with-a-newline", [*RUN, "--start", "2024-01-01\n; drop table canary", "--end", "2024-01-02"], 2,
     "--start '2024-01-01\\n; drop table canary' is not a date: expected YYYY-MM-DD.", False),
    # repair validates every option before its checks run and store their failures
    ("repair-batch-size-zero", ["repair", "-m", "daily_metrics", "--batch-size", "0"], 2,
     "--batch-size must be a whole number of periods, 1 or more (got 0).", False),
    ("repair-retries-negative", ["repair", "-m", "daily_metrics", "--retries", "-1"], 2,
     "--retries must be a whole number, 0 or more (got -1).", False),
    # before the first run builds the table: the checks would fail on "relation does not exist"
    ("repair-before-the-table-exists", ["repair", "-m", "daily_metrics", "--yes"], 2,
     "Model 'daily_metrics' has no table yet", False),
    ("verify-before-the-table-exists", ["verify", "-m", "daily_metrics", *DAYS], 2,
     "Model 'daily_metrics' has no table yet", False),
    ("repair-without-a-model", ["repair", "--batch-size", "0"], 2,
     "Name the model to repair with --model, or the models with --select (one of the two).", False),
    ("run-without-a-model", ["run", *DAYS], 2,
     "Name the model to backfill with --model, or the models with --select (one of the two).", False),
    ("gaps-without-a-model", ["gaps"], 2, "Missing option '--model' / '-m'.", False),
    ("verify-without-a-window", ["verify", "-m", "daily_metrics"], 2, "Missing option '--start'.", False),
    ("html-into-a-missing-folder", ["gaps", "-m", "daily_metrics", "--html", "/nonexistent/folder/gaps.html"], 2,
     "--html /nonexistent/folder/gaps.html: the folder /nonexistent/folder does not exist.", False),
    ("html-onto-a-folder", ["gaps", "-m", "daily_metrics", "--html", "."], 2, "Invalid value for '--html'", False),
    ("vars-not-a-mapping", [*RUN, *DAYS, "--vars", "[1, 2]", "--dry-run"], 2,
     "--vars must be a mapping, e.g. --vars '{region: eu}'.", False),
    ("resume-nothing-recorded", ["resume"], 2,
     "Nothing to resume: no backfill of this target is recorded in the audit trail.", False),
    # An audit schema from --vars is an identifier, quoted: the statement in it stays a name.
    ("audit-schema-injection", [*RUN, *DAYS, "--no-verify", "--vars",
                                '{backfill_audit_schema: "x; drop table {schema}.canary; --"}'], 0,
     "Done: 2/2 batches of daily_metrics succeeded", True),
    # Nothing listens on port 9: the checks run, and the alert that would not arrive fails the command.
    ("webhook-unreachable", ["reconcile", "--select", "users_vs_replica_rows", "--webhook", "http://127.0.0.1:9/hook"],
     1, "Could not post to --webhook: the webhook could not be reached (Connection refused).", True),
]


@pytest.fixture(scope="module", params=WAREHOUSES)
def hostile(request, tmp_path_factory):
    store = Warehouse(_warehouse_kind(request), tmp_path_factory.mktemp("hostile"))
    store.load_demo_data()
    plant_canaries(store)
    yield store
    store.drop()
    if store.kind == "postgres":
        store.sql('drop schema if exists "x; drop table {}.canary; --" cascade'.format(store.schema))


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_hostile_input_gets_one_sentence_and_leaves_the_warehouse_as_it_was(hostile, case):
    _, arguments, exit_code, sentence, writes = case
    before = warehouse_state(hostile)
    result = hostile.cli(*[argument.replace("{schema}", hostile.schema) for argument in arguments])
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == exit_code, output
    assert sentence in output, output
    after = warehouse_state(hostile)
    # the canary table and sequence, untouched
    assert after["canary"] == before["canary"] == [(1,), (2,), (3,)], (before, after)
    assert after["sequence"] == before["sequence"], (before, after)
    if not writes:
        assert after["catalog"] == before["catalog"], "the catalog changed"


def test_the_audit_schema_from_vars_is_a_quoted_name(hostile):
    # The injection case above ran: its audit trail is in a schema named by the whole string.
    schema = f"x; drop table {hostile.schema}.canary; --"
    found = hostile.sql(f"select table_name from information_schema.tables where table_schema = '{schema}' "
                        "order by 1")
    assert [row[0] for row in found] == ["backfill_batches", "backfill_locks", "backfill_runs"]


# -- files dbt reads --------------------------------------------------------------------------

BROKEN_SCHEMA_YML = "version: 2\nmodels:\n  - name: orders_daily\n    columns:\n      - name: date\n       tests: [oops\n"


@pytest.mark.parametrize("file, text, sentence", [
    ("models/broken.yml", BROKEN_SCHEMA_YML,
     "Error: dbt could not read models/broken.yml: a YAML syntax error near line 6 "
     "(did not find expected '-' indicator)."),
    ("dbt_project.yml", None,
     "Error: dbt could not read dbt_project.yml: a YAML syntax error near line"),
])
def test_a_malformed_yaml_file_is_named_with_its_line_first(tmp_path, file, text, sentence):
    store = make_user_project(tmp_path, "duckdb")
    path = store.project_dir / file
    path.write_text(text if text is not None else path.read_text() + "vars:\n  broken: [1\n")
    result = store.cli("gaps", "-m", "orders_daily")
    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, lines
    assert lines[0].startswith(sentence), lines
    assert any(line.strip().startswith(("5 ", "25 ", "26 ")) and "|" in line for line in lines[1:]), lines


# -- a full disk ----------------------------------------------------------------------------

BULKY = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('day') }}",
          meta={'backfill': {'period_column': 'day'}}) }}
select cast('{{ var("start_date", "2024-01-01") }}' as date) as day, i,
       md5(cast(i as varchar) || '{{ var("start_date", "") }}') as payload
from range(300000) as t(i)
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 40 MB file system (tmpfs), mounted for the test: a DuckDB file fills it in a few batches."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_disk_that_fills_mid_run_is_exit_1_naming_what_was_written_and_resume_finishes(tmp_path, small_disk):
    store = make_user_project(tmp_path / "project", "duckdb", {"models/bulky.sql": BULKY})
    store.env["BACKFILL_DUCKDB_PATH"] = str(small_disk / "warehouse.duckdb")
    result = store.cli("run", "-m", "bulky", "--start", "2024-01-01", "--end", "2024-01-30", "--no-verify")
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    assert "refused before anything was written" not in output
    assert "The run stopped after writing" in output or "Failed: batch" in output, output
    assert "is full (No space left on device)" in output or "No space left on device" in output, output
    written = [line for line in result.stdout.splitlines() if " ok " in line]
    assert written, output

    # Room again (the file moved to a roomy disk): the run shows as interrupted or failed, not running,
    # and resume finishes exactly the rest.
    roomy = tmp_path / "roomy"
    roomy.mkdir()
    for path in small_disk.iterdir():
        shutil.copy(path, roomy / path.name)
    store.env["BACKFILL_DUCKDB_PATH"] = str(roomy / "warehouse.duckdb")
    status = store.cli("status")
    assert "running" not in status.stdout.split("\n")[1], status.stdout
    resumed = store.cli("resume", "-m", "bulky")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    store.duckdb_path = roomy / "warehouse.duckdb"
    assert store.sql("select count(distinct day), count(*) from bulky") == [(30, 30 * 300000)]


def test_resume_of_a_model_without_an_unfinished_run_is_one_sentence_after_another_models_failure(hostile):
    # Runs at the end of the module (its cases are done): a run of daily_metrics fails on a missing
    # source, then `resume` is asked for a model that has no run, and for one that does not exist.
    events = f"{hostile.raw_schema}.item_events"
    hostile.sql(f"alter table {events} rename to item_events_away")
    try:
        failed = hostile.cli(*RUN, *DAYS, "--no-verify")
    finally:
        hostile.sql(f"alter table {hostile.raw_schema}.item_events_away rename to item_events")
    assert failed.returncode == 1, failed
    assert "finish the rest with: python -m backfill resume" in failed.stdout + failed.stderr, failed
    for arguments, sentence in [
        (["resume", "-m", "events_in_assortment"],
         "Nothing to resume: no backfill of model 'events_in_assortment' is recorded in the audit trail."),
        (["resume", "no-such-run"], "No backfill run 'no-such-run' in the audit trail."),
    ]:
        result = hostile.cli(*arguments)
        output = result.stdout + result.stderr
        assert result.returncode == 2 and "Traceback" not in output, output
        assert sentence in output, output
