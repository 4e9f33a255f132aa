"""The floor of scenario 1: the daily job's own SQL, sent straight to the
warehouse, one transaction per day — the first day creates the table, every
later day deletes its window and inserts it again, as the model's pre-hook and
incremental insert do. No dbt, no planning, no audit: what a batch costs the
warehouse alone.

    python -m bench.contenders.sql_backfill --select-file F --table T --start D1 --end D2

The select file is the model compiled by dbt for one day, with that day's
bounds written as {start} and {end_exclusive}.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from bench.connect import connect, statement_runner


def day_literal(day: date) -> str:
    return f"cast('{day.isoformat()}' as date)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select-file", required=True)
    parser.add_argument("--table", required=True, help="qualified name of the table to write")
    parser.add_argument("--start", required=True, type=date.fromisoformat)
    parser.add_argument("--end", required=True, type=date.fromisoformat)
    args = parser.parse_args()

    template = Path(args.select_file).read_text()
    connection = connect()
    try:
        cursor = statement_runner(connection)
        day = args.start
        while day <= args.end:
            window = {"start": day_literal(day), "end_exclusive": day_literal(day + timedelta(days=1))}
            select = template.replace("{start}", window["start"]).replace("{end_exclusive}", window["end_exclusive"])
            cursor.execute("begin")
            if day == args.start:
                cursor.execute(f"create table {args.table} as {select}")
            else:
                cursor.execute(
                    f"delete from {args.table} where metric_date >= {window['start']} "
                    f"and metric_date < {window['end_exclusive']}"
                )
                cursor.execute(f"insert into {args.table} {select}")
            cursor.execute("commit")
            day += timedelta(days=1)
    finally:
        connection.close()


if __name__ == "__main__":
    main()
