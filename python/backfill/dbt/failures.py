"""What went wrong in a dbt invocation, in one line a person can read.

dbt reports a failure in several places — a node's message, the invocation's
exception, an error it only logged (run-operation's) — and a DuckDB file held
by another process as a long driver error. These helpers turn each into one
sentence, so the rest of the runner never reads dbt's result objects.
"""

from __future__ import annotations

import re
from typing import Optional

from backfill.errors import DbtProjectError, WarehouseBusy


def error_collector(errors: list):
    """A dbt event callback that keeps the error lines dbt logs (and prints nowhere, quietly)."""

    def collect(event) -> None:
        if event.info.level == "error" and event.info.msg:
            errors.append(event.info.msg)

    return collect


def describe_failure(result) -> str:
    """One line from a failed dbt invocation: the node's message, the exception,
    or the error dbt logged."""
    logged = [m for m in getattr(result, "error_messages", []) if m.strip()]
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) in {"error", "fail", "runtime error"}:
            message = (node_result.message or "").strip()
            if message and message.upper() != "ERROR":
                return one_line(message)
            if logged:  # microbatch batches report just "ERROR"; the log line has the reason
                return one_line(max(logged, key=len))
    if result.exception is not None:
        return one_line(str(result.exception))
    if logged:
        return one_line(max(logged, key=len))
    return "dbt reported a failure without a message (see logs/dbt.log)."


def raise_failure(result, what: str):
    """Raise the one-sentence error for a failed invocation that the user cannot go on from."""
    message = describe_failure(result)
    busy = warehouse_busy(message)
    if busy:
        raise WarehouseBusy(busy)
    raise DbtProjectError(f"{what}: {message}")


def warehouse_busy(message: str) -> Optional[str]:
    """A clear sentence for DuckDB's file lock (one writing process per file), else None."""
    match = re.search(r'Could not set lock on file "([^"]+)".*?\(PID (\d+)\)', message)
    if not match:
        return None
    return (f"The DuckDB file {match.group(1)} is in use by another process (PID {match.group(2)}): "
            "a DuckDB file takes one writing process at a time, so wait for that one to finish.")


def one_line(text: str) -> str:
    """A multi-line message as one line (at most 1,000 characters)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " ".join(lines)[:1000] if lines else str(text)
