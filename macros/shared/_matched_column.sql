{#-
    The real name, among `column_names`, of the column a user named, or none:
    a quoted name matches exactly; a plain name matches as written, then as
    the warehouse folds it, then ignoring case. An expression matches nothing.
-#}
{% macro _matched_column(name, column_names) %}
    {%- set text = (name ~ '') | trim -%}
    {%- set quoted = backfill._unquoted_name(text) -%}
    {%- if quoted is not none -%}
        {{ return(quoted if quoted in column_names else none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', text) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for candidate in [text, backfill.folded_name(text)] if candidate in column_names -%}
        {{ return(candidate) }}
    {%- endfor -%}
    {%- for column_name in column_names if (column_name | lower) == (text | lower) -%}
        {{ return(column_name) }}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}
