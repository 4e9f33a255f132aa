{#-
    `sum(column)` of `relation` against `sum(compare_column)` of
    `compare_relation`, overall or per group; returns one row per failing group.
    Nulls add nothing (as in `sum`); a side with no rows sums to 0.
-#}
{% macro compare_sums(
    relation,
    column,
    compare_relation,
    compare_column=none,
    group_by=none,
    compare_group_by=none,
    where=none,
    compare_where=none,
    tolerance=0,
    tolerance_pct=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ return(adapter.dispatch('compare_sums', 'backfill')(
        relation, column, compare_relation, compare_column, group_by, compare_group_by, where, compare_where,
        tolerance, tolerance_pct, window_column, compare_window_column)) }}
{% endmacro %}

{% macro default__compare_sums(
    relation, column, compare_relation, compare_column, group_by, compare_group_by, where, compare_where,
    tolerance, tolerance_pct, window_column, compare_window_column
) %}
    {%- if not column -%}
        {{ exceptions.raise_compiler_error("backfill.reconcile_sum: set column, the measure to sum.") }}
    {%- endif -%}
    {{ return(backfill._compare_measures(
        'reconcile_sum', relation, column, compare_relation, compare_column or column, group_by, compare_group_by,
        where, compare_where, tolerance, tolerance_pct, window_column, compare_window_column)) }}
{% endmacro %}
