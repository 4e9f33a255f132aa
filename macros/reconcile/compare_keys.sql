{#-
    Key sets of `relation` and `compare_relation` compared column by column;
    returns one row per key missing on a side (as `direction` asks) or
    duplicated on a side (in every direction, even when the key is missing
    on the other side), with the number of rows the key has on each side.

    Both sides' keys are stacked and counted per key (`_reconcile_key_counts`),
    never reduced by a set operation: a duplicate is reported as such, and null
    key values match each other.
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

    {%- set missing_checks = [] -%}
    {%- if direction in ['both', 'model_to_compare'] -%}
        {%- do missing_checks.append('compare_rows = 0') -%}
    {%- endif -%}
    {%- if direction in ['both', 'compare_to_model'] -%}
        {%- do missing_checks.append('model_rows = 0') -%}
    {%- endif -%}

with key_issues as (

    {{ backfill._reconcile_key_counts(
        backfill._reconcile_key_side(relation, model_side, where),
        backfill._reconcile_key_side(compare_relation, compare_side, compare_where),
        keys.model | length) }}

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
from key_issues
where
    {{ missing_checks | join(' or ') ~ ' or ' if missing_checks }}model_rows > 1
    or compare_rows > 1
{%- endmacro %}
