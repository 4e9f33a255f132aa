{#- A list of user columns, each ready for SQL (see `_reconcile_identifier`). -#}
{% macro _reconcile_identifiers(names) %}
    {%- set quoted = [] -%}
    {%- for name in names -%}
        {%- do quoted.append(backfill._reconcile_identifier(name)) -%}
    {%- endfor -%}
    {{ return(quoted) }}
{% endmacro %}
