{#-
    `expression` (a period start) moved by `steps` periods of `grain`, keeping
    its type: a date for day, week and month, a timestamp for hour.
-#}
{% macro period_shift(expression, grain, steps) %}
    {{ return(adapter.dispatch('period_shift', 'backfill')(expression, grain, steps)) }}
{% endmacro %}

{% macro default__period_shift(expression, grain, steps) %}
    {%- set datepart = 'day' if grain == 'week' else grain -%}
    {%- set amount = steps * 7 if grain == 'week' else steps -%}
    {%- set type = dbt.type_timestamp() if grain == 'hour' else 'date' -%}
    cast({{ dbt.dateadd(datepart, amount, expression) }} as {{ type }})
{%- endmacro %}
