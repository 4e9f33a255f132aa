"""A direct connection to the warehouse a contender works in, from the same
environment variables the benchmark's dbt profile reads (bench/project/profiles.yml).

Used by the harness (to generate data and read results) and by the contender
scripts in bench/contenders/ (the SQL floor, pandas, reladiff).
"""

from __future__ import annotations

import os
from typing import Mapping, Optional


def postgres_settings(env: Mapping[str, str] = os.environ) -> dict:
    """libpq's variables with the defaults the repository uses everywhere."""
    return dict(
        host=env.get("PGHOST", "127.0.0.1"),
        port=int(env.get("PGPORT", "5432")),
        user=env.get("PGUSER", "postgres"),
        password=env.get("PGPASSWORD", "") or None,
        dbname=env.get("PGDATABASE", "postgres"),
    )


def postgres_url(env: Mapping[str, str] = os.environ) -> str:
    settings = postgres_settings(env)
    password = f":{settings['password']}" if settings["password"] else ""
    return f"postgresql://{settings['user']}{password}@{settings['host']}:{settings['port']}/{settings['dbname']}"


def warehouse_kind(env: Mapping[str, str] = os.environ) -> str:
    return env.get("BENCH_TARGET", "postgres")


def connect(env: Mapping[str, str] = os.environ, duckdb_path: Optional[str] = None):
    """A DB-API connection: psycopg2 for PostgreSQL, duckdb for a DuckDB file."""
    if warehouse_kind(env) == "duckdb":
        import duckdb

        return duckdb.connect(duckdb_path or env["BENCH_DUCKDB_PATH"])
    import psycopg2

    return psycopg2.connect(**postgres_settings(env))


def quoted(*parts: str) -> str:
    """A qualified name from names the harness made up (never user input)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def statement_runner(connection):
    """Something with execute() and fetchall() that sends each statement as it is,
    so scripts manage transactions themselves with explicit begin and commit
    (psycopg2 would otherwise open transactions of its own)."""
    if hasattr(connection, "autocommit"):  # psycopg2
        connection.autocommit = True
        return connection.cursor()
    return connection  # duckdb: a connection executes, and commits what it is told to
