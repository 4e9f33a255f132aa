{#-
    Create the audit schema and tables if they do not exist yet (run-operation).
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
    {%- set state = namespace(created=false) -%}
    {%- for name, spec in tables.items() -%}
        {%- set relation = backfill.audit_relation(name) -%}
        {%- do adapter.create_schema(relation) -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {%- set columns = [] -%}
            {%- for column_name, kind in spec['columns'] -%}
                {%- do columns.append(column_name ~ ' ' ~ types[kind]) -%}
            {%- endfor -%}
            {%- do backfill.audit_execute(
                'create table ' ~ relation ~ ' (' ~ columns | join(', ')
                ~ ', primary key (' ~ spec['keys'] | join(', ') ~ '))') -%}
            {%- set state.created = true -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.created -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
