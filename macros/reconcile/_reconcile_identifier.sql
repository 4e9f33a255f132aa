{#-
    A column given by a user, ready for SQL: a plain name (`order_date`,
    `order`) is quoted through the adapter, so keywords and odd names work;
    anything else (`cast(billed_at as date)`, an already quoted `"Order Date"`)
    is an expression and used as written.
-#}
{% macro _reconcile_identifier(name) %}
    {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', name | trim) -%}
        {{ return(adapter.quote(name | trim)) }}
    {%- endif -%}
    {{ return(name) }}
{% endmacro %}
