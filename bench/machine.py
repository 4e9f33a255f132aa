"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def memory_gb() -> float:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def facts(warehouses) -> dict:
    found = {
        "CPU": f"{cpu_model()}, {os.cpu_count()} cores",
        "Memory": f"{memory_gb():.1f} GB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    for warehouse in warehouses:
        found.update(warehouse.facts())
    if "DuckDB" not in found:
        found["DuckDB"] = version("duckdb")
    found.update({
        "dbt-core": version("dbt-core"),
        "dbt-postgres": version("dbt-postgres"),
        "dbt-duckdb": version("dbt-duckdb"),
        "pandas": version("pandas"),
        "reladiff": version("reladiff"),
        "psycopg2": version("psycopg2-binary"),
    })
    return found
