{#-
    A number rounded to `places` decimal places (default 9), as an exact
    decimal: what a difference is compared with a tolerance or a precision as,
    so binary float noise (1.11 - 1.10 = 0.010000000000000009 in double
    precision) never decides a difference that sits exactly on the bound.
    Portable: every warehouse rounds a decimal (PostgreSQL has no
    round(double precision, int)).
-#}
{% macro _reconcile_rounded(expression, places=9) -%}
    round(cast({{ expression }} as decimal(38, {{ [places + 3, 30] | min }})), {{ places }})
{%- endmacro %}
