{#-
    The periods a gap check must not report (holidays, a store's closing days),
    as a select of `period_start` — plus the partition columns it names — or
    none when nothing is excluded.

    `exclude` is one of:
    - a list of dates (or hours, at grain hour; there a date names all 24 hours
      of its day), e.g. `['2024-12-25', '2024-12-26']`;
    - a relation (`ref('holidays')`) or a query (`select day from ...`): its
      first column holds the dates; any other column named like one of the
      `partition_by` columns limits that row to its partition (a store's own
      closing days).
    Each value names the period of `grain` that holds it.
-#}
{% macro excluded_periods(exclude, grain, partition_by=none) %}
    {%- if exclude is none or (exclude is string and not (exclude | trim)) -%}
        {{ return(none) }}
    {%- elif not execute -%}
        {{ return({'sql': 'select cast(null as date) as period_start', 'partition_columns': {}}) }}
    {%- endif -%}
    {%- set is_relation = exclude is not string and exclude.identifier is defined -%}
    {%- set is_query = exclude is string
        and modules.re.match('^\\s*\\(?\\s*(select|with)\\b', exclude, modules.re.IGNORECASE) -%}
    {%- if is_relation or is_query -%}
        {{ return(backfill._excluded_periods_from_query(exclude, is_relation, grain, partition_by)) }}
    {%- endif -%}
    {%- set values = [exclude] if (exclude is string or exclude.year is defined) else exclude -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- set first = backfill._period_floor(backfill._parse_bound('exclude', value, grain, false), grain) -%}
        {%- set whole_day = grain == 'hour' and value.hour is not defined
            and modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', (value ~ '') | trim) -%}
        {%- for hour in range(24 if whole_day else 1) -%}
            {%- set excluded_period = backfill._period_step(first, grain, hour) -%}
            {%- do literals.append(backfill._window_literal(excluded_period, grain == 'hour')) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set selects = [] -%}
    {%- for literal in literals | unique -%}
        {%- do selects.append('select ' ~ literal ~ ' as period_start') -%}
    {%- endfor -%}
    {{ return({'sql': selects | join('\n        union all\n        '), 'partition_columns': {}}) }}
{% endmacro %}


{% macro _excluded_periods_from_query(exclude, is_relation, grain, partition_by) %}
    {%- set source_sql = exclude if is_relation else '(' ~ exclude ~ ')' -%}
    {%- if not execute -%}
        {{ return({'sql': 'select cast(null as date) as period_start', 'partition_columns': {}}) }}
    {%- endif -%}
    {%- if is_relation -%}
        {%- set names = adapter.get_columns_in_relation(exclude) | map(attribute='name') | list -%}
    {%- else -%}
        {%- set names = get_columns_in_query(exclude) -%}
    {%- endif -%}
    {%- if not names -%}
        {{ exceptions.raise_compiler_error("backfill: exclude " ~ exclude ~ " has no columns (does it exist?).") }}
    {%- endif -%}
    {#- the check's partition name, lower-cased as given -> the exclusion's own column, quoted. A name
        matches as everywhere in the package (backfill._matched_column, the rule of column_identifiers:
        ignoring case, a quoted name exactly); a partition the exclusion has no column for is not a limit. -#}
    {%- set partition_columns = {} -%}
    {%- for wanted in backfill._as_list(partition_by) -%}
        {%- set real = backfill._matched_column(wanted, names[1:]) -%}
        {%- if real is not none -%}
            {%- do partition_columns.update({wanted | lower: adapter.quote(real)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set date_column = adapter.quote(names[0]) -%}
    {%- set sql -%}
        select distinct
            {{ backfill._qualified('excluded', partition_columns.values() | list)
                ~ backfill.period_of('excluded.' ~ date_column, grain) }} as period_start
        from {{ source_sql }} as excluded
        where excluded.{{ date_column }} is not null
    {%- endset -%}
    {{ return({'sql': sql, 'partition_columns': partition_columns}) }}
{% endmacro %}
