{#-
    Write audit rows (run-operation): `rows` is a list of {table, values} where
    `values` maps column names of that table to Python values. Each row replaces
    the row with the same keys; `delete_where` entries ({table, values}) delete
    rows matching all given values first. One transaction for all of it.
-#}
{% macro audit_write(rows=[], delete_where=[]) %}
    {%- for entry in delete_where -%}
        {%- set spec = backfill.audit_columns(entry.table) -%}
        {%- set types = dict(spec.columns) -%}
        {%- set conditions = [] -%}
        {%- for column_name, value in entry['values'].items() -%}
            {%- do conditions.append(column_name ~ ' = ' ~ backfill.audit_literal(value, types[column_name])) -%}
        {%- endfor -%}
        {%- set relation = backfill.audit_relation(entry.table) -%}
        {%- do backfill.audit_execute('delete from ' ~ relation ~ ' where ' ~ conditions | join(' and ')) -%}
    {%- endfor -%}
    {%- for entry in rows -%}
        {%- set spec = backfill.audit_columns(entry.table) -%}
        {%- set relation = backfill.audit_relation(entry.table) -%}
        {%- set key_conditions = [] -%}
        {%- set names = [] -%}
        {%- set literals = [] -%}
        {%- for column_name, column_type in spec.columns -%}
            {%- set literal = backfill.audit_literal(entry['values'].get(column_name), column_type) -%}
            {%- if column_name in spec['keys'] -%}
                {%- do key_conditions.append(column_name ~ ' = ' ~ literal) -%}
            {%- endif -%}
            {%- do names.append(column_name) -%}
            {%- do literals.append(literal) -%}
        {%- endfor -%}
        {%- if not entry.get('insert_only') -%}
            {%- do backfill.audit_execute('delete from ' ~ relation ~ ' where ' ~ key_conditions | join(' and ')) -%}
        {%- endif -%}
        {%- do backfill.audit_execute(
            'insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ') values (' ~ literals | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- if rows or delete_where -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
