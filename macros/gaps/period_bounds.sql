{#-
    The checked range of a gap check, as period starts and typed SQL literals.

    `start` and `end` are inclusive: a date (`2024-01-01`), an hour
    (`2024-01-01 05:00`), a Python date/datetime, or none. Each names the period
    of `grain` that holds it. Without `start` the range begins at the earliest
    value of the column (the caller reads it from the data); without `end` it
    stops at the last complete period before the run started (UTC). Values are
    parsed and printed again as literals, never pasted as given.

    Returns a mapping: `grain`, `first` / `last` (period starts, `first` may be
    none), `first_sql`, `last_sql`, `end_exclusive_sql` (the first instant after
    the range) and `is_timestamp` (hour grain).
-#}
{% macro period_bounds(grain, start=none, end=none) %}
    {#- At parse time nothing runs: check the values when the SQL is compiled. -#}
    {%- if not execute -%}
        {{ return({'grain': grain, 'is_timestamp': grain == 'hour', 'first': none, 'last': none,
                   'first_sql': none, 'last_sql': 'null', 'end_exclusive_sql': 'null'}) }}
    {%- endif -%}
    {%- set grains = ['hour', 'day', 'week', 'month'] -%}
    {%- if grain not in grains -%}
        {{ exceptions.raise_compiler_error(
            "backfill: unknown grain '" ~ grain ~ "': use one of hour, day, week, month.") }}
    {%- endif -%}
    {%- set is_timestamp = grain == 'hour' -%}
    {%- set first = none -%}
    {%- if start is not none and (start ~ '') | trim != '' -%}
        {%- set first = backfill._period_floor(backfill._parse_bound('start', start, grain, false), grain) -%}
    {%- endif -%}
    {%- if end is not none and (end ~ '') | trim != '' -%}
        {%- set last = backfill._period_floor(backfill._parse_bound('end', end, grain, true), grain) -%}
    {%- else -%}
        {#- The last complete period: the one before the period the run started in. -#}
        {%- set now = modules.datetime.datetime(run_started_at.year, run_started_at.month, run_started_at.day,
                                                  run_started_at.hour) -%}
        {%- set now = now if is_timestamp else now.date() -%}
        {%- set last = backfill._period_step(backfill._period_floor(now, grain), grain, -1) -%}
    {%- endif -%}
    {%- if first is not none and last < first -%}
        {{ exceptions.raise_compiler_error(
            "backfill: end " ~ last ~ " is before start " ~ first ~ ".") }}
    {%- endif -%}
    {{ return({
        'grain': grain,
        'is_timestamp': is_timestamp,
        'first': first,
        'last': last,
        'first_sql': backfill._window_literal(first, is_timestamp) if first is not none else none,
        'last_sql': backfill._window_literal(last, is_timestamp),
        'end_exclusive_sql': backfill._window_literal(backfill._period_step(last, grain, 1), is_timestamp),
    }) }}
{% endmacro %}



{#-
    The periods of `grain` that lie wholly inside the inclusive window
    [`start`, `end`] (a date names its whole day, `YYYY-MM-DD HH:00` that hour),
    as a mapping `first` / `last` of period starts, or none when no whole period
    fits: a window of three days holds no whole week. A batch of the runner is
    checked at a test's own grain over these periods only, so a period cut by
    the window is not judged on rows outside it.
-#}
{% macro whole_periods(grain, start, end) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- do backfill.period_bounds(grain, start, end) -%}  {#- refuses a bad grain, date or order -#}
    {%- set one_hour = modules.datetime.timedelta(hours=1) -%}
    {%- set window_start = backfill._parse_bound('start', start, 'hour', false) -%}
    {%- set window_after = backfill._parse_bound('end', end, 'hour', true) + one_hour -%}
    {%- set first = backfill._period_floor(backfill._in_grain(window_start, grain), grain) -%}
    {%- if backfill._instant(first) < window_start -%}
        {%- set first = backfill._period_step(first, grain, 1) -%}
    {%- endif -%}
    {%- set last = backfill._period_floor(backfill._in_grain(window_after - one_hour, grain), grain) -%}
    {%- if backfill._instant(backfill._period_step(last, grain, 1)) > window_after -%}
        {%- set last = backfill._period_step(last, grain, -1) -%}
    {%- endif -%}
    {{ return({'first': first, 'last': last} if first <= last else none) }}
{% endmacro %}


{% macro _in_grain(instant, grain) %}
    {#- An instant (a datetime) as a value of `grain`: itself for hours, its date otherwise. -#}
    {{ return(instant if grain == 'hour' else instant.date()) }}
{% endmacro %}


{% macro _instant(value) %}
    {#- The first instant of a date, or a datetime itself, to compare dates with hours. -#}
    {{ return(modules.datetime.datetime(value.year, value.month, value.day,
                                        value.hour if value.hour is defined else 0)) }}
{% endmacro %}

{% macro _parse_bound(name, value, grain, is_end) %}
    {#- A date for day/week/month, a datetime (whole hour) for hour; a date as an hour
        bound names the whole day: its first hour as a start, its last as an end. -#}
    {%- set datetime = modules.datetime -%}
    {%- if value.hour is defined -%}
        {%- set parsed = datetime.datetime(value.year, value.month, value.day, value.hour) -%}
        {{ return(parsed if grain == 'hour' else parsed.date()) }}
    {%- elif value.year is defined -%}
        {%- set parsed = datetime.date(value.year, value.month, value.day) -%}
    {%- else -%}
        {%- set text = (value ~ '') | trim | replace('T', ' ') -%}
        {%- set match = modules.re.match(
            '^([0-9]{4})-([0-9]{2})-([0-9]{2})( ([0-9]{2})(:[0-9]{2}(:[0-9]{2}([.][0-9]*)?)?)?)?$', text) -%}
        {%- if not match -%}
            {{ exceptions.raise_compiler_error(
                "backfill: " ~ name ~ " '" ~ value ~ "' is not a date (YYYY-MM-DD) or an hour (YYYY-MM-DD HH:00).") }}
        {%- endif -%}
        {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
        {%- set hour = (match.group(5) or '0') | int -%}
        {#- Check the calendar here: Jinja cannot catch the error strptime would raise. -#}
        {%- set month_ok = 1 <= month <= 12 and year >= 1 -%}
        {%- set month_length = (backfill._period_step(datetime.date(year, month, 1), 'month', 1)
            - datetime.timedelta(days=1)).day if month_ok else 0 -%}
        {%- if not month_ok or not (1 <= day <= month_length) or hour > 23 -%}
            {{ exceptions.raise_compiler_error(
                "backfill: " ~ name ~ " '" ~ value ~ "' is not a real date or hour.") }}
        {%- endif -%}
        {%- if match.group(4) -%}
            {%- set parsed_hour = datetime.datetime(year, month, day, hour) -%}
            {{ return(parsed_hour if grain == 'hour' else parsed_hour.date()) }}
        {%- endif -%}
        {%- set parsed = datetime.date(year, month, day) -%}
    {%- endif -%}
    {%- if grain == 'hour' -%}
        {{ return(datetime.datetime(parsed.year, parsed.month, parsed.day, 23 if is_end else 0)) }}
    {%- endif -%}
    {{ return(parsed) }}
{% endmacro %}


{% macro _period_floor(value, grain) %}
    {#- The start of the period of `grain` that holds `value` (ISO weeks: Monday). -#}
    {%- if grain == 'week' -%}
        {{ return(value - modules.datetime.timedelta(days=value.weekday())) }}
    {%- elif grain == 'month' -%}
        {{ return(value.replace(day=1)) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro _period_step(value, grain, steps) %}
    {#- The period start `steps` periods after (or before, when negative) `value`. -#}
    {%- set timedelta = modules.datetime.timedelta -%}
    {%- if grain == 'hour' -%}
        {{ return(value + timedelta(hours=steps)) }}
    {%- elif grain == 'day' -%}
        {{ return(value + timedelta(days=steps)) }}
    {%- elif grain == 'week' -%}
        {{ return(value + timedelta(days=7 * steps)) }}
    {%- endif -%}
    {%- set months = value.year * 12 + value.month - 1 + steps -%}
    {{ return(value.replace(year=(months // 12), month=(months % 12) + 1, day=1)) }}
{% endmacro %}
