{#-
    Key sets of `relation` and `compare_relation` compared column by column;
    returns one row per key missing on a side (as `direction` asks) or
    duplicated on a side (in every direction, even when the key is missing
    on the other side), with the number of rows the key has on each side.

    Both sides' keys are stacked and counted per key, never reduced by a set
    operation: a duplicate is reported as such, and null key values match
    each other.
-#}
{% macro compare_keys(
    relation,
    key_columns,
    compare_relation,
    compare_key_columns=none,
    direction='both',
    where=none,
    compare_where=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ return(adapter.dispatch('compare_keys', 'backfill')(
        relation, key_columns, compare_relation, compare_key_columns, direction, where, compare_where,
        window_column, compare_window_column)) }}
{% endmacro %}

{% macro default__compare_keys(
    relation, key_columns, compare_relation, compare_key_columns, direction, where, compare_where,
    window_column, compare_window_column
) %}
    {%- set directions = ['both', 'model_to_compare', 'compare_to_model'] -%}
    {%- if direction not in directions -%}
        {{ exceptions.raise_compiler_error(
            "backfill.reconcile_keys: direction must be one of " ~ directions | join(', ') ~ " (got " ~ direction ~ ").") }}
    {%- endif -%}
    {%- set keys = backfill._reconcile_keys_arguments(key_columns, compare_key_columns, 'reconcile_keys') -%}
    {%- set model_side = backfill._reconcile_resolved(relation, keys.model, window_column, 'reconcile_keys') -%}
    {%- set compare_side = backfill._reconcile_resolved(
        compare_relation, keys.compare, compare_window_column, 'reconcile_keys') -%}
    {%- do backfill._reconcile_same_types(
        model_side.columns, compare_side.columns, 'key_columns', 'compare_key_columns', 'reconcile_keys') -%}

    {%- set key_columns_numbered = backfill._reconcile_numbered('key', keys.model | length) -%}
    {%- set missing_checks = [] -%}
    {%- if direction in ['both', 'model_to_compare'] -%}
        {%- do missing_checks.append('compare_rows = 0') -%}
    {%- endif -%}
    {%- if direction in ['both', 'compare_to_model'] -%}
        {%- do missing_checks.append('model_rows = 0') -%}
    {%- endif -%}

with both_sides as (

    select
        {{ backfill._reconcile_aliased(model_side.columns | map(attribute='sql') | list, 'key') }}
        1 as model_rows,
        0 as compare_rows
    from {{ relation }}
    where {{ backfill._reconcile_side_filter(where, model_side.window) }}
    union all
    select
        {{ backfill._reconcile_aliased(compare_side.columns | map(attribute='sql') | list, 'key') }}
        0 as model_rows,
        1 as compare_rows
    from {{ compare_relation }}
    where {{ backfill._reconcile_side_filter(compare_where, compare_side.window) }}

),

keys_compared as (

    select
        {{ key_columns_numbered }},
        sum(model_rows) as model_rows,
        sum(compare_rows) as compare_rows
    from both_sides
    group by {{ key_columns_numbered }}

)

select
    {{ backfill._reconcile_renamed(keys.model, 'key') }}
    case
        when model_rows = 0 then 'model'
        when compare_rows = 0 then 'compare_model'
    end as missing_in,
    {{ backfill._reconcile_key_issue('model_rows', 'compare_rows') }} as issue,
    model_rows,
    compare_rows
from keys_compared
where
    {{ missing_checks | join(' or ') ~ ' or ' if missing_checks }}model_rows > 1
    or compare_rows > 1
{%- endmacro %}
