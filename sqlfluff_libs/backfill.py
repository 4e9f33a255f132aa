"""Stand-ins for the package's macros when sqlfluff renders SQL without dbt.

sqlfluff's Jinja templater knows nothing of the `backfill.` namespace; these
return SQL of the same shape as the real macros so the models around them parse.
"""


def backfill_window(column, this_column=None):
    return f"({column} >= cast('2024-01-01' as date) and {column} < cast('2024-02-01' as date))"


def delete_window(column):
    return ""


def valid_at(date_expr, valid_from="dbt_valid_from", valid_to="dbt_valid_to", end_inclusive=False, valid_to_current=None):
    end = "<=" if end_inclusive else "<"
    return f"({valid_from} <= {date_expr} and ({valid_to} is null or {date_expr} {end} {valid_to}))"


def as_of(relation, date_expr, **kwargs):
    return f"(select * from {relation} where {valid_at(date_expr)})"


def period_of(expression, grain):
    return f"cast(date_trunc('{grain}', {expression}) as date)"
