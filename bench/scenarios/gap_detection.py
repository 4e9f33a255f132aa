"""Scenario 3: the missing days of a large table.

- this project's `python -m backfill gaps --json` (the find_gaps builder, run
  through dbt, as a user runs it);
- the same find_gaps SQL, compiled once by dbt, sent through the driver (the
  builder's own cost, without dbt);
- `dbt test` of the package's `no_gaps` test on the table;
- `select count(distinct event_date)` (the floor: it only counts the days
  present, it cannot say which are missing).

All must find the five planted days: the gap ranges, their number, or the
number of missing days, whichever the contender reports.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from bench import data, report
from bench.connect import quoted
from bench.dbt_project import (GAP_MODEL, GAP_TEST, compile_inline, contender_env, dbt_command, runner_command,
                               script_command)
from bench.scenarios import Context
from bench.trials import Contender, measure

DAYS = 365
FIND_GAPS_CLI = "backfill gaps --json"
FIND_GAPS_SQL = "find_gaps SQL through the driver"
NO_GAPS_TEST = "dbt test (backfill.no_gaps)"
FLOOR = "select count(distinct event_date) (floor)"
FINDS = {FIND_GAPS_CLI: "the ranges", FIND_GAPS_SQL: "the ranges", NO_GAPS_TEST: "one failing row per range",
         FLOOR: "how many days are missing"}


def planted_ranges() -> list[list[str]]:
    """The planted days as inclusive ranges of consecutive days."""
    ranges: list[list[int]] = []
    for offset in data.planted_offsets(DAYS):
        if ranges and ranges[-1][1] == offset - 1:
            ranges[-1][1] = offset
        else:
            ranges.append([offset, offset])
    return [[data.day_of(a).isoformat(), data.day_of(b).isoformat()] for a, b in ranges]


def cli_ranges(sandbox, run) -> list[list[str]]:
    document = json.loads(run.stdout)
    return [[gap["gap_start"], gap["gap_end"]] for gap in document["gaps"]]


def sql_ranges(sandbox, run) -> list[list[str]]:
    return sorted([str(start)[:10], str(end)[:10]] for start, end, *_ in json.loads(run.stdout))


def failing_rows(sandbox, run) -> int:
    """dbt's summary line of a failed test: 'Got 4 results, configured to fail if != 0'."""
    match = re.search(r"Got (\d+) results?, configured to fail", run.stdout)
    return int(match.group(1)) if match else 0


def missing_from_count(sandbox, run) -> int:
    return DAYS - int(json.loads(run.stdout)[0][0])


def contenders(dataset, period: tuple[str, str], find_gaps_sql: str) -> list[Contender]:
    first, last = period
    ranges = planted_ranges()

    def with_view(sandbox, scratch):
        # `backfill gaps` and `dbt test` name a model: gap_events, a view of the table.
        sandbox.execute(f"create view {sandbox.table(GAP_MODEL)} as select * from {sandbox.data_table('gap_events')}")

    def sql_file(sql: str):
        def prepare(sandbox, scratch):
            with_view(sandbox, scratch)
            (scratch / "query.sql").write_text(sql)
        return prepare

    count_sql = (f"select count(distinct event_date) from {quoted(dataset.schema, 'gap_events')} "
                 f"where event_date >= {data.date_literal(data.day_of(0))} "
                 f"and event_date <= {data.date_literal(data.day_of(DAYS - 1))}")
    return [
        Contender(
            FIND_GAPS_CLI,
            prepare=with_view,
            command=lambda sandbox, scratch: runner_command(
                "gaps", "--model", GAP_MODEL, "--column", "event_date", "--start", first, "--end", last, "--json"),
            result=cli_ranges,
            expected=ranges,
            this_project=True,
            ok_exit_codes=(0, 1),  # 1: gaps found
        ),
        Contender(
            FIND_GAPS_SQL,
            prepare=sql_file(find_gaps_sql),
            command=lambda sandbox, scratch: script_command("sql_query", "--sql-file", str(scratch / "query.sql")),
            result=sql_ranges,
            expected=ranges,
            this_project=True,
        ),
        Contender(
            NO_GAPS_TEST,
            prepare=with_view,
            command=lambda sandbox, scratch: dbt_command("test", "--select", GAP_TEST),
            result=failing_rows,
            expected=len(ranges),  # one failing row per missing range
            this_project=True,
            ok_exit_codes=(0, 1),
        ),
        Contender(
            FLOOR,
            prepare=sql_file(count_sql),
            command=lambda sandbox, scratch: script_command("sql_query", "--sql-file", str(scratch / "query.sql")),
            result=missing_from_count,
            expected=len(data.planted_offsets(DAYS)),
        ),
    ]


def gap_contenders(context: Context) -> tuple:
    """(data set, period, contenders) of the gap table: generated and the find_gaps
    SQL compiled once per warehouse, for this scenario and the start-up's."""
    shared = context.shared
    if "gap_detection" not in shared:
        sizes, warehouse, kind = context.sizes, context.warehouse, context.warehouse.label
        context.log(f"  generating {sizes.gap_rows:,} rows over {DAYS} days ({kind})")
        dataset = warehouse.generate("gaps", lambda dialect, schema: data.gap_statements(
            dialect, schema, sizes.gap_rows, DAYS))
        period = (data.day_of(0).isoformat(), data.day_of(DAYS - 1).isoformat())
        with warehouse.sandbox(dataset) as sandbox, tempfile.TemporaryDirectory(prefix="bench-") as folder:
            env = contender_env(sandbox, Path(folder), period)
            find_gaps_sql = compile_inline(env, (
                "select gap_start, gap_end, missing_periods from ({{ backfill.find_gaps("
                f"source('bench_raw', 'gap_events'), 'event_date', 'day', '{period[0]}', '{period[1]}') }}}}) as gaps"))
        shared["gap_detection"] = (dataset, period, contenders(dataset, period, find_gaps_sql))
    return shared["gap_detection"]


def run(context: Context) -> report.Table:
    sizes, warehouse, kind = context.sizes, context.warehouse, context.warehouse.label
    context.log(f"Scenario 3: gap detection ({kind})")
    dataset, period, chosen = gap_contenders(context)
    measured = measure(warehouse, dataset, chosen, sizes.repetitions, period, context.timeout, context.log)
    reference = measured[0].seconds
    table = report.Table(
        title=f"3. Gap detection on {sizes.gap_rows:,} rows ({kind})",
        intro=(f"A table of {sizes.gap_rows:,} rows over {DAYS} days with 5 days missing "
               f"({', '.join(f'{a} … {b}' if a != b else a for a, b in planted_ranges())}). "
               f"Median of {sizes.repetitions} run(s)."),
        headers=["contender", "median s", "min–max s", "peak RSS MB", f"× {FIND_GAPS_CLI}", "finds"],
    )
    for entry in measured:
        table.rows.append([
            *report.timing_cells(entry),
            report.ratio(entry.seconds, reference),
            FINDS[entry.name],
        ])
    table.notes = [
        "`backfill gaps` and `dbt test` include starting Python and dbt and parsing the project; the two SQL rows "
        "are a small Python script and one query.",
    ]
    table.numbers = {"contenders": [entry.as_dict() for entry in measured]}
    table.headline = (f"Gap detection on {sizes.gap_rows:,} rows ({kind}): "
                      + "; ".join(f"{entry.name} {report.seconds(entry.seconds)} s" for entry in measured) + ".")
    by_name = {entry.name: entry for entry in measured}
    floor = by_name[FLOOR].seconds
    table.ratios = (f"Gap detection on {sizes.gap_rows:,} rows ({kind}): `backfill gaps` takes "
                    f"{report.ratio(reference, floor)} the time of `count(distinct …)`, most of it starting dbt; "
                    f"the find_gaps SQL alone {report.ratio(by_name[FIND_GAPS_SQL].seconds, floor)}.")
    return table
