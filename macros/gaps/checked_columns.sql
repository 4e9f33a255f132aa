{#-
    The columns a gap check reads besides its period column (partitions), ready
    for SQL through the package's one identifier rule
    (`backfill.column_identifiers`): matched against the real columns of an
    existing relation, ignoring case (a quoted name such as the `"EventDate"` of
    a YAML column with `quote: true` exactly), a missing one refused in one
    sentence, the real spelling quoted; for a relation not built yet, folded as
    the warehouse folds unquoted names and quoted. The period column itself goes
    through `checked_period_column`, which also checks its type.
-#}
{% macro checked_columns(relation, names) %}
    {{ return(backfill._resolved_columns(names, relation) | map(attribute='sql') | list) }}
{% endmacro %}


{% macro _as_list(value) %}
    {#- One column name or a list of them (none: no columns). -#}
    {%- if value is none -%}
        {{ return([]) }}
    {%- elif value is string -%}
        {{ return([value] if value | trim else []) }}
    {%- endif -%}
    {{ return(value | list) }}
{% endmacro %}


{% macro _qualified(alias, columns, trailing=', ') %}
    {#- `alias.a, alias.b` + trailing, or '' without columns: a select list prefix on one line. -#}
    {%- if not columns -%}
        {{ return('') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in columns -%}
        {%- do names.append(alias ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ return(names | join(', ') ~ trailing) }}
{% endmacro %}
