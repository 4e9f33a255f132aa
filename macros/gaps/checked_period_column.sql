{#-
    The period column of a gap check, resolved by the package's one identifier
    rule (`checked_columns`), as a mapping: `sql` (the quoted column, after
    `alias.` when an alias is given), `value` (the expression its periods are
    read from) and `data_type` (none when the columns cannot be read).

    Refused in one sentence, the same sentence for the dbt test and the runner:
    a column that is not a date or timestamp (a text or a number has no
    periods), and a date column at grain hour.

    A timestamp with time zone is read in UTC (`backfill.utc_timestamp`): its
    hours, days, weeks and months are UTC ones, whatever the session's time
    zone, so the hour a DST change skips is never a gap and the hour it repeats
    is never counted twice. A timestamp without time zone, and a date, are
    taken as written.
-#}
{% macro checked_period_column(relation, column, grain, alias=none) %}
    {%- set resolved = backfill._resolved_columns([column], relation)[0] -%}
    {%- set data_type = (resolved.data_type or '') | lower | trim -%}
    {%- set label = (relation.identifier if (relation is not string and relation.identifier is defined)
        else backfill._relation_label(relation)) ~ '.' ~ (resolved.name or column) -%}
    {%- if data_type and not modules.re.match('^(date|datetime|timestamp|smalldatetime)', data_type) -%}
        {{ exceptions.raise_compiler_error(
            "backfill: " ~ label ~ " is " ~ data_type ~ ", not a date or timestamp, so it has no periods.") }}
    {%- endif -%}
    {%- if grain == 'hour' and data_type == 'date' -%}
        {{ exceptions.raise_compiler_error(
            "backfill: " ~ label ~ " is a date, so it has no hours: use grain day, week or month.") }}
    {%- endif -%}
    {%- set sql = (alias ~ '.' if alias else '') ~ resolved.sql -%}
    {%- set value = backfill.utc_timestamp(sql) if backfill._is_zoned(data_type) else sql -%}
    {{ return({'sql': sql, 'value': value, 'data_type': resolved.data_type, 'zoned': backfill._is_zoned(data_type)}) }}
{% endmacro %}


{% macro _is_zoned(data_type) %}
    {#- A data type that holds instants (a time zone or offset): PostgreSQL's timestamptz, DuckDB's
        TIMESTAMP WITH TIME ZONE, Snowflake's TIMESTAMP_TZ / TIMESTAMP_LTZ. -#}
    {{ return(modules.re.match('^(timestamptz|timestamp with time zone|timestamp_tz|timestamp_ltz)',
                               (data_type or '') | lower | trim) is not none) }}
{% endmacro %}


{% macro _relation_label(relation) %}
    {#- How a refusal names a relation: its identifier, the relation inside a test's `where` subquery,
        or the text as given. -#}
    {%- set text = (relation ~ '') | trim -%}
    {%- set inner = modules.re.match('^\\(\\s*select \\* from (.+?) where ', text) -%}
    {%- set named = inner.group(1) if inner else text -%}
    {%- set last = modules.re.search('("([^"]+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_$]*))\\s*$', named) -%}
    {{ return((last.group(2) or last.group(3) or last.group(4)) if last else named) }}
{% endmacro %}
