{#-
    Columns of the audit tables, in order, with portable types. The first
    `keys` columns identify a row (an upsert replaces the row with those keys).
-#}
{% macro audit_columns(name) %}
    {%- set text = dbt.type_string() -%}
    {%- set stamp = dbt.type_timestamp() -%}
    {%- set whole = dbt.type_bigint() -%}
    {%- set real = dbt.type_float() -%}
    {%- set tables = {
        'backfill_runs': {'keys': ['run_id'], 'columns': [
            ('run_id', text), ('model', text), ('target_name', text), ('status', text),
            ('range_start', text), ('range_end', text), ('grain', text), ('batch_size', whole),
            ('batches_total', whole), ('batches_done', whole), ('options', text),
            ('invoked_by', text), ('started_at', stamp), ('finished_at', stamp), ('error', text)]},
        'backfill_batches': {'keys': ['run_id', 'batch_index'], 'columns': [
            ('run_id', text), ('batch_index', whole), ('window_start', text), ('window_end', text),
            ('status', text), ('attempts', whole), ('rows_written', whole), ('duration_s', real),
            ('started_at', stamp), ('finished_at', stamp), ('checks', text), ('error', text)]},
        'backfill_locks': {'keys': ['model'], 'columns': [
            ('model', text), ('run_id', text), ('host', text), ('pid', whole),
            ('acquired_at', stamp), ('heartbeat_at', stamp)]},
    } -%}
    {{ return(tables[name]) }}
{% endmacro %}
