{#-
    One side of a key comparison, as `_reconcile_key_counts` and `compare_rows`
    read it: `relation`; `key_columns`, its key columns numbered key_1..key_n
    (`_reconcile_aliased`); `filter`, its WHERE predicate (`where` and the batch
    window, `_reconcile_side_filter`); `key_nulls`, a predicate true when any
    part of its key is null. `side`: the side's columns resolved by
    `_reconcile_resolved`.
-#}
{% macro _reconcile_key_side(relation, side, where) %}
    {%- set key_sql = side.columns | map(attribute='sql') | list -%}
    {%- set key_nulls = [] -%}
    {%- for expression in key_sql -%}
        {%- do key_nulls.append(expression ~ ' is null') -%}
    {%- endfor -%}
    {{ return({
        'relation': relation,
        'key_columns': backfill._reconcile_aliased(key_sql, 'key'),
        'filter': backfill._reconcile_side_filter(where, side.window),
        'key_nulls': key_nulls | join(' or '),
    }) }}
{% endmacro %}
