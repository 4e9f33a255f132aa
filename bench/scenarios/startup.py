"""Scenario 6: how long the command line takes to answer before any work.

- `python -m backfill --help` and `python -m backfill run --help`: they import
  no dbt (python/tests/test_layers.py checks that), so they should answer in
  well under a second;
- `python -c "import dbt.cli.main"`: what importing dbt alone costs, which the
  help no longer pays;
- `dbt --help`, dbt's own start-up, for reference;
- `python -m backfill gaps --json` on scenario 3's table (issue 19), twice on
  one unchanged project: cold (its partial_parse.msgpack deleted first) and
  warm (the cold call's left in place), against the find_gaps SQL alone
  through the driver.

The help needs no warehouse; the gaps calls use scenario 3's table on the
warehouse of this pass (scenario 6 runs once, in the PostgreSQL pass).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench import report
from bench.dbt_project import DBT, PYTHON, REPO, contender_env
from bench.measure import median, run_command
from bench.scenarios import Context, gap_detection
from bench.trials import check_result

CONTENDERS = {
    "python -m backfill --help": [PYTHON, "-m", "backfill", "--help"],
    "python -m backfill run --help": [PYTHON, "-m", "backfill", "run", "--help"],
    "import dbt.cli.main (what --help no longer pays)": [PYTHON, "-c", "import dbt.cli.main"],
    "dbt --help (reference)": [DBT, "--help"],
}
REPETITIONS = 5
GAPS_COLD = "python -m backfill gaps --json (cold: no saved parse)"
GAPS_WARM = "python -m backfill gaps --json (warm: saved parse)"
GAPS_SQL = gap_detection.FIND_GAPS_SQL
# What dbt logs (at info, which the runner writes to dbt.log) when it parses the whole project.
FULL_PARSE = b"Unable to do partial parsing"
# How much faster than a cold call a warm one must be (medians) to count as reusing the parse.
WARM_GAIN = 0.1


def help_timings(context: Context) -> dict[str, list[float]]:
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    timings: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for repetition in range(1, REPETITIONS + 1):  # round-robin: a busier moment hits all alike
        for name, command in CONTENDERS.items():
            finished = run_command(command, env, str(REPO), context.timeout)
            if "Usage:" not in finished.stdout and "--help" in command:
                raise RuntimeError(f"{name} printed no usage: {finished.stdout[:200]}")
            timings[name].append(finished.seconds)
            context.log(f"    {name:<50} run {repetition}/{REPETITIONS}: {finished.seconds:6.3f} s")
    return timings


def gaps_timings(context: Context) -> tuple[dict[str, list[float]], list[bool]]:
    """`backfill gaps` cold then warm, then the find_gaps SQL, REPETITIONS times in one
    sandbox and one target folder, each result checked; and, per warm call, whether
    dbt reused the partial parse: it rewrites partial_parse.msgpack after every parse
    it does (full or partial) and leaves it alone when nothing changed, and it logs
    FULL_PARSE when it starts from scratch — proof from dbt, not inferred from time."""
    dataset, period, contenders = gap_detection.gap_contenders(context)
    by_name = {contender.name: contender for contender in contenders}
    cli, sql = by_name[gap_detection.FIND_GAPS_CLI], by_name[GAPS_SQL]
    timings: dict[str, list[float]] = {GAPS_COLD: [], GAPS_WARM: [], GAPS_SQL: []}
    reused: list[bool] = []
    with context.warehouse.sandbox(dataset) as sandbox, tempfile.TemporaryDirectory(prefix="bench-") as folder:
        scratch = Path(folder)
        sql.prepare(sandbox, scratch)  # the view `backfill gaps` names, and the SQL's query file
        env = contender_env(sandbox, scratch, period)
        saved_parse = scratch / "target" / "partial_parse.msgpack"
        dbt_log = scratch / "logs" / "dbt.log"

        def timed(name: str, contender) -> None:
            finished = run_command(contender.command(sandbox, scratch), env, str(REPO), context.timeout,
                                   contender.ok_exit_codes)
            check_result(contender, context.warehouse, contender.result(sandbox, finished))
            timings[name].append(finished.seconds)
            context.log(f"    {name:<50} run {len(timings[name])}/{REPETITIONS}: {finished.seconds:6.3f} s")

        def logged_since(offset: int) -> bytes:
            return dbt_log.read_bytes()[offset:]

        for _ in range(REPETITIONS):
            saved_parse.unlink(missing_ok=True)
            offset = dbt_log.stat().st_size if dbt_log.exists() else 0
            timed(GAPS_COLD, cli)
            # The warm call's clean log proves nothing unless the cold call's log shows its full parse.
            if FULL_PARSE not in logged_since(offset):
                raise RuntimeError(f"the cold `backfill gaps` left no {FULL_PARSE.decode()!r} in {dbt_log}")
            written, offset = saved_parse.stat().st_mtime_ns, dbt_log.stat().st_size
            timed(GAPS_WARM, cli)
            reused.append(saved_parse.stat().st_mtime_ns == written and FULL_PARSE not in logged_since(offset))
            timed(GAPS_SQL, sql)
    return timings, reused


def gaps_target(timings: dict[str, list[float]], reused: list[bool], dbt_import: float,
                kind: str) -> report.Target:
    cold, warm, sql = (median(timings[name]) for name in (GAPS_COLD, GAPS_WARM, GAPS_SQL))
    # A clear margin, robust to a busy moment in one run: the medians at least WARM_GAIN apart.
    faster = warm <= (1 - WARM_GAIN) * cold
    return report.Target(
        goal=f"a second `backfill gaps` on an unchanged project reuses dbt's partial parse ({kind})",
        measured=(f"warm {report.seconds(warm)} s, cold {report.seconds(cold)} s, the find_gaps SQL alone "
                  f"{report.seconds(sql)} s; dbt skipped parsing on {sum(reused)} of {len(reused)} warm calls: "
                  f"partial_parse.msgpack not rewritten, no full parse in dbt.log"),
        met=all(reused) and faster,
        remaining=(f"of the warm call's {report.seconds(warm)} s, {report.seconds(sql)} s are the SQL and about "
                   f"{report.seconds(dbt_import)} s importing dbt; the rest is Python, dbt's set-up and "
                   f"{'reading the saved parse' if all(reused) else 'parsing the project'}"))


def run(context: Context) -> report.Table:
    kind = context.warehouse.label
    timings = help_timings(context)
    help_seconds = median(timings["python -m backfill run --help"])
    dbt_import = median(timings["import dbt.cli.main (what --help no longer pays)"])
    gaps, reused = gaps_timings(context)
    target = gaps_target(gaps, reused, dbt_import, kind)
    table = report.Table(
        title="6. Start-up: the command line before any work",
        intro=(f"Median of {REPETITIONS} runs each, round-robin, as separate processes. The help of every command "
               "imports no dbt module (python/tests/test_layers.py), so it costs what Python and click cost. "
               f"`backfill gaps` runs on scenario 3's table ({kind}) in one project folder: cold with dbt's "
               "partial_parse.msgpack deleted before the call, warm right after it with the file the cold call "
               "saved; the find_gaps SQL is the same query through the driver."),
        headers=["command", "median s", "fastest–slowest"],
        numbers={name: [round(value, 3) for value in values] for name, values in {**timings, **gaps}.items()},
    )
    for name, values in {**timings, **gaps}.items():
        table.rows.append([report.named(name, name.startswith("python -m backfill") or name == GAPS_SQL),
                           report.seconds(median(values)), report.spread(min(values), max(values))])
    table.numbers["warm_calls_reusing_partial_parse"] = reused
    table.targets = [target]
    table.notes = [
        target.note() + f" Met means dbt skipped parsing on every warm call and the warm median is at least "
        f"{WARM_GAIN:.0%} below the cold one.",
    ]
    verdict = report.verdict(help_seconds < 1.0)
    table.headline = (f"Start-up: `python -m backfill run --help` answers in {report.seconds(help_seconds)} s "
                      f"(target: well under a second, {verdict}); importing dbt alone takes "
                      f"{report.seconds(dbt_import)} s; `backfill gaps` {target.measured} — partial parse "
                      f"reused: {target.verdict}.")
    table.ratios = table.headline
    return table
