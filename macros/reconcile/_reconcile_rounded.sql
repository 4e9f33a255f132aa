{#-
    A number rounded to 9 decimal places, as an exact decimal: what a
    difference is compared with `tolerance` as, so binary float noise
    (1.11 - 1.10 = 0.010000000000000009 in double precision) never fails a
    difference equal to the tolerance. Portable: every warehouse rounds a
    decimal (PostgreSQL has no round(double precision, int)).
-#}
{% macro _reconcile_rounded(expression) -%}
    round(cast({{ expression }} as decimal(38, 12)), 9)
{%- endmacro %}
