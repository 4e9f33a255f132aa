{#- Row counts of the model and compare_model agree, overall or per group (see reconcile.yml). -#}
{% test reconcile_count(
    model,
    compare_model,
    group_by=none,
    compare_group_by=none,
    compare_where=none,
    tolerance=0,
    tolerance_pct=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ backfill.compare_counts(
        model, compare_model,
        group_by=group_by, compare_group_by=compare_group_by, compare_where=compare_where,
        tolerance=tolerance, tolerance_pct=tolerance_pct,
        window_column=window_column, compare_window_column=compare_window_column) }}
{% endtest %}
