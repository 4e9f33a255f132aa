"""Scenarios 4 and 5: two tables with 0.1% of their rows different, compared.

- this project's `reconcile_rows` and `reconcile_keys` tests, run as a user
  runs them: `python -m backfill reconcile --select <test> --json`;
- the playbook's pandas merge (both tables read into the client);
- reladiff (PyPI), both tables on one connection, so its in-database joindiff;
- `select count(*) from a full outer join b using (id)` (the floor: it pairs
  the keys and compares nothing).

Every contender must report the planted differences: keys only in A, keys
only in B, and (key, column) pairs that differ — or the part of that it can
see (reconcile_keys: the keys; the floor: the number of keys).
"""

from __future__ import annotations

import json

from bench import data, report
from bench.connect import quoted
from bench.dbt_project import KEYS_TEST, ROWS_TEST, runner_command, script_command
from bench.scenarios import Context
from bench.trials import Contender, Measured, measure

RECONCILE_ROWS = "reconcile_rows (backfill reconcile)"
RECONCILE_KEYS = "reconcile_keys (backfill reconcile)"
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


def reconcile_findings(sandbox, run) -> dict:
    """The issue counts `backfill reconcile --json` reports for its one check."""
    (check,) = json.loads(run.stdout)["checks"]
    if check["status"] not in ("pass", "fail"):
        return {"status": check["status"], "message": check.get("message")}
    issues = check["issues"]
    findings = {"only_in_a": issues.get("missing in compare_model", 0), "only_in_b": issues.get("missing in model", 0)}
    if check["kind"] == "rows":  # "amount: values differ", "country: null in compare_model", …
        findings["differing_values"] = sum(count for label, count in issues.items() if ":" in label)
    return findings


def printed_json(sandbox, run) -> dict:
    return json.loads(run.stdout)


def keys_in_either(sandbox, run) -> dict:
    return {"keys_in_either": int(json.loads(run.stdout)[0][0])}


def contenders(context: Context, dataset, rows: int) -> list[Contender]:
    expected = data.recon_expectation(rows)
    table_a, table_b = quoted(dataset.schema, "recon_a"), quoted(dataset.schema, "recon_b")

    def reconcile(name: str, test: str, expected_findings: dict) -> Contender:
        return Contender(
            name,
            command=lambda sandbox, scratch: runner_command("reconcile", "--select", test, "--json"),
            result=reconcile_findings,
            expected=expected_findings,
            this_project=True,
            ok_exit_codes=(0, 1),  # 1: the check found differences
        )

    def floor_query(sandbox, scratch):
        (scratch / "query.sql").write_text(f"select count(*) from {table_a} full outer join {table_b} using (id)")

    chosen = [
        reconcile(RECONCILE_ROWS, ROWS_TEST, expected.as_dict()),
        reconcile(RECONCILE_KEYS, KEYS_TEST, {"only_in_a": expected.only_in_a, "only_in_b": expected.only_in_b}),
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
            prepare=floor_query,
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


def run_comparison(context: Context) -> report.Table:
    """Scenario 4."""
    sizes, kind = context.sizes, context.warehouse.label
    rows = sizes.recon_rows
    context.log(f"Scenario 4: reconciliation of two {rows:,}-row tables ({kind})")
    measured = measure_at(context, rows, sizes.recon_repetitions)
    reference = measured[0]
    expected = data.recon_expectation(rows)
    table = report.Table(
        title=f"4. Reconciliation of two {rows:,}-row tables, 0.1% different ({kind})",
        intro=(f"recon_a and recon_b: a bigint key and {len(COMPARED_COLUMNS)} columns (text, varchar(2), "
               f"numeric(12,2), integer, timestamp); {expected.only_in_a:,} keys only in A, "
               f"{expected.only_in_b:,} only in B, {expected.differing_values:,} rows with one column changed "
               f"(a value, or a value against null). Median of {sizes.recon_repetitions} run(s)."),
        headers=["contender", "median s", "min–max s", "peak RSS MB", "× reconcile_rows (time)",
                 "× reconcile_rows (memory)", "finds"],
    )
    finds = {RECONCILE_ROWS: "keys both ways, every differing (key, column)", RECONCILE_KEYS: "keys both ways",
             PANDAS: "keys both ways, every differing (key, column)",
             RELADIFF: "keys both ways, every differing row", FLOOR: "the number of keys only"}
    for entry in measured:
        table.rows.append([
            *report.timing_cells(entry),
            report.ratio(entry.seconds, reference.seconds),
            report.ratio(entry.peak_rss_mb, reference.peak_rss_mb),
            finds[entry.name],
        ])
    table.notes = [
        MEMORY_NOTES[context.warehouse.kind],
        "`backfill reconcile` runs the test through dbt with --store-failures and reads a summary of the stored "
        "rows back; its time includes starting Python and dbt and parsing the project.",
    ]
    left_out = [name for name in (PANDAS, RELADIFF) if name not in {entry.name for entry in measured}]
    if left_out:
        table.notes.append(f"Left out, their package not installed: {', '.join(left_out)} (make bench installs them).")
    table.numbers = {"rows": rows, "contenders": [entry.as_dict() for entry in measured]}
    figures = [f"{entry.name} {report.seconds(entry.seconds)} s, {report.megabytes(entry.peak_rss_mb)} MB"
               for entry in measured]
    table.headline = f"Reconciling two {rows:,}-row tables ({kind}): " + "; ".join(figures) + "."
    by_name = {entry.name: entry for entry in measured}
    others = [f"{name} {report.ratio(by_name[name].seconds, reference.seconds)} its time and "
              f"{report.ratio(by_name[name].peak_rss_mb, reference.peak_rss_mb)} its client memory"
              for name in (PANDAS, RELADIFF) if name in by_name]
    floor = f"the full-outer-join floor {report.ratio(by_name[FLOOR].seconds, reference.seconds)} its time"
    table.ratios = (f"Reconciling two {rows:,}-row tables ({kind}), against reconcile_rows: "
                    + "; ".join(others + [floor]) + ".")
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
               f"size takes than the smallest."),
        headers=headers,
    )
    names = [entry.name for entry in by_size[smallest]]
    for position, name in enumerate(names):
        cells = []
        for rows, measured in by_size.items():
            entry = measured[position]
            cells.append(f"{report.seconds(entry.seconds)} / {report.megabytes(entry.peak_rss_mb)}")
        growth = by_size[largest][position].seconds / by_size[smallest][position].seconds
        table.rows.append([report.named(name, by_size[smallest][position].contender.this_project), *cells,
                           f"{growth:.1f}×"])
    table.numbers = {str(rows): [entry.as_dict() for entry in measured] for rows, measured in by_size.items()}
    first = by_size[smallest][0]
    last = by_size[largest][0]
    table.headline = (f"From {smallest:,} to {largest:,} rows ({kind}), {first.name} goes from "
                      f"{report.seconds(first.seconds)} s to {report.seconds(last.seconds)} s.")
    growth = [f"{name} {row[-1]}" for name, row in zip(names, table.rows)]
    table.ratios = (f"From {smallest:,} to {largest:,} rows ({kind}) the time grows: " + ", ".join(growth) + ".")
    return table
