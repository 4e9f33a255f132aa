{#-
    The newest value of `column` already in the model's own table, read when the
    model runs (none at parse time, on a first build, or when the table is empty).

    Without a batch window, `backfill_window` and `delete_window` both start from
    this value, inclusive: the latest period is replaced, late rows of it included,
    and nothing before it is read or written twice. It is read at compile time,
    before the pre-hook deletes anything, and again by the pre-hook, with the same
    answer.
-#}
{% macro latest_loaded(column) %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set latest = run_query('select max(' ~ column ~ ') as latest from ' ~ this).columns[0].values()[0] -%}
    {{ return(latest) }}
{% endmacro %}
