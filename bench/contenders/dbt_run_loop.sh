#!/usr/bin/env bash
# The playbook's backfill: a shell loop that starts one `dbt run` per day and
# passes the day as the window vars.
#
#   dbt_run_loop.sh DBT PROJECT_DIR MODEL FIRST_DAY LAST_DAY
set -euo pipefail

dbt=$1 project_dir=$2 model=$3 day=$4 last_day=$5

while [[ ! "$day" > "$last_day" ]]; do
    "$dbt" run --project-dir "$project_dir" --select "$model" \
        --vars "{start_date: '$day', end_date: '$day'}"
    day=$(date -I -d "$day + 1 day")
done
