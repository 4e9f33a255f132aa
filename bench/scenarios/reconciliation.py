"""Scenarios 4 and 5: two tables with 0.1% of their rows different, compared.

- this project's `reconcile_rows` and `reconcile_keys` tests, run as a user
  runs them: `python -m backfill reconcile --select <test> --json`;
- the same tests' SQL, compiled once by dbt, sent through the driver as the
  floor is (the builders' own cost, without Python, dbt and storing failures);
- the playbook's pandas merge (both tables read into the client);
- reladiff (PyPI), both tables on one connection, so its in-database joindiff;
- `select count(*) from a full outer join b using (id)` (the floor: it pairs
  the keys and compares nothing).

Every contender must report the planted differences: keys only in A, keys
only in B, and (key, column) pairs that differ — or the part of that it can
see (reconcile_keys: the keys; the floor: the number of keys). The compiled
SQL returns the failing rows, counted as `backfill reconcile` counts them.

Issue 19's targets are judged here: the builders' SQL against the floor, the
command against reladiff, and the command's peak memory on DuckDB.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from bench import data, report
from bench.connect import quoted
from bench.dbt_project import KEYS_TEST, ROWS_TEST, compile_node, contender_env, runner_command, script_command
from bench.scenarios import Context
from bench.trials import Contender, Measured, measure

RECONCILE_ROWS = "reconcile_rows (backfill reconcile)"
RECONCILE_ROWS_SQL = "reconcile_rows SQL through the driver"
RECONCILE_KEYS = "reconcile_keys (backfill reconcile)"
RECONCILE_KEYS_SQL = "reconcile_keys SQL through the driver"
PANDAS = "pandas merge (the playbook)"
RELADIFF = "reladiff (joindiff)"
FLOOR = "count(*) of a full outer join (floor)"
COMPARED_COLUMNS = ("email", "country", "amount", "quantity", "created_at")
MEMORY_NOTES = {
    "postgres": "Peak RSS is the client's: the process and any it started. The PostgreSQL server's memory is not "
                "counted; reconcile_rows, reconcile_keys, reladiff's joindiff and the floor work in the server, "
                "pandas in the client.",
    "duckdb": "Peak RSS is the contender's process, and DuckDB runs inside it: here the column includes the "
              "database's own memory (hash tables, buffers) for every contender.",
}


def findings(kind: str, issues: dict[str, int]) -> dict:
    """What a check found, from its count of failing rows per issue label
    ("missing in model", or for a column of rows: "amount: values differ")."""
    found = {"only_in_a": issues.get("missing in compare_model", 0), "only_in_b": issues.get("missing in model", 0)}
    if kind == "rows":
        found["differing_values"] = sum(count for label, count in issues.items() if ":" in label)
    return found


def reconcile_findings(sandbox, run) -> dict:
    """The issue counts `backfill reconcile --json` reports for its one check."""
    (check,) = json.loads(run.stdout)["checks"]
    if check["status"] not in ("pass", "fail"):
        return {"status": check["status"], "message": check.get("message")}
    return findings(check["kind"], check["issues"])


def failing_row_findings(kind: str):
    """The result reader of a test's compiled SQL: its failing rows, labelled as
    `backfill reconcile` labels the rows it stored, then counted."""
    def result(sandbox, run) -> dict:
        labels = Counter(f"{row['column_name']}: {row['issue']}" if row.get("column_name") else str(row["issue"])
                         for row in json.loads(run.stdout))
        return findings(kind, labels)
    return result


def printed_json(sandbox, run) -> dict:
    return json.loads(run.stdout)


def keys_in_either(sandbox, run) -> dict:
    return {"keys_in_either": int(json.loads(run.stdout)[0][0])}


def compiled_tests(context: Context, dataset) -> dict[str, str]:
    """The two tests' SQL as dbt compiles it against this data set (untimed; the
    builders read the tables' columns from the warehouse, so it needs the data)."""
    with context.warehouse.sandbox(dataset) as sandbox, tempfile.TemporaryDirectory(prefix="bench-") as folder:
        env = contender_env(sandbox, Path(folder), (data.day_of(0).isoformat(),) * 2)
        return {test: compile_node(env, Path(folder), test) for test in (ROWS_TEST, KEYS_TEST)}


def contenders(context: Context, dataset, rows: int) -> list[Contender]:
    expected = data.recon_expectation(rows)
    table_a, table_b = quoted(dataset.schema, "recon_a"), quoted(dataset.schema, "recon_b")
    compiled = compiled_tests(context, dataset)
    keys_expected = {"only_in_a": expected.only_in_a, "only_in_b": expected.only_in_b}

    def reconcile(name: str, test: str, expected_findings: dict) -> Contender:
        return Contender(
            name,
            command=lambda sandbox, scratch: runner_command("reconcile", "--select", test, "--json"),
            result=reconcile_findings,
            expected=expected_findings,
            this_project=True,
            ok_exit_codes=(0, 1),  # 1: the check found differences
        )

    def query_file(sql: str):
        def prepare(sandbox, scratch):
            (scratch / "query.sql").write_text(sql)
        return prepare

    def test_sql(name: str, test: str, kind: str, expected_findings: dict) -> Contender:
        return Contender(
            name,
            prepare=query_file(compiled[test]),
            command=lambda sandbox, scratch: script_command(
                "sql_query", "--sql-file", str(scratch / "query.sql"), "--named"),
            result=failing_row_findings(kind),
            expected=expected_findings,
            this_project=True,
        )

    chosen = [
        reconcile(RECONCILE_ROWS, ROWS_TEST, expected.as_dict()),
        test_sql(RECONCILE_ROWS_SQL, ROWS_TEST, "rows", expected.as_dict()),
        reconcile(RECONCILE_KEYS, KEYS_TEST, keys_expected),
        test_sql(RECONCILE_KEYS_SQL, KEYS_TEST, "keys", keys_expected),
        Contender(
            PANDAS,
            command=lambda sandbox, scratch: script_command(
                "pandas_merge", "--table-a", table_a, "--table-b", table_b, "--key", "id"),
            result=printed_json,
            expected=expected.as_dict(),
        ),
        Contender(
            RELADIFF,
            command=lambda sandbox, scratch: script_command(
                "reladiff_diff", "--schema", dataset.schema, "--table-a", "recon_a", "--table-b", "recon_b",
                "--key", "id", "--columns", ",".join(COMPARED_COLUMNS)),
            result=printed_json,
            expected=expected.as_dict(),
        ),
        Contender(
            FLOOR,
            prepare=query_file(f"select count(*) from {table_a} full outer join {table_b} using (id)"),
            command=lambda sandbox, scratch: script_command("sql_query", "--sql-file", str(scratch / "query.sql")),
            result=keys_in_either,
            expected={"keys_in_either": expected.keys_in_either},
        ),
    ]
    # Left out, with a note in the report, when their package is not installed (CI's smoke test).
    needs = {PANDAS: "pandas", RELADIFF: "reladiff"}
    return [contender for contender in chosen
            if contender.name not in needs or context.installed(needs[contender.name])]


def measure_at(context: Context, rows: int, repetitions: int) -> list[Measured]:
    """Generate the two tables at `rows` keys and time every contender on them (once per size)."""
    cache = context.shared.setdefault("reconciliation", {})
    if rows not in cache:
        warehouse = context.warehouse
        context.log(f"  generating recon_a and recon_b, {rows:,} keys each ({warehouse.kind})")
        dataset = warehouse.generate(f"recon_{rows}", lambda dialect, schema: data.recon_statements(
            dialect, schema, rows))
        period = (data.day_of(0).isoformat(), data.day_of(0).isoformat())
        cache[rows] = measure(warehouse, dataset, contenders(context, dataset, rows), repetitions, period,
                              context.timeout, context.log)
    return cache[rows]


# Issue 19's targets, at scenario 4's size (10 million rows in the full preset).
ROWS_SQL_OVER_FLOOR = 2.0
KEYS_SQL_OVER_FLOOR = 1.5
DUCKDB_PEAK_MB = 1.5 * 1024
FINDS = {RECONCILE_ROWS: "keys both ways, every differing (key, column)",
         RECONCILE_ROWS_SQL: "keys both ways, every differing (key, column)",
         RECONCILE_KEYS: "keys both ways", RECONCILE_KEYS_SQL: "keys both ways",
         PANDAS: "keys both ways, every differing (key, column)",
         RELADIFF: "keys both ways, every differing row", FLOOR: "the number of keys only"}


def start_up(by_name: dict[str, Measured], command: str, sql: str) -> float:
    """What the command costs besides its test's SQL: its median minus the SQL's."""
    return by_name[command].seconds - by_name[sql].seconds


def targets(context: Context, rows: int, by_name: dict[str, Measured]) -> list[report.Target]:
    kind = context.warehouse.label
    floor = by_name[FLOOR].seconds
    at = f"{rows:,} rows, {kind}"

    def over_floor(name: str, limit: float, beyond_pairing: str) -> report.Target:
        sql = by_name[name].seconds
        return report.Target(
            goal=f"{name.split()[0]} SQL ≤ {limit:g}× the full-outer-join floor ({at})",
            measured=f"{report.ratio(sql, floor)}: {report.seconds(sql)} s against {report.seconds(floor)} s",
            met=sql <= limit * floor,
            remaining=(f"the floor's {report.seconds(floor)} s pair the keys; the other "
                       f"{report.seconds(sql - floor)} s of the SQL are {beyond_pairing}"))

    chosen = [over_floor(RECONCILE_ROWS_SQL, ROWS_SQL_OVER_FLOOR,
                         "the key-count pass (both sides' keys grouped: what finds missing and duplicated keys, "
                         "which a join cannot tell from matched ones) and the join that pairs the remaining rows "
                         "and compares their columns")]
    command = by_name[RECONCILE_ROWS]
    if RELADIFF in by_name:
        reladiff = by_name[RELADIFF].seconds
        chosen.append(report.Target(
            goal=f"`backfill reconcile` of reconcile_rows faster than reladiff's joindiff ({at}; both are whole "
                 f"processes, start-up included)",
            measured=(f"{report.seconds(command.seconds)} s against {report.seconds(reladiff)} s; its SQL alone "
                      f"{report.seconds(by_name[RECONCILE_ROWS_SQL].seconds)} s"),
            met=command.seconds < reladiff,
            remaining=(f"start-up is {report.seconds(start_up(by_name, RECONCILE_ROWS, RECONCILE_ROWS_SQL))} s of "
                       f"the command's {report.seconds(command.seconds)} s; its SQL alone takes "
                       f"{report.seconds(by_name[RECONCILE_ROWS_SQL].seconds)} s")))
    if context.warehouse.kind == "duckdb":  # only there does the process's memory include the database's
        chosen.append(report.Target(
            goal=f"peak memory of `backfill reconcile` of reconcile_rows ≤ 1.5 GB ({at})",
            measured=(f"{report.megabytes(command.peak_rss_mb)} MB; its SQL through the driver "
                      f"{report.megabytes(by_name[RECONCILE_ROWS_SQL].peak_rss_mb)} MB"),
            met=command.peak_rss_mb <= DUCKDB_PEAK_MB))
    chosen.append(over_floor(RECONCILE_KEYS_SQL, KEYS_SQL_OVER_FLOOR,
                             "grouping both sides' keys to count each key's rows on each side (what finds a "
                             "duplicated key, which the floor's join pairs as if it matched)"))
    return chosen


def run_comparison(context: Context) -> report.Table:
    """Scenario 4."""
    sizes, kind = context.sizes, context.warehouse.label
    rows = sizes.recon_rows
    context.log(f"Scenario 4: reconciliation of two {rows:,}-row tables ({kind})")
    measured = measure_at(context, rows, sizes.recon_repetitions)
    by_name = {entry.name: entry for entry in measured}
    floor, command = by_name[FLOOR], by_name[RECONCILE_ROWS]
    expected = data.recon_expectation(rows)
    table = report.Table(
        title=f"4. Reconciliation of two {rows:,}-row tables, 0.1% different ({kind})",
        intro=(f"recon_a and recon_b: a bigint key and {len(COMPARED_COLUMNS)} columns (text, varchar(2), "
               f"numeric(12,2), integer, timestamp); {expected.only_in_a:,} keys only in A, "
               f"{expected.only_in_b:,} only in B, {expected.differing_values:,} rows with one column changed "
               f"(a value, or a value against null). Median of {sizes.recon_repetitions} run(s)."),
        headers=["contender", "median s", "min–max s", "peak RSS MB", "× floor (time)",
                 "× reconcile_rows (memory)", "finds"],
    )
    for entry in measured:
        table.rows.append([
            *report.timing_cells(entry),
            report.ratio(entry.seconds, floor.seconds),
            report.ratio(entry.peak_rss_mb, command.peak_rss_mb),
            FINDS[entry.name],
        ])
    rows_start_up = start_up(by_name, RECONCILE_ROWS, RECONCILE_ROWS_SQL)
    keys_start_up = start_up(by_name, RECONCILE_KEYS, RECONCILE_KEYS_SQL)
    table.targets = targets(context, rows, by_name)
    table.notes = [
        MEMORY_NOTES[context.warehouse.kind],
        "`backfill reconcile` (the command) = the test's SQL + start-up. Start-up here is the command's median "
        f"minus its SQL's: {report.seconds(rows_start_up)} s for reconcile_rows, {report.seconds(keys_start_up)} s "
        "for reconcile_keys — starting Python, importing dbt, parsing the project (no partial-parse cache: each "
        "run has a fresh target folder), storing the failing rows (--store-failures) and reading their summary "
        "back. The SQL rows are the same tests compiled once by dbt (untimed), sent through the driver as the "
        "floor is, their failing rows fetched and counted against the planted differences: like the floor, each "
        "is a small Python script (its start-up, the driver's import and one connection included) and one query.",
        *[target.note() for target in table.targets],
    ]
    left_out = [name for name in (PANDAS, RELADIFF) if name not in by_name]
    if left_out:
        table.notes.append(f"Left out, their package not installed: {', '.join(left_out)} (make bench installs them).")
    table.numbers = {"rows": rows, "contenders": [entry.as_dict() for entry in measured],
                     "start_up": {"reconcile_rows": rows_start_up, "reconcile_keys": keys_start_up}}
    figures = [f"{entry.name} {report.seconds(entry.seconds)} s, {report.megabytes(entry.peak_rss_mb)} MB"
               for entry in measured]
    table.headline = (f"Reconciling two {rows:,}-row tables ({kind}): " + "; ".join(figures) + ". Targets: "
                      + "; ".join(f"{target.goal.split(' (')[0]} {target.verdict}" for target in table.targets)
                      + ".")
    others = [f"{name} {report.ratio(by_name[name].seconds, command.seconds)} its time and "
              f"{report.ratio(by_name[name].peak_rss_mb, command.peak_rss_mb)} its client memory"
              for name in (PANDAS, RELADIFF) if name in by_name]
    rows_sql, keys_sql = by_name[RECONCILE_ROWS_SQL].seconds, by_name[RECONCILE_KEYS_SQL].seconds
    table.ratios = (
        f"Reconciling two {rows:,}-row tables ({kind}): reconcile_rows' SQL takes "
        f"{report.ratio(rows_sql, floor.seconds)} the full-outer-join floor (target ≤ {ROWS_SQL_OVER_FLOOR:g}×: "
        f"{report.verdict(rows_sql <= ROWS_SQL_OVER_FLOOR * floor.seconds)}), reconcile_keys' "
        f"{report.ratio(keys_sql, floor.seconds)} (target ≤ {KEYS_SQL_OVER_FLOOR:g}×: "
        f"{report.verdict(keys_sql <= KEYS_SQL_OVER_FLOOR * floor.seconds)}); `backfill reconcile` "
        f"{report.seconds(command.seconds)} s = that SQL + {report.seconds(rows_start_up)} s of start-up"
        + (", against it: " + "; ".join(others) if others else "") + ".")
    return table


def run_scaling(context: Context) -> report.Table:
    """Scenario 5: scenario 4 at every size of `scaling_rows`."""
    sizes, kind = context.sizes, context.warehouse.label
    context.log(f"Scenario 5: reconciliation at {', '.join(f'{n:,}' for n in sizes.scaling_rows)} rows ({kind})")
    by_size = {rows: measure_at(context, rows, sizes.recon_repetitions if rows == sizes.recon_rows
                                else sizes.scaling_repetitions) for rows in sizes.scaling_rows}
    smallest, largest = min(by_size), max(by_size)
    headers = ["contender"] + [f"{rows:,} rows: s / MB" for rows in by_size] + [f"time ×{largest // smallest} rows"]
    table = report.Table(
        title=f"5. Reconciliation as the tables grow ({kind})",
        intro=(f"Scenario 4 at {', '.join(f'{n:,}' for n in by_size)} rows per table (0.1% different each time). "
               f"Median seconds / peak RSS MB of the runs ({sizes.recon_repetitions} at {sizes.recon_rows:,} rows, "
               f"{sizes.scaling_repetitions} at the other sizes); the last column is how much longer the largest "
               f"size takes than the smallest. The last row is reconcile_rows' SQL over the floor at each size "
               f"(issue 19's target: ≤ {ROWS_SQL_OVER_FLOOR:g}×)."),
        headers=headers,
    )
    named = {rows: {entry.name: entry for entry in measured} for rows, measured in by_size.items()}
    names = [entry.name for entry in by_size[smallest]]
    for name in names:
        cells = [f"{report.seconds(named[rows][name].seconds)} / {report.megabytes(named[rows][name].peak_rss_mb)}"
                 for rows in by_size]
        growth = named[largest][name].seconds / named[smallest][name].seconds
        table.rows.append([report.named(name, named[smallest][name].contender.this_project), *cells,
                           f"{growth:.1f}×"])
    over_floor = [report.ratio(named[rows][RECONCILE_ROWS_SQL].seconds, named[rows][FLOOR].seconds)
                  for rows in by_size]
    table.rows.append([f"{RECONCILE_ROWS_SQL} ÷ floor (time)", *over_floor, "—"])
    table.numbers = {str(rows): [entry.as_dict() for entry in measured] for rows, measured in by_size.items()}

    def grows(name: str) -> str:
        return (f"{name} from {report.seconds(named[smallest][name].seconds)} s to "
                f"{report.seconds(named[largest][name].seconds)} s")

    table.headline = (f"From {smallest:,} to {largest:,} rows ({kind}): " + "; ".join(
        grows(name) for name in (RECONCILE_ROWS, RECONCILE_ROWS_SQL, FLOOR))
        + f"; reconcile_rows' SQL ÷ floor {' → '.join(over_floor)}.")
    growth = [f"{name} {row[-1]}" for name, row in zip(names, table.rows)]
    table.ratios = (f"From {smallest:,} to {largest:,} rows ({kind}) the time grows: " + ", ".join(growth)
                    + f"; reconcile_rows' SQL ÷ floor {' → '.join(over_floor)}.")
    return table
