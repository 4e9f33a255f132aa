"""Gaps, --gaps-only and batch verification in a user's project that imports the
package, on DuckDB and PostgreSQL: the model's own `backfill.no_gaps` tests are
applied as dbt applies them (arguments rendered by dbt, relations, the `where`
config), bad input is refused before anything is written, and `gaps` says what
it found in words that fit the case.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from backfill.gaps import default_last_period
from conftest import WAREHOUSES, _warehouse_kind, make_user_project, parse_json_lines

pytestmark = pytest.mark.slow

FIRST_DAY, LAST_DAY = date(2024, 2, 26), date(2024, 3, 4)
# Rows per (day, store) of the shop's source; every other day has 3 rows per store.
SHOP_ROWS = {
    (date(2024, 2, 28), 2): 0,  # store 2 sent nothing
    (date(2024, 2, 29), 1): 1,  # a quiet day for store 1 ...
    (date(2024, 2, 29), 2): 0,  # ... and nothing from store 2
    (date(2024, 3, 2), 1): 0,  # the shop's holiday
    (date(2024, 3, 2), 2): 0,
}
# Hours of 2024-03-09 20:00 → 2024-03-11 03:00 without events.
HOURS_WITHOUT_EVENTS = {datetime(2024, 3, 9, 23), datetime(2024, 3, 10, 0), datetime(2024, 3, 10, 2),
                        datetime(2024, 3, 10, 23)}


def shop_events_csv() -> str:
    lines, event_id = ["event_id,sold_on,store_id"], 0
    day = FIRST_DAY
    while day <= LAST_DAY:
        for store in (1, 2):
            for _ in range(SHOP_ROWS.get((day, store), 3)):
                event_id += 1
                lines.append(f"{event_id},{day.isoformat()},{store}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def hourly_events_csv() -> str:
    lines, hour = ["ts"], datetime(2024, 3, 9, 20)
    while hour <= datetime(2024, 3, 11, 3):
        if hour not in HOURS_WITHOUT_EVENTS:
            lines.append((hour + timedelta(minutes=15)).isoformat(sep=" "))
        hour += timedelta(hours=1)
    return "\n".join(lines) + "\n"


SEEDS_YML = """
version: 2
seeds:
  - name: shop_events
    config: {column_types: {event_id: integer, sold_on: date, store_id: integer}}
  - name: shop_holidays
    config: {column_types: {holiday: date}}
  - name: hourly_events
    config: {column_types: {ts: timestamp}}
"""

# The two lines of a backfillable model (README), per day and store.
SHOP_DAILY = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('sold_on') }}", event_time='sold_on') }}
select events.sold_on, events.store_id, count(*) as orders
from {{ ref('shop_events') }} as events
where {{ backfill.backfill_window('events.sold_on', this_column='sold_on') }}
group by events.sold_on, events.store_id
"""

# The same per day only.
SHOP_PLAIN = SHOP_DAILY.replace(", events.store_id", "")

# Tests whose arguments dbt renders: a relation, Jinja values; and a `where` config.
SHOP_TESTS_YML = """
version: 2
models:
  - name: shop_open
    columns:
      - name: sold_on
        data_tests:
          - backfill.no_gaps:
              name: shop_open_days
              arguments: {exclude: ref('shop_holidays')}
              config: {severity: warn}
          - backfill.no_gaps:
              name: shop_open_days_by_query
              arguments: {exclude: "select holiday from {{ ref('shop_holidays') }}"}
              config: {severity: warn}
          - backfill.no_gaps:
              name: shop_busy_days
              config: {severity: warn, where: "orders >= 6"}
  - name: shop_daily
    columns:
      - name: sold_on
        data_tests:
          - backfill.no_gaps:
              name: shop_every_store
              arguments:
                grain: "{{ var('shop_grain', 'day') }}"
                partition_by: "{{ var('shop_partitions', ['store_id']) }}"
              config: {severity: warn}
          - backfill.no_gaps:
              name: shop_two_rows
              arguments: {min_rows: "{{ var('shop_min_rows', 2) }}"}
              config: {severity: warn}
"""

# Every store the shop has, one of which (3) never sold anything: a partition without a row.
SHOP_STORES_YML = """
version: 2
models:
  - name: shop_stores
    columns:
      - name: sold_on
        data_tests:
          - backfill.no_gaps:
              name: shop_stores_every_listed_store
              arguments: {partition_by: [store_id], partitions: ref('shop_store_list')}
              config: {severity: warn}
"""

FILES = {
    "seeds/shop_events.csv": shop_events_csv(),
    "seeds/shop_store_list.csv": "store_id\n1\n2\n3\n",
    "models/shop_stores.sql": SHOP_DAILY,
    "models/shop_stores.yml": SHOP_STORES_YML,
    "seeds/shop_holidays.csv": "holiday\n2024-03-02\n",
    "seeds/hourly_events.csv": hourly_events_csv(),
    "seeds/_gap_seeds.yml": SEEDS_YML,
    "models/shop_daily.sql": SHOP_DAILY,
    "models/shop_open.sql": SHOP_PLAIN,
    "models/shop_tests.yml": SHOP_TESTS_YML,
    # No test of its own: the plain check applies.
    "models/shop_plain.sql": SHOP_PLAIN,
    # Its period column names a column the table does not have.
    "models/shop_misnamed.sql": SHOP_DAILY.replace("event_time='sold_on'",
                                                   "meta={'backfill': {'period_column': 'sold_at'}}"),
    "models/hourly.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('hourly_events') }}\n",
    "models/no_sales.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('shop_events') }} where 1 = 0\n",
}


@pytest.fixture(scope="module", params=WAREHOUSES)
def shop(request, tmp_path_factory):
    """The user's project with every model built once over the whole source."""
    store = make_user_project(tmp_path_factory.mktemp("shop"), _warehouse_kind(request), FILES)
    store.dbt("seed")
    store.dbt("run", "--select", "shop_daily", "shop_stores", "shop_open", "shop_plain", "shop_misnamed", "hourly", "no_sales")
    yield store
    store.drop()


def gaps_json(shop, *args) -> dict:
    result = shop.cli("gaps", *args, "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def planned(shop, *args) -> list[tuple[str, str]]:
    result = shop.cli("run", *args, "--dry-run", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return [(batch["start"], batch["end"]) for batch in parse_json_lines(result.stdout)[0]["batches"]]


def checks_by_batch(stdout: str) -> dict[str, dict[str, dict]]:
    """batch window start -> check name -> {status, detail}, from `run --json`."""
    events = parse_json_lines(stdout)
    starts = {batch["batch"]: batch["start"] for batch in events[0]["batches"]}
    return {starts[event["batch"]]: {check["name"]: check for check in event["checks"]}
            for event in events if event["event"] == "batch_finished"}


def written_rows(shop, table: str) -> list[tuple]:
    return shop.sql(f'select * from "{shop.schema}".{table} order by 1, 2')


def audit_runs_of(shop, model: str) -> int:
    if not shop.table_exists(shop.schema, "backfill_runs"):
        return 0
    return shop.sql(f"select count(*) from \"{shop.schema}\".backfill_runs where model = '{model}'")[0][0]


# -- 1. --exclude DATE at grain hour names all 24 hours -----------------------------------


def test_an_excluded_date_at_hour_grain_excludes_all_its_hours(shop):
    hours = ["-m", "hourly", "-c", "ts", "--grain", "hour", "--start", "2024-03-09 20:00", "--end", "2024-03-11 03:00"]
    everything = gaps_json(shop, *hours)
    assert [(g["gap_start"], g["gap_end"]) for g in everything["gaps"]] == [
        ("2024-03-09 23:00", "2024-03-10 00:00"), ("2024-03-10 02:00", "2024-03-10 02:00"),
        ("2024-03-10 23:00", "2024-03-10 23:00")]

    holiday = gaps_json(shop, *hours, "--exclude", "2024-03-10")
    assert [(g["gap_start"], g["gap_end"], g["missing_periods"]) for g in holiday["gaps"]] == [
        ("2024-03-09 23:00", "2024-03-09 23:00", 1)]
    one_hour = gaps_json(shop, *hours, "--exclude", "2024-03-10 02:00")
    assert [g["gap_start"] for g in one_hour["gaps"]] == ["2024-03-09 23:00", "2024-03-10 23:00"]


# -- 2. --gaps-only honours one bound alone -------------------------------------------------


def test_gaps_only_honours_start_or_end_given_alone(shop):
    # shop_plain misses only 2024-03-02 and has nothing after 2024-03-04.
    assert planned(shop, "-m", "shop_plain", "--gaps-only", "--end", "2024-03-03") == [("2024-03-02", "2024-03-02")]
    # The end defaults as `gaps` does: the last complete day before now.
    assert planned(shop, "-m", "shop_plain", "--gaps-only", "--start", "2024-03-03", "--batch-size", "100000") == [
        ("2024-03-05", default_last_period("day").isoformat())]


# -- 3. the batch check applies the model's no_gaps tests as dbt does ----------------------


def run_checks(shop, *args) -> dict[str, dict[str, dict]]:
    result = shop.cli("run", *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return checks_by_batch(result.stdout)


def statuses(checks: dict[str, dict[str, dict]]) -> dict[str, dict[str, str]]:
    return {start: {name: check["status"] for name, check in by_name.items()} for start, by_name in checks.items()}


THREE_DAY_BATCHES = ["--start", "2024-02-26", "--end", "2024-03-04", "--batch-size", "3"]


def test_batches_are_checked_with_an_excluded_relation_and_the_where_config(shop):
    checks = run_checks(shop, "-m", "shop_open", *THREE_DAY_BATCHES)
    # 02-28 has 3 rows and 02-29 one: not busy (where orders >= 6); 03-02 is in the relation shop_holidays.
    assert statuses(checks) == {
        "2024-02-26": {"shop_open_days": "pass", "shop_open_days_by_query": "pass", "shop_busy_days": "warn"},
        "2024-02-29": {"shop_open_days": "pass", "shop_open_days_by_query": "pass", "shop_busy_days": "warn"},
        "2024-03-03": {"shop_open_days": "pass", "shop_open_days_by_query": "pass", "shop_busy_days": "pass"},
    }
    assert checks["2024-02-26"]["shop_busy_days"]["detail"] == "missing 2024-02-28"
    assert checks["2024-02-29"]["shop_busy_days"]["detail"] == "missing 2024-02-29, 2024-03-02"
    assert checks["2024-02-29"]["shop_open_days"]["detail"] == "every period present"


def test_batches_are_checked_with_test_arguments_rendered_by_dbt(shop):
    # grain and partition_by, min_rows: Jinja, rendered as dbt renders them (vars' defaults).
    checks = run_checks(shop, "-m", "shop_daily", *THREE_DAY_BATCHES)
    assert statuses(checks) == {
        "2024-02-26": {"shop_every_store": "warn", "shop_two_rows": "warn"},
        "2024-02-29": {"shop_every_store": "warn", "shop_two_rows": "warn"},
        "2024-03-03": {"shop_every_store": "pass", "shop_two_rows": "pass"},
    }
    assert checks["2024-02-26"]["shop_every_store"]["detail"] == "missing 2024-02-28 (store_id=2)"
    assert checks["2024-02-29"]["shop_every_store"]["detail"] == (
        "missing 2024-03-02 (store_id=1), 2024-02-29 (store_id=2), 2024-03-02 (store_id=2)")
    assert checks["2024-02-29"]["shop_two_rows"]["detail"] == "missing 2024-02-29, 2024-03-02"


def test_a_partition_absent_from_a_whole_window_is_still_missing_there(shop):
    # Store 2 has no row on 2024-02-28 nor 2024-02-29: one-day batches hold no row of it at all,
    # yet the test knows store 2 over its own range, so each batch reports it, as `dbt test` does.
    checks = run_checks(shop, "-m", "shop_daily", "--start", "2024-02-28", "--end", "2024-02-29")
    assert {start: by_name["shop_every_store"]["detail"] for start, by_name in checks.items()} == {
        "2024-02-28": "missing 2024-02-28 (store_id=2)", "2024-02-29": "missing 2024-02-29 (store_id=2)"}
    # --gaps-only over that one day plans it too (the test's partitions, not the day's).
    assert planned(shop, "-m", "shop_daily", "--gaps-only", "--start", "2024-02-28", "--end", "2024-02-28") == [
        ("2024-02-28", "2024-02-28")]


def test_a_test_can_name_partitions_that_have_no_row_at_all(shop):
    # Store 3 is in the test's `partitions` and never sold: `dbt test` fails on it ...
    tested = shop.dbt("test", "--select", "shop_stores_every_listed_store", check=False)
    assert "WARN" in tested.stdout and "shop_stores_every_listed_store" in tested.stdout, tested.stdout
    # ... and so does every batch of the runner, for store 3 over the batch's window, next to store 2.
    checks = run_checks(shop, "-m", "shop_stores", "--start", "2024-02-27", "--end", "2024-02-28")
    assert {start: by_name["shop_stores_every_listed_store"]["detail"] for start, by_name in checks.items()} == {
        "2024-02-27": "missing 2024-02-27 (store_id=3)",
        "2024-02-28": "missing 2024-02-28 (store_id=2), 2024-02-28 (store_id=3)"}
    found = gaps_json(shop, "-m", "shop_stores", "--start", "2024-02-26", "--end", "2024-03-04")
    assert [gap for gap in found["gaps"] if gap["store_id"] == 3] == [
        {"store_id": 3, "gap_start": "2024-02-26", "gap_end": "2024-03-04", "missing_periods": 8}], found


def test_a_clipped_window_is_judged_at_each_tests_own_grain_inside_it(shop):
    # A week batch cut to three days without rows: each day is missing at the test's own grain (day);
    # rows on 2024-03-04, in the same week but outside the window, do not count.
    clipped_week = ["--grain", "week", "--start", "2024-03-06", "--end", "2024-03-08"]
    (checks,) = run_checks(shop, "-m", "shop_open", *clipped_week).values()
    assert checks["shop_open_days"] == {"name": "shop_open_days", "status": "warn",
                                        "detail": "missing 2024-03-06 → 2024-03-08"}
    # A test at grain week finds no whole week inside the window: it judges nothing there.
    (checks,) = run_checks(shop, "-m", "shop_daily", *clipped_week, "--vars", "{shop_grain: week}").values()
    assert checks["shop_every_store"]["status"] == "pass"
    assert checks["shop_every_store"]["detail"] == "no whole week lies inside the window: not checked"
    assert checks["shop_two_rows"]["detail"] == "missing 2024-03-06 → 2024-03-08"


# -- 4. --gaps-only plans from the model's own tests ---------------------------------------


def test_gaps_only_plans_what_the_models_tests_report(shop):
    by_store = gaps_json(shop, "-m", "shop_daily", "--start", "2024-02-26", "--end", "2024-03-04",
                         "--partition-by", "store_id")
    assert (2, "2024-02-28", "2024-02-29") in {(g["store_id"], g["gap_start"], g["gap_end"]) for g in by_store["gaps"]}
    # The plain check would plan 03-02 alone: the tests add 02-28 and 02-29 (store 2, and too few rows).
    assert planned(shop, "-m", "shop_daily", "--gaps-only", "--start", "2024-02-26", "--end", "2024-03-04") == [
        ("2024-02-28", "2024-02-28"), ("2024-02-29", "2024-02-29"), ("2024-03-02", "2024-03-02")]


# -- 5. an unusable period column is refused before anything is written ---------------------


@pytest.mark.parametrize(
    "model, args, sentence",
    [
        ("shop_misnamed", [], "Error: shop_misnamed has no column 'sold_at' (it has: orders, sold_on, store_id)."),
        ("shop_plain", ["--grain", "hour", "--no-verify"],
         "Error: shop_plain.sold_on is a date, so it has no hours: use grain day, week or month."),
    ],
)
def test_an_unusable_period_column_is_refused_and_nothing_is_written(shop, model, args, sentence):
    before = written_rows(shop, model)
    result = shop.cli("run", "-m", model, "--start", "2024-02-27", "--end", "2024-02-27", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == sentence
    assert written_rows(shop, model) == before
    assert audit_runs_of(shop, model) == 0


# -- 6. what `gaps` prints -------------------------------------------------------------------


def test_null_partition_values_show_as_null(shop, tmp_path):
    page = tmp_path / "gaps.html"
    result = shop.cli("gaps", "-m", "no_sales", "-c", "sold_on", "--start", "2024-02-27", "--end", "2024-03-01",
                      "--partition-by", "store_id", "--html", str(page))
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[2].split() == ["null", "2024-02-27", "2024-03-01", "4"]
    assert "(no rows at all)" not in result.stdout
    assert "<td>null</td><td>2024-02-27</td>" in page.read_text() and "None" not in page.read_text()


def test_an_empty_table_without_start_says_there_are_no_rows_at_all(shop):
    result = shop.cli("gaps", "-m", "no_sales", "-c", "sold_on", "--end", "2024-03-01")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == (
        "Gaps in no_sales.sold_on by day (first value → 2024-03-01): no rows at all up to 2024-03-01; "
        "pass --start to count the missing days.")
    document = gaps_json(shop, "-m", "no_sales", "-c", "sold_on", "--end", "2024-03-01")
    assert document["missing_periods"] is None
    assert document["gaps"] == [{"gap_start": None, "gap_end": "2024-03-01", "missing_periods": None}]


def test_a_column_that_is_not_a_date_is_refused_naming_its_type(shop):
    result = shop.cli("gaps", "-m", "shop_daily", "-c", "orders")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().lower() == (
        "error: shop_daily.orders is bigint, not a date or timestamp, so it has no periods.")
