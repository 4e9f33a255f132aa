{#-
    The body of compare_counts (column none: count rows) and compare_sums
    (sum the column). Each side is aggregated per group on its own, the two
    small results are stacked and summed per group, so a group present on one
    side only keeps a zero on the other instead of vanishing in a join, and null
    group values match each other.
-#}
{% macro _compare_measures(
    test_name, relation, column, compare_relation, compare_column, group_by, compare_group_by,
    where, compare_where, tolerance, tolerance_pct, window_column, compare_window_column
) %}
    {%- do backfill._reconcile_tolerance(tolerance, tolerance_pct, test_name) -%}
    {%- set groups = backfill._reconcile_list(group_by, 'group_by', test_name) -%}
    {%- set compare_groups = backfill._reconcile_list(compare_group_by, 'compare_group_by', test_name) or groups -%}
    {%- if compare_groups | length != groups | length -%}
        {{ exceptions.raise_compiler_error(
            "backfill." ~ test_name ~ ": group_by and compare_group_by must name as many columns ("
            ~ groups | length ~ " and " ~ compare_groups | length ~ ").") }}
    {%- endif -%}
    {%- set grouped = groups | length > 0 -%}
    {#- Each side's columns resolved in one look (backfill.column_identifiers' rule): real names quoted,
        a column the relation does not have refused in one sentence. -#}
    {%- set model_side = backfill._reconcile_resolved(
        relation, groups + ([column] if column is not none else []), window_column, test_name) -%}
    {%- set compare_side = backfill._reconcile_resolved(
        compare_relation, compare_groups + ([compare_column] if column is not none else []), compare_window_column,
        test_name) -%}
    {%- do backfill._reconcile_same_types(
        model_side.columns[:groups | length], compare_side.columns[:groups | length],
        'group_by', 'compare_group_by', test_name) -%}
    {%- set measure = 'count(*)' if column is none else 'sum(' ~ model_side.columns[-1].sql ~ ')' -%}
    {%- set compare_measure = 'count(*)' if column is none else 'sum(' ~ compare_side.columns[-1].sql ~ ')' -%}
    {%- set model_group_columns = model_side.columns[:groups | length] | map(attribute='sql') | list -%}
    {%- set compare_group_columns = compare_side.columns[:groups | length] | map(attribute='sql') | list -%}
    {%- set group_columns = backfill._reconcile_numbered('group', groups | length, trailing_comma=true) -%}
    {%- set group_by_model = ('group by ' ~ model_group_columns | join(', ')) if grouped else '' -%}
    {%- set group_by_compare = ('group by ' ~ compare_group_columns | join(', ')) if grouped else '' -%}
    {%- set group_by_numbered = ('group by ' ~ backfill._reconcile_numbered('group', groups | length))
        if grouped else '' -%}
    {%- set fails_when_missing = 'when groups_measured.model_rows = 0 or groups_measured.compare_rows = 0 then 1'
        if grouped else '' -%}
    {#- Both comparisons on numbers rounded to 9 decimals (_reconcile_rounded): a difference of exactly the
        tolerance passes with float columns too. The relative one compares the percentage itself. -#}
    {%- set within_tolerance_pct = ('when groups_measured.larger_side > 0 and '
        ~ backfill._reconcile_rounded('100.0 * abs(groups_measured.difference) / groups_measured.larger_side')
        ~ ' <= ' ~ tolerance_pct ~ ' then 0') if tolerance_pct is not none else '' -%}
    {%- set missing_in = "case when model_rows = 0 then 'model' when compare_rows = 0 then 'compare_model' end"
        if grouped else 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set row_counts = 'model_rows, compare_rows,' if column is not none else '' -%}

with model_groups as (

    select
        {{ backfill._reconcile_aliased(model_group_columns, 'group') }}
        count(*) as side_rows,
        {{ measure }} as side_value
    from {{ relation }}
    where {{ backfill._reconcile_side_filter(where, model_side.window) }}
    {{ group_by_model }}

),

compare_groups as (

    select
        {{ backfill._reconcile_aliased(compare_group_columns, 'group') }}
        count(*) as side_rows,
        {{ compare_measure }} as side_value
    from {{ compare_relation }}
    where {{ backfill._reconcile_side_filter(compare_where, compare_side.window) }}
    {{ group_by_compare }}

),

both_sides as (

    select
        {{ group_columns }}
        side_rows as model_rows,
        0 as compare_rows,
        side_value as model_value,
        0 as compare_value
    from model_groups
    union all
    select
        {{ group_columns }}
        0 as model_rows,
        side_rows as compare_rows,
        0 as model_value,
        side_value as compare_value
    from compare_groups

),

groups_compared as (

    select
        {{ group_columns }}
        sum(model_rows) as model_rows,
        sum(compare_rows) as compare_rows,
        coalesce(sum(model_value), 0) as model_value,
        coalesce(sum(compare_value), 0) as compare_value
    from both_sides
    {{ group_by_numbered }}

),

groups_measured as (

    select
        groups_compared.*,
        groups_compared.model_value - groups_compared.compare_value as difference,
        case
            when abs(groups_compared.model_value) >= abs(groups_compared.compare_value)
                then abs(groups_compared.model_value)
            else abs(groups_compared.compare_value)
        end as larger_side
    from groups_compared

),

groups_judged as (

    select
        groups_measured.*,
        case
            {{ fails_when_missing }}
            when {{ backfill._reconcile_rounded('abs(groups_measured.difference)') }} <= {{ tolerance }} then 0
            {{ within_tolerance_pct }}
            else 1
        end as is_failing,
        sum(groups_measured.model_value) over () as model_total,
        sum(groups_measured.compare_value) over () as compare_total,
        count(*) over () as groups_compared
    from groups_measured

)

select
    {{ backfill._reconcile_renamed(groups, 'group') }}
    model_value,
    compare_value,
    difference,
    case when larger_side = 0 then 0 else 100.0 * difference / larger_side end as difference_pct,
    {{ missing_in }} as missing_in,
    {{ row_counts }}
    model_total,
    compare_total,
    groups_compared
from groups_judged
where is_failing = 1
{%- endmacro %}
