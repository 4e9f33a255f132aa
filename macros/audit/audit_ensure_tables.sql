{#- Create the audit schema and tables if they do not exist yet (run-operation). -#}
{% macro audit_ensure_tables() %}
    {%- set state = namespace(created=false) -%}
    {%- for name in ['backfill_runs', 'backfill_batches', 'backfill_locks'] -%}
        {%- set relation = backfill.audit_relation(name) -%}
        {%- do adapter.create_schema(relation) -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {%- set spec = backfill.audit_columns(name) -%}
            {%- set columns = [] -%}
            {%- for column_name, column_type in spec.columns -%}
                {%- do columns.append(column_name ~ ' ' ~ column_type) -%}
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
