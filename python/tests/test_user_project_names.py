"""A user's project may use every name the package's reference pipeline (demo/) uses.

Issue 22: while the reference pipeline lived in the package, dbt read its YAML in
every importing project, disabled or not, and a user's own `daily_metrics` (or
`orders`, `item`, ...) with a schema.yml entry stopped the parse: "dbt found two
schema.yml entries for the same resource named daily_metrics". The user's project
here imports the package from this repository as it is and defines every model,
seed, snapshot and source table of demo/ under the same name, each described in
YAML; `dbt parse` and `dbt build` succeed, the package adds nothing to the
manifest (not even disabled nodes), and the runner backfills the user's
`daily_metrics` and reconciles with the user's check named as demo/'s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import DEMO, WAREHOUSES, _warehouse_kind, make_user_project

pytestmark = pytest.mark.slow

USER_PACKAGE = "backfill_integration_tests"


def names_in(project: Path) -> dict[str, set]:
    """The models, seeds, snapshots and source tables a dbt project's files define, by name."""
    found = {"model": {path.stem for path in project.glob("models/**/*.sql")},
             "seed": {path.stem for path in project.glob("seeds/**/*.csv")},
             "snapshot": set(), "source": set()}
    for path in [*project.glob("models/**/*.yml"), *project.glob("snapshots/**/*.yml")]:
        document = yaml.safe_load(path.read_text()) or {}
        found["snapshot"] |= {snapshot["name"] for snapshot in document.get("snapshots") or []}
        found["source"] |= {(source["name"], table["name"])
                            for source in document.get("sources") or [] for table in source.get("tables") or []}
    return found


# The user's raw data: three items, events on five days, one order table and one user table
# that the source tables of both sides of demo/'s comparisons point at.
SHOP_ITEMS = """id,name,status,updated_at
1,lamp,ACTIVE,2024-01-01 00:00:00
2,desk,ACTIVE,2024-01-01 00:00:00
3,sofa,INACTIVE,2024-01-01 00:00:00
"""
SHOP_ITEM_EVENTS = """event_id,item_id,event_date,amount
1,1,2024-01-01,10.00
2,2,2024-01-01,20.00
3,3,2024-01-02,5.00
4,1,2024-01-02,7.50
5,2,2024-01-03,1.25
6,1,2024-01-04,3.00
7,3,2024-01-04,4.00
8,2,2024-01-05,2.00
"""
SHOP_ORDERS = """order_id,order_date,amount
1,2024-01-01,10.00
2,2024-01-02,12.50
"""
SHOP_USERS = """user_id,email
1,ann@example.com
2,bob@example.com
"""
ITEM_ASSORTMENT = """item_id,active_start_date,active_end_date
1,2024-01-01,2024-01-02
2,2024-01-03,
"""

SEEDS_YML = """
version: 2
seeds:
  - name: shop_items
    config: {column_types: {id: integer, updated_at: timestamp}}
  - name: shop_item_events
    config: {column_types: {event_id: integer, item_id: integer, event_date: date}}
  - name: shop_orders
    config: {column_types: {order_id: integer, order_date: date}}
  - name: shop_users
    config: {column_types: {user_id: integer}}
  - name: item_assortment
    description: The user's own assortment periods (demo/ has a seed of this name).
    config: {column_types: {item_id: integer, active_start_date: date, active_end_date: date}}
"""

# demo/'s source and table names, pointing at the user's seeds.
SOURCES_YML = """
version: 2
sources:
  - name: reference_raw
    schema: "{{ target.schema }}"
    tables:
      - {name: item, identifier: shop_items}
      - {name: item_events, identifier: shop_item_events}
      - name: orders
        identifier: shop_orders
        data_tests:
          - backfill.reconcile_count:
              name: orders_vs_billing_count_per_day
              arguments:
                compare_model: source('reference_raw', 'billing_records')
                group_by: [order_date]
      - {name: billing_records, identifier: shop_orders}
      - {name: users, identifier: shop_users}
      - {name: users_replica, identifier: shop_users}
"""

SNAPSHOTS_YML = """
version: 2
snapshots:
  - name: item_snapshot
    relation: source('reference_raw', 'item')
    description: The user's own item snapshot.
    config: {unique_key: id, strategy: timestamp, updated_at: updated_at}
"""

STAGING = "{{{{ config(materialized='view') }}}}\nselect * from {{{{ source('reference_raw', '{table}') }}}}\n"
DAILY_METRICS = """{{ config(
    materialized='incremental',
    event_time='metric_date',
    pre_hook="{{ backfill.delete_window('metric_date') }}",
) }}

select
    event_date as metric_date,
    count(*) as event_count,
    sum(amount) as total_amount
from {{ ref('item_events') }}
where {{ backfill.backfill_window('event_date', this_column='metric_date') }}
group by event_date
"""
DAILY_METRICS_REPRODUCIBLE = """select
    events.event_date as metric_date,
    count(*) as event_count
from {{ ref('item_events') }} as events
inner join {{ ref('item_snapshot') }} as versions
    on events.item_id = versions.id
    and {{ backfill.valid_at('events.event_date') }}
where versions.status = 'ACTIVE'
group by events.event_date
"""
EVENTS_IN_ASSORTMENT = """select events.event_id
from {{ ref('item_events') }} as events
inner join {{ ref('item_assortment') }} as assortment
    on events.item_id = assortment.item_id
    and {{ backfill.valid_at('events.event_date', valid_from='assortment.active_start_date',
                             valid_to='assortment.active_end_date', end_inclusive=true) }}
"""
WEEKLY_METRICS = """select cast(metric_date as date) as week_start, sum(event_count) as event_count
from {{ ref('daily_metrics') }}
group by cast(metric_date as date)
"""
STAGING_TABLES = ["item", "item_events", "orders", "billing_records", "users", "users_replica"]

MODELS_YML = """
version: 2
models:
  - name: daily_metrics
    description: The user's own daily job (demo/ has a model of this name).
    columns:
      - name: metric_date
        data_tests:
          - unique
          - backfill.no_gaps:
              name: daily_metrics_has_no_gaps
              arguments: {grain: day, start: "2024-01-01", end: "2024-01-05"}
  - name: daily_metrics_reproducible
    description: Events of items active that day, through the user's snapshot.
  - name: events_in_assortment
    description: Events in the user's assortment periods.
  - name: weekly_metrics
    description: The user's own weekly view of their daily job.
""" + "".join(f"  - name: {table}\n    description: The user's staging view of {table}.\n"
              for table in STAGING_TABLES)

FILES = {
    "seeds/shop_items.csv": SHOP_ITEMS,
    "seeds/shop_item_events.csv": SHOP_ITEM_EVENTS,
    "seeds/shop_orders.csv": SHOP_ORDERS,
    "seeds/shop_users.csv": SHOP_USERS,
    "seeds/item_assortment.csv": ITEM_ASSORTMENT,
    "seeds/_seeds.yml": SEEDS_YML,
    "models/_sources.yml": SOURCES_YML,
    "models/_reference_names.yml": MODELS_YML,
    "models/daily_metrics.sql": DAILY_METRICS,
    "models/daily_metrics_reproducible.sql": DAILY_METRICS_REPRODUCIBLE,
    "models/events_in_assortment.sql": EVENTS_IN_ASSORTMENT,
    "models/weekly_metrics.sql": WEEKLY_METRICS,
    "snapshots/item_snapshot.yml": SNAPSHOTS_YML,
    **{f"models/{table}.sql": STAGING.format(table=table) for table in STAGING_TABLES},
}


@pytest.fixture(params=WAREHOUSES)
def shop(request, tmp_path):
    store = make_user_project(tmp_path, _warehouse_kind(request), FILES)
    yield store
    store.drop()


def test_the_user_project_defines_every_name_of_the_reference_pipeline(tmp_path):
    # What the test below proves holds for demo/ as it is: a name added there must be added here.
    for relative, text in FILES.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    reference, user = names_in(DEMO), names_in(tmp_path)
    assert all(reference.values()), reference  # demo/ defines some of each
    for kind, names in reference.items():
        assert names <= user[kind], f"demo/ has {kind}s {sorted(names - user[kind])} that the user project lacks"


def test_a_project_using_the_reference_pipelines_names_parses_builds_and_backfills(shop):
    shop.dbt("parse", "--no-partial-parse")
    manifest = json.loads((shop.tmp_path / "target" / "manifest.json").read_text())
    # The package contributes macros only: no node or source of its own, enabled or disabled.
    everything = [*manifest["nodes"].values(), *manifest["sources"].values()]
    assert {node["package_name"] for node in everything} == {USER_PACKAGE}
    assert manifest["disabled"] == {}
    # Each of demo/'s names is the user's, once, and described in the user's YAML.
    reference = names_in(DEMO)
    for kind in ("model", "seed", "snapshot"):
        for name in reference[kind]:
            (node,) = [node for node in everything if node["resource_type"] == kind and node["name"] == name]
            assert node["unique_id"] == f"{kind}.{USER_PACKAGE}.{name}"
            assert node["patch_path"] or node["original_file_path"].endswith(".yml"), node["unique_id"]
    sources = {(node["source_name"], node["name"]) for node in manifest["sources"].values()}
    assert reference["source"] <= sources

    shop.dbt("seed")  # the raw data first: dbt does not know the sources read these seeds
    shop.dbt("build")
    table = f'"{shop.schema}".daily_metrics'
    built = shop.sql(f"select metric_date, event_count, total_amount from {table} order by 1")
    assert [(str(day), count, float(amount)) for day, count, amount in built] == [
        ("2024-01-01", 2, 30.0), ("2024-01-02", 2, 12.5), ("2024-01-03", 1, 1.25),
        ("2024-01-04", 2, 7.0), ("2024-01-05", 1, 2.0)]
    assert shop.sql(f'select count(*) from "{shop.schema}".events_in_assortment') == [(4,)]

    # The runner on the user's daily_metrics: a lost day and a changed one come back.
    shop.sql(f"delete from {table} where metric_date = '2024-01-03'")
    shop.sql(f"update \"{shop.schema}\".shop_item_events set amount = 9.00 where event_id = 6")
    result = shop.cli("run", "--model", "daily_metrics", "--start", "2024-01-02", "--end", "2024-01-04")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Done: 3/3 batches of daily_metrics succeeded" in result.stdout
    rerun = shop.sql(f"select metric_date, event_count, total_amount from {table} order by 1")
    assert [(str(day), count, float(amount)) for day, count, amount in rerun] == [
        ("2024-01-01", 2, 30.0), ("2024-01-02", 2, 12.5), ("2024-01-03", 1, 1.25),
        ("2024-01-04", 2, 13.0), ("2024-01-05", 1, 2.0)]
    assert shop.sql(f'select model, status from "{shop.schema}".backfill_runs') == [("daily_metrics", "success")]

    # `reconcile` runs the user's check that has demo/'s name, and nothing of demo/.
    result = shop.cli("reconcile", "--select", "source:reference_raw")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "OK: 1 check(s), 1 passed."
    assert result.stdout.startswith("pass   orders_vs_billing_count_per_day  count: reference_raw.orders")
