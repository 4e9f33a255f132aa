{#-
    `<prefix>_1 as <first name>, ...` : the numbered group or key columns back
    under the model's names (expressions keep `<prefix>_n`), each followed by a comma.
-#}
{% macro _reconcile_renamed(names, prefix) %}
    {%- set items = [] -%}
    {%- for name in names -%}
        {%- set numbered = prefix ~ '_' ~ loop.index -%}
        {%- do items.append(numbered ~ ' as ' ~ backfill._reconcile_output_name(name, numbered) ~ ', ') -%}
    {%- endfor -%}
    {{ return(items | join('')) }}
{% endmacro %}
