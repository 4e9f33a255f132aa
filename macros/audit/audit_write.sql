{#-
    Write audit rows (run-operation): `rows` is a list of {table, values} where
    `values` maps column names of that table to Python values. Each row replaces
    the row with the same keys; `delete_where` entries ({table, values}) delete
    rows matching all given values first. One transaction for all of it, and two
    statements a table (one delete, one multi-row insert), however many rows.
-#}
{% macro audit_write(rows=[], delete_where=[]) %}
    {%- for entry in delete_where -%}
        {%- set types = dict(backfill.audit_columns(entry.table).columns) -%}
        {%- set conditions = [] -%}
        {%- for column_name, value in entry['values'].items() -%}
            {%- do conditions.append(column_name ~ ' = ' ~ backfill.audit_literal(value, types[column_name])) -%}
        {%- endfor -%}
        {%- set relation = backfill.audit_relation(entry.table) -%}
        {%- do backfill.audit_execute('delete from ' ~ relation ~ ' where ' ~ conditions | join(' and ')) -%}
    {%- endfor -%}
    {%- set tables = [] -%}
    {%- for entry in rows if entry.table not in tables -%}
        {%- do tables.append(entry.table) -%}
    {%- endfor -%}
    {%- for table in tables -%}
        {%- set spec = backfill.audit_columns(table) -%}
        {%- set replaced = [] -%}
        {%- set value_lists = [] -%}
        {%- for entry in rows if entry.table == table -%}
            {%- set key_conditions = [] -%}
            {%- set literals = [] -%}
            {%- for column_name, column_type in spec.columns -%}
                {%- set literal = backfill.audit_literal(entry['values'].get(column_name), column_type) -%}
                {%- if column_name in spec['keys'] -%}
                    {%- do key_conditions.append(column_name ~ ' = ' ~ literal) -%}
                {%- endif -%}
                {%- do literals.append(literal) -%}
            {%- endfor -%}
            {%- if not entry.get('insert_only') -%}
                {%- do replaced.append('(' ~ key_conditions | join(' and ') ~ ')') -%}
            {%- endif -%}
            {%- do value_lists.append('(' ~ literals | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set relation = backfill.audit_relation(table) -%}
        {%- if replaced -%}
            {%- do backfill.audit_execute('delete from ' ~ relation ~ ' where ' ~ replaced | join(' or ')) -%}
        {%- endif -%}
        {%- set names = [] -%}
        {%- for column_name, column_type in spec.columns -%}
            {%- do names.append(column_name) -%}
        {%- endfor -%}
        {%- do backfill.audit_execute(
            'insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ') values ' ~ value_lists | join(', ')) -%}
    {%- endfor -%}
    {%- if rows or delete_where -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
