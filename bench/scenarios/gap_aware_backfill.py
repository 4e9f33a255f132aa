"""Scenario 2: a year of daily_metrics with five days missing, filled again.

- this runner's `run --gaps-only` (finds the missing days with find_gaps, then
  backfills only them), verified and not;
- rebuilding the whole year instead: `dbt run --full-refresh` (one statement,
  the cheapest rebuild there is) and dbt microbatch over every day of the year
  (what a microbatch user does: dbt cannot list past gaps).

Each contender starts from the right table minus the five days (copied, not
timed); afterwards its table must equal the right table again.
"""

from __future__ import annotations

from datetime import timedelta

from bench import data, report
from bench.connect import quoted
from bench.dbt_project import DAILY_MODEL, MICROBATCH_MODEL, dbt_command, runner_command
from bench.scenarios import Context
from bench.scenarios.backfill_throughput import RUNNER_UNVERIFIED
from bench.scenarios.pipeline import TRUTH_TABLE, Pipeline, prepare_pipeline, table_fingerprint, truth
from bench.trials import Contender, measure

GAPS_ONLY = "backfill run --gaps-only (verified)"


def year_with_gaps(pipeline: Pipeline, model: str):
    """A preparation: the model's table holds the year except the planted days."""
    missing = ", ".join(data.date_literal(day) for day in missing_days(pipeline))

    def prepare(sandbox, scratch):
        sandbox.execute(f"create table {sandbox.table(model)} as select * from "
                        f"{quoted(pipeline.data.schema, TRUTH_TABLE)} where metric_date not in ({missing})")

    return prepare


def missing_days(pipeline: Pipeline):
    days = (pipeline.last_day - pipeline.first_day).days + 1
    return [data.day_of(offset) for offset in data.planted_offsets(days)]


def contenders(pipeline: Pipeline, context: Context) -> list[Contender]:
    first, last = pipeline.period
    expected = truth(pipeline, context.warehouse, pipeline.last_day)

    def gaps_only(name: str, *options: str) -> Contender:
        return Contender(
            name,
            prepare=year_with_gaps(pipeline, DAILY_MODEL),
            command=lambda sandbox, scratch: runner_command(
                "run", "--model", DAILY_MODEL, "--gaps-only", "--start", first, "--end", last, *options),
            result=lambda sandbox, run: table_fingerprint(sandbox, DAILY_MODEL),
            expected=expected,
            this_project=True,
        )

    return [
        gaps_only(GAPS_ONLY),
        gaps_only("backfill run --gaps-only --no-verify", "--no-verify"),
        Contender(
            "dbt run --full-refresh (rebuild the year)",
            prepare=year_with_gaps(pipeline, DAILY_MODEL),
            command=lambda sandbox, scratch: dbt_command("run", "--select", DAILY_MODEL, "--full-refresh"),
            result=lambda sandbox, run: table_fingerprint(sandbox, DAILY_MODEL),
            expected=expected,
        ),
        Contender(
            "dbt microbatch over the year",
            prepare=year_with_gaps(pipeline, MICROBATCH_MODEL),
            command=lambda sandbox, scratch: dbt_command(
                "run", "--select", MICROBATCH_MODEL, "--event-time-start", first,
                "--event-time-end", (pipeline.last_day + timedelta(days=1)).isoformat()),
            result=lambda sandbox, run: table_fingerprint(sandbox, MICROBATCH_MODEL),
            expected=expected,
        ),
    ]


def run(context: Context) -> report.Table:
    sizes, kind = context.sizes, context.warehouse.label
    context.log(f"Scenario 2: gap-aware backfill ({kind})")
    pipeline = prepare_pipeline(context)
    measured = measure(context.warehouse, pipeline.data, contenders(pipeline, context), sizes.repetitions,
                       pipeline.period, context.timeout, context.log)
    reference = measured[0].seconds
    days = ", ".join(day.isoformat() for day in missing_days(pipeline))
    table = report.Table(
        title=f"2. Gap-aware backfill: {sizes.backfill_days} days with 5 missing ({kind})",
        intro=(f"daily_metrics over {sizes.backfill_days} days ({sizes.events_per_day:,} events a day) lacks "
               f"{days}. Median of {sizes.repetitions} run(s)."),
        headers=["contender", "median s", "min–max s", "peak RSS MB", "× --gaps-only"],
    )
    for entry in measured:
        table.rows.append([
            *report.timing_cells(entry),
            report.ratio(entry.seconds, reference),
        ])
    table.notes = ["Every contender's table equals the complete year afterwards (checked)."]
    throughput = {entry.name: entry for entry in context.shared.get("backfill_throughput", [])}
    if RUNNER_UNVERIFIED in throughput:
        table.notes.append(
            f"Rebuilding the year with the runner in daily batches instead takes what scenario 1 measured: "
            f"{report.seconds(throughput[RUNNER_UNVERIFIED].seconds)} s with --no-verify.")
    table.numbers = {"contenders": [entry.as_dict() for entry in measured], "missing_days": days}
    table.headline = (f"Five missing days in {sizes.backfill_days} ({kind}): "
                      + "; ".join(f"{entry.name} {report.seconds(entry.seconds)} s" for entry in measured) + ".")
    refresh, microbatch = measured[2], measured[3]
    table.ratios = (f"Five missing days in {sizes.backfill_days} ({kind}): `run --gaps-only` (verified) takes "
                    f"{report.ratio(reference, refresh.seconds)} the time of a full refresh and "
                    f"{report.ratio(reference, microbatch.seconds)} that of microbatch over every day.")
    return table
