{#-
    Create the audit schema and tables if they do not exist yet (run-operation),
    and add the columns a table created by an earlier version lacks (nullable,
    so the rows it holds stay as they were).
    `tables` maps each table to its key columns and its columns as
    [name, kind] pairs (TABLES in python/backfill/audit.py); a kind is one of
    text, bigint, float, timestamp, created as dbt's portable type for it.
-#}
{% macro audit_ensure_tables(tables) %}
    {%- set types = {
        'text': dbt.type_string(),
        'bigint': dbt.type_bigint(),
        'float': dbt.type_float(),
        'timestamp': dbt.type_timestamp(),
    } -%}
    {%- set state = namespace(changed=false) -%}
    {%- for name, spec in tables.items() -%}
        {%- set relation = backfill.audit_relation(name) -%}
        {%- do adapter.create_schema(relation) -%}
        {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- if existing is none -%}
            {%- set columns = [] -%}
            {%- for column_name, kind in spec['columns'] -%}
                {%- do columns.append(column_name ~ ' ' ~ types[kind]) -%}
            {%- endfor -%}
            {%- do backfill.audit_execute(
                'create table ' ~ relation ~ ' (' ~ columns | join(', ')
                ~ ', primary key (' ~ spec['keys'] | join(', ') ~ '))') -%}
            {%- set state.changed = true -%}
        {%- endif -%}
        {%- if existing is not none -%}
            {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower')
                | list -%}
            {%- for column_name, kind in spec['columns'] -%}
                {%- if column_name not in present -%}
                    {%- do backfill.audit_execute(
                        'alter table ' ~ relation ~ ' add column ' ~ column_name ~ ' ' ~ types[kind]) -%}
                    {%- set state.changed = true -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.changed -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
