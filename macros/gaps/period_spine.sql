{#-
    One row per period of `grain` from `start` to `end`, inclusive: a select of
    `period_start` (a date for day, week and month; a timestamp for hour), for
    a calendar to left join checks or counts onto.

    `start` and `end` are dates (or hours) as for `find_gaps`; each names the
    period that holds it. The number of periods is known when the SQL is
    written, so the spine is built from a small cross join of digits, with no
    recursive query and no compile-time round trip to the warehouse.
-#}
{% macro period_spine(grain, start, end) %}
    {{ return(adapter.dispatch('period_spine', 'backfill')(grain, start, end)) }}
{% endmacro %}

{% macro default__period_spine(grain, start, end) %}
    {%- if not execute -%}
        {{ return('select cast(null as date) as period_start') }}
    {%- elif start is none or end is none -%}
        {{ exceptions.raise_compiler_error("backfill: period_spine needs both start and end.") }}
    {%- endif -%}
    {%- set bounds = backfill.period_bounds(grain, start, end) -%}
    {%- set count = namespace(periods=1) -%}
    {#- Count the periods in Jinja: months have no fixed length. -#}
    {% if grain == 'month' %}
        {%- set count.periods = (bounds.last.year - bounds.first.year) * 12
            + bounds.last.month - bounds.first.month + 1 -%}
    {% elif grain == 'hour' %}
        {%- set delta = bounds.last - bounds.first -%}
        {%- set count.periods = delta.days * 24 + (delta.seconds // 3600) + 1 -%}
    {% else %}
        {%- set count.periods = ((bounds.last - bounds.first).days // (7 if grain == 'week' else 1)) + 1 -%}
    {% endif %}
    {%- set digits = (count.periods - 1) | string | length -%}
    {%- set datepart = 'day' if grain == 'week' else grain -%}
    {%- set step = '7 * ' if grain == 'week' else '' -%}
    {%- set time_type = dbt.type_timestamp() if grain == 'hour' else 'date' -%}
    {%- set digit_terms = [] -%}
    {%- set digit_joins = [] -%}
    {%- for position in range(digits) -%}
        {%- do digit_terms.append('digits_' ~ position ~ '.digit * ' ~ (10 ** position)) -%}
        {%- do digit_joins.append('cross join digits as digits_' ~ position) if position > 0 -%}
    {%- endfor -%}
    with digits as (

        select 0 as digit
        union all select 1
        union all select 2
        union all select 3
        union all select 4
        union all select 5
        union all select 6
        union all select 7
        union all select 8
        union all select 9

    ),

    period_numbers as (

        select {{ digit_terms | join(' + ') }} as period_number
        from digits as digits_0
        {{ digit_joins | join('\n        ') }}

    )

    select
        cast({{ dbt.dateadd(datepart, step ~ 'period_numbers.period_number', bounds.first_sql) }}
            as {{ time_type }}) as period_start
    from period_numbers
    where period_numbers.period_number < {{ count.periods }}
{% endmacro %}
