{#-
    The columns of `relation` when they can be read without a risk of error: a
    relation (`ref`, `source`, `api.Relation`) or a relation name
    (`analytics.orders`) that exists in the warehouse, and the subquery dbt
    makes of a test's model under a `where` config (`(select * from <relation>
    where ...) dbt_subquery`: the columns of that relation). None for any other
    subquery, a relation not built yet, or at parse time.
-#}
{% macro _relation_columns(relation) %}
    {%- if not execute or relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = none -%}
    {%- if relation is not string and relation.identifier is defined -%}
        {%- set found = load_relation(relation) -%}
    {%- else -%}
        {%- set text = (relation ~ '') | trim -%}
        {%- set inner = modules.re.match('^\\(\\s*select \\* from (.+?) where ', text) -%}
        {%- set relation = inner.group(1) | trim if inner else text -%}
        {%- set part = '("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)' -%}
        {%- if modules.re.match('^' ~ part ~ '(\\.' ~ part ~ '){1,2}$', relation | trim) -%}
            {%- set parts = [] -%}
            {%- for quoted, plain in modules.re.findall('"([^"]+)"|([A-Za-z_][A-Za-z0-9_$]*)', relation | trim) -%}
                {%- do parts.append(quoted or backfill.folded_name(plain)) -%}
            {%- endfor -%}
            {%- set found = adapter.get_relation(
                database=parts[-3] if parts | length == 3 else target.database,
                schema=parts[-2], identifier=parts[-1]) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) if found is not none else none) }}
{% endmacro %}
