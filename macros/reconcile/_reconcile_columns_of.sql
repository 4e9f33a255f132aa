{#-
    The columns (name and data type) of a relation, or of any from-item such as
    the `(select ...) dbt_subquery` dbt passes to a test with a `where` config,
    read from the warehouse with a query that returns no rows.
-#}
{% macro _reconcile_columns_of(relation) %}
    {%- set columns = get_column_schema_from_query('select * from ' ~ relation) -%}
    {{ return(columns) }}
{% endmacro %}
