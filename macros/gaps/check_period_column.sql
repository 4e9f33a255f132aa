{#-
    Refuses, in one sentence, a column that cannot be the period column of a
    gap check or a backfill of `model`: a column its table does not have, a date
    at grain hour, or a column that is not a date or timestamp. Says nothing
    while the table is not built. The runner calls it (`run-operation`) before
    anything is written.
-#}
{% macro check_period_column(package, model, column, grain='day') %}
    {%- set relation = load_relation(ref(package, model)) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- do backfill.checked_columns(relation, [column], hourly=(grain == 'hour')) -%}
    {%- set plain_name = column | replace('"', '') | lower -%}
    {%- for found in adapter.get_columns_in_relation(relation)
        if (found.name | lower) == plain_name
        and not modules.re.match('^(date|datetime|timestamp)', found.dtype | lower) -%}
        {{ exceptions.raise_compiler_error(
            "backfill: " ~ relation.identifier ~ "." ~ found.name ~ " is " ~ found.dtype
            ~ ", not a date or timestamp, so it has no periods.") }}
    {%- endfor -%}
{% endmacro %}
