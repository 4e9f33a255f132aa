{#- Key sets of the model and compare_model agree, in both directions or one (see reconcile.yml). -#}
{% test reconcile_keys(
    model,
    compare_model,
    key_columns=none,
    compare_key_columns=none,
    column_name=none,
    direction='both',
    compare_where=none,
    window_column=none,
    compare_window_column=none
) %}
    {{ backfill.compare_keys(
        model, key_columns or column_name, compare_model,
        compare_key_columns=compare_key_columns, direction=direction, compare_where=compare_where,
        window_column=window_column, compare_window_column=compare_window_column) }}
{% endtest %}
