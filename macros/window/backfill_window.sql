{#-
    The predicate an incremental model puts in its WHERE clause.

    - When the runner passes a window (vars `start_date` / `end_date`, or the
      names the model configures), it selects exactly that window.
    - Otherwise, on an incremental run (a scheduled `dbt run`), everything from
      the latest period already loaded, inclusive (see `latest_loaded`); the
      `delete_window` pre-hook removes that period first, so it is replaced.
    - Otherwise (first build, full refresh) everything: `1 = 1`.

    `column` is a SQL expression of the model's input (e.g. `events.event_date`);
    `this_column` is the matching column of the model itself (defaults to `column`).
-#}
{% macro backfill_window(column, this_column=none) %}
    {{ return(adapter.dispatch('backfill_window', 'backfill')(column, this_column)) }}
{% endmacro %}

{% macro default__backfill_window(column, this_column=none) %}
    {%- set bounds = backfill.window_bounds() -%}
    {%- set latest = backfill.latest_loaded(this_column or column) if bounds is none else none -%}
    {%- if bounds is not none -%}
        ({{ column }} >= {{ bounds.start }} and {{ column }} < {{ bounds.end_exclusive }})
    {%- elif latest is not none -%}
        ({{ column }} >= {{ backfill._window_literal(latest, latest.hour is defined) }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{% endmacro %}
