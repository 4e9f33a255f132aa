{#-
    `expression as <prefix>_1, expression as <prefix>_2, ` for a list of
    expressions (each followed by a comma, so it can open a select list), or
    '' for none.
-#}
{% macro _reconcile_aliased(expressions, prefix) %}
    {%- set items = [] -%}
    {%- for expression in expressions -%}
        {%- do items.append(expression ~ ' as ' ~ prefix ~ '_' ~ loop.index ~ ', ') -%}
    {%- endfor -%}
    {{ return(items | join('')) }}
{% endmacro %}
