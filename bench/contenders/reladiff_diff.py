"""reladiff (PyPI) comparing the two tables through its Python API.

    python -m bench.contenders.reladiff_diff --schema S --table-a A --table-b B --key id --columns c1,c2

Both tables are opened on one connection, so reladiff uses its in-database
algorithm (joindiff: an outer join in the warehouse, the differing rows sent to
the client). Prints what it found as JSON, as the other contenders do.
"""

from __future__ import annotations

import argparse
import json
import os

import reladiff
from reladiff.diff_tables import Algorithm

from bench.connect import postgres_url, warehouse_kind


def database_url() -> str:
    if warehouse_kind() == "duckdb":
        return "duckdb://" + os.environ["BENCH_DUCKDB_PATH"]
    return postgres_url()


def summarize(diff, column_count: int) -> dict:
    """reladiff yields ('-', row) for rows of A and ('+', row) for rows of B that
    differ; a key with both is a changed row: count the columns that differ."""
    sides: dict[str, dict[str, tuple]] = {}
    for sign, row in diff:
        sides.setdefault(row[0], {})[sign] = row
    summary = {"only_in_a": 0, "only_in_b": 0, "differing_values": 0}
    for rows in sides.values():
        if "+" not in rows:
            summary["only_in_a"] += 1
        elif "-" not in rows:
            summary["only_in_b"] += 1
        else:
            left, right = rows["-"], rows["+"]
            summary["differing_values"] += sum(left[i] != right[i] for i in range(1, column_count + 1))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--table-a", required=True)
    parser.add_argument("--table-b", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--columns", required=True, help="compared columns, comma-separated")
    args = parser.parse_args()
    columns = tuple(args.columns.split(","))
    database = reladiff.connect(database_url())
    table_a = reladiff.connect_to_table(database, (args.schema, args.table_a), args.key, extra_columns=columns)
    table_b = reladiff.connect_to_table(database, (args.schema, args.table_b), args.key, extra_columns=columns)
    diff = reladiff.diff_tables(table_a, table_b, algorithm=Algorithm.JOINDIFF)
    print(json.dumps(summarize(diff, len(columns))))


if __name__ == "__main__":
    main()
