{#-
    The batch window the runner passed, as SQL literals, or none when no window
    var is set; `start_value` / `end_value` give the window instead of the vars.

    Both vars are inclusive: a date (`2024-01-31`) names a whole day, a timestamp
    (`2024-01-31 23:00:00`) names that hour. The returned `end_exclusive` is the
    first instant after the window, so the predicate works on date and timestamp
    columns alike. Values are parsed and re-printed, never pasted as given.
-#}
{% macro window_bounds(start_value=none, end_value=none) %}
    {#- At parse time nothing runs: leave checking the values to execution. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set names = backfill.window_var_names() -%}
    {%- if start_value is none and end_value is none -%}
        {%- set start_value = var(names[0], none) -%}
        {%- set end_value = var(names[1], none) -%}
    {%- endif -%}
    {%- if start_value is none and end_value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start_value is none or end_value is none -%}
        {{ exceptions.raise_compiler_error(
            "backfill: set both vars '" ~ names[0] ~ "' and '" ~ names[1] ~ "', or neither") }}
    {%- endif -%}
    {%- set start_bound = backfill._parse_window_value(names[0], start_value) -%}
    {%- set end_bound = backfill._parse_window_value(names[1], end_value) -%}
    {%- if end_bound.value < start_bound.value -%}
        {{ exceptions.raise_compiler_error(
            "backfill: var '" ~ names[1] ~ "' (" ~ end_value ~ ") is before var '"
            ~ names[0] ~ "' (" ~ start_value ~ ")") }}
    {%- endif -%}
    {%- set end_exclusive = end_bound.value + end_bound.step -%}
    {{ return({
        'start': backfill._window_literal(start_bound.value, start_bound.is_timestamp),
        'end_exclusive': backfill._window_literal(end_exclusive, end_bound.is_timestamp),
        'start_value': start_bound.value,
        'end_value': end_bound.value,
    }) }}
{% endmacro %}


{% macro _parse_window_value(name, raw_value) %}
    {%- set text = (raw_value ~ '') | trim | replace('T', ' ') -%}
    {%- set datetime = modules.datetime -%}
    {%- if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {%- set parsed = datetime.datetime.strptime(text, '%Y-%m-%d') -%}
        {{ return({'value': parsed, 'step': datetime.timedelta(days=1), 'is_timestamp': false}) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(:[0-9]{2})?$', text) -%}
        {{ exceptions.raise_compiler_error(
            "backfill: var '" ~ name ~ "' is '" ~ raw_value ~ "', not a date (YYYY-MM-DD) or an hour (YYYY-MM-DD HH:00:00)") }}
    {%- endif -%}
    {%- set parsed = datetime.datetime.strptime(text[:16], '%Y-%m-%d %H:%M') -%}
    {{ return({'value': parsed, 'step': datetime.timedelta(hours=1), 'is_timestamp': true}) }}
{% endmacro %}


{% macro _window_literal(value, is_timestamp) %}
    {#- A date or timestamp as a typed SQL literal; `value` is a Python date/datetime. -#}
    {%- if is_timestamp -%}
        {{ return("cast('" ~ value.isoformat(sep=' ') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- else -%}
        {#- A datetime at midnight too: only its date, 'YYYY-MM-DD', which every warehouse casts. -#}
        {%- set day = value.date() if value.hour is defined else value -%}
        {{ return("cast('" ~ day.isoformat() ~ "' as date)") }}
    {%- endif -%}
{% endmacro %}
