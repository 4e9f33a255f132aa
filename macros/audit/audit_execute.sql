{#-
    Run one audit statement inside the operation's transaction (begun by the
    first one; `backfill.audit_write` commits it). run_query would not begin a
    transaction, and its writes would be rolled back on PostgreSQL.
-#}
{% macro audit_execute(sql) %}
    {%- call statement('backfill_audit', auto_begin=true) -%}
        {{ sql }}
    {%- endcall -%}
{% endmacro %}
