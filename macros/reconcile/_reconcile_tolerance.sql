{#-
    Checks `tolerance` (absolute, >= 0) and `tolerance_pct` (percent, 0 to 100)
    and refuses anything else with one sentence; a number written as text
    (`tolerance_pct: '5'`) is told to be a number.
-#}
{% macro _reconcile_tolerance(tolerance, tolerance_pct, test_name) %}
    {%- for argument, value in [('tolerance', tolerance), ('tolerance_pct', tolerance_pct)] -%}
        {%- if value is string and modules.re.match('^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)\\s*$', value) -%}
            {{ exceptions.raise_compiler_error(
                "backfill." ~ test_name ~ ": " ~ argument ~ " must be a number, not the text '" ~ value
                ~ "' (write " ~ argument ~ ": " ~ value | trim ~ ", without quotes).") }}
        {%- endif -%}
    {%- endfor -%}
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
