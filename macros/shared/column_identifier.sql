{#-
    One column named by a user (a test argument, a YAML column), ready for SQL.
    See `column_identifiers` for the rules; this is the one-name form.
-#}
{% macro column_identifier(name, relation=none, columns=none, prefix='backfill') %}
    {{ return(adapter.dispatch('column_identifier', 'backfill')(name, relation, columns, prefix)) }}
{% endmacro %}

{% macro default__column_identifier(name, relation, columns, prefix) %}
    {{ return(backfill.column_identifiers([name], relation, columns, prefix)[0]) }}
{% endmacro %}
