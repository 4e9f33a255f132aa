{#-
    Columns named by a user, ready for SQL, the same way everywhere in the package:

    - a plain name (`order_date`, `OrderDate`, `order`) is matched, ignoring
      case, against the real columns of `relation` when it is a relation that
      exists (or `columns` when the caller has read them), and the real spelling
      is quoted; a name it does not have is refused in one sentence naming the
      relation and its columns. When the columns cannot be read (a subquery
      such as a test's `where`, a relation not built yet, parse time), the name
      is folded the way the warehouse folds unquoted names (`folded_name`) and
      quoted, so keywords still work and nothing is looked up;
    - an already quoted name (`"EventDate"`, what dbt passes for a column with
      `quote: true`) is matched exactly and quoted once;
    - anything else (`cast(billed_at as date)`) is an expression, used as written.
-#}
{% macro column_identifiers(names, relation=none, columns=none, prefix='backfill') %}
    {{ return(adapter.dispatch('column_identifiers', 'backfill')(names, relation, columns, prefix)) }}
{% endmacro %}

{% macro default__column_identifiers(names, relation, columns, prefix) %}
    {%- set identifiers = [] -%}
    {%- for resolved in backfill._resolved_columns(names, relation, columns, prefix) -%}
        {%- do identifiers.append(resolved.sql) -%}
    {%- endfor -%}
    {{ return(identifiers) }}
{% endmacro %}
