"""One query straight through the warehouse's own driver (psycopg2 or duckdb),
its rows printed as JSON: the floors of scenarios 3 and 4, and the gap and
reconciliation builders' SQL as dbt compiled it.

    python -m bench.contenders.sql_query --sql-file F [--named]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.connect import connect, statement_runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql-file", required=True)
    parser.add_argument("--named", action="store_true",
                        help="each row as an object keyed by column name (for a query whose columns are the "
                             "builder's, not the harness's)")
    args = parser.parse_args()
    connection = connect()
    try:
        cursor = statement_runner(connection)
        cursor.execute(Path(args.sql_file).read_text())
        rows = cursor.fetchall()
        names = [column[0] for column in cursor.description]
    finally:
        connection.close()
    printed = [dict(zip(names, row)) if args.named else list(row) for row in rows]
    print(json.dumps(printed, default=str))


if __name__ == "__main__":
    main()
