{#-
    Checks `tolerance` (absolute, >= 0) and `tolerance_pct` (percent, 0 to 100)
    and refuses anything else with one sentence.
-#}
{% macro _reconcile_tolerance(tolerance, tolerance_pct, test_name) %}
    {%- if tolerance is none or tolerance is boolean or tolerance is not number or tolerance < 0 -%}
        {{ exceptions.raise_compiler_error(
            "backfill." ~ test_name ~ ": tolerance must be a number of 0 or more (got " ~ tolerance ~ ").") }}
    {%- endif -%}
    {%- if tolerance_pct is not none
        and (tolerance_pct is boolean or tolerance_pct is not number or tolerance_pct < 0 or tolerance_pct > 100) -%}
        {{ exceptions.raise_compiler_error(
            "backfill." ~ test_name ~ ": tolerance_pct is a percentage between 0 and 100 (1 means 1%), got "
            ~ tolerance_pct ~ ".") }}
    {%- endif -%}
{% endmacro %}
