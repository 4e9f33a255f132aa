"""A batch's checks on the fast path do per run what is the same for every window
(fast_path: a query parsed once, a relation's columns read once) and per window
what differs: here every window must still get its own verdict, on DuckDB and
PostgreSQL — a check that passes in one window fails in the next, in the same
process, with the window's vars reaching `var()` — and a kept query parsed with
other vars gives way to a fresh parse or an invocation, never a wrong answer."""

import json

import pytest

from conftest import WAREHOUSES, _warehouse_kind, make_user_project

pytestmark = pytest.mark.slow

# Two events a day from 2024-03-01 to 2024-03-05; 2024-03-06 has no event at all.
DAYS = (1, 2, 3, 4, 5)
EVENTS = "id,event_day,amount\n" + "".join(
    f"{2 * day + n},2024-03-0{day},{day}.{n}\n" for day in DAYS for n in (0, 1))
# The billing side agrees with the events except on 2024-03-05.
BILLING = "id,billed_day,amount\n" + "".join(
    f"{2 * day + n},2024-03-0{day},{day + (5 if day == 5 else 0)}.{n}\n" for day in DAYS for n in (0, 1))

DAILY = """
{{ config(materialized='incremental', pre_hook="{{ backfill.delete_window('event_day') }}",
          meta={'backfill': {'period_column': 'event_day'}}) }}
select event_day, count(*) as events, sum(amount) as amount
from {{ ref('cached_events') }}
where {{ backfill.backfill_window('event_day') }}
group by event_day
"""

TESTS_YML = """
version: 2
seeds:
  - name: cached_events
    config: {column_types: {id: integer, event_day: date, amount: "decimal(10, 2)"}}
  - name: cached_billing
    config: {column_types: {id: integer, billed_day: date, amount: "decimal(10, 2)"}}
models:
  - name: cached_daily
    data_tests:
      - backfill.reconcile_sum:
          name: cached_daily_matches_billing
          arguments:
            compare_model: ref('cached_billing')
            column: amount
            group_by: [event_day]
            compare_group_by: [billed_day]
            window_column: event_day
            compare_window_column: billed_day
    columns:
      - name: event_day
        data_tests:
          - backfill.no_gaps:
              name: cached_daily_every_day
              arguments: {min_rows: "{{ var('cached_min_rows', 1) }}"}
"""

FILES = {"seeds/cached_events.csv": EVENTS, "seeds/cached_billing.csv": BILLING,
         "models/cached_daily.sql": DAILY, "models/cached.yml": TESTS_YML}


@pytest.fixture(scope="module", params=WAREHOUSES)
def shop(request, tmp_path_factory):
    store = make_user_project(tmp_path_factory.mktemp("cached"), _warehouse_kind(request), FILES)
    store.dbt("seed")
    yield store
    store.drop()


def in_one_process(store, body: str) -> dict:
    """`body` run with `project` (one DbtProject) and `adapter_state()`; it sets `found`."""
    script = f"""
import json
from backfill.dbt import DbtProject, fast_path
from backfill.runner import run_backfill

project = DbtProject({str(store.project_dir)!r})
renders = []  # each query rendered again from what fast_path kept of it
render = fast_path._PreparedQuery.render
fast_path._PreparedQuery.render = lambda self, config: renders.append(1) or render(self, config)

def adapter_state():
    adapter = fast_path.registered_adapter(project.manifest)
    return {{"renders": len(renders),
             "columns": sorted(adapter.__dict__.get("_backfill_columns", {{}}))}}

found = {{}}
{body}
print(json.dumps(found, default=str))
"""
    return json.loads(store.python(script).stdout.strip().splitlines()[-1])


def test_each_window_gets_its_own_verdict_from_the_kept_checks(shop):
    found = in_one_process(shop, """
report = run_backfill("cached_daily", project=project, start="2024-03-01", end="2024-03-06", batch_size=2)
found["checks"] = [{check["name"]: [check["status"], check["detail"]] for check in result.checks}
                   for result in report.results]
found["direct_queries"] = project.direct_queries
found["state"] = adapter_state()
""")
    checks = found["checks"]
    gaps = [by_name["cached_daily_every_day"] for by_name in checks]
    sums = [by_name["cached_daily_matches_billing"][0] for by_name in checks]
    # Day 6 has no event: the third window misses it, though the first two passed (the third window's
    # check is the query kept from the second, rendered again).
    assert gaps == [["pass", "every period present"]] * 2 + [["fail", "missing 2024-03-06"]], checks
    # Billing differs on day 5 only: the window's vars reach the test's var() in each batch.
    assert sums == ["pass", "pass", "fail"], checks
    assert "date(2024, 3, 5)" in checks[2]["cached_daily_matches_billing"][1], checks[2]
    assert found["direct_queries"] >= 3 and found["state"]["renders"] >= 1, found


def test_the_runs_vars_reach_a_kept_check_and_a_later_run_reads_them_afresh(shop):
    found = in_one_process(shop, """
first = run_backfill("cached_daily", project=project, start="2024-03-01", end="2024-03-02", batch_size=1)
second = run_backfill("cached_daily", project=project, start="2024-03-01", end="2024-03-02", batch_size=2,
                      vars={"cached_min_rows": 3})
found["first"] = [[check["status"] for check in result.checks if check["name"] == "cached_daily_every_day"]
                  for result in first.results]
found["second"] = [[check["detail"] for check in result.checks if check["name"] == "cached_daily_every_day"]
                   for result in second.results]
""")
    assert found["first"] == [["pass"], ["pass"]], found
    assert found["second"] == [["missing 2024-03-01 → 2024-03-02"]], found


def test_a_kept_query_follows_its_vars_and_gives_way_when_they_name_another_relation(shop):
    found = in_one_process(shop, """
sql = "select {{ var('n') }} as n, count(*) as rows from {{ ref(var('seed')) }}"
found["answers"] = [project.query(sql, vars={"n": n, "seed": "cached_events"})[0]["n"] for n in (1, 2, 3)]
found["kept"] = adapter_state()["renders"]  # the third was rendered from the kept one
# Parsed with ref('cached_events'): a ref to another seed is dbt's error on the kept node, so the query
# is answered afresh (an invocation) and parsed again the next time.
found["other"] = project.query(sql, vars={"n": 4, "seed": "cached_billing"})[0]["rows"]
found["again"] = project.query(sql, vars={"n": 5, "seed": "cached_billing"})[0]["rows"]
""")
    assert [int(n) for n in found["answers"]] == [1, 2, 3] and found["kept"] >= 1, found
    assert int(found["other"]) == 10 and int(found["again"]) == 10, found


def test_columns_are_read_once_a_run_except_the_written_table(shop):
    found = in_one_process(shop, """
from backfill.dbt.fast_path import columns_read_once

run_backfill("cached_daily", project=project, start="2024-03-01", end="2024-03-01")
adapter = fast_path.registered_adapter(project.manifest)
calls = []
read = type(adapter).get_columns_in_relation
type(adapter).get_columns_in_relation = lambda self, relation: calls.append(relation.identifier) or read(self, relation)
model = project.model("cached_daily")
for _ in range(3):
    with project.columns_read_once(written=model):
        project.query("{% do adapter.get_columns_in_relation(ref('cached_daily')) %}"
                      "{% do adapter.get_columns_in_relation(ref('cached_billing')) %}select 1 as done")
found["calls"] = calls
found["patched_after"] = "get_columns_in_relation" in vars(adapter)
""")
    # The written table each time, the other one once (the run that read it before has ended);
    # nothing is left patched after the checks.
    assert [name.lower() for name in found["calls"]] == ["cached_daily", "cached_billing", "cached_daily",
                                                         "cached_daily"], found
    assert found["patched_after"] is False, found
