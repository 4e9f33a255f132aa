{#-
    The narrow pass of a key comparison: both sides' keys alone, stacked and
    counted per key, keeping only the keys that do not have exactly one row on
    each side (missing on a side, duplicated, or both), as key_1..key_n with
    model_rows and compare_rows. Grouping, not a join: null key values match each
    other and a duplicate is counted, never multiplied. The filter sits in
    `having`, on the aggregates, so the warehouse drops the matched keys as it
    groups instead of materialising every key first.
    `model` and `compare`: one side each, as `_reconcile_key_side` describes it.
-#}
{% macro _reconcile_key_counts(model, compare, key_count) %}
    {%- set keys_numbered = backfill._reconcile_numbered('key', key_count) -%}
    {%- set bigint = dbt.type_bigint() -%}
    select
        {{ keys_numbered }},
        cast(sum(in_model) as {{ bigint }}) as model_rows,
        cast(count(*) - sum(in_model) as {{ bigint }}) as compare_rows
    from (
        select
            {{ model.key_columns }}1 as in_model
        from {{ model.relation }}
        where {{ model.filter }}
        union all
        select
            {{ compare.key_columns }}0 as in_model
        from {{ compare.relation }}
        where {{ compare.filter }}
    ) as stacked_keys
    group by {{ keys_numbered }}
    having sum(in_model) != 1 or count(*) != 2
{%- endmacro %}
