{#-
    A column as it is compared and aggregated: types without `max()` on every
    warehouse (boolean, json) are compared as text; everything else as it is.
-#}
{% macro _reconcile_comparable(expression, data_type) %}
    {%- set type_name = (data_type or '') | lower -%}
    {%- if 'bool' in type_name or 'json' in type_name -%}
        {{ return(dbt.cast(expression, dbt.type_string()) | trim) }}
    {%- endif -%}
    {{ return(expression) }}
{% endmacro %}
