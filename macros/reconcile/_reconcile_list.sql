{#- A test argument that takes one column or a list of them, as a list (none stays empty). -#}
{% macro _reconcile_list(value, argument, test_name) %}
    {%- if value is none -%}
        {{ return([]) }}
    {%- elif value is string -%}
        {{ return([value]) }}
    {%- elif value.identifier is not defined and value is iterable and value is not mapping -%}
        {%- for item in value if item is not string -%}
            {{ exceptions.raise_compiler_error(
                "backfill." ~ test_name ~ ": " ~ argument ~ " must list column names, got " ~ (value | string)) }}
        {%- endfor -%}
        {{ return(value | list) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "backfill." ~ test_name ~ ": " ~ argument ~ " must be a column name or a list of them, got " ~ (value | string)) }}
{% endmacro %}
