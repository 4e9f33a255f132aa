{#-
    The columns a gap check reads, ready for SQL through the package's one
    identifier rule (`backfill.column_identifiers`): matched against the real
    columns of an existing relation, ignoring case (a quoted name such as the
    `"EventDate"` of a YAML column with `quote: true` exactly), a missing one
    refused in one sentence, the real spelling quoted; for a subquery (a test
    with a `where` config) or a relation not built yet, folded as the warehouse
    folds unquoted names and quoted. With `hourly`, the first name must not be
    a date column (an hourly check of a date would report 23 missing hours a day).
-#}
{% macro checked_columns(relation, names, hourly=false) %}
    {%- set resolved = backfill._resolved_columns(names, relation) -%}
    {%- if hourly and resolved and (resolved[0].data_type or '') | lower == 'date' -%}
        {{ exceptions.raise_compiler_error(
            "backfill: " ~ (relation.identifier if relation.identifier is defined else relation) ~ "." ~ resolved[0].name
            ~ " is a date, so it has no hours: use grain day, week or month.") }}
    {%- endif -%}
    {{ return(resolved | map(attribute='sql') | list) }}
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
