"""Reproducible reruns on DuckDB and PostgreSQL: the item snapshot, `valid_at`,
`as_of`, and `daily_metrics_reproducible` against the naive `daily_metrics`.

Snapshot days are pinned through the source's `updated_at` (the snapshot uses
the timestamp strategy), so every test knows exactly when each version starts.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from conftest import DEMO, WAREHOUSES, make_user_project, usable_warehouse

pytestmark = pytest.mark.slow

WINDOW = ("2024-01-01", "2024-01-10")


# -- helpers ---------------------------------------------------------------------


def build(warehouse, model: str, start: str = WINDOW[0], end: str = WINDOW[1]) -> None:
    result = warehouse.cli("run", "--model", model, "--start", start, "--end", end, "--batch-size", "10")
    assert result.returncode == 0, result.stdout + result.stderr


def stored(warehouse, model: str) -> list[tuple]:
    return warehouse.sql(
        "select metric_date, event_count, item_count, total_amount, total_quantity "
        f'from "{warehouse.schema}".{model} order by metric_date'
    )


def items_by_status(warehouse) -> dict[str, list[int]]:
    found = defaultdict(list)
    for item_id, status in warehouse.sql(f'select id, status from "{warehouse.raw_schema}".item order by id'):
        found[status].append(item_id)
    return found


def change_item(warehouse, item_id: int, status: str, updated_at: str) -> None:
    warehouse.sql(
        f"update \"{warehouse.raw_schema}\".item set status = '{status}', "
        f"updated_at = cast('{updated_at}' as timestamp) where id = {item_id}"
    )


def add_events(warehouse, item_id: int, days: list[str], first_event_id: int) -> None:
    values = ", ".join(
        f"({first_event_id + n}, {item_id}, cast('{day}' as date), cast('{day} 12:00:00' as timestamp), "
        f"'view', {10 + n}.25, {1 + n})"
        for n, day in enumerate(days)
    )
    warehouse.sql(f'insert into "{warehouse.raw_schema}".item_events values {values}')


def show(warehouse, sql: str) -> list[dict]:
    result = warehouse.dbt("show", "--quiet", "--output", "json", "--limit", "-1", "--inline", sql)
    return json.loads(result.stdout[result.stdout.index("{"):])["show"]


def events_in_window(warehouse) -> list[tuple]:
    return warehouse.sql(
        "select event_date, item_id, amount, quantity "
        f'from "{warehouse.raw_schema}".item_events '
        f"where event_date between '{WINDOW[0]}' and '{WINDOW[1]}'"
    )


def aggregate(events, is_active) -> list[tuple]:
    """daily_metrics' aggregation, written out in Python over the given events."""
    per_day = defaultdict(list)
    for event_date, item_id, amount, quantity in events:
        if is_active(item_id, event_date):
            per_day[event_date].append((item_id, amount, quantity))
    return [
        (
            day,
            len(rows),
            len({item for item, _, _ in rows}),
            sum((Decimal(amount) for _, amount, _ in rows), Decimal("0")),
            sum(quantity for _, _, quantity in rows),
        )
        for day, rows in sorted(per_day.items())
    ]


def normalised(rows: list[tuple]) -> list[tuple]:
    return [(day, count, items, Decimal(amount), int(quantity)) for day, count, items, amount, quantity in rows]


# -- the story -------------------------------------------------------------------


def test_a_rerun_after_status_changes_reproduces_the_first_run_and_the_naive_model_drifts(warehouse):
    warehouse.load_demo_data()
    warehouse.dbt("snapshot")
    build(warehouse, "daily_metrics")
    build(warehouse, "daily_metrics_reproducible")
    first_naive = stored(warehouse, "daily_metrics")
    first_reproducible = stored(warehouse, "daily_metrics_reproducible")
    # Before anything changes both forms agree: every item's version covers the window.
    assert first_naive == first_reproducible and len(first_naive) == 10

    # Weeks later items change (and one disappears); the daily snapshot records it.
    statuses = items_by_status(warehouse)
    deactivated = statuses["ACTIVE"][:2]
    activated = statuses["INACTIVE"][:1]
    deleted = statuses["ACTIVE"][2]
    for item_id in deactivated:
        change_item(warehouse, item_id, "INACTIVE", "2024-02-01 08:00:00")
    for item_id in activated:
        change_item(warehouse, item_id, "ACTIVE", "2024-02-01 08:00:00")
    warehouse.sql(f'delete from "{warehouse.raw_schema}".item where id = {deleted}')
    warehouse.dbt("snapshot")

    changed_items = {*deactivated, *activated, deleted}
    days_with_changed_items = sorted(
        {day.isoformat() for day, item_id, _, _ in events_in_window(warehouse) if item_id in changed_items}
    )
    assert days_with_changed_items  # the demo data has events of these items in the window

    # Before rerunning: verify says which days the rerun would change, and leaves them alone.
    window = ["--start", WINDOW[0], "--end", WINDOW[1], "--json"]
    reproducible_check = warehouse.cli("verify", "--model", "daily_metrics_reproducible", *window)
    assert reproducible_check.returncode == 0, reproducible_check.stdout + reproducible_check.stderr
    assert json.loads(reproducible_check.stdout)["periods"] == []
    naive_check = warehouse.cli("verify", "--model", "daily_metrics", *window)
    assert naive_check.returncode == 1, naive_check.stdout + naive_check.stderr
    naive_report = json.loads(naive_check.stdout)
    assert [p["period"] for p in naive_report["periods"]] == days_with_changed_items
    assert all(
        p["changed_keys"] == p["differing_keys"] == 1 and p["sample_keys"][0]["key"] == {"metric_date": p["period"]}
        for p in naive_report["periods"]
    )
    assert stored(warehouse, "daily_metrics") == first_naive

    # Rerun the same days.
    build(warehouse, "daily_metrics")
    build(warehouse, "daily_metrics_reproducible")

    assert stored(warehouse, "daily_metrics_reproducible") == first_reproducible

    rerun_naive = stored(warehouse, "daily_metrics")
    now_active = set(items_by_status(warehouse)["ACTIVE"])
    assert normalised(rerun_naive) == aggregate(events_in_window(warehouse), lambda item, day: item in now_active)
    before = {row[0].isoformat(): row for row in first_naive}
    after = {row[0].isoformat(): row for row in rerun_naive}
    assert sorted(day for day in before if before[day] != after.get(day)) == days_with_changed_items


# -- the edges -------------------------------------------------------------------


def test_valid_at_edges_twice_a_day_deleted_boundary_and_not_yet_snapshotted(warehouse):
    warehouse.load_demo_data()
    warehouse.dbt("snapshot")
    statuses = items_by_status(warehouse)
    initial = {item: status for status, items in statuses.items() for item in items}
    twice, on_boundary, deleted = statuses["ACTIVE"][:3]
    reactivated = statuses["INACTIVE"][0]
    newcomer = 1001

    # Twice in one day, one snapshot after both: only the last change is recorded.
    change_item(warehouse, twice, "INACTIVE", "2024-01-05 09:00:00")
    change_item(warehouse, twice, "DISCONTINUED", "2024-01-05 17:00:00")
    # Exactly at midnight of 2024-01-08, in both directions.
    change_item(warehouse, on_boundary, "INACTIVE", "2024-01-08 00:00:00")
    change_item(warehouse, reactivated, "ACTIVE", "2024-01-08 00:00:00")
    # Deleted at the source.
    warehouse.sql(f'delete from "{warehouse.raw_schema}".item where id = {deleted}')
    # A new item, first known from 2024-01-06 noon, with events before and after.
    warehouse.sql(
        f"insert into \"{warehouse.raw_schema}\".item values "
        f"({newcomer}, 'newcomer', 'ACTIVE', cast('2024-01-06 12:00:00' as timestamp))"
    )
    add_events(warehouse, newcomer, ["2024-01-04", "2024-01-06", "2024-01-07"], 900_001)
    add_events(warehouse, on_boundary, ["2024-01-07", "2024-01-08"], 900_101)
    add_events(warehouse, reactivated, ["2024-01-07", "2024-01-08"], 900_201)
    add_events(warehouse, twice, ["2024-01-05", "2024-01-06"], 900_301)
    warehouse.dbt("snapshot")

    snapshot = f'"{warehouse.schema}".item_snapshot'
    versions = warehouse.sql(
        f"select status, dbt_valid_from, dbt_valid_to from {snapshot} where id = {twice} order by dbt_valid_from"
    )
    assert [v[0] for v in versions] == ["ACTIVE", "DISCONTINUED"]  # INACTIVE, 09:00 → 17:00, never seen
    assert versions[0][2] == versions[1][1] == datetime(2024, 1, 5, 17)
    (closed,) = warehouse.sql(f"select dbt_valid_to from {snapshot} where id = {deleted}")
    assert closed[0] is not None  # closed out, not current forever
    assert warehouse.sql(f"select dbt_valid_from from {snapshot} where id = {newcomer}") == [(datetime(2024, 1, 6, 12),)]

    def status_on(item_id: int, day: date) -> str | None:
        """The status the snapshot's versions give for the start of `day`."""
        if item_id == twice:
            return "ACTIVE" if day <= date(2024, 1, 5) else "DISCONTINUED"
        if item_id == on_boundary:
            return "ACTIVE" if day < date(2024, 1, 8) else "INACTIVE"
        if item_id == reactivated:
            return "INACTIVE" if day < date(2024, 1, 8) else "ACTIVE"
        if item_id == newcomer:
            return None if day < date(2024, 1, 7) else "ACTIVE"
        return initial[item_id]  # the deleted item included: deleted long after the window

    # as_of: one date, every item as it was then.
    picked = f"({twice}, {on_boundary}, {reactivated}, {deleted}, {newcomer})"
    lookups = " union all ".join(
        f"select '{day}' as day, id, status from {{{{ backfill.as_of(ref('item_snapshot'), '{day}') }}}} as item "
        f"where id in {picked}"
        for day in ("2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2999-01-01")
    )
    seen = {(row["day"], row["id"]): row["status"] for row in show(warehouse, lookups)}
    expected = {}
    for day in ("2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"):
        for item_id in (twice, on_boundary, reactivated, deleted, newcomer):
            status = status_on(item_id, date.fromisoformat(day))
            if status is not None:
                expected[(day, item_id)] = status
    for item_id in (twice, on_boundary, reactivated, newcomer):  # current now; the deleted item is not
        expected[("2999-01-01", item_id)] = status_on(item_id, date(2999, 1, 1))
    assert seen == expected

    # The reproducible model applies the same per-event lookup.
    build(warehouse, "daily_metrics_reproducible")
    assert normalised(stored(warehouse, "daily_metrics_reproducible")) == aggregate(
        events_in_window(warehouse), lambda item, day: status_on(item, day) == "ACTIVE"
    )


def test_valid_at_on_hand_kept_validity_columns_with_an_inclusive_end(warehouse):
    # The reference example: item_assortment (a seed) read by events_in_assortment.
    warehouse.load_demo_data()
    warehouse.dbt("build", "--select", "item_assortment", "events_in_assortment")
    periods = defaultdict(list)
    with open(DEMO / "seeds" / "item_assortment.csv") as handle:
        for row in csv.DictReader(handle):
            end = date.fromisoformat(row["active_end_date"]) if row["active_end_date"] else date.max
            periods[int(row["item_id"])].append((date.fromisoformat(row["active_start_date"]), end))
    events = warehouse.sql(f'select event_id, item_id, event_date from "{warehouse.raw_schema}".item_events')
    expected = sorted(
        event_id
        for event_id, item_id, day in events
        if any(first <= day <= last for first, last in periods.get(item_id, []))
    )
    kept = warehouse.sql(f'select event_id from "{warehouse.schema}".events_in_assortment order by event_id')
    assert [event_id for (event_id,) in kept] == expected
    # The data exercises the edges: an event on an inclusive last day is kept, one the day after is not.
    kept_days = {(item_id, day) for event_id, item_id, day in events if event_id in set(expected)}
    event_days = {(item_id, day) for _, item_id, day in events}
    assert any((item, last) in kept_days for item, spans in periods.items() for _, last in spans)
    assert any(
        (item, last + timedelta(days=1)) in event_days - kept_days
        for item, spans in periods.items()
        for _, last in spans
        if last != date.max
    )

    rows = show(
        warehouse,
        """
        with validity as (
            select 1 as item_id, cast('2024-01-01' as date) as active_start_date,
                   cast('2024-01-31' as date) as active_end_date
            union all select 2, cast('2024-02-01' as date), cast(null as date)
            union all select 3, cast('2024-01-15' as date), cast('9999-12-31' as date)
        ),
        days as (
            select cast('2023-12-31' as date) as day
            union all select cast('2024-01-01' as date)
            union all select cast('2024-01-31' as date)
            union all select cast('2024-02-01' as date)
        )
        select days.day, validity.item_id
        from days
        inner join validity
            on {{ backfill.valid_at('days.day', valid_from='validity.active_start_date',
                                    valid_to='validity.active_end_date', end_inclusive=true,
                                    valid_to_current="cast('9999-12-31' as date)") }}
        order by 1, 2
        """,
    )
    assert [(row["day"][:10], row["item_id"]) for row in rows] == [
        ("2024-01-01", 1),
        ("2024-01-31", 1),  # the end day is still valid (inclusive end)
        ("2024-01-31", 3),
        ("2024-02-01", 2),  # open end
        ("2024-02-01", 3),
    ]

    # Timestamps on the inclusive last day are in, the whole day long; the next midnight is out.
    moments = show(
        warehouse,
        """
        with validity as (
            select 1 as item_id, cast('2024-01-01' as date) as active_start_date,
                   cast('2024-01-31' as date) as active_end_date
        ),
        moments as (
            select cast('2024-01-31 00:00:00' as timestamp) as happened_at
            union all select cast('2024-01-31 15:00:00' as timestamp)
            union all select cast('2024-01-31 23:59:59' as timestamp)
            union all select cast('2024-02-01 00:00:00' as timestamp)
        )
        select moments.happened_at, validity.item_id
        from moments
        left join validity
            on {{ backfill.valid_at('moments.happened_at', valid_from='validity.active_start_date',
                                    valid_to='validity.active_end_date', end_inclusive=true) }}
        order by 1
        """,
    )
    assert [(row["happened_at"][:19].replace("T", " "), row["item_id"]) for row in moments] == [
        ("2024-01-31 00:00:00", 1),
        ("2024-01-31 15:00:00", 1),
        ("2024-01-31 23:59:59", 1),
        ("2024-02-01 00:00:00", None),
    ]


NEW_RECORD_SNAPSHOT = """
snapshots:
  - name: orders_snapshot
    relation: ref('raw_orders')
    config:
      unique_key: order_id
      strategy: timestamp
      updated_at: occurred_at
      hard_deletes: new_record
"""


# A `check` snapshot: its versions begin when the snapshot runs (today), not at a source timestamp.
CHECK_SNAPSHOT = """
snapshots:
  - name: orders_checked
    relation: ref('raw_orders')
    config:
      unique_key: order_id
      strategy: check
      check_cols: all
"""


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_as_of_leaves_out_keys_deleted_under_hard_deletes_new_record(tmp_path, kind):
    project = make_user_project(tmp_path, usable_warehouse(kind),
                                {"snapshots/orders_snapshot.yml": NEW_RECORD_SNAPSHOT,
                                 "snapshots/orders_checked.yml": CHECK_SNAPSHOT})
    try:
        project.dbt("seed")
        project.dbt("snapshot")
        project.sql(f'delete from "{project.schema}".raw_orders where order_id = 1')
        project.dbt("snapshot")
        # dbt wrote a row of its own for the deletion: flagged, valid from the second snapshot on.
        flagged = project.sql(f'select count(*) from "{project.schema}".orders_snapshot '
                              "where order_id = 1 and dbt_is_deleted = 'True'")
        assert flagged == [(1,)]

        def order_ids(day: str) -> list[int]:
            rows = show(project, f"select order_id from {{{{ backfill.as_of(ref('orders_snapshot'), '{day}') }}}} "
                                 "as orders order by 1")
            return [row["order_id"] for row in rows]

        later = order_ids("2999-01-01")
        assert 1 not in later and len(later) == len(project.sql(f'select * from "{project.schema}".raw_orders'))
        assert order_ids("2024-02-28")[:1] == [1]  # before the deletion it was there

        # A snapshot taken today: a date is the start of its day, before today's versions began;
        # the time now, or the end of the day, sees them.
        def checked(at: str, *options: str) -> int:
            rows = show(project, "select count(*) as orders from "
                                 f"{{{{ backfill.as_of(ref('orders_checked'), {at}{''.join(options)}) }}}} as orders")
            return int(rows[0]["orders"])

        (orders,) = project.sql(f'select count(*) from "{project.schema}".orders_checked where dbt_valid_to is null')[0]
        assert orders > 0 and checked("'current_date'") == 0
        assert checked("dbt.current_timestamp()") == orders
        assert checked("'current_date'", ", end_of_day=true") == orders
    finally:
        project.drop()
