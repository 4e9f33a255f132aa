{#-
    The columns a gap check reads, quoted through the adapter.

    When `relation` is a relation that exists, each name is matched (ignoring
    case) against its real columns and a missing one is refused in one sentence;
    the real spelling is quoted, so SQL keywords and mixed case work. For a
    subquery (a test with a `where` config) or a relation not built yet, names
    are quoted as given. With `hourly`, the first name must not be a date column
    (an hourly check of a date would report 23 missing hours a day).
-#}
{% macro checked_columns(relation, names, hourly=false) %}
    {%- set real_names = {} -%}
    {%- if execute and relation is not string and relation.identifier is defined -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do real_names.update({column.name | lower: column.name}) -%}
            {%- if hourly and (column.name | lower) == (names[0] | lower) and (column.dtype | lower) == 'date' -%}
                {{ exceptions.raise_compiler_error(
                    "backfill: " ~ relation.identifier ~ "." ~ column.name
                    ~ " is a date, so it has no hours: use grain day, week or month.") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}
        {%- if real_names and (name | lower) not in real_names -%}
            {{ exceptions.raise_compiler_error(
                "backfill: " ~ relation.identifier ~ " has no column '" ~ name ~ "' (it has: "
                ~ (real_names.values() | sort | join(', ')) ~ ").") }}
        {%- endif -%}
        {%- do quoted.append(adapter.quote(real_names.get(name | lower, name))) -%}
    {%- endfor -%}
    {{ return(quoted) }}
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
