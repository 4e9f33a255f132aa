{#-
    The reference pipeline's daily_metrics (demo/models/daily_metrics.sql),
    reading the benchmark's generated data: item events of ACTIVE items per day,
    incremental, backfillable window by window through the vars
    start_date / end_date (the pre-hook and the backfill_window predicate).
-#}
{{ config(
    materialized='incremental',
    event_time='metric_date',
    pre_hook="{{ backfill.delete_window('metric_date') }}",
) }}

with events_in_window as (

    select
        events.event_date,
        events.item_id,
        events.amount,
        events.quantity
    from {{ source('bench_raw', 'item_events') }} as events
    where {{ backfill.backfill_window('events.event_date', this_column='metric_date') }}

),

active_items as (

    select item.id as item_id
    from {{ source('bench_raw', 'item') }} as item
    where item.status = 'ACTIVE'

)

select
    events_in_window.event_date as metric_date,
    count(*) as event_count,
    count(distinct events_in_window.item_id) as item_count,
    sum(events_in_window.amount) as total_amount,
    sum(events_in_window.quantity) as total_quantity
from events_in_window
inner join active_items
    on events_in_window.item_id = active_items.item_id
group by events_in_window.event_date
