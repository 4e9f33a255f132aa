"""One query straight through the warehouse's own driver (psycopg2 or duckdb),
its rows printed as JSON: the floors of scenarios 3 and 4, and the gap builder's
SQL as dbt compiled it.

    python -m bench.contenders.sql_query --sql-file F
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.connect import connect, statement_runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql-file", required=True)
    args = parser.parse_args()
    connection = connect()
    try:
        cursor = statement_runner(connection)
        cursor.execute(Path(args.sql_file).read_text())
        rows = cursor.fetchall()
    finally:
        connection.close()
    print(json.dumps([list(row) for row in rows], default=str))


if __name__ == "__main__":
    main()
