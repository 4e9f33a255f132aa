{#-
    The rows of `relation` as they were at one date: a subquery of the versions
    valid then (see `valid_at`), one per key for a well-formed snapshot.

        select item.id, item.status
        from {{ backfill.as_of(ref('item_snapshot'), '2024-01-15') }} as item

    `date_expr` is a 'YYYY-MM-DD' literal, a 'YYYY-MM-DD HH:MM' literal, or a
    SQL expression. A date means the start of that day (00:00), as in
    `valid_at`: the version current at midnight, so a version that begins later
    that day — every version of a `check` snapshot taken today — is not there
    yet. For the state now, pass the current time:

        {{ backfill.as_of(ref('item_snapshot'), dbt.current_timestamp()) }}

    and for the state a day ended with (a snapshot taken during it included),
    `end_of_day=true`. For the same lookup per row (each event on its own day),
    join with `backfill.valid_at` instead.

    When `relation` is a snapshot of the project and `valid_from` / `valid_to`
    are not given, its own settings are used: renamed meta columns
    (`snapshot_meta_column_names`) and `dbt_valid_to_current`. Keys deleted at
    the source by then are absent, whether the snapshot closed their last
    version (`hard_deletes: invalidate`) or recorded the deletion as a row of
    its own (`hard_deletes: new_record`, flagged in `dbt_is_deleted`).
-#}
{% macro as_of(
    relation,
    date_expr,
    valid_from=none,
    valid_to=none,
    end_inclusive=false,
    valid_to_current=none,
    end_of_day=false
) %}
    {{ return(adapter.dispatch('as_of', 'backfill')(
        relation, date_expr, valid_from, valid_to, end_inclusive, valid_to_current, end_of_day)) }}
{% endmacro %}

{% macro default__as_of(relation, date_expr, valid_from, valid_to, end_inclusive, valid_to_current,
                        end_of_day=false) %}
    {%- set snapshot = backfill._snapshot_settings(relation) -%}
    {#- Column names as dbt itself writes them in the snapshot (unquoted). -#}
    {%- set from_column = valid_from or snapshot.valid_from -%}
    {%- set to_column = valid_to or snapshot.valid_to -%}
    {%- set current = valid_to_current if valid_to_current is not none
        else (snapshot.valid_to_current if not valid_to else none) -%}
    (
        select versions.*
        from {{ relation }} as versions
        where {{ backfill.valid_at(
            date_expr,
            valid_from='versions.' ~ from_column,
            valid_to='versions.' ~ to_column,
            end_inclusive=end_inclusive,
            valid_to_current=current,
            deleted=('versions.' ~ snapshot.is_deleted) if snapshot.is_deleted else none,
            end_of_day=end_of_day) }}
    )
{%- endmacro %}


{% macro _snapshot_settings(relation) %}
    {#- The validity columns of `relation`: the dbt defaults, or those of the project's
        snapshot that builds it (renamed meta columns, dbt_valid_to_current). -#}
    {%- set settings = {'valid_from': 'dbt_valid_from', 'valid_to': 'dbt_valid_to', 'valid_to_current': none,
                        'is_deleted': none} -%}
    {%- if not execute or relation.identifier is not defined -%}
        {{ return(settings) }}
    {%- endif -%}
    {#- A deletion flag, when the relation has one (snapshots with hard_deletes: new_record). -#}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == 'dbt_is_deleted' -%}
            {%- do settings.update({'is_deleted': column.name}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'snapshot' -%}
        {%- set same_name = (node.alias or node.name) | lower == (relation.identifier or '') | lower -%}
        {%- set same_schema = (node.schema or '') | lower == (relation.schema or '') | lower -%}
        {%- if same_name and same_schema -%}
            {%- set names = node.config.get('snapshot_meta_column_names') or {} -%}
            {%- do settings.update({
                'valid_from': names.get('dbt_valid_from') or 'dbt_valid_from',
                'valid_to': names.get('dbt_valid_to') or 'dbt_valid_to',
                'valid_to_current': node.config.get('dbt_valid_to_current'),
            }) -%}
            {%- if names.get('dbt_is_deleted') and node.config.get('hard_deletes') == 'new_record' -%}
                {%- do settings.update({'is_deleted': names.get('dbt_is_deleted')}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(settings) }}
{% endmacro %}
