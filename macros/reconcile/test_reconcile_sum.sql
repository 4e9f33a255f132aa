{#- sum(column) of the model agrees with sum(compare_column) of compare_model (see reconcile.yml). -#}
{% test reconcile_sum(
    model,
    compare_model,
    column=none,
    compare_column=none,
    column_name=none,
    group_by=none,
    compare_group_by=none,
    compare_where=none,
    tolerance=0,
    tolerance_pct=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ backfill.compare_sums(
        model, column or column_name, compare_model, compare_column=compare_column,
        group_by=group_by, compare_group_by=compare_group_by, compare_where=compare_where,
        tolerance=tolerance, tolerance_pct=tolerance_pct,
        window_column=window_column, compare_window_column=compare_window_column) }}
{% endtest %}
