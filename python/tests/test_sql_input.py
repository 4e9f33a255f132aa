"""backfill.sql_input alone: which command-line filters are one boolean expression, and which
command-line columns name a real column (issue 21). No warehouse, no dbt."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.errors import InvalidInput
from backfill.sql_input import checked_column, checked_filter, dialect_of, filter_problem

DIALECTS = ["postgres", "duckdb", None]

ACCEPTED_FILTERS = [
    "status = 'ok'",
    "event_count >= 1",
    "total_amount is not null and metric_date >= date '2024-01-01'",
    "coalesce(event_count, 0) > 0 and extract(day from metric_date) <> 3",
    "cast(metric_date as date) not in (date '2024-01-20', date '2024-01-21')",
    "lower(name) like 'a%' or upper(name) = 'B'",
    "x between 1 and 2",
    "x is distinct from y",
    "case when a > 0 then 1 else 0 end = 1",
    "abs(x) > 1 and round(x, 2) < 10 and length(s) > 1",
    "note = 'a;b' or note = 'c -- d' or note = '/* e */'",  # separators inside a string are text
    "metric_date in (select metric_date from analytics.daily_metrics where event_count > 0)",
    "exists (select 1 from analytics.orders as o where o.day = metric_date)",
    "x in (select a from t union select b from u)",
    "x in (with q as (select 1 as a) select a from q)",
    "(select count(*) from t) > 0",
    '"Order Date" >= \'2024-01-01\'',
]

# (filter, what the sentence says); refused in every dialect.
REFUSED_FILTERS = [
    ("1 = 1; drop table canary; commit", "must be one SQL expression, without ';'"),
    ("event_count > 0;", "without ';'"),
    ("event_count > 0); drop table canary; select (1", "without ';'"),
    ("event_count > 0) or (1 = 1", "is not a SQL expression"),
    ("event_count > 0 -- rest of the line", "has a comment"),
    ("event_count > 0 /* hidden */", "has a comment"),
    ("drop table canary", "must be one boolean expression, not a statement or a query"),
    ("delete from canary", "not a statement or a query"),
    ("select 1", "not a statement or a query"),
    ("commit", "not a statement"),
    ("setval('s', 1) > 0", "calls setval(), a function that is not a standard SQL function"),
    ("nextval('s') > 0", "calls nextval()"),
    ("x in (select nextval('s'))", "calls nextval()"),
    ("pg_sleep(10) is not null", "calls pg_sleep()"),
    ("lo_import('/etc/passwd') > 0", "calls lo_import()"),
    ("dblink('host=evil', 'select 1') is null", "calls dblink()"),
    ("pg_terminate_backend(123)", "calls pg_terminate_backend()"),
    ("a = 1 or set_config('role', 'x', false) = 'x'", "calls set_config()"),
    ("my_udf(x) > 0", "belongs in the model's YAML"),
    ("pg_read_file('/etc/passwd') is not null", "calls pg_read_file()"),
    ("exists (select 1 from read_csv('/etc/passwd'))", "reads files"),
    ("exists (select 1 from read_parquet('s3://bucket/x'))", "reads files"),
    ("x in (select 1 for update)", "holds a subquery that is not a plain select"),
    ("x in (select 1 into intruder)", "holds a subquery that is not a plain select"),
    ("x in (with d as (delete from canary returning 1) select * from d)", "holds a statement (DELETE)"),
    ("'{{ run_query(\"drop table canary\") }}' is not null", "must not contain Jinja"),
    ("'{% do run_query(\"drop table canary\") %}' = ''", "must not contain Jinja"),
    ("x = ", "is not a SQL expression"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text", ACCEPTED_FILTERS)
def test_a_filter_that_is_one_expression_of_known_functions_is_accepted(text, dialect):
    assert filter_problem(text, dialect) is None


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("text, problem", REFUSED_FILTERS)
def test_a_filter_that_is_more_than_one_expression_is_refused(text, problem, dialect):
    found = filter_problem(text, dialect)
    assert found is not None and problem in found, found


def test_a_checked_filter_is_handed_on_in_parentheses_and_refused_in_one_sentence():
    assert checked_filter("--where", "  event_count >= 1 ", "duckdb") == "(event_count >= 1)"
    assert checked_filter("--where", None, "postgres") is None
    assert checked_filter("--where", "   ", "postgres") is None
    with pytest.raises(InvalidInput) as refused:
        checked_filter("--where", "setval('s', 1) > 0", "postgres")
    sentence = str(refused.value)
    assert sentence.startswith("--where calls setval()") and sentence.endswith(".") and "\n" not in sentence
    assert "which the project's author controls" in sentence


def test_the_dialect_is_the_targets_else_generic():
    assert (dialect_of("postgres"), dialect_of("duckdb"), dialect_of("DuckDB")) == ("postgres", "duckdb", "duckdb")
    assert dialect_of("some_adapter") is None and dialect_of(None) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1=();'- */\n", max_size=30))
def test_whatever_is_accepted_has_no_statement_separator_or_comment_outside_a_string(text):
    """Any text: refused, or one expression whose `;`, `--` and `/*` all sit inside string literals."""
    import sqlglot
    from sqlglot import tokens

    if filter_problem(text, "postgres") is None:
        found = sqlglot.tokenize(text, read="postgres")
        assert not any(token.token_type == tokens.TokenType.SEMICOLON or token.comments for token in found)
        assert len(sqlglot.parse(text, read="postgres")) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(DIALECTS))
def test_any_text_gets_an_answer_never_an_exception(text, dialect):
    problem = filter_problem(text, dialect)
    assert problem is None or isinstance(problem, str)


COLUMNS = ["event_count", "item_count", "metric_date", "Mixed Case"]


@pytest.mark.parametrize("value", ["metric_date", "METRIC_DATE", "Metric_Date", '"metric_date"', "`metric_date`",
                                   '"Mixed Case"', " metric_date "])
def test_a_column_named_as_the_relation_has_it_is_accepted(value):
    assert checked_column("--column", value, COLUMNS, "daily_metrics") == value.strip()


@pytest.mark.parametrize("value", [
    "metric_date + cast(setval('s', 1) * 0 as integer)",
    "event_count + nextval('s')",
    "cast(metric_date as date)",
    "metric_date; drop table canary",
    '"metric_date"; drop table canary; --',
    "metric_date -- x",
    "daily_metrics.metric_date",
    "1",
    "",
])
def test_a_column_that_is_an_expression_is_refused_naming_the_option_value_and_columns(value):
    with pytest.raises(InvalidInput) as refused:
        checked_column("--partition-by", value, COLUMNS, "daily_metrics")
    assert str(refused.value) == (
        f"--partition-by '{value.strip()}' is not a column of daily_metrics (it has: event_count, item_count, "
        "metric_date, Mixed Case): on the command line a column is a name; an expression belongs in the model's YAML.")


@pytest.mark.parametrize("value", ["metric_day", '"METRIC_DATE"', '"mixed case"'])
def test_a_name_the_relation_does_not_have_is_refused_as_the_macros_refuse_it(value):
    with pytest.raises(InvalidInput) as refused:
        checked_column("--column", value, COLUMNS, "daily_metrics")
    assert str(refused.value) == (f"daily_metrics has no column '{value}' (it has: event_count, item_count, "
                                  "metric_date, Mixed Case).")


def test_without_the_columns_only_the_shape_is_checked():
    assert checked_column("--column", "anything", None, "daily_metrics") == "anything"
    with pytest.raises(InvalidInput, match=r"^--column 'a \+ 1' is not a column of daily_metrics: on the command"):
        checked_column("--column", "a + 1", None, "daily_metrics")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_an_accepted_column_is_always_one_of_the_relations(value):
    try:
        checked_column("--column", value, COLUMNS, "daily_metrics")
    except InvalidInput:
        return
    stripped = value.strip()
    assert any(stripped.lower() == name.lower() or stripped[1:-1] == name for name in COLUMNS)
