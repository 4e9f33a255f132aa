"""integration_tests/: a user's dbt project that imports the package with `local: ../`
(the tests' copy names this repository's path instead)."""

import json

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project

pytestmark = pytest.mark.slow


@pytest.fixture(params=WAREHOUSES)
def user_project(request, tmp_path):
    store = make_user_project(tmp_path, _warehouse_kind(request))
    yield store
    store.drop()


def test_the_package_brings_macros_and_no_reference_pipeline(user_project):
    listed = user_project.dbt("ls", "--resource-type", "all", "--output", "json", "--quiet").stdout
    nodes = [json.loads(line) for line in listed.splitlines() if line.startswith("{")]
    packages = {node["package_name"] for node in nodes}
    assert packages == {"backfill_integration_tests"}, nodes
    names = {node["name"] for node in nodes}
    assert "daily_metrics" not in names and "item_snapshot" not in names
    assert not any(node["resource_type"] == "source" for node in nodes)


def test_a_user_model_builds_and_backfills_with_renamed_window_vars(user_project):
    user_project.dbt("build")
    table = f'"{user_project.schema}".orders_daily'
    before = user_project.sql(f'select "date", "order", amount from {table} order by 1')
    assert [str(row[0]) for row in before] == ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"]

    # The leap day and the day after, with the model's own var names (from_day / to_day).
    user_project.sql(f"update \"{user_project.schema}\".raw_orders set amount = amount * 2 where order_id in (3, 5)")
    result = user_project.cli("run", "--model", "orders_daily", "--start", "2024-02-29", "--end", "2024-03-01", "--dry-run")
    assert '{"from_day": "2024-02-29", "to_day": "2024-02-29"}' in result.stdout
    result = user_project.cli("run", "--model", "orders_daily", "--start", "2024-02-29", "--end", "2024-03-01")
    assert result.returncode == 0, result.stdout + result.stderr

    after = dict((str(row[0]), row) for row in user_project.sql(f'select "date", "order", amount from {table} order by 1'))
    assert float(after["2024-02-29"][2]) == 5.25 * 2 + 7.75
    assert float(after["2024-03-01"][2]) == 200.00
    assert after["2024-02-27"] == before[0] and after["2024-03-02"] == before[4]

    # A scheduled `dbt run` with no window replaces only the latest day, with no duplicates.
    user_project.dbt("run")
    assert user_project.sql(f'select count(*), count(distinct "date") from {table}') == [(5, 5)]


def test_reconcile_runs_the_projects_own_checks_and_none_of_the_package(user_project):
    # The package declares no source and no check (its reference pipeline is demo/): dbt warns of nothing disabled ...
    parsed = user_project.dbt("parse", "--no-partial-parse")
    assert "which is disabled" not in parsed.stdout + parsed.stderr, parsed.stdout
    # ... and `reconcile` must not list them as errors: it runs this project's one check, which passes
    user_project.dbt("build")
    result = user_project.cli("reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "pass   orders_daily_amount_matches_raw_orders  sum: orders_daily.amount vs raw_orders.amount per date — agree",
        "OK: 1 check(s), 1 passed.",
    ]
