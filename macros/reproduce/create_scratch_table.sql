{#-
    Materialise `sql` as a new table `database.schema.identifier`, for
    `python -m backfill verify` (a window recomputed beside the stored table).
    Refuses to touch an existing relation: the name must be a fresh one.
    Called through `dbt run-operation`, which does not commit by itself.
-#}
{% macro create_scratch_table(database, schema, identifier, sql) %}
    {{ return(adapter.dispatch('create_scratch_table', 'backfill')(database, schema, identifier, sql)) }}
{% endmacro %}

{% macro default__create_scratch_table(database, schema, identifier, sql) %}
    {%- if adapter.get_relation(database=database, schema=schema, identifier=identifier) is not none -%}
        {{ exceptions.raise_compiler_error(
            "backfill: the scratch table " ~ schema ~ "." ~ identifier ~ " already exists; not replacing it") }}
    {%- endif -%}
    {%- set relation = api.Relation.create(database=database, schema=schema, identifier=identifier, type='table') -%}
    {%- do run_query(get_create_table_as_sql(false, relation, sql)) -%}
    {%- do adapter.commit() -%}
{% endmacro %}
