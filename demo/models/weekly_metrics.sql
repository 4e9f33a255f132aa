{#-
    Built on daily_metrics: its days summed per ISO week (Monday first). Its grain,
    declared in meta, is what lets `python -m backfill run --select daily_metrics+`
    derive its windows from its parent's: a day rewritten in daily_metrics is the
    week that holds it here, rewritten once the parent's last day of that week is.
-#}
{{ config(
    materialized='incremental',
    pre_hook="{{ backfill.delete_window('week_start') }}",
    meta={'backfill': {'period_column': 'week_start', 'grain': 'week'}},
) }}

select
    {{ backfill.period_of('daily_metrics.metric_date', 'week') }} as week_start,
    count(*) as days_with_events,
    sum(daily_metrics.event_count) as event_count,
    sum(daily_metrics.total_amount) as total_amount
from {{ ref('daily_metrics') }} as daily_metrics
where {{ backfill.backfill_window('daily_metrics.metric_date', this_column='week_start') }}
group by {{ backfill.period_of('daily_metrics.metric_date', 'week') }}
