{#-
    How many rows of `relation` fall in the window `start_value`..`end_value`
    (inclusive, as the window vars take them), by its date or timestamp `column`. The runner
    counts a batch's rows with it where the warehouse does not report them
    (DuckDB); it is called with the window as arguments, not vars, so one
    compiled macro serves every batch.
-#}
{% macro rows_in_window(relation, column, start_value, end_value) %}
    {%- set bounds = backfill.window_bounds(start_value, end_value) -%}
    {%- set quoted = adapter.quote(column) -%}
    {%- set counted = run_query(
        'select count(*) as row_count from ' ~ relation
        ~ ' where ' ~ quoted ~ ' >= ' ~ bounds.start ~ ' and ' ~ quoted ~ ' < ' ~ bounds.end_exclusive) -%}
    {{ return(counted.columns[0].values()[0] | int) }}
{% endmacro %}
