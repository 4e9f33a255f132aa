"""The benchmark harness (bench/, `make bench`) at tiny sizes, so that it cannot rot.

Benchmarks are not tests and never run here; this only checks that the harness
still runs every scenario end to end on PostgreSQL, that its contenders still
agree (it exits non-zero when they do not), that it writes its report, and that
it leaves no schema behind. Its numbers mean nothing at these sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import PG, REPO, postgres_available

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def postgres():
    reason = postgres_available()
    if reason:
        if os.environ.get("BACKFILL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (BACKFILL_REQUIRE_POSTGRES=1) but not reachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")


def leftover_schemas(run_id: str) -> list[str]:
    import psycopg2

    connection = psycopg2.connect(**PG)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select nspname from pg_namespace where starts_with(nspname, %s)", (f"bench_{run_id}",))
            return [name for (name,) in cursor.fetchall()]
    finally:
        connection.close()


def test_quick_benchmark_runs_every_scenario_and_cleans_up(postgres, tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    command = [
        sys.executable, "-m", "bench", "--preset", "quick", "--warehouses", "postgres",
        "--sampled-batches", "2", "--output", str(report), "--results-dir", str(tmp_path / "results"),
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "DO_NOT_TRACK": "1"})
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"

    text = report.read_text()
    for title in ("### 1. Backfill throughput", "### 2. Gap-aware backfill", "### 3. Gap detection",
                  "### 4. Reconciliation of two", "### 5. Reconciliation as the tables grow",
                  "### 6. Start-up"):
        assert title in text
        assert title.removeprefix("### ") in result.stdout  # the tables are printed too
    assert "## Machine" in text and "dbt-core" in text and "PostgreSQL" in text
    assert ".venv/bin/python -m bench --preset quick" in text
    assert "These are not the sizes issue 8 asks for" in text
    # Issue 19: every target with a verdict, the builders' SQL timed beside their command.
    assert "## Targets (issue 19)" in text
    # (not the reladiff one: CI has no reladiff, and the harness leaves it out)
    for target in ("verification after a batch costs ≤ 1.5×", "reconcile_rows SQL ≤ 2×", "reconcile_keys SQL ≤ 1.5×",
                   "reuses dbt's partial parse"):
        (row,) = [line for line in text.splitlines() if line.startswith("| ") and target in line]
        assert "| met |" in row or "| **NOT met** |" in row, row
    assert "reconcile_rows SQL through the driver" in text

    (numbers,) = (tmp_path / "results").glob("*.json")
    run = json.loads(numbers.read_text())
    assert len(run["tables"]) == 6
    assert leftover_schemas(run["run_id"]) == []
