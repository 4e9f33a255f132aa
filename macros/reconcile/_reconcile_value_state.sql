{#-
    The `when` branches of a case saying how two values of a matched row compare, null-safely and portably (no
    `is distinct from`): 0 equal (both null counts as equal), 1 different,
    2 null in the model only, 3 null in compare_model only. With `precision`
    (decimal places), numbers closer than 10^-precision are equal: their
    difference is rounded three places further first (`_reconcile_rounded`), so
    a difference of exactly 10^-precision differs on every row and every
    warehouse, whatever float noise the subtraction leaves.
-#}
{% macro _reconcile_value_state(model_value, compare_value, precision=none) -%}
    {%- set equal = (model_value ~ ' = ' ~ compare_value) if precision is none
        else (backfill._reconcile_rounded('abs(' ~ model_value ~ ' - ' ~ compare_value ~ ')', (precision | int) + 3)
              ~ ' < ' ~ backfill._reconcile_precision_step(precision)) -%}
    {{- 'when ' ~ model_value ~ ' is null and ' ~ compare_value ~ ' is null then 0'
        ~ ' when ' ~ model_value ~ ' is null then 2'
        ~ ' when ' ~ compare_value ~ ' is null then 3'
        ~ ' when ' ~ equal ~ ' then 0 else 1' -}}
{%- endmacro %}
