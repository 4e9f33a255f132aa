{#-
    Rows per period (and per partition) of `relation`, in one scan: one row per
    period that has rows, with `period_start` and `row_count`. Periods with no
    rows are absent; `find_gaps` and the completeness calendar are built on it.

    Only rows inside the checked range (`period_bounds(grain, start, end)`) and
    matching `where` are read, so a bounded check on a big table reads only
    what it checks. The period column must be a date or timestamp; a timestamp
    with time zone is counted in UTC periods (`checked_period_column`).
-#}
{% macro period_counts(relation, column, grain='day', start=none, end=none, partition_by=none, where=none) %}
    {{ return(adapter.dispatch('period_counts', 'backfill')(
        relation, column, grain, start, end, partition_by, where)) }}
{% endmacro %}

{% macro default__period_counts(relation, column, grain, start, end, partition_by, where) %}
    {%- set bounds = backfill.period_bounds(grain, start, end) -%}
    {%- set partitions = backfill._as_list(partition_by) -%}
    {%- set period_column = backfill.checked_period_column(relation, column, grain, alias='checked_rows') -%}
    {%- set partition_columns = backfill.checked_columns(relation, partitions) -%}
    {%- set period_expression = backfill.period_of(period_column.value, grain) -%}
    select
        {{ backfill._qualified('checked_rows', partition_columns) }}{{ period_expression }} as period_start,
        count(*) as row_count
    from (select * from {{ relation }}) as checked_rows
    where
        {{ period_column.value }} < {{ bounds.end_exclusive_sql }}
    {% if bounds.first_sql is not none %}
        and {{ period_column.value }} >= {{ bounds.first_sql }}
    {% endif %}
    {% if where is not none and (where | trim) %}
        and ({{ where }})
    {% endif %}
    group by {{ backfill._qualified('checked_rows', partition_columns) }}{{ period_expression }}
{% endmacro %}
