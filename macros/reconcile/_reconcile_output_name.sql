{#-
    The name a group or key column gets in the failing rows: the column's own
    name when it is a plain name, `<fallback>` (e.g. `group_1`) for an expression.
-#}
{% macro _reconcile_output_name(name, fallback) %}
    {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', name | trim) -%}
        {{ return(adapter.quote(name | trim)) }}
    {%- endif -%}
    {{ return(fallback) }}
{% endmacro %}
