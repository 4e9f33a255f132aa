"""Deterministic synthetic data for the reference pipeline of the playbook.

    python -m backfill.demo_data                    # small: the demo and the tests
    python -m backfill.demo_data --events-per-day 27400 --days 366 --users 10000000
                                                    # ~10 million rows, for benchmarks

Writes six raw tables into `<target schema>_raw` (or --schema) of the profile's
target, replacing them: `item`, `item_events`, `orders`, `billing_records`,
`users`, `users_replica`. The same options always give the same rows.

What is planted on purpose (days are offsets from --start-date, when in range):
  - item_events has no rows on MISSING_EVENT_DAYS (a single day, a three-day
    range, the leap day 2024-02-29 with the default start);
  - billing_records disagrees with orders on BILLING_MISMATCH_DAYS: one order
    never billed, one billed with a different amount, one billed twice;
  - users_replica misses the users in REPLICA_MISSING_USERS and differs from
    users on REPLICA_CHANGED_EMAIL_USERS (email) and REPLICA_NULL_COUNTRY_USERS.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import click

MISSING_EVENT_DAYS = (14, 40, 41, 42, 59, 89)
BILLING_UNBILLED_DAY = 9
BILLING_WRONG_AMOUNT_DAY = 20
BILLING_DOUBLE_BILLED_DAY = 33
BILLING_MISMATCH_DAYS = (BILLING_UNBILLED_DAY, BILLING_WRONG_AMOUNT_DAY, BILLING_DOUBLE_BILLED_DAY)
REPLICA_MISSING_USERS = (7, 42)
REPLICA_CHANGED_EMAIL_USERS = (3, 15)
REPLICA_NULL_COUNTRY_USERS = (21,)

STATUSES = ("ACTIVE", "ACTIVE", "ACTIVE", "INACTIVE", "DISCONTINUED")
EVENT_TYPES = ("view", "cart", "purchase", "refund")
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "ES", "IT", "SE")

TABLES = {
    "item": [("id", "integer"), ("name", "varchar(100)"), ("status", "varchar(20)"), ("updated_at", "timestamp")],
    "item_events": [
        ("event_id", "bigint"),
        ("item_id", "integer"),
        ("event_date", "date"),
        ("event_ts", "timestamp"),
        ("event_type", "varchar(20)"),
        ("amount", "numeric(12,2)"),
        ("quantity", "integer"),
    ],
    "orders": [
        ("order_id", "bigint"),
        ("customer_id", "integer"),
        ("order_date", "date"),
        ("amount", "numeric(12,2)"),
        ("status", "varchar(20)"),
    ],
    "billing_records": [
        ("billing_id", "bigint"),
        ("order_id", "bigint"),
        ("billed_date", "date"),
        ("billed_amount", "numeric(12,2)"),
    ],
    "users": [
        ("user_id", "bigint"),
        ("email", "varchar(200)"),
        ("full_name", "varchar(200)"),
        ("country", "varchar(2)"),
        ("created_at", "timestamp"),
    ],
    "users_replica": [
        ("user_id", "bigint"),
        ("email", "varchar(200)"),
        ("full_name", "varchar(200)"),
        ("country", "varchar(2)"),
        ("created_at", "timestamp"),
    ],
}


@dataclass(frozen=True)
class DemoSize:
    start_date: date = date(2024, 1, 1)
    days: int = 121  # 2024-01-01 .. 2024-04-30, across the leap day
    items: int = 40
    events_per_day: int = 25
    orders_per_day: int = 12
    users: int = 200
    seed: int = 20240101

    def day(self, offset: int) -> date:
        return self.start_date + timedelta(days=offset)

    @property
    def missing_event_dates(self) -> list[date]:
        return [self.day(o) for o in MISSING_EVENT_DAYS if o < self.days]


def generate_item(size: DemoSize):
    rng = random.Random(size.seed)
    for item_id in range(1, size.items + 1):
        updated = datetime.combine(size.start_date, datetime.min.time()) - timedelta(days=rng.randint(1, 300))
        yield (item_id, f"item {item_id:05d}", STATUSES[rng.randrange(len(STATUSES))], updated)


def generate_item_events(size: DemoSize):
    rng = random.Random(size.seed + 1)
    missing = set(MISSING_EVENT_DAYS)
    event_id = 0
    for offset in range(size.days):
        if offset in missing:
            continue
        day = size.day(offset)
        for _ in range(size.events_per_day):
            event_id += 1
            second = rng.randrange(86400)
            yield (
                event_id,
                rng.randint(1, size.items),
                day,
                datetime.combine(day, datetime.min.time()) + timedelta(seconds=second),
                EVENT_TYPES[rng.randrange(len(EVENT_TYPES))],
                f"{rng.randint(100, 50000) / 100:.2f}",
                rng.randint(1, 5),
            )


def generate_orders_and_billing(size: DemoSize):
    """Orders, and billing's copy of them with the planted disagreements."""
    rng = random.Random(size.seed + 2)
    orders, billing = [], []
    order_id = 0
    for offset in range(size.days):
        day = size.day(offset)
        for position in range(size.orders_per_day):
            order_id += 1
            amount = f"{rng.randint(500, 90000) / 100:.2f}"
            orders.append((order_id, rng.randint(1, max(size.users, 1)), day, amount, "completed"))
            first_of_day = position == 0
            if first_of_day and offset == BILLING_UNBILLED_DAY:
                continue
            billed = amount
            if first_of_day and offset == BILLING_WRONG_AMOUNT_DAY:
                billed = f"{float(amount) + 5:.2f}"
            billing.append((len(billing) + 1, order_id, day, billed))
            if first_of_day and offset == BILLING_DOUBLE_BILLED_DAY:
                billing.append((len(billing) + 1, order_id, day, billed))
    return orders, billing


def generate_users(size: DemoSize):
    rng = random.Random(size.seed + 3)
    for user_id in range(1, size.users + 1):
        created = datetime(2023, 1, 1) + timedelta(minutes=rng.randrange(525600))
        yield (user_id, f"user{user_id}@example.com", f"User {user_id}", COUNTRIES[rng.randrange(len(COUNTRIES))], created)


def generate_users_replica(size: DemoSize):
    for user_id, email, name, country, created in generate_users(size):
        if user_id in REPLICA_MISSING_USERS:
            continue
        if user_id in REPLICA_CHANGED_EMAIL_USERS:
            email = f"user{user_id}@old-domain.example"
        if user_id in REPLICA_NULL_COUNTRY_USERS:
            country = None
        yield (user_id, email, name, country, created)


def generate(size: DemoSize) -> dict:
    orders, billing = generate_orders_and_billing(size)
    return {
        "item": generate_item(size),
        "item_events": generate_item_events(size),
        "orders": orders,
        "billing_records": billing,
        "users": generate_users(size),
        "users_replica": generate_users_replica(size),
    }


def _write_csv(rows, path: Path) -> int:
    count = 0
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
            count += 1
    return count


def _create_sql(qualified: str, table: str) -> str:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in TABLES[table])
    return f"create table {qualified} ({columns})"


def load(credentials, schema: str, size: DemoSize, echo=print) -> dict[str, int]:
    """Generate every table and load it into the warehouse the credentials name."""
    counts = {}
    with tempfile.TemporaryDirectory(prefix="backfill-demo-") as folder:
        files = {}
        for table, rows in generate(size).items():
            files[table] = Path(folder) / f"{table}.csv"
            counts[table] = _write_csv(rows, files[table])
        if credentials.type == "duckdb":
            _load_duckdb(credentials, schema, files)
        elif credentials.type == "postgres":
            _load_postgres(credentials, schema, files)
        else:
            raise click.ClickException(f"The demo data loads into duckdb or postgres, not {credentials.type}.")
    for table, count in counts.items():
        echo(f"  {schema}.{table}: {count} rows")
    return counts


def _load_duckdb(credentials, schema: str, files: dict) -> None:
    import duckdb

    connection = duckdb.connect(credentials.path)
    try:
        connection.execute(f'create schema if not exists "{schema}"')
        for table, path in files.items():
            qualified = f'"{schema}"."{table}"'
            connection.execute(f"drop table if exists {qualified}")
            connection.execute(_create_sql(qualified, table))
            connection.execute(f"copy {qualified} from '{path}' (format csv, header false, nullstr '')")
    finally:
        connection.close()


def _load_postgres(credentials, schema: str, files: dict) -> None:
    import psycopg2

    connection = psycopg2.connect(
        host=credentials.host,
        port=credentials.port,
        user=credentials.user,
        password=credentials.password or None,
        dbname=credentials.database,
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(f'create schema if not exists "{schema}"')
            for table, path in files.items():
                qualified = f'"{schema}"."{table}"'
                cursor.execute(f"drop table if exists {qualified}")
                cursor.execute(_create_sql(qualified, table))
                with open(path) as handle:
                    cursor.copy_expert(f"copy {qualified} from stdin with (format csv, null '')", handle)
    finally:
        connection.close()


@click.command()
@click.option("--project-dir", default=".", show_default=True, help="The dbt project whose profile names the warehouse.")
@click.option("--profiles-dir", default=None, help="Folder of profiles.yml (default: as dbt finds it).")
@click.option("--target", "-t", default=None, help="Profile target (default: the profile's default).")
@click.option("--schema", default=None, help="Schema to write into (default: <target schema>_raw).")
@click.option("--days", default=DemoSize.days, show_default=True, type=click.IntRange(1))
@click.option("--start-date", default=DemoSize.start_date.isoformat(), show_default=True)
@click.option("--items", default=DemoSize.items, show_default=True, type=click.IntRange(1))
@click.option("--events-per-day", default=DemoSize.events_per_day, show_default=True, type=click.IntRange(0))
@click.option("--orders-per-day", default=DemoSize.orders_per_day, show_default=True, type=click.IntRange(1))
@click.option("--users", default=DemoSize.users, show_default=True, type=click.IntRange(50))
def main(project_dir, profiles_dir, target, schema, days, start_date, items, events_per_day, orders_per_day, users):
    """Write the reference pipeline's raw tables (deterministic) into the warehouse."""
    from backfill.dbt import DbtProject

    try:
        start = date.fromisoformat(start_date)
    except ValueError:
        raise click.BadParameter(f"'{start_date}' is not a date (YYYY-MM-DD).", param_hint="--start-date") from None
    size = DemoSize(start, days, items, events_per_day, orders_per_day, users)
    credentials = DbtProject(project_dir, profiles_dir, target).credentials()
    schema = schema or f"{credentials.schema}_raw"
    click.echo(f"Writing demo data ({credentials.type}, schema {schema}):")
    load(credentials, schema, size, echo=click.echo)


if __name__ == "__main__":
    os.environ.setdefault("DO_NOT_TRACK", "1")
    main()
