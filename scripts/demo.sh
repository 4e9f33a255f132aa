#!/usr/bin/env bash
# The demo, end to end on DuckDB, in the reference pipeline's project demo/ (its
# warehouse a file there, demo/backfill.duckdb): install the package -> raw data
# -> snapshot -> backfill January of daily_metrics in weekly batches -> run it
# again (nothing changes) -> with what is built on it -> audit trail -> gaps
# -> gaps-only backfill -> reconcile -> reproducible reruns -> repair what a check found -> dbt tests.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
cd demo

# The repository's profiles.yml; commands run in demo/, as a user runs them in a project.
export DO_NOT_TRACK=1 DBT_PROFILES_DIR="$REPO" BACKFILL_TARGET=duckdb
# A relative BACKFILL_DUCKDB_PATH is relative to demo/, where dbt runs.
export BACKFILL_DUCKDB_PATH="${BACKFILL_DUCKDB_PATH:-backfill.duckdb}"
case "$BACKFILL_DUCKDB_PATH" in /*) WAREHOUSE=$BACKFILL_DUCKDB_PATH ;; *) WAREHOUSE=demo/$BACKFILL_DUCKDB_PATH ;; esac
PY="$REPO/.venv/bin/python"
DBT="$REPO/.venv/bin/dbt"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

rm -f "$BACKFILL_DUCKDB_PATH"

step "0. Install the package into the demo project (packages.yml: local: ../; offline)" "cd demo && dbt deps"
$DBT deps --quiet
echo "backfill linked into demo/dbt_packages."

step "1. Generate the raw data of the playbook (deterministic)" "python -m backfill.demo_data"
$PY -m backfill.demo_data

step "2. Snapshot the item table (dbt snapshot runs daily)" "dbt snapshot"
$DBT snapshot --quiet
echo "item_snapshot built."

step "3. Backfill January of daily_metrics in weekly batches" \
     "python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7"
$PY -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7

step "4. Run the same backfill again: each batch replaces its window, nothing is duplicated" \
     "python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7"
$PY -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7

step "4b. Backfill daily_metrics and what is built on it (weekly_metrics), window by window, parents first" \
     "python -m backfill run --select daily_metrics+ --start 2024-01-01 --end 2024-01-14 --batch-size 7"
$PY -m backfill run --select daily_metrics+ --start 2024-01-01 --end 2024-01-14 --batch-size 7

step "5. The audit trail: every run and batch, recorded in the warehouse" "python -m backfill status --model daily_metrics"
$PY -m backfill status --model daily_metrics --limit 2

step "6. Find what is still missing (exit 1 means gaps were found), with a calendar page" \
     "python -m backfill gaps --model daily_metrics --start 2024-01-01 --end 2024-04-30 --html gaps.html"
$PY -m backfill gaps --model daily_metrics --start 2024-01-01 --end 2024-04-30 --html gaps.html || true

step "7. Backfill only the missing periods" \
     "python -m backfill run --model daily_metrics --gaps-only --start 2024-01-01 --end 2024-04-30 --batch-size 7"
$PY -m backfill run --model daily_metrics --gaps-only --start 2024-01-01 --end 2024-04-30 --batch-size 7

step "8. What is left are the days the source itself has no events for" \
     "python -m backfill gaps --model daily_metrics --start 2024-01-01 --end 2024-04-30"
$PY -m backfill gaps --model daily_metrics --start 2024-01-01 --end 2024-04-30 || true

step "9. Reconcile the sources (the planted differences warn; severity: warn in _sources.yml)" \
     "python -m backfill reconcile"
$PY -m backfill reconcile

step "10. The same daily job, reproducible: item status as of each event's day (via the snapshot)" \
     "python -m backfill run --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31 --batch-size 7"
$PY -m backfill run --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31 --batch-size 7

step "11. Today item 5 is discontinued; the daily snapshot records it" \
     "update item set status = 'DISCONTINUED', updated_at = '2024-05-01' where id = 5; dbt snapshot"
$PY - <<'PYTHON'
import duckdb, os
connection = duckdb.connect(os.environ["BACKFILL_DUCKDB_PATH"])
connection.execute("update main_raw.item set status = 'DISCONTINUED', updated_at = '2024-05-01' where id = 5")
connection.close()
PYTHON
$DBT snapshot --quiet
echo "item_snapshot now has a second version of item 5, valid from 2024-05-01."

step "12. Would a rerun of January change history? The naive model: yes (exit 1)" \
     "python -m backfill verify --model daily_metrics --start 2024-01-01 --end 2024-01-31"
$PY -m backfill verify --model daily_metrics --start 2024-01-01 --end 2024-01-31 || true

step "13. The reproducible model: no" \
     "python -m backfill verify --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31"
$PY -m backfill verify --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31

step "14. --verify-first refuses to overwrite history that would change (exit 2)" \
     "python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --verify-first"
$PY -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --verify-first > /dev/null || true

step "15. The reproducible model reruns January unchanged" \
     "python -m backfill run --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31 --batch-size 31 --verify-first"
$PY -m backfill run --model daily_metrics_reproducible --start 2024-01-01 --end 2024-01-31 --batch-size 31 --verify-first

step "16. What daily_metrics holds now" "dbt show --inline 'select ...'"
$DBT show --quiet --limit 40 --inline "
    select count(*) as days, min(metric_date) as first_day, max(metric_date) as last_day,
           sum(event_count) as events, sum(total_amount) as amount
    from {{ ref('daily_metrics') }}"

step "17. The naive model no longer matches its source (item 5 is not ACTIVE now): reconcile says where (exit 1)" \
     "python -m backfill reconcile --select daily_metrics"
$PY -m backfill reconcile --select daily_metrics || true

step "18. Repair what that check found: refused, more days than --max-periods allows (exit 2)" \
     "python -m backfill repair --model daily_metrics --check daily_metrics_amount_matches_events --yes"
$PY -m backfill repair --model daily_metrics --check daily_metrics_amount_matches_events --yes || true

step "19. Repair them, allowing 60 days: exactly the failing days are rerun, then checked again" \
     "python -m backfill repair --model daily_metrics --check daily_metrics_amount_matches_events --max-periods 60 --batch-size 7 --yes"
$PY -m backfill repair --model daily_metrics --check daily_metrics_amount_matches_events --max-periods 60 \
    --batch-size 7 --yes

step "20. Run the dbt tests of the reference pipeline" "dbt test"
$DBT test --quiet
echo "dbt test passed."

printf '\nDemo finished. The warehouse is %s (open it with: duckdb %s); the gap calendar is demo/gaps.html.\n' \
    "$WAREHOUSE" "$WAREHOUSE"
