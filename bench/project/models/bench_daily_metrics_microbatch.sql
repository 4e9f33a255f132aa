{#-
    The same daily job written for dbt's own `microbatch` strategy: dbt filters
    the source by its event_time (item_events.event_date) per batch and
    replaces the batch. dbt-postgres merges on a unique_key (it requires one);
    dbt-duckdb deletes and inserts by event_time and refuses a unique_key.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='metric_date',
    batch_size='day',
    begin='2023-01-01',
    lookback=0,
    unique_key=('metric_date' if target.type == 'postgres' else none),
) }}

with events as (

    -- no alias: dbt wraps the source in a filtering subquery with its own alias
    select
        event_date,
        item_id,
        amount,
        quantity
    from {{ source('bench_raw', 'item_events') }}

),

active_items as (

    select item.id as item_id
    from {{ source('bench_raw', 'item') }} as item
    where item.status = 'ACTIVE'

)

select
    events.event_date as metric_date,
    count(*) as event_count,
    count(distinct events.item_id) as item_count,
    sum(events.amount) as total_amount,
    sum(events.quantity) as total_quantity
from events
inner join active_items
    on events.item_id = active_items.item_id
group by events.event_date
