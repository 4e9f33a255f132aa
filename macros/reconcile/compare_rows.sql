{#-
    Rows of `relation` and `compare_relation` matched on key and compared column
    by column. Returns one row per key missing on a side or duplicated, and one
    row per (key, column) whose values differ; with `summary=true`, one row per
    column that differs anywhere (how many matched rows agree, differ, or are
    null on one side only) plus one row for the keys.

    The work is done in two passes so that the wide one is a plain join:
    - a narrow pass stacks both sides' keys alone and counts them per key: the
      keys missing on a side or duplicated (few, usually) come out of it, counted,
      never multiplied by a join; null key values match each other there;
    - the rows whose key has one row on each side are paired by an inner join on
      the key (equality, which every warehouse hashes) after the model side drops
      the keys of the first pass; keys with a null part cannot meet by equality,
      so their rows (rare) are paired by grouping instead.
    Values are compared null-safely (null equals null); a column whose two
    sides' types hold different kinds of values (a date against a text) is
    compared as text, so a drifted type reports `values differ`, not an error.
-#}
{% macro compare_rows(
    relation,
    key_columns,
    compare_relation,
    compare_key_columns=none,
    columns=none,
    exclude_columns=none,
    column_map=none,
    precision=none,
    where=none,
    compare_where=none,
    summary=false,
    window_column=none,
    compare_window_column=none
) %}
    {{ return(adapter.dispatch('compare_rows', 'backfill')(
        relation, key_columns, compare_relation, compare_key_columns, columns, exclude_columns, column_map,
        precision, where, compare_where, summary, window_column, compare_window_column)) }}
{% endmacro %}

{% macro default__compare_rows(
    relation, key_columns, compare_relation, compare_key_columns, columns, exclude_columns, column_map,
    precision, where, compare_where, summary, window_column, compare_window_column
) %}
    {%- set keys = backfill._reconcile_keys_arguments(key_columns, compare_key_columns, 'reconcile_rows') -%}
    {%- if precision is not none -%}
        {%- do backfill._reconcile_precision_step(precision) -%}
    {%- endif -%}
    {#- Column names and types come from the warehouse: nothing to read at parse time. -#}
    {%- if not execute -%}
        {{ return('select 1 as parsing') }}
    {%- endif -%}
    {%- set model_columns = backfill._reconcile_columns_of(relation) -%}
    {%- set compare_columns = backfill._reconcile_columns_of(compare_relation) -%}
    {%- set model_side = backfill._reconcile_resolved(
        relation, keys.model, window_column, 'reconcile_rows', model_columns) -%}
    {%- set compare_side = backfill._reconcile_resolved(
        compare_relation, keys.compare, compare_window_column, 'reconcile_rows', compare_columns) -%}
    {%- do backfill._reconcile_same_types(
        model_side.columns, compare_side.columns, 'key_columns', 'compare_key_columns', 'reconcile_rows') -%}
    {%- set pairs = backfill._reconcile_compared_columns(
        model_columns, compare_columns,
        {'model': model_side.columns | map(attribute='name') | select | list,
         'compare': compare_side.columns | map(attribute='name') | select | list},
        columns, exclude_columns, column_map) -%}
    {%- set text = dbt.type_string() -%}
    {%- set key_count = keys.model | length -%}
    {%- set keys_numbered = backfill._reconcile_numbered('key', key_count) -%}

    {#- Per compared column n: the values as model_n / compare_n, their state_n
        (see _reconcile_value_state), and the pieces that pick column n by index. -#}
    {%- set model_values, compare_values, null_model_values, null_compare_values = [], [], [], [] -%}
    {%- set paired_values, maxima, states, differing = [], [], [], [] -%}
    {%- set column_rows, model_text, compare_text, state_picks = [], [], [], [] -%}
    {%- set column_sums, summary_picks = [], {} -%}
    {%- set state_names = ['agreeing', 'differing', 'null_in_model', 'null_in_compare'] -%}
    {%- for pair in pairs -%}
        {%- set n = loop.index -%}
        {%- set use_precision = precision is not none
            and backfill._reconcile_is_number(pair.data_type) and backfill._reconcile_is_number(pair.compare_data_type) -%}
        {%- set as_text = backfill._reconcile_compared_as_text(pair.data_type, pair.compare_data_type) -%}
        {%- do model_values.append(
            backfill._reconcile_comparable(adapter.quote(pair.name), pair.data_type, as_text) ~ ' as model_' ~ n) -%}
        {%- do compare_values.append(backfill._reconcile_comparable(
            adapter.quote(pair.compare_name), pair.compare_data_type, as_text) ~ ' as compare_' ~ n) -%}
        {%- do null_model_values.append('null as model_' ~ n) -%}
        {%- do null_compare_values.append('null as compare_' ~ n) -%}
        {%- do paired_values.append('model_values.model_' ~ n ~ ', compare_values.compare_' ~ n) -%}
        {%- do maxima.append('max(model_' ~ n ~ ') as model_' ~ n ~ ', max(compare_' ~ n ~ ') as compare_' ~ n) -%}
        {%- do states.append('case ' ~ backfill._reconcile_value_state(
            'model_' ~ n, 'compare_' ~ n, precision if use_precision else none) ~ ' end as state_' ~ n) -%}
        {%- do differing.append('state_' ~ n ~ ' > 0') -%}
        {%- do column_rows.append(
            'select ' ~ n ~ ' as column_index, '
            ~ "cast('" ~ pair.name | replace("'", "''") ~ "' as " ~ text ~ ') as column_name, '
            ~ "cast('" ~ pair.compare_name | replace("'", "''") ~ "' as " ~ text ~ ') as compare_column_name') -%}
        {%- do model_text.append('when ' ~ n ~ ' then ' ~ (dbt.cast('model_' ~ n, text) | trim)) -%}
        {%- do compare_text.append('when ' ~ n ~ ' then ' ~ (dbt.cast('compare_' ~ n, text) | trim)) -%}
        {%- do state_picks.append('when ' ~ n ~ ' then state_' ~ n) -%}
        {%- for state_name in state_names -%}
            {%- do column_sums.append('coalesce(sum(case when state_' ~ n ~ ' = ' ~ loop.index0
                ~ ' then 1 else 0 end), 0) as ' ~ state_name ~ '_' ~ n) -%}
            {%- do summary_picks.setdefault(state_name, []).append(
                'when ' ~ n ~ ' then column_totals.' ~ state_name ~ '_' ~ n) -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- Each side's key columns, numbered key_n, its filter; the conditions that pair the key columns. -#}
    {%- set model_keyed = backfill._reconcile_key_side(relation, model_side, where) -%}
    {%- set compare_keyed = backfill._reconcile_key_side(compare_relation, compare_side, compare_where) -%}
    {%- set keys_equal, issue_keys_equal = [], [] -%}
    {%- for index in range(1, key_count + 1) -%}
        {%- do keys_equal.append('model_values.key_' ~ index ~ ' = compare_values.key_' ~ index) -%}
        {%- do issue_keys_equal.append('key_issues.key_' ~ index ~ ' = model_values.key_' ~ index) -%}
    {%- endfor -%}
    {%- set bigint = dbt.type_bigint() -%}

-- The narrow pass: the keys that do not have exactly one row on each side.
with key_issues as (

    {{ backfill._reconcile_key_counts(model_keyed, compare_keyed, key_count) }}

),

-- The rows of keys with one row on each side and no null part, paired by the key.
paired_by_key as (

    select
        {{ backfill._reconcile_numbered('model_values.key', key_count) }},
        {{ paired_values | join(',\n        ') }}
    from (
        select
            {{ model_keyed.key_columns }}{{ model_values | join(', ') }}
        from {{ relation }}
        where {{ model_keyed.filter }}
    ) as model_values
    inner join (
        select
            {{ compare_keyed.key_columns }}{{ compare_values | join(', ') }}
        from {{ compare_relation }}
        where {{ compare_keyed.filter }}
    ) as compare_values
        on {{ keys_equal | join('\n        and ') }}
    -- equality never pairs a null key: those rows are paired_by_group's
    where not exists (
        select 1
        from key_issues
        where {{ issue_keys_equal | join(' and ') }}
    )

),

-- The rows of keys with a null part and one row on each side, paired by grouping
-- (null matches null there); exact, as each group holds one row of each side.
paired_by_group as (

    select
        {{ keys_numbered }},
        {{ maxima | join(',\n        ') }}
    from (
        select
            {{ model_keyed.key_columns }}{{ model_values | join(', ') }},
            {{ null_compare_values | join(', ') }},
            1 as in_model
        from {{ relation }}
        where ({{ model_keyed.filter }}) and ({{ model_keyed.key_nulls }})
        union all
        select
            {{ compare_keyed.key_columns }}{{ null_model_values | join(', ') }},
            {{ compare_values | join(', ') }},
            0 as in_model
        from {{ compare_relation }}
        where ({{ compare_keyed.filter }}) and ({{ compare_keyed.key_nulls }})
    ) as null_keyed_rows
    group by {{ keys_numbered }}
    having sum(in_model) = 1 and count(*) = 2

),

pairs_judged as (

    select
        matched_pairs.*,
        {{ states | join(',\n        ') }}
    from (
        select * from paired_by_key
        union all
        select * from paired_by_group
    ) as matched_pairs

),

{% if not summary -%}
compared_columns as (

    {{ column_rows | join('\n    union all\n    ') }}

),

differing_values as (

    select
        differing_pairs.*,
        compared_columns.column_index,
        compared_columns.column_name,
        compared_columns.compare_column_name,
        case compared_columns.column_index {{ state_picks | join(' ') }} end as column_state
    from (
        select *
        from pairs_judged
        where {{ differing | join(' or ') }}
    ) as differing_pairs
    cross join compared_columns

)

select
    {{ backfill._reconcile_renamed(keys.model, 'key') }}
    {{ backfill._reconcile_key_issue('model_rows', 'compare_rows') }} as issue,
    cast(null as {{ text }}) as column_name,
    cast(null as {{ text }}) as compare_column_name,
    cast(null as {{ text }}) as model_value,
    cast(null as {{ text }}) as compare_value,
    case
        when model_rows = 0 then 'model'
        when compare_rows = 0 then 'compare_model'
    end as missing_in,
    model_rows,
    compare_rows
from key_issues
union all
select
    {{ backfill._reconcile_renamed(keys.model, 'key') }}
    case
        when column_state = 1 then 'values differ'
        when column_state = 2 then 'null in model'
        when column_state = 3 then 'null in compare_model'
    end as issue,
    column_name,
    compare_column_name,
    case column_index {{ model_text | join(' ') }} end as model_value,
    case column_index {{ compare_text | join(' ') }} end as compare_value,
    cast(null as {{ text }}) as missing_in,
    cast(1 as {{ bigint }}) as model_rows,
    cast(1 as {{ bigint }}) as compare_rows
from differing_values
where column_state > 0
{%- else -%}
compared_columns as (

    select
        0 as column_index,
        cast(null as {{ text }}) as column_name,
        cast(null as {{ text }}) as compare_column_name
    union all
    {{ column_rows | join('\n    union all\n    ') }}

),

column_totals as (

    select
        count(*) as matched_rows,
        {{ column_sums | join(',\n        ') }}
    from pairs_judged

),

key_totals as (

    select
        coalesce(sum(case when model_rows = 0 then 1 else 0 end), 0) as keys_missing_in_model,
        coalesce(sum(case when compare_rows = 0 then 1 else 0 end), 0) as keys_missing_in_compare,
        coalesce(sum(case when model_rows > 1 or compare_rows > 1 then 1 else 0 end), 0) as duplicated_keys
    from key_issues

),

column_summary as (

    select
        compared_columns.column_index,
        compared_columns.column_name,
        compared_columns.compare_column_name,
        column_totals.matched_rows,
        case compared_columns.column_index {{ summary_picks.agreeing | join(' ') }} end as agreeing_rows,
        case compared_columns.column_index {{ summary_picks.differing | join(' ') }} end as differing_rows,
        case compared_columns.column_index {{ summary_picks.null_in_model | join(' ') }} end as null_in_model_rows,
        case compared_columns.column_index {{ summary_picks.null_in_compare | join(' ') }} end as null_in_compare_rows,
        key_totals.keys_missing_in_model,
        key_totals.keys_missing_in_compare,
        key_totals.duplicated_keys
    from compared_columns
    cross join column_totals
    cross join key_totals

)

select
    column_name,
    compare_column_name,
    case when column_index > 0 then matched_rows end as matched_rows,
    agreeing_rows,
    differing_rows,
    null_in_model_rows,
    null_in_compare_rows,
    case when column_index = 0 then keys_missing_in_model end as keys_missing_in_model,
    case when column_index = 0 then keys_missing_in_compare end as keys_missing_in_compare,
    case when column_index = 0 then duplicated_keys end as duplicated_keys
from column_summary
where
    (column_index = 0 and keys_missing_in_model + keys_missing_in_compare + duplicated_keys > 0)
    or (column_index > 0 and differing_rows + null_in_model_rows + null_in_compare_rows > 0)
{% endif %}
{%- endmacro %}
