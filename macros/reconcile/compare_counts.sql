{#-
    Row counts of `relation` and `compare_relation` compared, overall or per
    group; returns one row per failing group (none when they agree).

    A group present on one side only always fails (0 against n, whatever the
    tolerance); two empty sides agree. See reconcile.yml for every argument.
-#}
{% macro compare_counts(
    relation,
    compare_relation,
    group_by=none,
    compare_group_by=none,
    where=none,
    compare_where=none,
    tolerance=0,
    tolerance_pct=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ return(adapter.dispatch('compare_counts', 'backfill')(
        relation, compare_relation, group_by, compare_group_by, where, compare_where,
        tolerance, tolerance_pct, window_column, compare_window_column)) }}
{% endmacro %}

{% macro default__compare_counts(
    relation, compare_relation, group_by, compare_group_by, where, compare_where,
    tolerance, tolerance_pct, window_column, compare_window_column
) %}
    {{ return(backfill._compare_measures(
        'reconcile_count', relation, none, compare_relation, none, group_by, compare_group_by,
        where, compare_where, tolerance, tolerance_pct, window_column, compare_window_column)) }}
{% endmacro %}
