{#-
    A column as it is compared and aggregated: types without `max()` on every
    warehouse (boolean, json, uuid, bytea, xml) are compared as text; everything else as it is.
    With `as_text`, as text whatever its type: a pair of columns whose types hold
    different kinds of values (a date against a text, see `_reconcile_compared_as_text`).
-#}
{% macro _reconcile_comparable(expression, data_type, as_text=false) %}
    {%- set type_name = (data_type or '') | lower -%}
    {%- if as_text or 'bool' in type_name or 'json' in type_name or type_name in ['uuid', 'bytea', 'xml'] -%}
        {{ return(dbt.cast(expression, dbt.type_string()) | trim) }}
    {%- endif -%}
    {{ return(expression) }}
{% endmacro %}


{% macro _reconcile_compared_as_text(data_type, compare_data_type) %}
    {#- Whether a compared pair of columns is compared as text: their types hold different kinds of values
        (a date against a text, a number against a boolean), which warehouses do not compare with `=`
        (PostgreSQL refuses, others cast one way or the other). A type of unknown kind is its own kind. -#}
    {%- set kind = backfill._reconcile_type_kind(data_type) or ((data_type or '') | lower | trim) -%}
    {%- set compare_kind = backfill._reconcile_type_kind(compare_data_type)
        or ((compare_data_type or '') | lower | trim) -%}
    {{ return(data_type is not none and compare_data_type is not none and kind != compare_kind) }}
{% endmacro %}
