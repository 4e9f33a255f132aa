{#-
    One side's user-named columns resolved in one look at the relation
    (`backfill._resolved_columns`): `columns`, one mapping per name (`sql`,
    `name`, `data_type`), and `window`, the `window_column` ready for SQL (or none).
    `columns`: the relation's columns when the caller has read them already.
-#}
{% macro _reconcile_resolved(relation, names, window_column, test_name, columns=none) %}
    {%- set resolved = backfill._resolved_columns(
        names + ([window_column] if window_column else []), relation, columns, 'backfill.' ~ test_name) -%}
    {{ return({
        'columns': resolved[:names | length],
        'window': resolved[-1].sql if window_column else none,
    }) }}
{% endmacro %}
