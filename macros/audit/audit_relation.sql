{#-
    The audit table `name` (backfill_runs, backfill_batches, backfill_locks): in the
    schema of var `backfill_audit_schema`, default the target schema.
-#}
{% macro audit_relation(name) %}
    {{ return(api.Relation.create(
        database=target.database,
        schema=var('backfill_audit_schema', none) or target.schema,
        identifier=name,
        type='table',
    )) }}
{% endmacro %}
