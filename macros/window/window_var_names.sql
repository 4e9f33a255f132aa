{#-
    The names of the two vars that carry a batch window into a model.
    Default `start_date` / `end_date` (the playbook's names); a model renames them
    with `meta: {backfill: {start_var: ..., end_var: ...}}` in its config.
-#}
{% macro window_var_names() %}
    {%- set settings = (config.get('meta') or {}).get('backfill') or {} -%}
    {{ return([settings.get('start_var', 'start_date'), settings.get('end_var', 'end_date')]) }}
{% endmacro %}
