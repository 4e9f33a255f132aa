"""The benchmark's dbt project (bench/project) and the environment every
contender's process gets.

Each timed run has its own scratch folder for dbt's target and logs, so every
contender starts the same way: without a partial-parse cache from an earlier
contender (dbt parses the project once per process it starts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.warehouses import Sandbox

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PROJECT_DIR = BENCH_DIR / "project"
PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))

# The models and tests the scenarios name (bench/project/models).
DAILY_MODEL = "bench_daily_metrics"
MICROBATCH_MODEL = "bench_daily_metrics_microbatch"
GAP_MODEL = "gap_events"
GAP_TEST = "bench_gap_events_have_no_gaps"
ROWS_TEST = "bench_recon_rows"
KEYS_TEST = "bench_recon_keys"


def contender_env(sandbox: Sandbox, scratch: Path, period: tuple[str, str]) -> dict:
    """The environment of a contender's process: the sandbox, dbt silenced
    towards the network, dbt's files in the scratch folder."""
    return {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
        "BENCH_PERIOD_START": period[0],
        "BENCH_PERIOD_END": period[1],
        # the contender scripts are modules of the `bench` package
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **sandbox.env,
    }


def runner_command(*args: str) -> list[str]:
    """`python -m backfill` on the benchmark's project."""
    return [PYTHON, "-m", "backfill", "--project-dir", str(PROJECT_DIR), *args]


def dbt_command(*args: str) -> list[str]:
    return [DBT, *args, "--project-dir", str(PROJECT_DIR)]


def script_command(module: str, *args: str) -> list[str]:
    """A contender script of bench/contenders."""
    return [PYTHON, "-m", f"bench.contenders.{module}", *args]


def install_package() -> None:
    """`dbt deps`: links the package (`local: ../..`); works offline."""
    result = subprocess.run(dbt_command("deps"), cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "DO_NOT_TRACK": "1", "DBT_PROFILES_DIR": str(PROJECT_DIR),
                                 "DBT_LOG_PATH": str(PROJECT_DIR / "logs")})
    if result.returncode != 0:
        raise RuntimeError(f"dbt deps failed in {PROJECT_DIR}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def run_dbt(env: dict, *args: str) -> str:
    """An untimed dbt command (setting up a scenario); its output, or an error."""
    result = subprocess.run(dbt_command(*args), cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args[:3])} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return result.stdout


def compile_inline(env: dict, sql: str) -> str:
    """SQL with Jinja (the package's macros), compiled by dbt for this sandbox."""
    output = run_dbt(env, "compile", "--quiet", "--output", "json", "--inline", sql)
    return json.loads(output[output.index("{"):])["compiled"]


def compile_node(env: dict, scratch: Path, name: str, vars: dict | None = None) -> str:
    """A model's or a data test's SQL as `dbt compile --select name` writes it (with
    these vars) into the scratch folder's target (env's DBT_TARGET_PATH)."""
    run_dbt(env, "compile", "--quiet", "--select", name, "--vars", json.dumps(vars or {}))
    # A model lands at models/<name>.sql, a test declared in YAML under the file that declares it.
    (compiled,) = (scratch / "target" / "compiled" / "backfill_bench").rglob(f"{name}.sql")
    return compiled.read_text()
