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

    Each partition must have every period of the range. The partitions are
    those found in the checked rows, plus the rows of `partitions` when given:
    a relation or query with a column per `partition_by` name (`ref('stores')`:
    every store, also one with no row at all in the range). The runner passes
    the partitions a test sees over its own range, so a batch window that a
    partition is absent from throughout still reports that partition.

    Without `start`, the range begins at the earliest value in the column (over
    all partitions), and a relation without any checked row is one row with a
    null `gap_start`: nothing at all up to `gap_end`.
-#}
{% macro find_gaps(relation, column, grain='day', start=none, end=none, min_rows=1, partition_by=none,
                   where=none, exclude=none, partitions=none) %}
    {{ return(adapter.dispatch('find_gaps', 'backfill')(
        relation, column, grain, start, end, min_rows, partition_by, where, exclude, partitions)) }}
{% endmacro %}

{% macro default__find_gaps(relation, column, grain, start, end, min_rows, partition_by, where, exclude,
                            partitions=none) %}
    {%- set bounds = backfill.period_bounds(grain, start, end) -%}
    {% if execute and (min_rows is not number or min_rows < 1 or (min_rows | int) != min_rows) %}
        {{ exceptions.raise_compiler_error(
            "backfill: min_rows must be a whole number, 1 or more (got " ~ min_rows ~ ").") }}
    {% endif %}
    {%- set partition_names = backfill._as_list(partition_by) -%}
    {%- set expected = backfill._expected_partitions(partitions, partition_names) -%}
    {%- set partitions = backfill.checked_columns(relation, partition_names) -%}
    {%- set excluded = backfill.excluded_periods(exclude, grain, partition_names) -%}
    {%- set time_type = dbt.type_timestamp() if grain == 'hour' else 'date' -%}
    {%- set first_period = bounds.first_sql if bounds.first_sql is not none
        else 'min(period_counts.period_start)' -%}
    {%- set exclusion_join = [] -%}
    {% for position in range(partition_names | length) if excluded is not none %}
        {%- set exclusion_column = excluded.partition_columns.get(partition_names[position] | lower) -%}
        {% if exclusion_column %}
            {%- do exclusion_join.append(
                'partitions.' ~ partitions[position] ~ ' = excluded_periods.' ~ exclusion_column) -%}
        {% endif %}
    {% endfor %}
    with period_counts as (

        {{ backfill.period_counts(relation, column, grain, start, end, partition_by, where) }}

    ),

    checked_range as (

        -- an aggregate: exactly one row, even when nothing was counted
        select
            {{ first_period }} as first_period,
            {{ bounds.last_sql }} as last_period,
            count(*) as counted_periods
        from period_counts

    ),

    {% if expected is not none %}

    known_partitions as (

        select {{ backfill._qualified('period_counts', partitions, '') }}
        from period_counts

        union all

        {{ expected }}

    ),

    {% endif %}

    partitions as (

        -- with no counted row at all, one partition of nulls: the whole range is its gap
        select distinct
            {{ backfill._qualified('period_counts', partitions, '') if partitions else '1 as whole_relation' }}
        from checked_range
        left join {{ 'known_partitions as period_counts' if expected is not none else 'period_counts' }} on 1 = 1

    ),

    {% if excluded is not none %}

    excluded_periods as (

        {{ excluded.sql }}

    ),

    {% endif %}

    complete_periods as (

        select
            {{ backfill._qualified('period_counts', partitions) }}period_counts.period_start
        from period_counts
        where period_counts.row_count >= {{ min_rows | int }}

    {% if excluded is not none %}

        union all

        select
            {{ backfill._qualified('partitions', partitions) }}excluded_periods.period_start
        from partitions
        inner join excluded_periods
            on {{ (exclusion_join + ['1 = 1']) | join(' and ') }}
        cross join checked_range
        where
            excluded_periods.period_start >= checked_range.first_period
            and excluded_periods.period_start <= checked_range.last_period

    {% endif %}

        union all

        -- The period before the range and the one after it close the first and last gap.
        select
            {{ backfill._qualified('partitions', partitions)
                ~ backfill.period_shift('checked_range.first_period', grain, -1) }} as period_start
        from partitions
        cross join checked_range

        union all

        select
            {{ backfill._qualified('partitions', partitions)
                ~ backfill.period_shift('checked_range.last_period', grain, 1) }} as period_start
        from partitions
        cross join checked_range

    ),

    next_complete as (

        select
            {{ backfill._qualified('complete_periods', partitions) }}complete_periods.period_start as complete_period,
            lead(complete_periods.period_start) over (
                {{ 'partition by ' ~ backfill._qualified('complete_periods', partitions, '') if partitions else '' }}
                order by complete_periods.period_start
            ) as next_complete_period
        from complete_periods

    )

    select
        {{ backfill._qualified('next_complete', partitions)
            ~ backfill.period_shift('next_complete.complete_period', grain, 1) }} as gap_start,
        {{ backfill.period_shift('next_complete.next_complete_period', grain, -1) }} as gap_end,
        cast({{ dbt.datediff('next_complete.complete_period', 'next_complete.next_complete_period', grain) }} - 1
            as {{ dbt.type_int() }}) as missing_periods
    from next_complete
    where next_complete.next_complete_period > {{ backfill.period_shift('next_complete.complete_period', grain, 1) }}

    {% if bounds.first_sql is none %}

    union all

    -- No start given and no checked row at all: nothing, up to the end of the range.
    select
        {{ backfill._qualified('null as', partitions) | replace('null as.', 'null as ') }}cast(null as {{ time_type }}) as gap_start,
        checked_range.last_period as gap_end,
        cast(null as {{ dbt.type_int() }}) as missing_periods
    from checked_range
    where checked_range.first_period is null

    {% endif %}
{% endmacro %}


{% macro _expected_partitions(partitions, partition_names) %}
    {#- The `partitions` argument of find_gaps (a relation, a query, or a list of them) as one select of
        the partition columns, named as the checked relation names them, or none. Each source's columns
        are found by the package's identifier rule. Nothing is read at parse time. -#}
    {%- if not execute or partitions is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sources = [] -%}
    {#- a relation is tested first: asking whether dbt's relation is iterable raises an error -#}
    {%- for source in (partitions if (partitions is not string and partitions.identifier is not defined
                                       and partitions is iterable) else [partitions])
        if source is not none and not (source is string and not (source | trim)) -%}
        {%- do sources.append(source) -%}
    {%- endfor -%}
    {%- if not sources or not partition_names -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for source in sources -%}
        {%- set is_relation = source is not string and source.identifier is defined -%}
        {%- set from_item = source if is_relation else '(' ~ source ~ ') as expected_partitions' -%}
        {%- set names = none if is_relation else get_columns_in_query(source) -%}
        {%- set columns = backfill._resolved_columns(
            partition_names, source if is_relation else 'partitions', columns=names) -%}
        {%- do selects.append('select ' ~ columns | map(attribute='sql') | join(', ') ~ ' from ' ~ from_item) -%}
    {%- endfor -%}
    {{ return(selects | join('\n        union all\n        ')) }}
{% endmacro %}
