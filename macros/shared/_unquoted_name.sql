{#-
    The name inside an already quoted identifier (`"EventDate"` gives
    EventDate, `"a ""b"""` gives a "b", a backquoted name likewise), or none
    when `name` is not one quoted identifier.
-#}
{% macro _unquoted_name(name) %}
    {%- set text = (name ~ '') | trim -%}
    {%- set double_quoted = modules.re.match('^"((?:[^"]|"")+)"$', text) -%}
    {%- if double_quoted -%}
        {{ return(double_quoted.group(1) | replace('""', '"')) }}
    {%- endif -%}
    {%- set back_quoted = modules.re.match('^`([^`]+)`$', text) -%}
    {{ return(back_quoted.group(1) if back_quoted else none) }}
{% endmacro %}
