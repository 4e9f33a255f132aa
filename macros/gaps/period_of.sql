{#-
    The SQL expression of the period of `grain` that holds `expression`: a date
    for day, week (ISO, Monday first) and month, a timestamp for hour.

    Values are taken as stored, with no time zone conversion: a timestamp's day
    is the day written in it (a `timestamp with time zone` is read in the
    connection's time zone, as the database does for any cast to date).
-#}
{% macro period_of(expression, grain) %}
    {{ return(adapter.dispatch('period_of', 'backfill')(expression, grain)) }}
{% endmacro %}

{% macro default__period_of(expression, grain) %}
    {%- if grain == 'hour' -%}
        {{ dbt.date_trunc('hour', 'cast(' ~ expression ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- elif grain == 'day' -%}
        cast({{ expression }} as date)
    {%- elif grain in ('week', 'month') -%}
        cast({{ dbt.date_trunc(grain, 'cast(' ~ expression ~ ' as ' ~ dbt.type_timestamp() ~ ')') }} as date)
    {%- elif execute -%}
        {{ exceptions.raise_compiler_error(
            "backfill: unknown grain '" ~ grain ~ "': use one of hour, day, week, month.") }}
    {%- endif -%}
{% endmacro %}

{% macro bigquery__period_of(expression, grain) %}
    {#- BigQuery's weeks start on Sunday; ISO weeks are `isoweek`. -#}
    {%- if grain == 'week' -%}
        date_trunc(cast({{ expression }} as date), isoweek)
    {%- else -%}
        {{ backfill.default__period_of(expression, grain) }}
    {%- endif -%}
{% endmacro %}
