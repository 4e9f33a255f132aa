"""The generic tests backfill.reconcile_count / _sum / _keys / _rows, run the way
a user runs them: declared in the YAML of a dbt project that imports the
package, executed by `dbt test --store-failures`, their failing rows read back
from the relations dbt stored them in.

Every case plants its differences in small tables of its own; all cases run in
one `dbt test` per warehouse, then each test asserts one case's exact rows.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import REPO, WAREHOUSES, Warehouse, _warehouse_kind, copy_user_project

pytestmark = pytest.mark.slow

PRECISE = [0.1, 0.2, 0.3, 1.1, 2.3, 10.5, 100.25, 3.3333, 7.77, 123.456]

# Each table: its columns, then its rows. Column names that are SQL keywords
# ("date", "order") are used on purpose.
TABLES = {
    # keys on one side only, both directions
    "keys_a": ("id integer", [(1,), (2,), (3,), (4,)]),
    "keys_b": ("id integer", [(2,), (3,), (4,), (5,)]),
    # values: one changed value, null vs value, null vs null, float noise, a boolean
    "rows_a": (
        "id integer, name varchar(20), score double precision, note varchar(20), flag boolean",
        [
            (1, "ann", 1.5, None, True),  # identical, null vs null in note
            (2, "bob", 2.0, "x", True),  # name changed
            (3, "cid", 3.0, None, True),  # note: null in model, value in compare
            (4, "dan", 1.0, "y", False),  # score noise below precision 4
            (5, "eve", 2.0, "z", False),  # score differs above precision 4
            (6, "fay", 6.0, "w", True),  # flag differs
        ],
    ),
    "rows_b": (
        "id integer, name varchar(20), score double precision, note varchar(20), flag boolean",
        [
            (1, "ann", 1.5, None, True),
            (2, "bobby", 2.0, "x", True),
            (3, "cid", 3.0, "x", True),
            (4, "dan", 1.00001, "y", False),
            (5, "eve", 2.01, "z", False),
            (6, "fay", 6.0, "w", False),
        ],
    ),
    # composite keys that a concatenation would confuse: ('1','23') vs ('12','3')
    "composite_a": ('k1 varchar(5), k2 varchar(5), "order" integer', [("1", "23", 10), ("x", "y", 1)]),
    "composite_b": ('k1 varchar(5), k2 varchar(5), "order" integer', [("12", "3", 10), ("x", "y", 2)]),
    # different column names per side
    "named_a": ("id integer, email varchar(40)", [(1, "a@x"), (2, "b@x"), (3, "c@x")]),
    "named_b": ("user_key integer, mail varchar(40)", [(1, "a@x"), (2, "b@y"), (3, "c@x")]),
    # a key duplicated on one side
    "dup_a": ("id integer, v integer", [(1, 10), (2, 20), (3, 30)]),
    "dup_b": ("id integer, v integer", [(1, 10), (2, 20), (2, 20), (3, 31)]),
    # empty sides
    "empty_a": ('id integer, "date" date, amount numeric(12,2)', []),
    "empty_b": ('id integer, "date" date, amount numeric(12,2)', []),
    "two_rows": ('id integer, "date" date, amount numeric(12,2)', [(1, "2024-01-01", 1), (2, "2024-01-01", 2)]),
    # tolerances, per day ("date" is a keyword)
    "amounts_a": (
        '"date" date, amount numeric(12,2)',
        [
            ("2024-01-01", 100.00),  # 100 vs 99: difference 1, exactly 1%
            ("2024-01-02", 100.00),  # 100 vs 98.99: 1.01, 1.01%
            ("2024-01-03", 200.00),  # 200 vs 198: 2, exactly 1%
            ("2024-01-04", 50.00),  # only on this side
            ("2024-01-05", 0.00),  # zero against 3
        ],
    ),
    "amounts_b": (
        '"date" date, amount numeric(12,2)',
        [("2024-01-01", 99.00), ("2024-01-02", 98.99), ("2024-01-03", 198.00), ("2024-01-05", 3.00)],
    ),
    # counts per day; the compare side has timestamps, grouped by an expression
    "orders": (
        'order_id integer, order_date date',
        [(1, "2024-03-01"), (2, "2024-03-01"), (3, "2024-03-02"), (4, "2024-03-03"), (5, "2024-03-03")],
    ),
    "billing": (
        "billing_id integer, billed_at timestamp",
        [(1, "2024-03-01 09:00:00"), (2, "2024-03-01 23:59:59"), (3, "2024-03-02 00:00:00"),
         (4, "2024-03-02 10:00:00"), (5, "2024-03-03 08:00:00"), (6, "2024-03-04 00:00:01")],
    ),
    # float sums whose difference is the tolerance exactly: 1.11 - 1.10 = 0.010000000000000009 in
    # double precision; 1.1 - 1.089 = 0.011, exactly 1% of 1.1
    "floats_a": ("g varchar(5), v double precision", [("s1", 1.11), ("s2", 2.50), ("s3", 1.1)]),
    "floats_b": ("g varchar(5), v double precision", [("s1", 1.10), ("s2", 2.48), ("s3", 1.089)]),
    # key and group columns named like the builders' own output columns
    "tickets_a": ("issue varchar(10), missing_in varchar(10), points integer",
                  [("JIRA-1", "x", 1), ("JIRA-2", "y", 2)]),
    "tickets_b": ("issue varchar(10), missing_in varchar(10), points integer",
                  [("JIRA-1", "x", 1), ("JIRA-3", "z", 5)]),
    # a column created unquoted in mixed case (PostgreSQL stores orderdate), and quoted ones
    "mixed_case": ("OrderDate date, amount integer", [("2024-01-01", 1), ("2024-01-02", 2)]),
    "quoted_case": ('"EventDate" date, "Amount" integer', [("2024-01-01", 1), ("2024-01-02", 2)]),
    # keys duplicated on a side and missing on the other
    "dup2_a": ("id integer, v integer", [(1, 1), (1, 1), (2, 2), (3, 3), (3, 3)]),
    "dup2_b": ("id integer, v integer", [(2, 2), (3, 3), (3, 3), (4, 4)]),
    # text keys against keys_b's integers
    "text_keys": ("id varchar(5)", [("2",), ("3",)]),
    # float8 pairs that differ by exactly 10^-7, each by its own float noise
    "precise_a": ("id integer, v double precision", [(n + 1, x) for n, x in enumerate(PRECISE)]),
    "precise_b": ("id integer, v double precision", [(n + 1, x + 1e-7) for n, x in enumerate(PRECISE)]),
    # the same columns with types of different kinds on each side (a date against a text)
    "typed_a": ("id integer, happened date, amount numeric(10,2)",
                [(1, "2024-01-01", 1.5), (2, "2024-01-02", 2.0)]),
    "typed_b": ("id integer, happened varchar(10), amount varchar(10)",
                [(1, "2024-01-01", "1.50"), (2, "2024-01-03", "2.00")]),
    # composite keys with null parts: a null key value matches a null one, on either key column
    "nullkey_a": ("k1 integer, k2 varchar(5), v integer",
                  [(1, None, 10), (2, None, 20), (None, None, 5), (None, "b", 7), (4, "d", 40), (5, None, 1),
                   (5, None, 1)]),
    "nullkey_b": ("k1 integer, k2 varchar(5), v integer",
                  [(1, None, 10), (2, None, 21), (None, None, 5), (None, "b", None), (4, "d", 41), (3, None, 1),
                   (5, None, 1)]),
}

SOURCE = "source('cases', '{}')"

# The builders called directly, as the runner and other macros do: `where` on
# both sides, relations given as plain names.
SINGULAR_TESTS = {
    "builder_keys_where": (
        "{{ backfill.compare_keys(source('cases', 'keys_a'), 'id', source('cases', 'keys_b'),"
        " where='id > 1', compare_where='id < 5') }}"
    ),
    "builder_counts_named_relations": (
        "{{ backfill.compare_counts(target.schema ~ '.orders', target.schema ~ '.billing',"
        " group_by=['order_date'], compare_group_by=['cast(billed_at as date)'],"
        " where=\"order_date < '2024-03-03'\") }}"
    ),
}


def case(table, test, name, arguments, config=None, column=None, quote=False):
    return {"table": table, "test": test, "name": name, "arguments": arguments, "config": config, "column": column,
            "quote": quote}


CASES = [
    case("keys_a", "reconcile_keys", "keys_both_ways", {"compare_model": SOURCE.format("keys_b"), "key_columns": ["id"]}),
    case("keys_a", "reconcile_keys", "keys_model_to_compare",
         {"compare_model": SOURCE.format("keys_b"), "key_columns": ["id"], "direction": "model_to_compare"}),
    case("keys_a", "reconcile_keys", "keys_compare_to_model",
         {"compare_model": SOURCE.format("keys_b"), "key_columns": "id", "direction": "compare_to_model"}),
    # dbt's own `where` config filters the model side, compare_where the other side;
    # the other side named by a plain relation name instead of source()
    case("keys_a", "reconcile_keys", "keys_filtered",
         {"compare_model": "{{ target.schema }}.keys_b", "key_columns": ["id"], "compare_where": "id < 5"},
         config={"where": "id > 1"}),
    case("rows_a", "reconcile_rows", "rows_exact", {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"]}),
    case("rows_a", "reconcile_rows", "rows_precision",
         {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"], "precision": 4}),
    case("rows_a", "reconcile_rows", "rows_summary",
         {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"], "precision": 4, "summary": True}),
    case("rows_a", "reconcile_rows", "rows_columns_chosen",
         {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"], "columns": ["name", "note"],
          "compare_where": "id <> 2"}),
    case("rows_a", "reconcile_rows", "rows_excluded",
         {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"], "exclude_columns": ["name", "score", "note"]}),
    case("composite_a", "reconcile_keys", "composite_keys",
         {"compare_model": SOURCE.format("composite_b"), "key_columns": ["k1", "k2"]}),
    case("composite_a", "reconcile_rows", "composite_rows",
         {"compare_model": SOURCE.format("composite_b"), "key_columns": ["k1", "k2"]}),
    case("named_a", "reconcile_rows", "renamed_columns",
         {"compare_model": SOURCE.format("named_b"), "key_columns": ["id"], "compare_key_columns": ["user_key"],
          "column_map": {"email": "mail"}}),
    case("dup_a", "reconcile_keys", "duplicate_keys", {"compare_model": SOURCE.format("dup_b"), "key_columns": ["id"]}),
    case("dup_a", "reconcile_rows", "duplicate_rows", {"compare_model": SOURCE.format("dup_b"), "key_columns": ["id"]}),
    case("dup_a", "reconcile_count", "duplicate_count", {"compare_model": SOURCE.format("dup_b")}),
    case("empty_a", "reconcile_count", "empty_count", {"compare_model": SOURCE.format("empty_b"), "tolerance_pct": 10}),
    case("empty_a", "reconcile_count", "empty_count_per_day",
         {"compare_model": SOURCE.format("empty_b"), "group_by": ["date"]}),
    case("empty_a", "reconcile_sum", "empty_sum", {"compare_model": SOURCE.format("empty_b"), "column": "amount"}),
    case("empty_a", "reconcile_keys", "empty_keys", {"compare_model": SOURCE.format("empty_b"), "key_columns": ["id"]}),
    case("empty_a", "reconcile_rows", "empty_rows", {"compare_model": SOURCE.format("empty_b"), "key_columns": ["id"]}),
    case("empty_a", "reconcile_rows", "empty_rows_summary",
         {"compare_model": SOURCE.format("empty_b"), "key_columns": ["id"], "summary": True}),
    case("empty_a", "reconcile_count", "empty_against_rows",
         {"compare_model": SOURCE.format("two_rows"), "tolerance_pct": 99}),
    case("amounts_a", "reconcile_sum", "sum_tolerance", {"compare_model": SOURCE.format("amounts_b"),
         "group_by": ["date"], "tolerance": 1}, column="amount"),
    case("amounts_a", "reconcile_sum", "sum_tolerance_pct", {"compare_model": SOURCE.format("amounts_b"),
         "column": "amount", "group_by": ["date"], "tolerance_pct": 1}),
    case("amounts_a", "reconcile_sum", "sum_total", {"compare_model": SOURCE.format("amounts_b"), "column": "amount"}),
    case("orders", "reconcile_count", "count_per_day", {"compare_model": SOURCE.format("billing"),
         "group_by": ["order_date"], "compare_group_by": ["cast(billed_at as date)"]}),
    case("orders", "reconcile_count", "count_per_day_in_window", {"compare_model": SOURCE.format("billing"),
         "group_by": ["order_date"], "compare_group_by": ["cast(billed_at as date)"],
         "window_column": "order_date", "compare_window_column": "billed_at"}),
    case("rows_a", "reconcile_rows", "refused_unknown_column",
         {"compare_model": SOURCE.format("rows_b"), "key_columns": ["id"], "columns": ["nickname"]}),
    # float columns: a difference of exactly the tolerance passes
    case("floats_a", "reconcile_sum", "float_tolerance_at_the_bound",
         {"compare_model": SOURCE.format("floats_b"), "column": "v", "group_by": ["g"], "tolerance": 0.01}),
    case("floats_a", "reconcile_sum", "float_tolerance_pct_at_the_bound",
         {"compare_model": SOURCE.format("floats_b"), "column": "v", "group_by": ["g"], "tolerance_pct": 1}),
    # user columns named issue / missing_in: never collide with the builders' columns
    case("tickets_a", "reconcile_keys", "key_named_issue",
         {"compare_model": SOURCE.format("tickets_b"), "key_columns": ["issue"]}),
    case("tickets_a", "reconcile_rows", "rows_keyed_by_issue",
         {"compare_model": SOURCE.format("tickets_b"), "key_columns": ["issue"]}),
    case("tickets_a", "reconcile_count", "count_per_missing_in",
         {"compare_model": SOURCE.format("tickets_b"), "group_by": ["missing_in"]}),
    # one identifier rule: plain names matched to the real columns ignoring case, quoted names exactly
    case("mixed_case", "reconcile_sum", "mixed_case_names",
         {"compare_model": SOURCE.format("quoted_case"), "column": "AMOUNT", "compare_column": "amount",
          "group_by": ["OrderDate"], "compare_group_by": ["eventdate"]}),
    case("mixed_case", "reconcile_keys", "mixed_case_names_where",
         {"compare_model": SOURCE.format("quoted_case"), "key_columns": ["OrderDate"],
          "compare_key_columns": ['"EventDate"']}, config={"where": "amount > 0"}),
    case("mixed_case", "no_gaps", "no_gaps_mixed_case_where", {"start": "2024-01-01", "end": "2024-01-03"},
         config={"where": "amount > 0"}, column="OrderDate"),
    case("quoted_case", "no_gaps", "no_gaps_quoted_column", {"start": "2024-01-01", "end": "2024-01-02"},
         column="EventDate", quote=True),
    case("quoted_case", "no_gaps", "no_gaps_quoted_column_where", {"start": "2024-01-01", "end": "2024-01-02"},
         config={"where": '"Amount" > 0'}, column="EventDate", quote=True),
    # a column that does not exist, on either side: one sentence naming the relation and its columns
    case("amounts_a", "reconcile_count", "refused_unknown_group",
         {"compare_model": SOURCE.format("amounts_b"), "group_by": ["day"], "compare_group_by": ["date"]}),
    case("amounts_a", "reconcile_sum", "refused_unknown_compare_column",
         {"compare_model": SOURCE.format("amounts_b"), "column": "amount", "compare_column": "amount_billed"}),
    case("keys_a", "reconcile_keys", "refused_unknown_key",
         {"compare_model": SOURCE.format("keys_b"), "key_columns": ["id"], "compare_key_columns": ["key"]}),
    case("text_keys", "reconcile_keys", "refused_key_types",
         {"compare_model": SOURCE.format("keys_b"), "key_columns": ["id"]}),
    # duplicated keys fail in every direction, even when missing on the other side
    case("dup2_a", "reconcile_keys", "duplicated_and_missing",
         {"compare_model": SOURCE.format("dup2_b"), "key_columns": ["id"]}),
    case("dup2_a", "reconcile_keys", "duplicated_and_missing_compare_to_model",
         {"compare_model": SOURCE.format("dup2_b"), "key_columns": ["id"], "direction": "compare_to_model"}),
    case("dup2_a", "reconcile_rows", "duplicated_and_missing_summary",
         {"compare_model": SOURCE.format("dup2_b"), "key_columns": ["id"], "summary": True}),
    # precision at its boundary: a difference of exactly 10^-7 differs at precision 7, on every row
    case("precise_a", "reconcile_rows", "precision_at_the_boundary",
         {"compare_model": SOURCE.format("precise_b"), "key_columns": ["id"], "precision": 7}),
    case("precise_a", "reconcile_rows", "precision_above_the_difference",
         {"compare_model": SOURCE.format("precise_b"), "key_columns": ["id"], "precision": 6}),
    # compared columns of different kinds: compared as text, not a database error
    case("typed_a", "reconcile_rows", "rows_of_mixed_types",
         {"compare_model": SOURCE.format("typed_b"), "key_columns": ["id"]}),
    # null parts of composite keys match each other, in rows and keys alike
    case("nullkey_a", "reconcile_rows", "rows_with_null_key_parts",
         {"compare_model": SOURCE.format("nullkey_b"), "key_columns": ["k1", "k2"]}),
    case("nullkey_a", "reconcile_rows", "rows_with_null_key_parts_summary",
         {"compare_model": SOURCE.format("nullkey_b"), "key_columns": ["k1", "k2"], "summary": True}),
    case("nullkey_a", "reconcile_keys", "keys_with_null_key_parts",
         {"compare_model": SOURCE.format("nullkey_b"), "key_columns": ["k1", "k2"]}),
]


def sources_yml() -> str:
    tables = []
    for table in TABLES:
        entry = {"name": table}
        tests = [c for c in CASES if c["table"] == table and not c["column"]]
        if tests:
            entry["data_tests"] = [_test_entry(c) for c in tests]
        columns = {}
        for c in (c for c in CASES if c["table"] == table and c["column"]):
            column = columns.setdefault(c["column"], {"name": c["column"], "data_tests": []})
            column.update({"quote": True} if c["quote"] else {})
            column["data_tests"].append(_test_entry(c))
        if columns:
            entry["columns"] = list(columns.values())
        tables.append(entry)
    document = {"version": 2, "sources": [{"name": "cases", "schema": "{{ target.schema }}", "tables": tables}]}
    return json.dumps(document, indent=2)  # JSON is YAML


def _test_entry(c):
    body = {"name": c["name"], "arguments": c["arguments"]}
    if c["config"]:
        body["config"] = c["config"]
    return {f"backfill.{c['test']}": body}


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def create_tables(store: Warehouse) -> None:
    statements = [] if store.kind == "duckdb" else [f'create schema if not exists "{store.schema}"']
    for table, (columns, rows) in TABLES.items():
        statements.append(f'create table "{store.schema}".{table} ({columns})')
        for row in rows:
            statements.append(f'insert into "{store.schema}".{table} values ({", ".join(map(_literal, row))})')
    store.sql(";\n".join(statements))


@pytest.fixture(scope="module", params=WAREHOUSES)
def cases(request, tmp_path_factory):
    """A user's project (a copy of integration_tests/) declaring every case, tested once."""
    kind = _warehouse_kind(request)
    root = tmp_path_factory.mktemp(f"reconcile-{kind}")
    project = copy_user_project(root)
    (project / "models" / "_reconcile_cases.yml").write_text(sources_yml())
    for name, sql in SINGULAR_TESTS.items():
        (project / "tests" / f"{name}.sql").write_text(sql)
    store = Warehouse(kind, root, project_dir=project, profiles_dir=project)
    create_tables(store)
    store.dbt("deps")
    outcome = store.dbt("test", "--store-failures", "--select", "source:cases", *SINGULAR_TESTS, check=False)
    results_file = root / "target" / "run_results.json"
    assert results_file.exists(), outcome.stdout + outcome.stderr
    results = json.loads(results_file.read_text())["results"]
    store.outcome = outcome
    store.results = {r["unique_id"].split(".")[2]: r for r in results}
    # the batch window: one more invocation, of the one test that declares window columns
    store.unwindowed = failing_rows(store, "count_per_day_in_window")
    store.window_outcome = store.dbt(
        "test", "--store-failures", "--select", "count_per_day_in_window",
        "--vars", "{start_date: 2024-03-02, end_date: 2024-03-03}", check=False)
    store.windowed = failing_rows(store, "count_per_day_in_window")
    yield store
    store.drop()


def failing_rows(store: Warehouse, test: str, order_by: str = "1") -> list[dict]:
    """The rows dbt stored for a test, as dicts, in a stable order."""
    assert store.results[test]["status"] in ("pass", "fail"), store.results[test].get("message")
    audit = f"{store.schema}_dbt_test__audit"
    if store.results[test]["status"] == "pass":
        return []
    if store.kind == "duckdb":
        import duckdb

        connection = duckdb.connect(str(store.duckdb_path))
        try:
            cursor = connection.execute(f'select * from "{audit}"."{test}" order by {order_by}')
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            connection.close()
    import psycopg2

    from conftest import PG

    connection = psycopg2.connect(**PG)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'select * from "{audit}"."{test}" order by {order_by}')
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        connection.close()


def pick(rows, *names):
    return [tuple(_plain(row[name]) for name in names) for row in rows]


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# -- keys -----------------------------------------------------------------------------

def test_keys_on_one_side_fail_in_both_directions(cases):
    rows = failing_rows(cases, "keys_both_ways")
    assert pick(rows, "id", "missing_in", "issue", "model_rows", "compare_rows") == [
        (1, "compare_model", "missing in compare_model", 1, 0),
        (5, "model", "missing in model", 0, 1),
    ]


def test_direction_limits_which_missing_keys_fail(cases):
    assert pick(failing_rows(cases, "keys_model_to_compare"), "id", "missing_in") == [(1, "compare_model")]
    assert pick(failing_rows(cases, "keys_compare_to_model"), "id", "missing_in") == [(5, "model")]


def test_where_filters_the_model_and_compare_where_the_other_side(cases):
    # model side without id 1, compare side without id 5: the sets agree except nothing
    assert cases.results["keys_filtered"]["status"] == "pass"


def test_composite_keys_are_compared_column_by_column(cases):
    rows = failing_rows(cases, "composite_keys", "k1, k2")
    assert pick(rows, "k1", "k2", "missing_in") == [("1", "23", "compare_model"), ("12", "3", "model")]
    rows = failing_rows(cases, "composite_rows", "k1, k2")
    assert pick(rows, "k1", "k2", "issue", "column_name", "model_value", "compare_value") == [
        ("1", "23", "missing in compare_model", None, None, None),
        ("12", "3", "missing in model", None, None, None),
        ("x", "y", "values differ", "order", "1", "2"),
    ]


def test_a_duplicated_key_is_reported_not_collapsed_or_double_counted(cases):
    rows = failing_rows(cases, "duplicate_keys")
    assert pick(rows, "id", "issue", "model_rows", "compare_rows") == [(2, "duplicated in compare_model", 1, 2)]
    rows = failing_rows(cases, "duplicate_rows", "1, column_name")
    # key 2 once, as a duplicate (its values are not compared twice); key 3's value differs
    assert pick(rows, "id", "issue", "column_name", "model_value", "compare_value", "model_rows", "compare_rows") == [
        (2, "duplicated in compare_model", None, None, None, 1, 2),
        (3, "values differ", "v", "30", "31", 1, 1),
    ]
    assert pick(failing_rows(cases, "duplicate_count"), "model_value", "compare_value", "difference") == [(3, 4, -1)]


# -- rows -----------------------------------------------------------------------------

def test_rows_report_each_differing_column_null_safely(cases):
    rows = failing_rows(cases, "rows_exact", "1, column_name")
    assert pick(rows, "id", "issue", "column_name", "model_value", "compare_value") == [
        (2, "values differ", "name", "bob", "bobby"),
        (3, "null in model", "note", None, "x"),
        (4, "values differ", "score", rows[2]["model_value"], rows[2]["compare_value"]),
        (5, "values differ", "score", rows[3]["model_value"], rows[3]["compare_value"]),
        (6, "values differ", "flag", "true", "false"),
    ]
    assert float(rows[2]["model_value"]) == 1.0 and float(rows[2]["compare_value"]) == 1.00001
    # id 1 (null vs null in note) is not there: null equals null


def test_null_key_parts_match_each_other_and_their_values_are_compared(cases):
    rows = failing_rows(cases, "rows_with_null_key_parts", "k1 nulls first, k2 nulls first")
    assert pick(rows, "k1", "k2", "issue", "column_name", "model_value", "compare_value", "model_rows",
                "compare_rows") == [
        (None, "b", "null in compare_model", "v", "7", None, 1, 1),
        (2, None, "values differ", "v", "20", "21", 1, 1),
        (3, None, "missing in model", None, None, None, 0, 1),
        (4, "d", "values differ", "v", "40", "41", 1, 1),
        (5, None, "duplicated in model", None, None, None, 2, 1),
    ]
    # (1, null) and (null, null) match and agree: not reported
    summary = failing_rows(cases, "rows_with_null_key_parts_summary", "column_name nulls first")
    assert pick(summary, "column_name", "matched_rows", "agreeing_rows", "differing_rows", "null_in_compare_rows",
                "keys_missing_in_model", "keys_missing_in_compare", "duplicated_keys") == [
        (None, None, None, None, None, 1, 0, 1),
        ("v", 5, 2, 2, 1, None, None, None),
    ]
    keys = failing_rows(cases, "keys_with_null_key_parts", "k1 nulls first, k2 nulls first")
    assert pick(keys, "k1", "k2", "issue") == [(3, None, "missing in model"), (5, None, "duplicated in model")]


def test_precision_decides_every_row_at_its_boundary_the_same_way(cases):
    rows = failing_rows(cases, "precision_at_the_boundary", order_by="id")
    assert pick(rows, "id", "column_name", "issue") == [(n, "v", "values differ") for n in range(1, 11)]
    assert failing_rows(cases, "precision_above_the_difference") == []


def test_columns_of_different_kinds_are_compared_as_text(cases):
    rows = failing_rows(cases, "rows_of_mixed_types")
    assert pick(rows, "id", "column_name", "issue", "model_value", "compare_value") == [
        (2, "happened", "values differ", "2024-01-02", "2024-01-03")]


def test_precision_ignores_noise_below_it_and_not_above(cases):
    rows = failing_rows(cases, "rows_precision", "1, column_name")
    assert pick(rows, "id", "column_name") == [(2, "name"), (3, "note"), (5, "score"), (6, "flag")]


def test_summary_counts_per_column(cases):
    rows = failing_rows(cases, "rows_summary", "column_name")
    summary = {
        row["column_name"]: (row["matched_rows"], row["agreeing_rows"], row["differing_rows"],
                             row["null_in_model_rows"], row["null_in_compare_rows"])
        for row in rows
    }
    assert summary == {"flag": (6, 5, 1, 0, 0), "name": (6, 5, 1, 0, 0), "note": (6, 5, 0, 1, 0), "score": (6, 5, 1, 0, 0)}


def test_columns_and_exclude_columns_choose_what_is_compared(cases):
    rows = failing_rows(cases, "rows_columns_chosen", "1, column_name")
    assert pick(rows, "id", "issue", "column_name") == [(2, "missing in compare_model", None), (3, "null in model", "note")]
    assert pick(failing_rows(cases, "rows_excluded"), "id", "column_name") == [(6, "flag")]


def test_different_column_names_on_each_side(cases):
    rows = failing_rows(cases, "renamed_columns")
    assert pick(rows, "id", "issue", "column_name", "compare_column_name", "model_value", "compare_value") == [
        (2, "values differ", "email", "mail", "b@x", "b@y"),
    ]


# -- empty sides ----------------------------------------------------------------------

def test_two_empty_sides_pass_every_check(cases):
    for test in ("empty_count", "empty_count_per_day", "empty_sum", "empty_keys", "empty_rows", "empty_rows_summary"):
        assert cases.results[test]["status"] == "pass", (test, cases.results[test])
        assert cases.results[test]["failures"] == 0


def test_zero_on_one_side_fails_a_relative_tolerance(cases):
    rows = failing_rows(cases, "empty_against_rows")
    assert pick(rows, "model_value", "compare_value", "difference", "difference_pct") == [(0, 2, -2, -100.0)]


# -- tolerances and days --------------------------------------------------------------

def test_absolute_tolerance_passes_at_the_bound_and_fails_past_it(cases):
    rows = failing_rows(cases, "sum_tolerance")
    assert pick(rows, "date", "model_value", "compare_value", "difference", "missing_in") == [
        ("2024-01-02", 100.0, 98.99, 1.01, None),
        ("2024-01-03", 200.0, 198.0, 2.0, None),
        ("2024-01-04", 50.0, 0.0, 50.0, "compare_model"),  # one side only: fails whatever the tolerance
        ("2024-01-05", 0.0, 3.0, -3.0, None),
    ]
    assert {(float(r["model_total"]), float(r["compare_total"]), r["groups_compared"]) for r in rows} == {(450.0, 398.99, 5)}


def test_tolerance_pct_is_in_percent_of_the_larger_side(cases):
    rows = failing_rows(cases, "sum_tolerance_pct")
    # 01-01 and 01-03 differ by exactly 1% and pass; 01-02 by 1.01%; 01-05 is 0 against 3
    assert pick(rows, "date", "difference", "missing_in") == [
        ("2024-01-02", 1.01, None), ("2024-01-04", 50.0, "compare_model"), ("2024-01-05", -3.0, None)]
    assert [round(float(r["difference_pct"]), 4) for r in rows] == [1.01, 100.0, -100.0]


def test_totals_without_group_by(cases):
    rows = failing_rows(cases, "sum_total")
    assert pick(rows, "model_value", "compare_value", "difference") == [(450.0, 398.99, 51.01)]


def test_per_day_grouping_pins_the_failing_days(cases):
    rows = failing_rows(cases, "count_per_day")
    assert pick(rows, "order_date", "model_value", "compare_value", "missing_in") == [
        ("2024-03-02", 1, 2, None),
        ("2024-03-03", 2, 1, None),
        ("2024-03-04", 0, 1, "model"),
    ]


def test_a_batch_window_limits_both_sides(cases):
    # without vars the whole history is compared (same days as count_per_day) ...
    assert [r[0] for r in pick(cases.unwindowed, "order_date")] == ["2024-03-02", "2024-03-03", "2024-03-04"]
    # ... with the window 03-02 .. 03-03 only those days (billing's 03-04 00:00:01 is outside)
    assert cases.window_outcome.returncode == 1
    assert pick(cases.windowed, "order_date", "model_value", "compare_value") == [("2024-03-02", 1, 2), ("2024-03-03", 2, 1)]


def test_the_builders_take_where_and_relation_names(cases):
    assert cases.results["builder_keys_where"]["status"] == "pass"
    rows = failing_rows(cases, "builder_counts_named_relations")
    assert pick(rows, "order_date", "model_value", "compare_value", "missing_in") == [
        ("2024-03-02", 1, 2, None),
        ("2024-03-03", 0, 1, "model"),
        ("2024-03-04", 0, 1, "model"),
    ]


# -- refused --------------------------------------------------------------------------

def test_a_column_that_does_not_exist_is_refused_with_one_sentence(cases):
    result = cases.results["refused_unknown_column"]
    assert result["status"] == "error"
    assert "backfill.reconcile_rows: column 'nickname' is not in the model (it has id, name, score, note, flag)." in (
        result["message"])


def test_a_missing_column_on_either_side_is_refused_with_one_sentence(cases):
    # not the warehouse's multi-line Binder / UndefinedColumn error
    for test, sentence in {
        "refused_unknown_group": "backfill.reconcile_count: amounts_a has no column 'day' (it has: amount, date).",
        "refused_unknown_compare_column":
            "backfill.reconcile_sum: amounts_b has no column 'amount_billed' (it has: amount, date).",
        "refused_unknown_key": "backfill.reconcile_keys: keys_b has no column 'key' (it has: id).",
    }.items():
        result = cases.results[test]
        assert result["status"] == "error", (test, result)
        assert sentence in result["message"], (test, result["message"])


def test_integer_keys_against_text_keys_are_refused_naming_both_types(cases):
    result = cases.results["refused_key_types"]
    assert result["status"] == "error", result
    text_type = "varchar" if cases.kind == "duckdb" else "character varying"
    assert (f"backfill.reconcile_keys: key_columns id is {text_type} but compare_key_columns id is integer; "
            "cast one side to the other's type") in result["message"]


# -- float tolerances -------------------------------------------------------------------

def test_a_float_difference_of_exactly_the_tolerance_passes(cases):
    # s1: 1.11 vs 1.10 is 0.01 (0.010000000000000009 in double precision): within tolerance 0.01
    rows = failing_rows(cases, "float_tolerance_at_the_bound")
    assert pick(rows, "g") == [("s2",), ("s3",)]  # 0.02 and 0.011 are past it
    # s3: 1.1 vs 1.089 differ by exactly 1% of the larger side; s1 and s2 by less
    assert cases.results["float_tolerance_pct_at_the_bound"]["status"] == "pass"


# -- names like the builders' own columns ----------------------------------------------

def test_key_and_group_columns_named_like_output_columns_come_out_numbered(cases):
    # stored by `dbt test --store-failures`: no "column specified more than once", no issue_1
    rows = failing_rows(cases, "key_named_issue", "key_1")
    assert list(rows[0]) == ["key_1", "missing_in", "issue", "model_rows", "compare_rows"]
    assert pick(rows, "key_1", "missing_in", "issue") == [
        ("JIRA-2", "compare_model", "missing in compare_model"), ("JIRA-3", "model", "missing in model")]
    rows = failing_rows(cases, "rows_keyed_by_issue", "key_1")
    assert pick(rows, "key_1", "issue") == [("JIRA-2", "missing in compare_model"), ("JIRA-3", "missing in model")]
    rows = failing_rows(cases, "count_per_missing_in", "group_1")
    assert pick(rows, "group_1", "model_value", "compare_value", "missing_in") == [
        ("y", 1, 0, "compare_model"), ("z", 0, 1, "model")]


# -- one identifier rule ------------------------------------------------------------------

def test_names_match_the_real_columns_ignoring_case_and_quoted_names_exactly(cases):
    # PostgreSQL stores the unquoted OrderDate as orderdate, as dbt's own not_null finds it
    for test in ("mixed_case_names", "mixed_case_names_where", "no_gaps_quoted_column",
                 "no_gaps_quoted_column_where"):
        assert cases.results[test]["status"] == "pass", (test, cases.results[test])
    # with a where config the model is a subquery: the unquoted name is folded as the warehouse folds it
    assert pick(failing_rows(cases, "no_gaps_mixed_case_where"), "gap_start", "gap_end") == [
        ("2024-01-03", "2024-01-03")]


# -- duplicates ---------------------------------------------------------------------------

def test_a_duplicated_key_fails_in_every_direction_even_when_missing_on_the_other_side(cases):
    expected = [
        (1, "compare_model", "missing in compare_model and duplicated in model", 2, 0),
        (3, None, "duplicated on both sides", 2, 2),
        (4, "model", "missing in model", 0, 1),
    ]
    columns = ("id", "missing_in", "issue", "model_rows", "compare_rows")
    assert pick(failing_rows(cases, "duplicated_and_missing"), *columns) == expected
    assert pick(failing_rows(cases, "duplicated_and_missing_compare_to_model"), *columns) == expected
    summary = failing_rows(cases, "duplicated_and_missing_summary")
    assert pick(summary, "keys_missing_in_model", "keys_missing_in_compare", "duplicated_keys") == [(1, 1, 2)]


# Arguments that are wrong whatever the data are refused when dbt renders the
# test (at parse time), before anything runs; the same on every warehouse.
REFUSED = {
    "compare_sums('a', 'amount', 'b', tolerance_pct=150)":
        "backfill.reconcile_sum: tolerance_pct is a percentage between 0 and 100 (1 means 1%), got 150.",
    "compare_counts('a', 'b', tolerance_pct=-0.5)":
        "backfill.reconcile_count: tolerance_pct is a percentage between 0 and 100 (1 means 1%), got -0.5.",
    "compare_counts('a', 'b', tolerance_pct='5%')":
        "backfill.reconcile_count: tolerance_pct is a percentage between 0 and 100 (1 means 1%), got 5%.",
    "compare_counts('a', 'b', tolerance=-1)": "backfill.reconcile_count: tolerance must be a number of 0 or more (got -1).",
    "compare_counts('a', 'b', group_by=['d'], compare_group_by=['d', 'e'])":
        "backfill.reconcile_count: group_by and compare_group_by must name as many columns (1 and 2).",
    "compare_keys('a', ['k1', 'k2'], 'b', compare_key_columns=['k'])":
        "backfill.reconcile_keys: key_columns and compare_key_columns must name as many columns (2 and 1).",
    "compare_keys('a', 'id', 'b', direction='sideways')":
        "backfill.reconcile_keys: direction must be one of both, model_to_compare, compare_to_model (got sideways).",
    "compare_keys('a', none, 'b')": "backfill.reconcile_keys: set key_columns, the column(s) that identify a row.",
    "compare_rows('a', 'id', 'b', precision=-1)":
        "backfill.reconcile_rows: precision is a number of decimal places, a whole number of 0 or more (got -1).",
    "compare_sums('a', none, 'b')": "backfill.reconcile_sum: set column, the measure to sum.",
    "compare_counts('a', 'b', tolerance_pct='5')":
        "backfill.reconcile_count: tolerance_pct must be a number, not the text '5' (write tolerance_pct: 5, "
        "without quotes).",
    "compare_sums('a', 'amount', 'b', tolerance='0.01')":
        "backfill.reconcile_sum: tolerance must be a number, not the text '0.01' (write tolerance: 0.01, "
        "without quotes).",
}

COMPILE_EACH = """
import json, sys
from backfill.dbt import DbtProject
project = DbtProject(sys.argv[1])
messages = {}
for call in json.loads(sys.argv[2]):
    result = project.invoke(["compile", "--inline", "{{ backfill." + call + " }}"])
    error = result.exception
    # dbt wraps the compilation error of an inline query: keep the cause's sentence too
    messages[call] = "ok" if result.success else f"{error} {getattr(error, '__context__', '')}"
print(json.dumps(messages))
"""


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    import subprocess
    import sys

    store = Warehouse("duckdb", tmp_path_factory.mktemp("refusals"))
    result = subprocess.run(
        [sys.executable, "-c", COMPILE_EACH, str(REPO), json.dumps(list(REFUSED))],
        env=store.env, cwd=store.tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("call", list(REFUSED))
def test_bad_arguments_are_refused_with_one_sentence(refusals, call):
    assert REFUSED[call] in refusals[call]


def test_the_cli_refuses_a_project_with_a_bad_tolerance_before_running_anything(tmp_path):
    project = copy_user_project(tmp_path)
    test = {"backfill.reconcile_sum": {"arguments": {
        "compare_model": SOURCE.format("amounts_b"), "column": "amount", "tolerance_pct": 150}}}
    document = {"version": 2, "sources": [{"name": "cases", "tables": [
        {"name": "amounts_a", "data_tests": [test]}, {"name": "amounts_b"}]}]}
    (project / "models" / "_reconcile_cases.yml").write_text(json.dumps(document))
    store = Warehouse("duckdb", tmp_path, project_dir=project, profiles_dir=project)
    store.dbt("deps")
    result = store.cli("reconcile", "--history")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "tolerance_pct is a percentage between 0 and 100 (1 means 1%), got 150." in result.stderr
    assert not store.duckdb_path.exists()  # nothing was written, not even the warehouse file
