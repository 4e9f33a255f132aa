"""What went wrong in a dbt invocation, in one line a person can read.

dbt reports a failure in several places — a node's message, the invocation's
exception, an error it only logged (run-operation's) — and a DuckDB file held
by another process as a long driver error. These helpers turn each into one
sentence, so the rest of the runner never reads dbt's result objects.
"""

from __future__ import annotations

import re
from pathlib import Path
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
    raise DbtProjectError(f"{what}: {disk_full(message) or message}")


def disk_full(message: str) -> Optional[str]:
    """A clear sentence for a write that found no room on the disk, else None."""
    match = re.search(r'Could not write file "([^"]+)": No space left on device', message)
    if match is None and "No space left on device" not in message:
        return None
    where = f" holding {match.group(1)}" if match else ""
    return f"the disk{where} is full (No space left on device)"


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


_YAML_ERROR = re.compile(r"Syntax error near line (\d+)\s*-+\n(?P<excerpt>.*?)\n\s*Raw Error:\s*-+\n(?P<raw>.*)",
                         re.DOTALL)
_YAML_FILE = re.compile(r"Error reading [^:]+: (?P<file>\S+\.ya?ml) - ")


def yaml_failure(text: str, project_dir: Path) -> Optional[str]:
    """A YAML file dbt could not read, as one sentence naming the file and line, then dbt's
    excerpt of it; None when the failure is not a YAML syntax error."""
    match = _YAML_ERROR.search(str(text))
    if match is None:
        return None
    line = match.group(1)
    problems = [part.strip() for part in match.group("raw").splitlines()
                if part.strip() and not part.strip().startswith("in \"")]
    named = _YAML_FILE.search(str(text))
    file = _project_file(project_dir, named.group("file")) if named else _unreadable_project_file(project_dir)
    excerpt = "\n".join("    " + part.strip() for part in match.group("excerpt").splitlines() if part.strip())
    return (f"dbt could not read {file}: a YAML syntax error near line {line} "
            f"({problems[-1] if problems else 'see the excerpt'}).\n{excerpt}")


def _project_file(project_dir: Path, name: str) -> str:
    """Where in the project a file dbt names only by its base name is (the first match)."""
    skipped = {"target", "dbt_packages", "logs", ".venv"}
    for path in sorted(project_dir.rglob(name)):
        if not skipped & set(path.relative_to(project_dir).parts):
            return str(path.relative_to(project_dir))
    return name


def _unreadable_project_file(project_dir: Path) -> str:
    """dbt names no file when dbt_project.yml (or packages.yml) itself is broken: find which."""
    import yaml

    for name in ["dbt_project.yml", "packages.yml", "dependencies.yml"]:
        path = project_dir / name
        try:
            if path.exists():
                yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            return name
    return "a YAML file of the project"
