{#-
    The missing ranges of `column` in `relation`: one row per run of consecutive
    missing periods, with `gap_start` and `gap_end` (first and last missing
    period, inclusive) and `missing_periods`, preceded by the `partition_by`
    columns. A period is missing when it has fewer than `min_rows` rows (a
    half-loaded day is a gap too) and is not excluded.

    How: `period_counts` aggregates the checked rows to periods in one scan;
    the complete periods of each partition, with the period before the range and
    the one after it as sentinels, are ordered, and wherever the next complete
    period is more than one period away, the periods in between are a gap
    ("gaps and islands" with `lead`). No calendar spine is joined, so the range
    can be as long as the data and nothing is queried at compile time.

    Partitions are the values found in the checked rows; each must have every
    period of the range. Without `start`, the range begins at the earliest value
    in the column (over all partitions), and a relation without any checked row
    is one row with a null `gap_start`: nothing at all up to `gap_end`.
-#}
{% macro find_gaps(relation, column, grain='day', start=none, end=none, min_rows=1, partition_by=none,
                   where=none, exclude=none) %}
    {{ return(adapter.dispatch('find_gaps', 'backfill')(
        relation, column, grain, start, end, min_rows, partition_by, where, exclude)) }}
{% endmacro %}

{% macro default__find_gaps(relation, column, grain, start, end, min_rows, partition_by, where, exclude) %}
    {%- set bounds = backfill.period_bounds(grain, start, end) -%}
    {%- if min_rows is not number or min_rows < 1 or (min_rows | int) != min_rows -%}
        {{ exceptions.raise_compiler_error(
            "backfill: min_rows must be a whole number, 1 or more (got " ~ min_rows ~ ").") }}
    {%- endif -%}
    {%- set partition_names = backfill._as_list(partition_by) -%}
    {%- set partitions = backfill.checked_columns(relation, partition_names) -%}
    {%- set excluded = backfill.excluded_periods(exclude, grain, partition_names) -%}
    {%- set time_type = dbt.type_timestamp() if grain == 'hour' else 'date' -%}
    with period_counts as (

        {{ backfill.period_counts(relation, column, grain, start, end, partition_by, where) }}

    ),

    checked_range as (

        {%- if bounds.first_sql is not none %}
        select
            {{ bounds.first_sql }} as first_period,
            {{ bounds.last_sql }} as last_period
        {%- else %}
        select
            min(period_counts.period_start) as first_period,
            {{ bounds.last_sql }} as last_period
        from period_counts
        {%- endif %}

    ),

    partitions as (

        {%- if partitions %}
        select distinct {{ partitions | join(', ') }}
        from period_counts
        {%- else %}
        select 1 as whole_relation
        {%- endif %}

    ),
    {%- if excluded is not none %}

    excluded_periods as (

        {{ excluded.sql }}

    ),
    {%- endif %}

    complete_periods as (

        select
            {%- for partition in partitions %}
            period_counts.{{ partition }},
            {%- endfor %}
            period_counts.period_start
        from period_counts
        where period_counts.row_count >= {{ min_rows | int }}
        {%- if excluded is not none %}

        union all

        select
            {%- for partition in partitions %}
            partitions.{{ partition }},
            {%- endfor %}
            excluded_periods.period_start
        from partitions
        inner join excluded_periods
            on
            {%- for position in range(partition_names | length) %}
                {%- set name = partition_names[position] | lower %}
                {%- if name in excluded.partition_columns %}
                partitions.{{ partitions[position] }} = excluded_periods.{{ excluded.partition_columns[name] }} and
                {%- endif %}
            {%- endfor %}
                1 = 1
        cross join checked_range
        where excluded_periods.period_start >= checked_range.first_period
            and excluded_periods.period_start <= checked_range.last_period
        {%- endif %}

        union all

        -- The period before the range and the one after it close the first and last gap.
        select
            {%- for partition in partitions %}
            partitions.{{ partition }},
            {%- endfor %}
            {{ backfill.period_shift('checked_range.first_period', grain, -1) }} as period_start
        from partitions
        cross join checked_range

        union all

        select
            {%- for partition in partitions %}
            partitions.{{ partition }},
            {%- endfor %}
            {{ backfill.period_shift('checked_range.last_period', grain, 1) }} as period_start
        from partitions
        cross join checked_range

    ),

    next_complete as (

        select
            {%- for partition in partitions %}
            complete_periods.{{ partition }},
            {%- endfor %}
            complete_periods.period_start as complete_period,
            lead(complete_periods.period_start) over (
                {%- if partitions %}
                partition by
                    {%- for partition in partitions %}
                    complete_periods.{{ partition }}{{ ',' if not loop.last }}
                    {%- endfor %}
                {%- endif %}
                order by complete_periods.period_start
            ) as next_complete_period
        from complete_periods

    )

    select
        {%- for partition in partitions %}
        next_complete.{{ partition }},
        {%- endfor %}
        {{ backfill.period_shift('next_complete.complete_period', grain, 1) }} as gap_start,
        {{ backfill.period_shift('next_complete.next_complete_period', grain, -1) }} as gap_end,
        cast({{ dbt.datediff('next_complete.complete_period', 'next_complete.next_complete_period', grain) }} - 1
            as {{ dbt.type_int() }}) as missing_periods
    from next_complete
    where next_complete.next_complete_period > {{ backfill.period_shift('next_complete.complete_period', grain, 1) }}
    {%- if bounds.first_sql is none %}

    union all

    -- No start given and no checked row at all: nothing, up to the end of the range.
    select
        {%- for partition in partitions %}
        null as {{ partition }},
        {%- endfor %}
        cast(null as {{ time_type }}) as gap_start,
        checked_range.last_period as gap_end,
        cast(null as {{ dbt.type_int() }}) as missing_periods
    from checked_range
    where checked_range.first_period is null
    {%- endif %}
{% endmacro %}
