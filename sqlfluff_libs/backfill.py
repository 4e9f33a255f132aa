"""Stand-ins for the package's macros when sqlfluff renders SQL without dbt.

sqlfluff's Jinja templater knows nothing of the `backfill.` namespace; these
return SQL of the same shape as the real macros so the models around them parse.
"""


def backfill_window(column, this_column=None):
    return f"({column} >= cast('2024-01-01' as date) and {column} < cast('2024-02-01' as date))"


def delete_window(column):
    return ""
