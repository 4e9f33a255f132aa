{#-
    Validity columns kept by hand, next to the snapshot's: item events on the days
    their item was in the assortment (`item_assortment`, inclusive last day).
-#}
{{ config(materialized='view') }}

select
    events.event_id,
    events.item_id,
    events.event_date,
    assortment.active_start_date,
    assortment.active_end_date
from {{ source('reference_raw', 'item_events') }} as events
inner join {{ ref('item_assortment') }} as assortment
    on
        events.item_id = assortment.item_id
        and {{ backfill.valid_at(
            'events.event_date',
            valid_from='assortment.active_start_date',
            valid_to='assortment.active_end_date',
            end_inclusive=true,
        ) }}
