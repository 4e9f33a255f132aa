{#-
    The work behind `column_identifiers`: for each name, a mapping with
    `sql` (what to put in SQL), `name` (the real column name, or the folded or
    unquoted name when the columns could not be read; none for an expression)
    and `data_type` (none when unknown). `columns` are the relation's columns
    when the caller has read them (objects with `name` and `dtype`, or names);
    otherwise they are read from `relation` when it exists. A name the columns
    do not hold is refused: `<prefix>: <relation> has no column '<name>' (it has: ...).`
-#}
{% macro _resolved_columns(names, relation=none, columns=none, prefix='backfill') %}
    {#- No names, nothing to resolve: the relation's columns are not read (a catalog query each time). -#}
    {%- if not names -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set known = (columns if columns is not none else backfill._relation_columns(relation)) or none -%}
    {%- set real_names = [] -%}
    {%- set data_types = {} -%}
    {%- for column in known or [] -%}
        {%- set column_name = column if column is string else column.name -%}
        {%- do real_names.append(column_name) -%}
        {%- do data_types.update({column_name: none if column is string else column.dtype}) -%}
    {%- endfor -%}
    {%- set resolved = [] -%}
    {%- for name in names -%}
        {%- set text = (name ~ '') | trim -%}
        {%- set quoted = backfill._unquoted_name(text) -%}
        {%- set plain = modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', text) is not none -%}
        {%- if quoted is none and not plain -%}
            {%- do resolved.append({'sql': name, 'name': none, 'data_type': none}) -%}
        {%- elif known is none -%}
            {%- set real = quoted if quoted is not none else backfill.folded_name(text) -%}
            {%- do resolved.append({'sql': adapter.quote(real), 'name': real, 'data_type': none}) -%}
        {%- else -%}
            {%- set real = backfill._matched_column(text, real_names) -%}
            {%- if real is none -%}
                {%- set inner = modules.re.match('^\\(\\s*select \\* from (.+?) where ', (relation ~ '') | trim) -%}
                {%- set label = relation.identifier if (relation is not string and relation.identifier is defined)
                    else (inner.group(1) if inner else (relation ~ '') | trim) -%}
                {{ exceptions.raise_compiler_error(
                    prefix ~ ": " ~ label ~ " has no column '" ~ text ~ "' (it has: "
                    ~ (real_names | sort | join(', ')) ~ ").") }}
            {%- endif -%}
            {%- do resolved.append({'sql': adapter.quote(real), 'name': real, 'data_type': data_types[real]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(resolved) }}
{% endmacro %}
