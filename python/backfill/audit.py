"""The audit trail and the per-model lock, kept in the warehouse.

Three tables in the target schema (or var `backfill_audit_schema`):
  backfill_runs     one row per run: who, when, model, range, options, status
  backfill_batches  one row per batch: window, status, attempts, rows, duration, error
  backfill_locks    one row per model being backfilled right now

Rows are written as the run goes (a batch is recorded `running` before it
starts and `success`/`failed` when it ends), each write its own committed
transaction, so a killed run leaves everything it finished recorded and its
interrupted batch visibly `running`. Writes go through the `backfill.audit_*`
macros (run-operation on the parsed manifest); values are escaped there.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Optional

from backfill.dbt_runner import DbtProject, describe_failure, raise_failure, warehouse_busy
from backfill.errors import BackfillError

RUNNING, SUCCESS, FAILED, INTERRUPTED = "running", "success", "failed", "interrupted"
PENDING = "pending"
DEFAULT_LOCK_TTL_SECONDS = 6 * 3600
HEARTBEAT_SECONDS = 30  # how often a running backfill refreshes its run row and lock


class ModelLocked(BackfillError):
    """Another run holds the model's lock."""


def now_utc() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


@dataclass
class RunRecord:
    run_id: str
    model: str
    target_name: Optional[str]
    range_start: str
    range_end: str
    grain: str
    batch_size: int
    batches_total: int
    options: dict
    status: str = RUNNING
    batches_done: int = 0
    invoked_by: str = field(default_factory=lambda: f"{getpass.getuser()}@{socket.gethostname()}")
    started_at: str = field(default_factory=now_utc)
    finished_at: Optional[str] = None
    error: Optional[str] = None

    def values(self) -> dict:
        values = asdict(self)
        values["options"] = json.dumps(self.options, sort_keys=True, default=str)
        return values


def run_record(row: dict) -> RunRecord:
    """A backfill_runs row read back as the record that wrote it."""
    options = row["options"]
    run = RunRecord(**{k: row[k] for k in RunRecord.__dataclass_fields__ if k != "options"},
                    options=json.loads(options) if isinstance(options, str) else dict(options or {}))
    run.batch_size, run.batches_total = int(run.batch_size), int(run.batches_total)
    run.batches_done = int(run.batches_done or 0)
    run.started_at = str(run.started_at)
    run.finished_at = None if run.finished_at is None else str(run.finished_at)
    return run


@dataclass
class BatchRecord:
    run_id: str
    batch_index: int
    window_start: str
    window_end: str
    status: str = PENDING
    attempts: int = 0
    rows_written: Optional[int] = None
    duration_s: Optional[float] = None
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    checks: Optional[str] = None
    error: Optional[str] = None

    def values(self) -> dict:
        values = asdict(self)
        if values["duration_s"] is not None:
            values["duration_s"] = round(values["duration_s"], 3)
        return values


class Audit:
    """Reads and writes the audit tables of one project/target."""

    def __init__(self, project: DbtProject):
        self.project = project
        self._ready = False
        self._lock: Optional[dict] = None  # the lock row this process holds
        self._staged: dict = {}  # records to write with the next write (one operation, not two)
        self._exists = False
        self._last_full_write = float("-inf")

    def exists(self) -> bool:
        """Whether the audit tables are there; reading the trail never creates them."""
        if not (self._ready or self._exists):
            self._exists = self.project.relation_exists("backfill.audit_relation('backfill_runs')")
        return self._ready or self._exists

    # -- writing ---------------------------------------------------------------

    def _operation(self, macro: str, args: dict) -> None:
        if not self.project.run_operation(f"backfill.{macro}", args):
            raise_failure(self.project.last_failure, "Could not write the audit trail")

    def ensure(self) -> None:
        if not self._ready:
            self._operation("audit_ensure_tables", {})
            self._ready = True

    def write(self, *records) -> None:
        """Write run and batch records (each replaces its previous version), in one transaction."""
        self.ensure()
        rows = []
        for record in records:
            table = "backfill_runs" if isinstance(record, RunRecord) else "backfill_batches"
            rows.append({"table": table, "values": record.values()})
        self._operation("audit_write", {"rows": rows})

    def add_notes(self, run_id: str, **notes) -> None:
        """Merge `notes` into a recorded run's options["notes"] (what a repair
        found after its batches ran, say)."""
        rows = self.runs(run_id=run_id, limit=1)
        if rows:
            run = run_record(rows[0])
            run.options.setdefault("notes", {}).update(notes)
            self.write(run)

    # -- the lock --------------------------------------------------------------

    def acquire_lock(self, model: str, run_id: str, ttl_seconds: int = DEFAULT_LOCK_TTL_SECONDS) -> None:
        """Take the model's lock, or refuse in one sentence naming the holder.

        A lock is stale — and taken over — when its process is gone (same host,
        pid not alive) or its heartbeat is older than `ttl_seconds`.
        """
        self.ensure()
        held = self.lock_holder(model)
        if held and not self._is_stale(held, ttl_seconds):
            raise _locked(model, held)
        stamp = now_utc()
        lock = {"model": model, "run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
                "acquired_at": stamp, "heartbeat_at": stamp}
        delete = [{"table": "backfill_locks", "values": {"model": model, "run_id": held["run_id"]}}] if held else []
        result = self.project.invoke([
            "run-operation", "backfill.audit_write", "--args",
            json.dumps({"rows": [{"table": "backfill_locks", "values": lock, "insert_only": True}],
                        "delete_where": delete}),
        ])
        if result.success:
            self._lock = lock
            return
        if warehouse_busy(describe_failure(result)):
            raise_failure(result, "Could not take the lock")
        # Someone else inserted first: the primary key refused us.
        raise _locked(model, self.lock_holder(model) or {"run_id": "?", "pid": "?", "host": "?", "acquired_at": "?"})

    def stage(self, *records) -> None:
        """Keep records for the next write: a finished batch goes out together with
        the start of the next one, saving a round trip per batch."""
        for record in records:
            key = ("run", record.run_id) if isinstance(record, RunRecord) else ("batch", record.run_id, record.batch_index)
            self._staged[key] = record

    def heartbeat(self, model: str, run_id: str, *records, periodic: bool = False) -> None:
        """Write staged and given records and refresh the lock's heartbeat, in one transaction.

        `periodic` (the start of each batch): batch rows always go out, the run's
        row and the lock's heartbeat only every HEARTBEAT_SECONDS. The run's
        progress is counted from its batch rows when read, and a lock is stale
        after hours, so writing them for every small batch would only cost time."""
        self.ensure()
        self.stage(*records)
        due = not periodic or time.monotonic() - self._last_full_write >= HEARTBEAT_SECONDS
        written = [key for key in self._staged if due or key[0] == "batch"]
        rows = [{"table": "backfill_runs" if key[0] == "run" else "backfill_batches",
                 "values": self._staged.pop(key).values()} for key in written]
        if due and self._lock and self._lock["model"] == model and self._lock["run_id"] == run_id:
            rows.append({"table": "backfill_locks", "values": {**self._lock, "heartbeat_at": now_utc()}})
        self._operation("audit_write", {"rows": rows})
        if due:
            self._last_full_write = time.monotonic()

    def release_lock(self, model: str, run_id: str) -> None:
        self._lock = None
        self._operation("audit_write", {"delete_where": [
            {"table": "backfill_locks", "values": {"model": model, "run_id": run_id}}]})

    def lock_holder(self, model: str) -> Optional[dict]:
        if not self.exists():
            return None
        rows = self.project.query(
            "select model, run_id, host, pid, acquired_at, heartbeat_at "
            "from {{ backfill.audit_relation('backfill_locks') }} "
            f"where model = '{_escape(model)}'"
        )
        return rows[0] if rows else None

    @staticmethod
    def _is_stale(lock: dict, ttl_seconds: int) -> bool:
        if lock["host"] == socket.gethostname() and not _pid_alive(int(lock["pid"])):
            return True
        heartbeat = lock["heartbeat_at"]
        if isinstance(heartbeat, str):
            heartbeat = datetime.fromisoformat(heartbeat)
        age = datetime.now(timezone.utc).replace(tzinfo=None) - heartbeat.replace(tzinfo=None)
        return age.total_seconds() > ttl_seconds

    # -- reading ---------------------------------------------------------------

    def runs(self, model: Optional[str] = None, run_id: Optional[str] = None, limit: int = 20) -> list[dict]:
        if not self.exists():
            return []
        conditions = []
        if model:
            conditions.append(f"model = '{_escape(model)}'")
        if run_id:
            conditions.append(f"run_id = '{_escape(run_id)}'")
        where = f"where {' and '.join(conditions)}" if conditions else ""
        rows = self.project.query(
            "select runs.*, (select count(*) from {{ backfill.audit_relation('backfill_batches') }} as batches "
            "where batches.run_id = runs.run_id and batches.status = 'success') as batches_succeeded "
            "from {{ backfill.audit_relation('backfill_runs') }} as runs "
            f"{where} order by runs.started_at desc, runs.run_id desc limit {int(limit)}"
        )
        for row in rows:  # progress as the batch rows tell it, up to date even mid-run
            row["batches_done"] = int(row.pop("batches_succeeded"))
        return rows

    def batches(self, run_id: str) -> list[dict]:
        if not self.exists():
            return []
        return self.project.query(
            "select * from {{ backfill.audit_relation('backfill_batches') }} "
            f"where run_id = '{_escape(run_id)}' order by batch_index"
        )


def _locked(model: str, holder: dict) -> ModelLocked:
    return ModelLocked(
        f"Model '{model}' is being backfilled by run {holder['run_id']} (pid {holder['pid']} on "
        f"{holder['host']}, since {holder['acquired_at']}); wait for it or resume that run."
    )


def _escape(value: str) -> str:
    """Single quotes doubled: these values are run ids and model names read back."""
    return str(value).replace("'", "''")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
