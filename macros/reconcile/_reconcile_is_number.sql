{#- Whether a warehouse data type name is numeric (integers, decimals, floats). -#}
{% macro _reconcile_is_number(data_type) %}
    {%- set pattern = '^(numeric|decimal|number|float|double|real|int|integer|bigint|smallint|tinyint|hugeint'
        ~ '|ubigint|uinteger|usmallint|utinyint|int2|int4|int8|float4|float8|bignumeric)' -%}
    {{ return(modules.re.match(pattern, (data_type or '') | lower | trim) is not none) }}
{% endmacro %}
