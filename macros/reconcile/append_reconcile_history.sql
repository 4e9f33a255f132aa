{#-
    Appends reconciliation results to `<target schema>.backfill_reconcile_history`
    (created when missing), one row per check, so drift can be followed day by
    day. Called by `python -m backfill reconcile --history` through
    `dbt run-operation`; every value travels as a bound parameter, never pasted
    into the SQL.

    `checks` is a list of mappings with the keys of `history_columns` below
    (missing keys are null); `recorded_at` is the warehouse's current time.
    Totals are kept as `dbt.type_numeric()` (a decimal): `dbt.type_float()` is a
    4-byte float on DuckDB, which turns 644317.26 into 644317.25.
-#}
{% macro append_reconcile_history(checks, table_name='backfill_reconcile_history') %}
    {{ return(adapter.dispatch('append_reconcile_history', 'backfill')(checks, table_name)) }}
{% endmacro %}

{% macro default__append_reconcile_history(checks, table_name) %}
    {%- set history_columns = [
        ('invocation_id', dbt.type_string()),
        ('check_name', dbt.type_string()),
        ('unique_id', dbt.type_string()),
        ('kind', dbt.type_string()),
        ('model', dbt.type_string()),
        ('compare_model', dbt.type_string()),
        ('status', dbt.type_string()),
        ('failures', dbt.type_bigint()),
        ('model_total', dbt.type_numeric()),
        ('compare_total', dbt.type_numeric()),
        ('window_start', dbt.type_string()),
        ('window_end', dbt.type_string()),
        ('message', dbt.type_string()),
    ] -%}
    {%- set relation = api.Relation.create(
        database=target.database, schema=target.schema, identifier=table_name, type='table') -%}
    {%- if adapter.get_relation(database=target.database, schema=target.schema, identifier=table_name) is none -%}
        {%- do adapter.create_schema(relation) -%}
        {%- set definitions = ['recorded_at ' ~ dbt.type_timestamp()] -%}
        {%- for name, data_type in history_columns -%}
            {%- do definitions.append(name ~ ' ' ~ data_type) -%}
        {%- endfor -%}
        {%- do run_query('create table ' ~ relation ~ ' (' ~ definitions | join(', ') ~ ')') -%}
    {%- endif -%}
    {%- set names = history_columns | map(attribute=0) | list -%}
    {%- set placeholders = [] -%}
    {%- for name in names -%}
        {%- do placeholders.append(get_binding_char()) -%}
    {%- endfor -%}
    {%- set insert_sql = 'insert into ' ~ relation ~ ' (recorded_at, ' ~ names | join(', ') ~ ') values ('
        ~ dbt.current_timestamp() ~ ', ' ~ placeholders | join(', ') ~ ')' -%}
    {%- for check in checks -%}
        {%- set bindings = [] -%}
        {%- for name in names -%}
            {%- do bindings.append(check.get(name)) -%}
        {%- endfor -%}
        {%- do adapter.add_query(insert_sql, bindings=bindings) -%}
    {%- endfor -%}
    {%- do adapter.commit() -%}
    {{ log('backfill: appended ' ~ checks | length ~ ' result(s) to ' ~ relation, info=true) }}
{% endmacro %}
