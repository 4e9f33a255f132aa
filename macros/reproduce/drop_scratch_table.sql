{#-
    Drop the scratch table `create_scratch_table` made (nothing if it is gone).
    Only names starting with `backfill_verify_` are dropped, so a wrong
    identifier can never remove a user's table.
-#}
{% macro drop_scratch_table(database, schema, identifier) %}
    {{ return(adapter.dispatch('drop_scratch_table', 'backfill')(database, schema, identifier)) }}
{% endmacro %}

{% macro default__drop_scratch_table(database, schema, identifier) %}
    {%- if not identifier.startswith('backfill_verify_') -%}
        {{ exceptions.raise_compiler_error(
            "backfill: refusing to drop " ~ identifier ~ ", which is not a scratch table of verify") }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- if relation is not none -%}
        {%- do adapter.drop_relation(relation) -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
