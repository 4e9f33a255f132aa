"""Where the benchmark's data lives and where each contender works.

A data set is generated once per run and only read afterwards. Every timed run
of a contender gets a sandbox of its own, dropped right after: on PostgreSQL a
fresh schema next to the data set's schema, on DuckDB a fresh copy of the data
set's file (one file takes one writing process, and the copy starts every
contender from the same bytes).

Everything this module creates on PostgreSQL is named `bench_<run id>_…`, and
`cleanup` drops exactly the schemas with that prefix (dbt's `--store-failures`
adds `<schema>_dbt_test__audit` ones); no other schema is touched.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.connect import connect, postgres_settings, quoted

# The schema of a data set inside its DuckDB file.
DUCKDB_DATA_SCHEMA = "data"


@dataclass(frozen=True)
class DataSet:
    name: str
    schema: str
    duckdb_path: str | None = None  # DuckDB: the file that holds it


@dataclass(frozen=True)
class Sandbox:
    """One contender's place for one timed run."""

    warehouse: "Warehouse"
    data: DataSet
    schema: str  # the dbt target schema: what the contender writes
    env: dict  # BENCH_* variables for dbt and the contender scripts
    duckdb_path: str | None = None

    def query(self, sql: str) -> list[tuple]:
        return self.warehouse.query(sql, self.duckdb_path)

    def execute(self, *statements: str) -> None:
        self.warehouse.execute(*statements, duckdb_path=self.duckdb_path)

    def table(self, name: str) -> str:
        return quoted(self.schema, name)

    def data_table(self, name: str) -> str:
        return quoted(self.data.schema, name)


class Warehouse:
    kind: str
    label: str  # as the report names it

    def __init__(self, run_id: str, work_dir: Path):
        self.run_id = run_id
        self.work_dir = work_dir
        self.prefix = f"bench_{run_id}"

    # -- statements ----------------------------------------------------------------

    def execute(self, *statements: str, duckdb_path: str | None = None) -> None:
        connection = self._connect(duckdb_path)
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
            connection.commit()
        finally:
            connection.close()

    def query(self, sql: str, duckdb_path: str | None = None) -> list[tuple]:
        connection = self._connect(duckdb_path)
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            return cursor.fetchall()
        finally:
            connection.close()

    def _connect(self, duckdb_path):
        return connect({"BENCH_TARGET": self.kind, **os.environ}, duckdb_path=duckdb_path)

    # -- the places ----------------------------------------------------------------

    def base_env(self) -> dict:
        return {"BENCH_TARGET": self.kind}

    def generate(self, name: str, statements: Callable[[str, str], list[str]]) -> DataSet:
        """Create data set `name` from `statements(dialect, qualified schema)`; returns it."""
        raise NotImplementedError

    @contextmanager
    def sandbox(self, data: DataSet) -> Iterator[Sandbox]:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError


class Postgres(Warehouse):
    kind = "postgres"
    label = "PostgreSQL"

    def generate(self, name, statements):
        schema = f"{self.prefix}_{name}"
        self.execute(f"create schema {quoted(schema)}", *statements("postgres", quoted(schema)))
        self._vacuum(schema)
        return DataSet(name, schema)

    def _vacuum(self, schema: str) -> None:
        """Statistics, hint bits and the visibility map set now, so that the first
        contender to read the tables does not pay for them."""
        import psycopg2

        connection = psycopg2.connect(**postgres_settings())
        connection.autocommit = True  # vacuum runs outside a transaction
        try:
            cursor = connection.cursor()
            cursor.execute("select tablename from pg_tables where schemaname = %s", (schema,))
            for (table,) in cursor.fetchall():
                cursor.execute(f"vacuum analyze {quoted(schema, table)}")
        finally:
            connection.close()

    @contextmanager
    def sandbox(self, data):
        schema = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        self.execute(f"create schema {quoted(schema)}")
        env = {**self.base_env(), "BENCH_SCHEMA": schema, "BENCH_DATA_SCHEMA": data.schema}
        try:
            yield Sandbox(self, data, schema, env)
        finally:
            self._drop_schemas(schema)

    def _drop_schemas(self, prefix: str) -> None:
        """Drop every schema whose name starts with `prefix` (ours only: see the module)."""
        assert prefix.startswith(self.prefix)
        names = self.query(f"select nspname from pg_namespace where starts_with(nspname, '{prefix}')")
        for (name,) in names:
            self.execute(f"drop schema if exists {quoted(name)} cascade")

    def cleanup(self) -> None:
        self._drop_schemas(self.prefix)

    def facts(self) -> dict:
        names = ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
        values = {name: self.query(f"show {name}")[0][0] for name in names}
        return {"PostgreSQL": values.pop("server_version"), "PostgreSQL settings": values}


class DuckDB(Warehouse):
    kind = "duckdb"
    label = "DuckDB"

    # Every file is called warehouse.duckdb (in a folder of its own): DuckDB names
    # the database after the file, so SQL compiled against one copy runs on another.
    FILE_NAME = "warehouse.duckdb"

    def generate(self, name, statements):
        path = self.work_dir / name / self.FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.execute(f"create schema {quoted(DUCKDB_DATA_SCHEMA)}",
                     *statements("duckdb", quoted(DUCKDB_DATA_SCHEMA)), duckdb_path=str(path))
        self.execute("checkpoint", duckdb_path=str(path))
        return DataSet(name, DUCKDB_DATA_SCHEMA, str(path))

    @contextmanager
    def sandbox(self, data):
        path = self.work_dir / f"sandbox-{uuid.uuid4().hex[:8]}" / self.FILE_NAME
        path.parent.mkdir(parents=True)
        shutil.copyfile(data.duckdb_path, path)
        env = {**self.base_env(), "BENCH_SCHEMA": "main", "BENCH_DATA_SCHEMA": data.schema,
               "BENCH_DUCKDB_PATH": str(path)}
        try:
            yield Sandbox(self, data, "main", env, duckdb_path=str(path))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def facts(self) -> dict:
        import duckdb

        return {"DuckDB": duckdb.__version__}


def new_run_id() -> str:
    return time.strftime("%m%d%H%M") + uuid.uuid4().hex[:4]
