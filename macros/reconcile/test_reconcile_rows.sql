{#- Rows matched on key agree column by column, null-safely (see reconcile.yml). -#}
{% test reconcile_rows(
    model,
    compare_model,
    key_columns=none,
    compare_key_columns=none,
    column_name=none,
    columns=none,
    exclude_columns=none,
    column_map=none,
    precision=none,
    compare_where=none,
    summary=false,
    window_column=none,
    compare_window_column=none
) %}
    {{ backfill.compare_rows(
        model, key_columns or column_name, compare_model,
        compare_key_columns=compare_key_columns, columns=columns, exclude_columns=exclude_columns,
        column_map=column_map, precision=precision, compare_where=compare_where, summary=summary,
        window_column=window_column, compare_window_column=compare_window_column) }}
{% endtest %}
