{#-
    A timestamp with time zone as the UTC timestamp (without time zone) it
    names: what a gap check reads such a column as, so periods are UTC periods
    whatever the session's time zone.
-#}
{% macro utc_timestamp(expression) %}
    {{ return(adapter.dispatch('utc_timestamp', 'backfill')(expression)) }}
{% endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast(({{ expression }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro snowflake__utc_timestamp(expression) -%}
    cast(convert_timezone('UTC', {{ expression }}) as timestamp_ntz)
{%- endmacro %}
