{#-
    The time zone of the warehouse session (`UTC`, `Europe/Berlin`), or none
    where it cannot be read. A batch window's bounds are compared with a
    timestamp with time zone in this zone, while gap checks read such a column
    in UTC: the runner warns when the two differ.
-#}
{% macro session_time_zone() %}
    {{ return(adapter.dispatch('session_time_zone', 'backfill')()) }}
{% endmacro %}

{% macro default__session_time_zone() %}
    {{ return(none) }}
{% endmacro %}

{% macro postgres__session_time_zone() %}
    {{ return(run_query("select current_setting('TimeZone') as time_zone").columns[0].values()[0]) }}
{% endmacro %}

{% macro duckdb__session_time_zone() %}
    {{ return(run_query("select current_setting('TimeZone') as time_zone").columns[0].values()[0]) }}
{% endmacro %}
