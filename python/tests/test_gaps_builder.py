"""`backfill.find_gaps` on tables with planted gaps, on DuckDB and PostgreSQL.

Each case plants rows, runs the macro through dbt (one subprocess per
warehouse runs every case, in-process dbt) and asserts the exact ranges.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta

import pytest

from conftest import WAREHOUSES, Warehouse, _warehouse_kind

pytestmark = pytest.mark.slow


def days(first: str, last: str, skip=()) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    skipped = {date.fromisoformat(d) for d in skip}
    return [start + timedelta(n) for n in range((end - start).days + 1) if start + timedelta(n) not in skipped]


def hours(first: str, last: str, skip=()) -> list[datetime]:
    start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    skipped = {datetime.fromisoformat(h) for h in skip}
    count = int((end - start).total_seconds() // 3600) + 1
    return [start + timedelta(hours=n) for n in range(count) if start + timedelta(hours=n) not in skipped]


def _utc(instant: datetime) -> tuple[str]:
    """A row of one timestamptz value: the instant, written in UTC (+00)."""
    return (f"cast('{(instant + timedelta(minutes=15)).isoformat(sep=' ')}+00' as timestamptz)",)


# Tables: name -> (columns DDL, rows). The date column of `history` is a SQL keyword on purpose.
TABLES = {
    "history": (
        '"order" date, amount integer',
        [(d, 1) for d in days("2024-01-01", "2024-01-31", skip=["2024-01-01", "2024-01-10", "2024-01-31"]
                              + [f"2024-01-{n}" for n in range(15, 26)])]
        + [(None, 1), (date(2024, 1, 2), 1)],  # a null (ignored) and a duplicate day
    ),
    "complete": ("day date", [(d,) for d in days("2024-01-01", "2024-01-07")]),
    "stores": (
        "store_id integer, sold_at timestamp",
        [(store, datetime.combine(d, datetime.min.time()) + timedelta(hours=13))
         for store in (1, 2, 3) for d in days("2024-01-01", "2024-01-10")
         if not (store == 2 and d == date(2024, 1, 5))],
    ),
    "partial": (
        "loaded_on date, batch integer",
        [(d, b) for d in days("2024-01-01", "2024-01-06") for b in range(1 if d == date(2024, 1, 4) else 3)],
    ),
    "hourly": (
        "event_ts timestamp",
        [(h,) for h in hours("2024-03-30 00:00", "2024-03-31 23:00",
                             skip=["2024-03-30 22:00", "2024-03-30 23:00", "2024-03-31 00:00", "2024-03-31 01:00"])]
        + [(datetime(2024, 3, 30, 12, 59, 59),)],  # late in an hour: still that hour
    ),
    "monthly": (
        "booked_on date",
        [(date(2023, 10, 5),), (date(2023, 11, 30),), (date(2024, 2, 29),), (date(2024, 3, 1),)],
    ),
    "weekly": (
        "seen_on date",  # ISO weeks: 2024-01-01 is a Monday; nothing in the week of 2024-01-15
        [(date(2024, 1, 3),), (date(2024, 1, 8),), (date(2024, 1, 28),), (date(2024, 2, 4),)],
    ),
    "regions": (  # a composite partition: ('us', 1) misses two days; ('eu', 1) and ('eu', 2) have all
        '"region" varchar(10), "Store" integer, sold_on date',
        [(f"'{region}'", store, d) for region, store in (("eu", 1), ("eu", 2), ("us", 1))
         for d in days("2024-01-01", "2024-01-05") if not (region == "us" and d.day in (2, 3))],
    ),
    "empty": ("day date, store_id integer", []),
    # Instants (timestamptz), read in a session on Europe/Berlin time (see `planted`): its clocks go
    # forward at 2024-03-31 01:00 UTC (no local 02:00) and back at 2024-10-27 01:00 UTC (02:00 twice).
    "zoned_spring": ("event_at timestamptz", [_utc(h) for h in hours("2024-03-30 22:00", "2024-03-31 04:00",
                                                                       skip=["2024-03-31 02:00"])]),
    "zoned_autumn": ("event_at timestamptz", [_utc(h) for h in hours("2024-10-26 23:00", "2024-10-27 03:00",
                                                                       skip=["2024-10-27 01:00"])]),
    "zoned_days": ("event_at timestamptz", [_utc(datetime(2024, 3, 29, 12)), _utc(datetime(2024, 3, 30, 23, 30)),
                                            _utc(datetime(2024, 4, 1, 12))]),
    "text_days": ("day_text varchar(10)", [("'2024-01-01'",)]),
    "holidays": ("holiday date, store_id integer", [(date(2024, 1, 5), 2), (date(2024, 1, 10), None)]),
}

# Cases: name -> (table, find_gaps keyword arguments, expected rows).
CASES = {
    "edges, single day and a long range": (
        "history", {"column": "order", "start": "2024-01-01", "end": "2024-01-31"},
        [("2024-01-01", "2024-01-01", 1), ("2024-01-10", "2024-01-10", 1),
         ("2024-01-15", "2024-01-25", 11), ("2024-01-31", "2024-01-31", 1)],
    ),
    "default start is the earliest value": (
        "history", {"column": "order", "end": "2024-01-31"},
        [("2024-01-10", "2024-01-10", 1), ("2024-01-15", "2024-01-25", 11), ("2024-01-31", "2024-01-31", 1)],
    ),
    "range beyond the data on both sides": (
        "complete", {"column": "day", "start": "2023-12-30", "end": "2024-01-09"},
        [("2023-12-30", "2023-12-31", 2), ("2024-01-08", "2024-01-09", 2)],
    ),
    "no gaps": ("complete", {"column": "day", "start": "2024-01-01", "end": "2024-01-07"}, []),
    "gap in one partition only": (
        "stores", {"column": "sold_at", "start": "2024-01-01", "end": "2024-01-10", "partition_by": ["store_id"]},
        [(2, "2024-01-05", "2024-01-05", 1)],
    ),
    "composite partition, mixed-case column": (
        "regions", {"column": "sold_on", "start": "2024-01-01", "end": "2024-01-05",
                    "partition_by": ["region", "store"]},
        [("us", 1, "2024-01-02", "2024-01-03", 2)],
    ),
    "partitions ignored: every day has rows": (
        "stores", {"column": "sold_at", "start": "2024-01-01", "end": "2024-01-10"}, [],
    ),
    "partial period under min_rows": (
        "partial", {"column": "loaded_on", "start": "2024-01-01", "end": "2024-01-06", "min_rows": 3},
        [("2024-01-04", "2024-01-04", 1)],
    ),
    "partial period with min_rows 1 is complete": (
        "partial", {"column": "loaded_on", "start": "2024-01-01", "end": "2024-01-06"}, [],
    ),
    "hourly gap across midnight": (
        "hourly", {"column": "event_ts", "grain": "hour", "start": "2024-03-30", "end": "2024-03-31"},
        [("2024-03-30 22:00:00", "2024-03-31 01:00:00", 4)],
    ),
    "month grain across a year boundary": (
        "monthly", {"column": "booked_on", "grain": "month", "start": "2023-10-01", "end": "2024-03-31"},
        [("2023-12-01", "2024-01-01", 2)],
    ),
    "week grain, bounds inside weeks": (
        "weekly", {"column": "seen_on", "grain": "week", "start": "2024-01-03", "end": "2024-02-07"},
        [("2024-01-15", "2024-01-15", 1), ("2024-02-05", "2024-02-05", 1)],
    ),
    "empty table: the whole range is one gap": (
        "empty", {"column": "day", "start": "2024-01-01", "end": "2024-01-07"},
        [("2024-01-01", "2024-01-07", 7)],
    ),
    "empty table with partitions: one gap, null partition": (
        "empty", {"column": "day", "start": "2024-01-01", "end": "2024-01-07", "partition_by": "store_id"},
        [(None, "2024-01-01", "2024-01-07", 7)],
    ),
    "empty table without start: nothing up to the end": (
        "empty", {"column": "day", "end": "2024-01-07"}, [(None, "2024-01-07", None)],
    ),
    "exclude a list of dates": (
        "history", {"column": "order", "start": "2024-01-01", "end": "2024-01-31",
                    "exclude": ["2024-01-10", "2024-01-01"]},
        [("2024-01-15", "2024-01-25", 11), ("2024-01-31", "2024-01-31", 1)],
    ),
    "exclude inside a range splits it": (
        "history", {"column": "order", "start": "2024-01-12", "end": "2024-01-28", "exclude": ["2024-01-20"]},
        [("2024-01-15", "2024-01-19", 5), ("2024-01-21", "2024-01-25", 5)],
    ),
    "exclude a query of dates": (
        "history", {"column": "order", "start": "2024-01-01", "end": "2024-01-31",
                    "exclude": "select cast('2024-01-31' as date) as closed_on"},
        [("2024-01-01", "2024-01-01", 1), ("2024-01-10", "2024-01-10", 1), ("2024-01-15", "2024-01-25", 11)],
    ),
    "exclude a relation per partition": (
        "stores", {"column": "sold_at", "start": "2024-01-01", "end": "2024-01-10", "partition_by": ["store_id"],
                   "exclude": {"relation": "holidays"}},
        [],
    ),
    "timestamptz: UTC hours, none skipped when the clocks go forward": (
        "zoned_spring", {"column": "event_at", "grain": "hour", "start": "2024-03-30 22:00", "end": "2024-03-31 04:00"},
        [("2024-03-31 02:00:00", "2024-03-31 02:00:00", 1)],
    ),
    "timestamptz: UTC hours, none doubled when the clocks go back": (
        "zoned_autumn", {"column": "event_at", "grain": "hour", "start": "2024-10-26 23:00", "end": "2024-10-27 03:00"},
        [("2024-10-27 01:00:00", "2024-10-27 01:00:00", 1)],
    ),
    "timestamptz: UTC days": (
        "zoned_days", {"column": "event_at", "start": "2024-03-29", "end": "2024-04-01"},
        [("2024-03-31", "2024-03-31", 1)],
    ),
    "partitions given: one with no row at all is missing throughout": (
        "stores", {"column": "sold_at", "start": "2024-01-01", "end": "2024-01-10", "partition_by": ["store_id"],
                   "partitions": "select store_id from (values (1), (4)) as known_stores (store_id)"},
        [(2, "2024-01-05", "2024-01-05", 1), (4, "2024-01-01", "2024-01-10", 10)],
    ),
    "where filters the checked rows": (
        "stores", {"column": "sold_at", "start": "2024-01-01", "end": "2024-01-10", "where": "store_id = 2"},
        [("2024-01-05", "2024-01-05", 1)],
    ),
}

# Refusals raised by the macros themselves (a dbt test gets them too): case -> words of the sentence.
REFUSALS = {
    "unknown grain": ("history", {"column": "order", "grain": "year"}, "unknown grain 'year'"),
    "unknown column": ("history", {"column": "nope"}, "history has no column 'nope'"),
    "unknown partition column": ("stores", {"column": "sold_at", "partition_by": ["shop"]}, "has no column 'shop'"),
    "end before start": ("history", {"column": "order", "start": "2024-02-01", "end": "2024-01-01"},
                         "end 2024-01-01 is before start 2024-02-01"),
    "bad date": ("history", {"column": "order", "start": "2024-02-30"}, "start '2024-02-30' is not a real date"),
    "min_rows 0": ("history", {"column": "order", "min_rows": 0}, "min_rows must be a whole number"),
    "hours of a date column": ("history", {"column": "order", "grain": "hour"},
                               "history.order is a date, so it has no hours: use grain day, week or month"),
    "a text column": ("text_days", {"column": "day_text"}, "not a date or timestamp, so it has no periods"),
}

# The other public macros, called as a user's model would: case -> (table, Jinja select, expected rows).
_RELATION = "adapter.get_relation(target.database, var('gap_case').schema, var('gap_case').table)"
MACRO_CASES = {
    "period_spine, months across a year": (
        "history", "select * from ({{ backfill.period_spine('month', '2023-11-15', '2024-02-03') }}) as spine order by 1",
        [("2023-11-01",), ("2023-12-01",), ("2024-01-01",), ("2024-02-01",)]),
    "period_spine, ISO weeks": (
        "history", "select * from ({{ backfill.period_spine('week', '2024-01-03', '2024-01-15') }}) as spine order by 1",
        [("2024-01-01",), ("2024-01-08",), ("2024-01-15",)]),
    "period_spine, hours across midnight": (
        "history", "select * from ({{ backfill.period_spine('hour', '2024-03-30 22:00', '2024-03-31 01:00') }}) as spine "
                   "order by 1",
        [("2024-03-30 22:00:00",), ("2024-03-30 23:00:00",), ("2024-03-31 00:00:00",), ("2024-03-31 01:00:00",)]),
    "period_spine, a hundred days: two digits of periods": (
        "history", "select count(*) as periods, min(period_start) as first_day, max(period_start) as last_day "
                   "from ({{ backfill.period_spine('day', '2024-01-01', '2024-04-09') }}) as spine",
        [(100, "2024-01-01", "2024-04-09")]),
    "column_identifier: a keyword, any case, is the real column quoted": (
        "history", "select '{{ backfill.column_identifier('ORDER', " + _RELATION + ") | replace(\"'\", \"''\") }}' "
                   "as sql_text",
        [('"order"',)]),
    "column_identifier: a quoted name matches exactly, an expression stays as written": (
        "regions", "select '{{ backfill.column_identifier('store', " + _RELATION + ") | replace(\"'\", \"''\") }}' "
                   "as plain, '{{ backfill.column_identifier('cast(sold_on as date)', " + _RELATION + ") }}' as expression",
        [('"Store"', "cast(sold_on as date)")]),
}

RUN_CASES = r"""
import json, sys
from backfill.dbt import DbtProject
from backfill.errors import DbtProjectError

cases = json.loads(sys.argv[1])
project = DbtProject(sys.argv[2])
SQL = '''
{%- set case = var('gap_case') -%}
{#- a copy: the var's own dict is shared by the parse and the execution of this query -#}
{%- set options = {} -%}
{%- do options.update(case.options) -%}
{%- if case.options.exclude is mapping -%}
    {%- set holidays = adapter.get_relation(target.database, case.schema, case.options.exclude.relation) -%}
    {%- do options.update({'exclude': holidays}) -%}
{%- endif -%}
select * from ({{ backfill.find_gaps(adapter.get_relation(target.database, case.schema, case.table), **options) }}) as gaps
'''
results = {}
for name, case in cases.items():
    try:
        rows = project.query(case.get("sql") or SQL, vars={"gap_case": case})
        results[name] = {"rows": [[None if v is None else str(v) for v in row.values()] for row in rows],
                         "columns": list(rows[0]) if rows else []}
    except DbtProjectError as error:  # the project forgets the failed query's node itself
        results[name] = {"error": str(error.message)}
print("RESULTS " + json.dumps(results))
"""


def _literal(value, kind: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"cast('{value.isoformat(sep=' ')}' as timestamp)"
    if isinstance(value, date):
        return f"cast('{value.isoformat()}' as date)"
    return str(value)  # numbers, and strings written as SQL literals above


@pytest.fixture(scope="module", params=WAREHOUSES)
def planted(request, tmp_path_factory):
    """A warehouse with the planted tables, and every case's result from one dbt process."""
    store = Warehouse(_warehouse_kind(request), tmp_path_factory.mktemp("gaps"))
    schema = store.raw_schema
    store.sql(f'create schema if not exists "{schema}"')
    for table, (columns, rows) in TABLES.items():
        store.sql(f'create table "{schema}"."{table}" ({columns})')
        for offset in range(0, len(rows), 500):
            values = ", ".join(
                "(" + ", ".join(_literal(v, store.kind) for v in row) + ")" for row in rows[offset:offset + 500]
            )
            store.sql(f'insert into "{schema}"."{table}" values {values}')
    cases = {name: {"schema": schema, "table": table, "options": options}
             for name, (table, options, _) in {**CASES, **REFUSALS}.items()}
    cases.update({name: {"schema": schema, "table": table, "sql": sql, "options": {}}
                  for name, (table, sql, _) in MACRO_CASES.items()})
    # A session whose time zone has DST: instants must still give UTC periods, and dates and
    # timestamps without time zone stay as written.
    store.env = {**store.env, "PGTZ": "Europe/Berlin", "TZ": "Europe/Berlin"}
    result = store._run([sys.executable, "-c", RUN_CASES, json.dumps(cases), str(store.project_dir)], check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
    yield json.loads(line[len("RESULTS "):])
    store.drop()


def _normalise(value):
    """Warehouse values as text: dates as YYYY-MM-DD, hours as YYYY-MM-DD HH:MM:SS, numbers as int."""
    if value is None:
        return None
    text = str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:19] if len(text) > 10 and text[10] in " T" else text[:10]
    try:
        return int(float(text))
    except ValueError:
        return text


@pytest.mark.parametrize("case", list(CASES))
def test_find_gaps_returns_exactly_the_missing_ranges(planted, case):
    table, options, expected = CASES[case]
    result = planted[case]
    assert "error" not in result, result
    rows = sorted(
        (tuple(_normalise(value) for value in row) for row in result["rows"]),
        key=lambda row: tuple((v is None, str(v)) for v in row),
    )
    assert rows == [tuple(row) for row in expected]
    if rows:
        assert result["columns"][-3:] == ["gap_start", "gap_end", "missing_periods"]


@pytest.mark.parametrize("case", list(REFUSALS))
def test_find_gaps_refuses_bad_input_in_one_sentence(planted, case):
    _, _, words = REFUSALS[case]
    result = planted[case]
    assert "error" in result, result
    assert words in result["error"]
    sentence = result["error"].split("backfill: ", 1)[1].split(" > in macro")[0].strip()
    assert sentence.endswith(".") and sentence.count(". ") == 0, sentence


@pytest.mark.parametrize("case", list(MACRO_CASES))
def test_the_other_public_macros_give_exactly_these_rows(planted, case):
    _, _, expected = MACRO_CASES[case]
    result = planted[case]
    assert "error" not in result, result
    assert [tuple(_normalise(value) for value in row) for row in result["rows"]] == expected
