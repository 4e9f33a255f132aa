{#-
    Refuses, in one sentence, a column that cannot be the period column of a
    gap check or a backfill of `model`: a column its table does not have, a date
    at grain hour, or a column that is not a date or timestamp — the sentences
    of `checked_period_column`, which the dbt tests say too. Says nothing while
    the table is not built. The runner calls it (`run-operation`) before
    anything is written; it returns the column's data type and, for a timestamp
    with time zone, the session's time zone (the batch window's bounds are read
    in it, see `session_time_zone`).
-#}
{% macro check_period_column(package, model, column, grain='day') %}
    {%- set relation = load_relation(ref(package, model)) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set checked = backfill.checked_period_column(relation, column, grain) -%}
    {{ return({'data_type': checked.data_type, 'zoned': checked.zoned,
               'session_time_zone': backfill.session_time_zone() if checked.zoned else none}) }}
{% endmacro %}
