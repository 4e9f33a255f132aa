{#-
    A pre-hook that empties the batch window of the model's own table before the
    incremental insert, so a batch replaces exactly its window: rows the new logic
    no longer produces disappear, rows outside the window stay. Without a window,
    on an incremental run, it empties the latest loaded period, which
    `backfill_window` then reads again.

    dbt runs pre-hooks inside the same transaction as the incremental insert, so
    the delete and the insert commit together. Renders to nothing (no statement)
    on a first build or a full refresh.

        {{ config(materialized='incremental',
                  pre_hook="{{ backfill.delete_window('metric_date') }}") }}
-#}
{% macro delete_window(column) %}
    {{ return(adapter.dispatch('delete_window', 'backfill')(column)) }}
{% endmacro %}

{% macro default__delete_window(column) %}
    {%- set bounds = backfill.window_bounds() -%}
    {%- set latest = backfill.latest_loaded(column) if bounds is none else none -%}
    {%- if bounds is not none and is_incremental() -%}
        delete from {{ this }}
        where {{ column }} >= {{ bounds.start }} and {{ column }} < {{ bounds.end_exclusive }}
    {%- elif latest is not none -%}
        delete from {{ this }}
        where {{ column }} >= {{ backfill._window_literal(latest, latest.hour is defined) }}
    {%- endif -%}
{% endmacro %}
