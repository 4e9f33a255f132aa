{#-
    Run the audit trail's statements (run-operation): the runner renders them
    (`write_statements` in python/backfill/audit.py: one delete of the rows being
    replaced and one multi-row insert a table) and this runs them in one
    transaction, committed at the end. The runner calls it this way only when no
    dbt adapter is set up yet; afterwards it runs the same statements on that
    adapter directly.
-#}
{% macro audit_write(statements=[]) %}
    {%- for sql in statements -%}
        {%- do backfill.audit_execute(sql) -%}
    {%- endfor -%}
    {%- if statements -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
