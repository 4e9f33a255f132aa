{#- What is wrong with a key, from the number of rows it has on each side (a key can be missing and duplicated). -#}
{% macro _reconcile_key_issue(model_rows, compare_rows) -%}
    case
        when {{ model_rows }} = 0 and {{ compare_rows }} > 1 then 'missing in model and duplicated in compare_model'
        when {{ compare_rows }} = 0 and {{ model_rows }} > 1 then 'missing in compare_model and duplicated in model'
        when {{ compare_rows }} = 0 then 'missing in compare_model'
        when {{ model_rows }} = 0 then 'missing in model'
        when {{ model_rows }} > 1 and {{ compare_rows }} > 1 then 'duplicated on both sides'
        when {{ model_rows }} > 1 then 'duplicated in model'
        when {{ compare_rows }} > 1 then 'duplicated in compare_model'
    end
{%- endmacro %}
