"""Fixtures: a real warehouse per test — a DuckDB file in a temp folder, or a
fresh schema on the PostgreSQL server — and helpers to drive the CLI and dbt as
a user does (subprocesses), then read the results over a direct connection.

PostgreSQL tests are skipped when no server answers, unless
BACKFILL_REQUIRE_POSTGRES=1 (CI sets it), which turns that into a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The reference pipeline: a dbt project of its own that imports the package (`local: ../`),
# with the repository's profiles.yml. Most tests run on it.
DEMO = REPO / "demo"
PG = dict(
    host=os.environ.get("PGHOST", "127.0.0.1"),
    port=int(os.environ.get("PGPORT", "5432")),
    user=os.environ.get("PGUSER", "postgres"),
    password=os.environ.get("PGPASSWORD", "") or None,
    dbname=os.environ.get("PGDATABASE", "postgres"),
)


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg2

        psycopg2.connect(connect_timeout=3, **PG).close()
        return None
    except Exception as error:  # any failure to connect means: no server here
        return str(error).strip().splitlines()[0]


class Warehouse:
    """One isolated warehouse for one test, driven the way a user drives it."""

    def __init__(self, kind: str, tmp_path: Path, project_dir: Path = DEMO, profiles_dir: Path = REPO):
        self.kind = kind
        self.tmp_path = tmp_path
        self.project_dir = project_dir
        suffix = uuid.uuid4().hex[:10]
        self.schema = "main" if kind == "duckdb" else f"bft_{suffix}"
        self.raw_schema = f"{self.schema}_raw"
        self.duckdb_path = tmp_path / "warehouse.duckdb"
        self.env = {
            **os.environ,
            "DO_NOT_TRACK": "1",
            "BACKFILL_TARGET": kind,
            "BACKFILL_SCHEMA": self.schema,
            "BACKFILL_DUCKDB_PATH": str(self.duckdb_path),
            "DBT_PROFILES_DIR": str(profiles_dir),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
        }

    # -- driving it ------------------------------------------------------------

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        """`python -m backfill ARGS` against this warehouse."""
        return self._run([sys.executable, "-m", "backfill", "--project-dir", str(self.project_dir), *args], check)

    def cli_killed(self, *args: str, when) -> str:
        """`python -m backfill ARGS --json`, killed with SIGKILL at the first event `when(event)`
        holds for (its dbt work under way); the run's id."""
        import signal

        command = [sys.executable, "-m", "backfill", "--project-dir", str(self.project_dir), *args, "--json"]
        process = subprocess.Popen(command, env=self.env, cwd=self.tmp_path, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        run_id = None
        for line in process.stdout:
            event = json.loads(line)
            run_id = run_id or event.get("run_id")
            if when(event):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL, process.stderr.read()
        return run_id

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        dbt = Path(sys.executable).with_name("dbt")
        return self._run([str(dbt), *args, "--project-dir", str(self.project_dir)], check)

    def python(self, code: str, check: bool = True) -> subprocess.CompletedProcess:
        """Python in a fresh process (dbt-duckdb and the test must not share a file)."""
        return self._run([sys.executable, "-c", code], check)

    def load_demo_data(self, *args: str) -> None:
        self._run([sys.executable, "-m", "backfill.demo_data", "--project-dir", str(self.project_dir), *args], True)

    def _run(self, command: list[str], check: bool) -> subprocess.CompletedProcess:
        result = subprocess.run(command, env=self.env, cwd=self.tmp_path, capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command[:6])} … exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    # -- reading it --------------------------------------------------------------

    def sql(self, query: str) -> list[tuple]:
        """Rows of a query over a direct connection, opened and closed here."""
        if self.kind == "duckdb":
            import duckdb

            connection = duckdb.connect(str(self.duckdb_path))
            try:
                return connection.execute(query).fetchall()
            finally:
                connection.close()
        import psycopg2

        connection = psycopg2.connect(**PG)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.sql(
            "select count(*) from information_schema.tables "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )
        return rows[0][0] > 0

    def drop(self) -> None:
        if self.kind == "postgres":
            rows = self.sql(
                f"select nspname from pg_namespace where nspname like '{self.schema}%'"
            )
            for (name,) in rows:
                self.sql(f'drop schema if exists "{name}" cascade')


def link_package_into_demo() -> None:
    """`dbt deps` of demo/, which links the package (offline), unless it is linked already:
    a running test must not see its dbt_packages/ replaced under it."""
    installed = DEMO / "dbt_packages" / "backfill"
    if installed.is_symlink() and installed.resolve() == REPO:
        return
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "deps", "--project-dir", str(DEMO)], cwd=DEMO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DO_NOT_TRACK": "1", "DBT_PROFILES_DIR": str(REPO)},
    )
    if result.returncode != 0:
        pytest.exit(f"dbt deps failed in {DEMO}:\n{result.stdout}\n{result.stderr}", returncode=3)


def pytest_configure(config):
    # Once per session, in the controlling process: before any xdist worker starts.
    if not hasattr(config, "workerinput"):
        link_package_into_demo()


def _warehouse_kind(request) -> str:
    return usable_warehouse(request.param)


def usable_warehouse(kind: str) -> str:
    """`kind`, when its warehouse answers; else the test is skipped (or fails, see above)."""
    if kind == "postgres":
        reason = postgres_available()
        if reason:
            if os.environ.get("BACKFILL_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"PostgreSQL is required (BACKFILL_REQUIRE_POSTGRES=1) but not reachable: {reason}")
            pytest.skip(f"PostgreSQL not reachable: {reason}")
    return kind


WAREHOUSES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=WAREHOUSES)
def warehouse(request, tmp_path):
    """An empty warehouse (DuckDB file or PostgreSQL schema) for the repo's project."""
    store = Warehouse(_warehouse_kind(request), tmp_path)
    yield store
    store.drop()


@pytest.fixture(scope="module", params=WAREHOUSES)
def demo_warehouse(request, tmp_path_factory):
    """A warehouse with the demo data loaded, shared by a module's read-only tests."""
    store = Warehouse(_warehouse_kind(request), tmp_path_factory.mktemp("demo"))
    store.load_demo_data()
    yield store
    store.drop()


def copy_user_project(tmp_path: Path) -> Path:
    """A copy of integration_tests/ (a user's project) in `tmp_path`, importing the package
    from this repository as it is (`local:` its path, as a user's `local: ../backfill`)."""
    import shutil

    project = tmp_path / "integration_tests"
    shutil.copytree(
        REPO / "integration_tests", project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb")
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {json.dumps(str(REPO))}\n")
    return project


def make_user_project(tmp_path: Path, kind: str, extra_files: dict | None = None) -> Warehouse:
    """A copy of integration_tests/ importing the package (see `copy_user_project`), plus
    `extra_files` {relative path: text}, with `dbt deps` run."""
    project = copy_user_project(tmp_path)
    for relative, text in (extra_files or {}).items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    store = Warehouse(kind, tmp_path, project_dir=project, profiles_dir=project)
    store.dbt("deps")
    return store


def parse_json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


# -- canaries: what an injected statement would drop or move ------------------------------


def plant_canaries(store: Warehouse) -> None:
    """A canary table (rows 1, 2, 3) and a canary sequence in the store's schema, made again
    when missing (a case that dropped them on a broken build must not break the next one)."""
    store.sql(f'create schema if not exists "{store.schema}"')  # PostgreSQL: the demo data is in <schema>_raw
    store.sql(f'create table if not exists "{store.schema}".canary as '
              "select n from (values (1), (2), (3)) as planted (n)")
    store.sql(f'create sequence if not exists "{store.schema}".canary_seq')


def warehouse_state(store: Warehouse) -> dict:
    """What an injection would change: the canary's rows, the sequence's state, the catalog (on
    PostgreSQL the test's schemas; a DuckDB file is the test's own, so all of it)."""
    schema = store.schema
    if store.kind == "duckdb":
        sequence = store.sql(f"select last_value from duckdb_sequences() where schema_name = '{schema}' "
                             "and sequence_name = 'canary_seq'")
        in_scope = ""
    else:
        sequence = store.sql(f'select last_value, is_called from "{schema}".canary_seq')
        in_scope = f"where table_schema like '{schema}%' "
    return {
        "canary": store.sql(f'select n from "{schema}".canary order by n'),
        "sequence": sequence,
        "catalog": store.sql("select table_schema, table_name, table_type from information_schema.tables "
                             f"{in_scope}order by 1, 2"),
    }


def shadow_installed(tmp_path: Path, package: str, version: str) -> str:
    """A folder that, first on PYTHONPATH, makes `importlib.metadata` report `package` at
    `version` (a dist-info found before the installed one): another dbt, as the version gates see it."""
    dist = tmp_path / "shadow" / f"{package.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    return str(dist.parent)
