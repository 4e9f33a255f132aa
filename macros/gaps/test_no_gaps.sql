{#-
    Every period of `grain` between `start` and `end` has at least `min_rows`
    rows (per `partition_by` partition, when given; every partition of
    `partitions` too, also one without a row). Fails with one row per missing
    range, as `find_gaps` returns them, so `store_failures` keeps the ranges.
    The test's `where` config filters the checked rows as for any test.
-#}
{% test no_gaps(model, column_name, grain='day', start=none, end=none, min_rows=1, partition_by=none,
                exclude=none, partitions=none) %}
    {{ backfill.find_gaps(
        model, column_name, grain=grain, start=start, end=end, min_rows=min_rows,
        partition_by=partition_by, exclude=exclude, partitions=partitions) }}
{% endtest %}
