{#-
    The name a group or key column gets in the failing rows: the column's own
    name as written when it is a plain name, `<fallback>` (e.g. `group_1`) for
    anything else (an expression, a quoted name) and for a name the builders
    use for their own output columns (`issue`, `missing_in`, `difference`, ...)
    or their numbered columns (`group_2`, `key_1`), so a user column never
    collides with them.
-#}
{% macro _reconcile_output_name(name, fallback) %}
    {%- set text = name | trim -%}
    {%- set own_columns = [
        'model_value', 'compare_value', 'difference', 'difference_pct', 'missing_in', 'model_rows',
        'compare_rows', 'model_total', 'compare_total', 'groups_compared', 'issue', 'column_name',
        'compare_column_name',
    ] -%}
    {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', text)
        and (text | lower) not in own_columns
        and not modules.re.match('^(group|key)_[0-9]+$', text | lower) -%}
        {{ return(adapter.quote(text)) }}
    {%- endif -%}
    {{ return(fallback) }}
{% endmacro %}
