{#-
    The predicate "this version was the current one at `date_expr`", for any
    table of versions with a validity interval: a dbt snapshot
    (`dbt_valid_from` / `dbt_valid_to`, the defaults) or hand-kept columns.

    - Half-open by default: valid from `valid_from` (inclusive) until `valid_to`
      (exclusive), so the version that starts on a day is the one of that day and
      consecutive versions never overlap.
    - `end_inclusive=true` for hand-kept columns whose end is the last valid day
      (`active_start_date` / `active_end_date`): the whole of that day counts, so
      an event at 15:00 on the last day is in (`date_expr < valid_to + 1 day`).
    - An open end: `valid_to` null, or equal to `valid_to_current` (the snapshot's
      `dbt_valid_to_current` setting, e.g. "cast('9999-12-31' as date)"; a
      far-future value needs no mention, it is open anyway).
    - A version whose `valid_from` is null is never valid.
    - `deleted`: the snapshot's deletion flag (`item.dbt_is_deleted`, written by
      `hard_deletes: new_record`); a row flagged 'True' records that the key was
      deleted, so it never matches.

    `date_expr` is a SQL expression evaluated per row, so the macro works in a
    join (`events.event_date`), or a date literal given as 'YYYY-MM-DD'. A date
    compared with a timestamp interval means the start of that day (00:00): a
    version that begins later that day (a snapshot taken that afternoon) is not
    yet valid. With `end_of_day=true` the date means the end of that day
    instead: the version current when the day ended (the last one to begin
    before midnight).

        inner join {{ ref('item_snapshot') }} as item
            on events.item_id = item.id
            and {{ backfill.valid_at('events.event_date',
                                     valid_from='item.dbt_valid_from',
                                     valid_to='item.dbt_valid_to') }}
-#}
{% macro valid_at(
    date_expr,
    valid_from='dbt_valid_from',
    valid_to='dbt_valid_to',
    end_inclusive=false,
    valid_to_current=none,
    deleted=none,
    end_of_day=false
) %}
    {{ return(adapter.dispatch('valid_at', 'backfill')(
        date_expr, valid_from, valid_to, end_inclusive, valid_to_current, deleted, end_of_day)) }}
{% endmacro %}

{% macro default__valid_at(date_expr, valid_from, valid_to, end_inclusive, valid_to_current, deleted=none,
                           end_of_day=false) %}
    {%- set at = backfill._point_in_time(date_expr) -%}
    {#- The last valid day, whole: before the start of the next day (dates and timestamps alike). -#}
    {%- set end_exclusive = dbt.dateadd('day', 1, 'cast(' ~ valid_to ~ ' as date)') if end_inclusive else valid_to -%}
    {%- if end_of_day -%}
        {#- The instant just before the next midnight: begun before it, not ended before it. -#}
        {%- set next_day = dbt.dateadd('day', 1, 'cast(' ~ at ~ ' as date)') -%}
        {%- set begun = valid_from ~ ' < ' ~ next_day -%}
        {%- set not_ended = next_day ~ ' <= ' ~ end_exclusive -%}
    {%- else -%}
        {%- set begun = valid_from ~ ' <= ' ~ at -%}
        {%- set not_ended = at ~ ' < ' ~ end_exclusive -%}
    {%- endif -%}
    ({{ begun }} and ({{ valid_to }} is null
    {%- if valid_to_current is not none %} or {{ valid_to }} = {{ valid_to_current }}{% endif %}
    {#- #} or {{ not_ended }})
    {%- if deleted is not none %} and coalesce({{ dbt.cast(deleted, dbt.type_string()) }}, 'False') not in ('True', 'true')
    {%- endif %})
{%- endmacro %}


{% macro _point_in_time(value) %}
    {#- A SQL expression as given; a date/datetime, or text 'YYYY-MM-DD[ HH:MM[:SS]]', as a typed literal. -#}
    {%- set datetime = modules.datetime -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("backfill: the date to look up versions at is missing (got none)") }}
    {%- endif -%}
    {%- if value is not string -%}
        {%- if value.hour is defined -%}
            {{ return(backfill._window_literal(value, true)) }}
        {%- endif -%}
        {{ return(backfill._window_literal(value, false)) }}
    {%- endif -%}
    {%- set text = value | trim -%}
    {%- if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ return(backfill._window_literal(datetime.datetime.strptime(text, '%Y-%m-%d').date(), false)) }}
    {%- endif -%}
    {%- if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?$', text) -%}
        {%- set parsed = datetime.datetime.strptime(text[:16] | replace('T', ' '), '%Y-%m-%d %H:%M') -%}
        {{ return(backfill._window_literal(parsed, true)) }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
