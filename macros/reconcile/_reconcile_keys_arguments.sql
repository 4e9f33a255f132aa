{#- key_columns and compare_key_columns (default: the same names) as two lists of equal length. -#}
{% macro _reconcile_keys_arguments(key_columns, compare_key_columns, test_name) %}
    {%- set model_keys = backfill._reconcile_list(key_columns, 'key_columns', test_name) -%}
    {%- if not model_keys -%}
        {{ exceptions.raise_compiler_error(
            "backfill." ~ test_name ~ ": set key_columns, the column(s) that identify a row.") }}
    {%- endif -%}
    {%- set compare_keys = backfill._reconcile_list(compare_key_columns, 'compare_key_columns', test_name)
        or model_keys -%}
    {%- if compare_keys | length != model_keys | length -%}
        {{ exceptions.raise_compiler_error(
            "backfill." ~ test_name ~ ": key_columns and compare_key_columns must name as many columns ("
            ~ model_keys | length ~ " and " ~ compare_keys | length ~ ").") }}
    {%- endif -%}
    {{ return({'model': model_keys, 'compare': compare_keys}) }}
{% endmacro %}
