{#- What kind of value a warehouse data type holds: number, text, time (a date or a timestamp),
    time_of_day, boolean, or none when unknown. -#}
{% macro _reconcile_type_kind(data_type) %}
    {%- set type_name = (data_type or '') | lower | trim -%}
    {%- if backfill._reconcile_is_number(type_name) -%}
        {{ return('number') }}
    {%- elif modules.re.match('^(char|character|varchar|nvarchar|nchar|bpchar|text|string|citext)', type_name) -%}
        {{ return('text') }}
    {%- elif modules.re.match('^(date|timestamp|datetime|smalldatetime)', type_name) -%}
        {{ return('time') }}
    {%- elif modules.re.match('^time', type_name) -%}
        {{ return('time_of_day') }}
    {%- elif modules.re.match('^bool', type_name) -%}
        {{ return('boolean') }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
