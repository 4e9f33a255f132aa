"""The audit trail and the per-model lock, kept in the warehouse.

Three tables in the target schema (or var `backfill_audit_schema`):
  backfill_runs     one row per run: who, when, model (a selection's: their names, parents
                    first, comma-separated), range, options, status
  backfill_batches  one row per batch: its model, window, status, attempts, rows, duration, error
  backfill_locks    one row per model being backfilled right now

Rows are written as the run goes (a batch is recorded `running` before it
starts and `success`, `failed` (nothing written) or `check_failed` (its window
written, its checks failed) when it ends), each write its own committed
transaction, so a killed run leaves everything it finished recorded and its
interrupted batch visibly `running`. The tables are created by the
`backfill.audit_ensure_tables` macro from TABLES below; writes are rendered here
(plain SQL, values as escaped literals) and run in one transaction each, on the
adapter of the last dbt invocation (or as `run-operation backfill.audit_write`).
A write is one delete and one insert a table: a batch costs one small
transaction, not a Jinja rendering of the audit macros. `Audit.record` is that
write path: the runner calls it at the start and end of every batch.

The SQL is rendered by `write_statements` (pure: tested alone); a status shown
for a run is derived from its row and its lock by `derived_status` (pure too).
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

from typing import TYPE_CHECKING

from backfill.errors import BackfillError, WarehouseBusy

if TYPE_CHECKING:
    from backfill.dbt import DbtProject

RUNNING, SUCCESS, FAILED, INTERRUPTED = "running", "success", "failed", "interrupted"
PENDING = "pending"
# A batch whose model run wrote its window, and whose checks then failed: the rows are in
# the table (and counted in rows_written); the batch is not done, so `resume` reruns it.
CHECK_FAILED = "check_failed"
DEFAULT_LOCK_TTL_SECONDS = 6 * 3600
HEARTBEAT_SECONDS = 30  # how often a running backfill refreshes its run row and lock

# The audit tables: their key columns (a write replaces the row with the same keys)
# and their columns in order, each with a portable kind the create macro maps to
# dbt's type (dbt.type_string(), …).
TABLES = {
    "backfill_runs": {"keys": ["run_id"], "columns": [
        ["run_id", "text"], ["model", "text"], ["target_name", "text"], ["status", "text"],
        ["range_start", "text"], ["range_end", "text"], ["grain", "text"], ["batch_size", "bigint"],
        ["batches_total", "bigint"], ["batches_done", "bigint"], ["options", "text"],
        ["invoked_by", "text"], ["started_at", "timestamp"], ["finished_at", "timestamp"], ["error", "text"]]},
    "backfill_batches": {"keys": ["run_id", "batch_index"], "columns": [
        ["run_id", "text"], ["batch_index", "bigint"], ["window_start", "text"], ["window_end", "text"],
        ["status", "text"], ["attempts", "bigint"], ["rows_written", "bigint"], ["duration_s", "float"],
        ["started_at", "timestamp"], ["finished_at", "timestamp"], ["checks", "text"], ["error", "text"],
        # Last, as a table created before runs of several models has it added (audit_ensure_tables).
        ["model", "text"]]},
    "backfill_locks": {"keys": ["model"], "columns": [
        ["model", "text"], ["run_id", "text"], ["host", "text"], ["pid", "bigint"],
        ["acquired_at", "timestamp"], ["heartbeat_at", "timestamp"]]},
}


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


def json_value(value, default=None):
    """A JSON column read back (options, checks): text on some warehouses, already parsed
    on others, empty or null when nothing was stored."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else default
    return default if value is None else value


def run_record(row: dict) -> RunRecord:
    """A backfill_runs row read back as the record that wrote it."""
    run = RunRecord(**{k: row[k] for k in RunRecord.__dataclass_fields__ if k != "options"},
                    options=dict(json_value(row["options"], {})))
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
    model: Optional[str] = None  # the model the batch rewrites (a run over a selection has several)

    def values(self) -> dict:
        values = asdict(self)
        if values["duration_s"] is not None:
            values["duration_s"] = round(values["duration_s"], 3)
        return values


class Audit:
    """Reads and writes the audit tables of one project/target."""

    def __init__(self, project: "DbtProject"):
        self.project = project
        self._ready = False
        self._locks: dict[str, dict] = {}  # the lock rows this process holds, by model
        self._staged: dict = {}  # records to write with the next write (one operation, not two)
        self._exists = False
        self._last_full_write = float("-inf")
        self._relations: dict = {}  # audit table name -> the SQL naming it

    def exists(self) -> bool:
        """Whether the audit tables are there; reading the trail never creates them."""
        if not (self._ready or self._exists):
            self._exists = self.project.relation_exists("backfill.audit_relation('backfill_runs')")
        return self._ready or self._exists

    # -- writing ---------------------------------------------------------------

    def _write(self, rows=(), delete_where=()) -> None:
        """Rows ({table, values, insert_only}) replacing the rows with their keys, and
        rows deleted first ({table, values}), in one committed transaction."""
        statements = write_statements(self._relations, rows, delete_where)
        if statements and not self.project.execute_statements(statements, "backfill.audit_write"):
            self.project.raise_last_failure("Could not write the audit trail")

    def ensure(self) -> None:
        if not self._ready:
            if not self.project.run_operation("backfill.audit_ensure_tables", {"tables": TABLES}):
                self.project.raise_last_failure("Could not create the audit tables")
            self._relations = self._relation_names()
            self._ready = True

    def _relation_names(self) -> dict:
        """The audit tables as the SQL that names them (audit_relation, rendered once)."""
        columns = ", ".join(
            f"{{{{ \"'\" ~ (backfill.audit_relation('{name}') ~ '') | replace(\"'\", \"''\") ~ \"'\" }}}} as {name}"
            for name in TABLES)
        return {name: str(value) for name, value in self.project.query(f"select {columns}")[0].items()}

    def write(self, *records) -> None:
        """Write run and batch records (each replaces its previous version), in one transaction."""
        self.ensure()
        rows = []
        for record in records:
            table = "backfill_runs" if isinstance(record, RunRecord) else "backfill_batches"
            rows.append({"table": table, "values": record.values()})
        self._write(rows)

    def add_notes(self, run_id: str, **notes) -> None:
        """Merge `notes` into a recorded run's options["notes"] (what a repair
        found after its batches ran, say)."""
        rows = self.runs(run_id=run_id, limit=1)
        if rows:
            run = run_record(rows[0])
            run.options.setdefault("notes", {}).update(notes)
            self.write(run)

    # -- the lock --------------------------------------------------------------

    def acquire_locks(self, models: list[str], run_id: str, ttl_seconds: int = DEFAULT_LOCK_TTL_SECONDS) -> None:
        """Every model's lock for one run, or none of them: a refusal releases those taken."""
        taken = []
        try:
            for model in models:
                self.acquire_lock(model, run_id, ttl_seconds)
                taken.append(model)
        except BaseException:
            for model in taken:
                safely(self.release_lock, model, run_id)
            raise

    def release_locks(self, run_id: str) -> None:
        """Every lock this process holds for the run."""
        for model in [model for model, lock in self._locks.items() if lock["run_id"] == run_id]:
            self.release_lock(model, run_id)

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
        statements = write_statements(self._relations, [{"table": "backfill_locks", "values": lock, "insert_only": True}],
                                      delete)
        if self.project.execute_statements(statements, "backfill.audit_write"):
            self._locks[model] = lock
            return
        try:
            self.project.raise_last_failure("Could not take the lock")
        except WarehouseBusy:
            raise
        except BackfillError:
            pass
        # Someone else inserted first: the primary key refused us.
        raise _locked(model, self.lock_holder(model) or {"run_id": "?", "pid": "?", "host": "?", "acquired_at": "?"})

    def stage(self, *records) -> None:
        """Keep records for the next write: a finished batch goes out together with
        the start of the next one, saving a round trip per batch."""
        for record in records:
            key = ("run", record.run_id) if isinstance(record, RunRecord) else ("batch", record.run_id, record.batch_index)
            self._staged[key] = record

    def record(self, run_id: str, *records, periodic: bool = False) -> None:
        """The audit trail's write path: staged and given records, and the heartbeat of the
        run's locks, in one transaction.

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
        if due:
            rows.extend({"table": "backfill_locks", "values": {**lock, "heartbeat_at": now_utc()}}
                        for lock in self._locks.values() if lock["run_id"] == run_id)
        self._write(rows)
        if due:
            self._last_full_write = time.monotonic()

    def release_lock(self, model: str, run_id: str) -> None:
        self._locks.pop(model, None)
        self.ensure()
        self._write(delete_where=[{"table": "backfill_locks", "values": {"model": model, "run_id": run_id}}])

    def lock_holder(self, model: str) -> Optional[dict]:
        if not self.exists():
            return None
        rows = self.project.query(
            "select model, run_id, host, pid, acquired_at, heartbeat_at "
            "from {{ backfill.audit_relation('backfill_locks') }} "
            f"where model = {_read_value('model')}", vars=_read_vars(model=model)
        )
        return rows[0] if rows else None

    @staticmethod
    def _is_stale(lock: dict, ttl_seconds: int) -> bool:
        return lock_is_stale(lock, ttl_seconds)

    # -- reading ---------------------------------------------------------------

    def runs(self, model: Optional[str] = None, run_id: Optional[str] = None, limit: int = 20) -> list[dict]:
        if not self.exists():
            return []
        conditions = []
        if model:  # the runs of the model alone, and the runs over a selection that rewrote it
            conditions.append(f"(model = {_read_value('model')} or run_id in (select run_id from "
                              "{{ backfill.audit_relation('backfill_batches') }} "
                              f"where model = {_read_value('model')}))")
        if run_id:
            conditions.append(f"run_id = {_read_value('run_id')}")
        where = f"where {' and '.join(conditions)}" if conditions else ""
        rows = self.project.query(
            "select runs.*, (select count(*) from {{ backfill.audit_relation('backfill_batches') }} as batches "
            "where batches.run_id = runs.run_id and batches.status = 'success') as batches_succeeded "
            "from {{ backfill.audit_relation('backfill_runs') }} as runs "
            f"{where} order by runs.started_at desc, runs.run_id desc limit {int(limit)}",
            vars=_read_vars(model=model, run_id=run_id),
        )
        for row in rows:  # progress as the batch rows tell it, up to date even mid-run
            row["batches_done"] = int(row.pop("batches_succeeded"))
        return rows

    def batches(self, run_id: str) -> list[dict]:
        if not self.exists():
            return []
        return self.project.query(
            "select * from {{ backfill.audit_relation('backfill_batches') }} "
            f"where run_id = {_read_value('run_id')} order by batch_index", vars=_read_vars(run_id=run_id)
        )


def run_models(run: dict) -> list[str]:
    """The models a recorded run rewrote: its `model`, or the names of a selection's, parents first."""
    return str(run["model"]).split(",")


def lock_is_stale(lock: dict, ttl_seconds: int = DEFAULT_LOCK_TTL_SECONDS, now: Optional[datetime] = None,
                  host: Optional[str] = None, alive=None) -> bool:
    """A lock is stale — and taken over — when its process is gone (same host, pid not
    alive) or its heartbeat is older than `ttl_seconds`."""
    host = host or socket.gethostname()
    alive = alive or _pid_alive
    if lock["host"] == host and not alive(int(lock["pid"])):
        return True
    heartbeat = lock["heartbeat_at"]
    if isinstance(heartbeat, str):
        heartbeat = datetime.fromisoformat(heartbeat)
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    return (now - heartbeat.replace(tzinfo=None)).total_seconds() > ttl_seconds


def derived_status(run: dict, lock: Optional[dict], ttl_seconds: int = DEFAULT_LOCK_TTL_SECONDS,
                   **stale_options) -> str:
    """The status a run is shown with: as recorded, except that a run recorded `running`
    whose lock is gone, held by another run, or stale was interrupted (its process died)."""
    if run["status"] != RUNNING:
        return run["status"]
    if not lock or lock["run_id"] != run["run_id"] or lock_is_stale(lock, ttl_seconds, **stale_options):
        return INTERRUPTED
    return RUNNING


def _locked(model: str, holder: dict) -> ModelLocked:
    return ModelLocked(
        f"Model '{model}' is being backfilled by run {holder['run_id']} (pid {holder['pid']} on "
        f"{holder['host']}, since {holder['acquired_at']}); wait for it or resume that run."
    )


def write_statements(relations: dict, rows=(), delete_where=()) -> list[str]:
    """The SQL of an audit write: the deletes asked for, then per table one delete
    of the rows being replaced (by their keys) and one multi-row insert."""
    statements = [
        f"delete from {relations[entry['table']]} where "
        + " and ".join(f"{column} = {_literal(value, _kind(entry['table'], column))}"
                       for column, value in entry["values"].items())
        for entry in delete_where
    ]
    for table in dict.fromkeys(entry["table"] for entry in rows):
        spec, entries = TABLES[table], [entry for entry in rows if entry["table"] == table]
        replaced = [
            "(" + " and ".join(f"{key} = {_literal(entry['values'][key], _kind(table, key))}" for key in spec["keys"]) + ")"
            for entry in entries if not entry.get("insert_only")
        ]
        if replaced:
            statements.append(f"delete from {relations[table]} where {' or '.join(replaced)}")
        names = ", ".join(column for column, _ in spec["columns"])
        values = ", ".join(
            "(" + ", ".join(_literal(entry["values"].get(column), kind) for column, kind in spec["columns"]) + ")"
            for entry in entries)
        statements.append(f"insert into {relations[table]} ({names}) values {values}")
    return statements


def _kind(table: str, column: str) -> str:
    return dict(TABLES[table]["columns"])[column]


def _literal(value, kind: str) -> str:
    """A value as a SQL literal: null, a number, or a quoted string (quotes doubled,
    the SQL standard's escape); timestamps arrive as ISO strings and are cast."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    text = "'" + _escape(value) + "'"
    return f"cast({text} as timestamp)" if kind == "timestamp" else text


# The values a read of the audit trail filters on (a model, a run id as typed after `status --run`
# or `resume`): the query is a Jinja template dbt renders, so they are read from this var and
# quoted there, never pasted into the template (a `{{ ... }}` in a run id stays text).
_READ_VAR = "backfill_audit_read"


def _read_value(name: str) -> str:
    """The SQL string literal of a read's value `name`, as Jinja reading it from the var."""
    return "'{{ var('" + _READ_VAR + "')['" + name + "'] | string | replace(\"'\", \"''\") }}'"


def _read_vars(**values) -> dict:
    return {_READ_VAR: {name: str(value) for name, value in values.items() if value is not None}}


def _escape(value: str) -> str:
    """Single quotes doubled (the SQL standard's escape): the values written (statements run as
    they are, not rendered as Jinja)."""
    return str(value).replace("'", "''")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def safely(function, *args) -> None:
    try:
        function(*args)
    except Exception:  # recording or releasing after a failure must not hide the failure itself
        pass
