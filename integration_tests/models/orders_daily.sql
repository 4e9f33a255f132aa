{#- A user's incremental model with the two backfill lines: the pre-hook and the
    window predicate. Column names that are SQL keywords are quoted by the user. -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ backfill.delete_window('\"date\"') }}",
    meta={'backfill': {'start_var': 'from_day', 'end_var': 'to_day', 'period_column': 'date'}},
) }}

-- "date" and "order" are SQL keywords used as column names, on purpose.
select
    cast(raw_orders.occurred_at as date) as "date",  -- noqa: RF06
    count(*) as "order",
    sum(raw_orders.amount) as amount
from {{ ref('raw_orders') }} as raw_orders
where {{ backfill.backfill_window('raw_orders.occurred_at', this_column='"date"') }}
group by cast(raw_orders.occurred_at as date)
