{#-
    Rows per period (and per partition) of `relation`, in one scan: one row per
    period that has rows, with `period_start` and `row_count`. Periods with no
    rows are absent; `find_gaps` and the completeness calendar are built on it.

    Only rows inside the checked range (`period_bounds(grain, start, end)`) and
    matching `where` are read, so a bounded check on a big table reads only
    what it checks.
-#}
{% macro period_counts(relation, column, grain='day', start=none, end=none, partition_by=none, where=none) %}
    {{ return(adapter.dispatch('period_counts', 'backfill')(
        relation, column, grain, start, end, partition_by, where)) }}
{% endmacro %}

{% macro default__period_counts(relation, column, grain, start, end, partition_by, where) %}
    {%- set bounds = backfill.period_bounds(grain, start, end) -%}
    {%- set partitions = backfill._as_list(partition_by) -%}
    {%- set quoted = backfill.checked_columns(relation, [column] + partitions, hourly=(grain == 'hour')) -%}
    {%- set checked_column = quoted[0] -%}
    {%- set partition_columns = quoted[1:] -%}
    {%- set period_expression = backfill.period_of('checked_rows.' ~ checked_column, grain) -%}
    select
        {{ backfill._qualified('checked_rows', partition_columns) }}{{ period_expression }} as period_start,
        count(*) as row_count
    from (select * from {{ relation }}) as checked_rows
    where
        checked_rows.{{ checked_column }} < {{ bounds.end_exclusive_sql }}
    {% if bounds.first_sql is not none %}
        and checked_rows.{{ checked_column }} >= {{ bounds.first_sql }}
    {% endif %}
    {% if where is not none and (where | trim) %}
        and ({{ where }})
    {% endif %}
    group by {{ backfill._qualified('checked_rows', partition_columns) }}{{ period_expression }}
{% endmacro %}
