{#- 10^-precision as an exact decimal literal (`precision: 3` gives 0.001). -#}
{% macro _reconcile_precision_step(precision) %}
    {%- if precision is boolean or precision is not number or precision < 0 or precision != (precision | int) -%}
        {{ exceptions.raise_compiler_error(
            "backfill.reconcile_rows: precision is a number of decimal places, a whole number of 0 or more (got "
            ~ precision ~ ").") }}
    {%- endif -%}
    {{ return('1' if precision == 0 else '0.' ~ '0' * ((precision | int) - 1) ~ '1') }}
{% endmacro %}
