{#-
    Refuses, in one sentence naming both types, a pair of matched columns (a key
    or a group on each side) whose known types hold different kinds of values
    (an integer key against a text key): warehouses do not match them the same
    way (PostgreSQL refuses, DuckDB casts), so one side must be cast.
    Columns of unknown type pass.
-#}
{% macro _reconcile_same_types(model_columns, compare_columns, argument, compare_argument, test_name) %}
    {%- for model_column in model_columns -%}
        {%- set compare_column = compare_columns[loop.index0] -%}
        {%- set model_kind = backfill._reconcile_type_kind(model_column.data_type) -%}
        {%- set compare_kind = backfill._reconcile_type_kind(compare_column.data_type) -%}
        {%- if model_kind and compare_kind and model_kind != compare_kind -%}
            {{ exceptions.raise_compiler_error(
                "backfill." ~ test_name ~ ": " ~ argument ~ " " ~ model_column.name ~ " is "
                ~ (model_column.data_type | lower) ~ " but " ~ compare_argument ~ " " ~ compare_column.name ~ " is "
                ~ (compare_column.data_type | lower) ~ "; cast one side to the other's type, e.g. "
                ~ compare_argument ~ ": [\"cast(" ~ compare_column.name ~ " as " ~ (model_column.data_type | lower)
                ~ ")\"].") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
