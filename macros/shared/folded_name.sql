{#-
    The name under which the warehouse stores an unquoted identifier: lower case
    on PostgreSQL, Redshift, DuckDB and most others, upper case on Snowflake.
-#}
{% macro folded_name(name) %}
    {{ return(adapter.dispatch('folded_name', 'backfill')(name)) }}
{% endmacro %}

{% macro default__folded_name(name) %}
    {{ return(name | lower) }}
{% endmacro %}

{% macro snowflake__folded_name(name) %}
    {{ return(name | upper) }}
{% endmacro %}
