{#-
    A Python value from the runner as a SQL literal: null, a number, or a quoted
    string with its quotes escaped. Timestamps arrive as ISO strings and are cast.
-#}
{% macro audit_literal(value, column_type) %}
    {%- if value is none -%}
        {{ return('null') }}
    {%- elif value is number and value is not boolean -%}
        {{ return(value ~ '') }}
    {%- elif column_type == dbt.type_timestamp() -%}
        {{ return("cast('" ~ dbt.escape_single_quotes(value ~ '') ~ "' as " ~ column_type ~ ")") }}
    {%- else -%}
        {{ return("'" ~ dbt.escape_single_quotes(value ~ '') ~ "'") }}
    {%- endif -%}
{% endmacro %}
