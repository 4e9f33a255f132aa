{#-
    The generated table of scenario 3 (gap detection) as a model, so that
    `python -m backfill gaps --model gap_events` can name it. A view: reading it
    is reading the table.
-#}
{{ config(materialized='view') }}

select *
from {{ source('bench_raw', 'gap_events') }}
