{#-
    The WHERE predicate of one side of a comparison: the side's `where`, and,
    when `window_column` (already resolved, see `_reconcile_resolved`) is set
    and the runner passes a batch window (`backfill.window_bounds()`),
    `window_column >= start and < end`.
    Always a valid predicate (`1 = 1` when there is nothing to filter).
-#}
{% macro _reconcile_side_filter(where, window_column) %}
    {%- set predicates = [] -%}
    {%- if where -%}
        {%- do predicates.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set bounds = backfill.window_bounds() if window_column else none -%}
    {%- if bounds is not none -%}
        {%- do predicates.append(
            '(' ~ window_column ~ ' >= ' ~ bounds.start ~ ' and ' ~ window_column ~ ' < ' ~ bounds.end_exclusive ~ ')') -%}
    {%- endif -%}
    {{ return(predicates | join(' and ') if predicates else '1 = 1') }}
{% endmacro %}
