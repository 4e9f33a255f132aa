{#- `<prefix>_1, <prefix>_2` for n columns, optionally with a trailing comma. -#}
{% macro _reconcile_numbered(prefix, count, trailing_comma=false) %}
    {%- set items = [] -%}
    {%- for index in range(1, count + 1) -%}
        {%- do items.append(prefix ~ '_' ~ index) -%}
    {%- endfor -%}
    {{ return(items | join(', ') ~ (', ' if trailing_comma and items else '')) }}
{% endmacro %}
