{#-
    The playbook's daily job, reproducible: events of items that were ACTIVE on
    the day of the event, read from the item state snapshot rather than the item
    table as it is now. Rerunning an old day gives the answer of the first run,
    however the items changed since (compare `daily_metrics`).

    Same two backfill lines as daily_metrics (the pre-hook and the window
    predicate); `backfill.valid_at` picks, per event, the item version current on
    the event's day. Items without a version on that day (not yet snapshotted)
    are left out.
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
    from {{ source('reference_raw', 'item_events') }} as events
    where {{ backfill.backfill_window('events.event_date', this_column='metric_date') }}

),

item_versions as (

    select
        item_snapshot.id as item_id,
        item_snapshot.status,
        item_snapshot.dbt_valid_from,
        item_snapshot.dbt_valid_to
    from {{ ref('item_snapshot') }} as item_snapshot

),

events_of_items_active_that_day as (

    select events_in_window.*
    from events_in_window
    inner join item_versions
        on
            events_in_window.item_id = item_versions.item_id
            and {{ backfill.valid_at(
                'events_in_window.event_date',
                valid_from='item_versions.dbt_valid_from',
                valid_to='item_versions.dbt_valid_to',
            ) }}
    where item_versions.status = 'ACTIVE'

)

select
    event_date as metric_date,
    count(*) as event_count,
    count(distinct item_id) as item_count,
    sum(amount) as total_amount,
    sum(quantity) as total_quantity
from events_of_items_active_that_day
group by event_date
