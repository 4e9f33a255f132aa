"""The one module that talks to dbt.

dbt runs in-process through `dbtRunner`. The project is parsed once per
`DbtProject`; every later invocation reuses that manifest, which saves the
parse (~0.5 s) per batch. Vars passed per invocation still reach `var()` in SQL
bodies, which are rendered at compile time; anything resolved at parse time
(configs, `enabled`, refs) keeps the values of the parse.

dbtRunner is not thread-safe (the adapter is global), so one process runs one
invocation at a time; parallel batches need separate processes.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

# dbt reads these when it is imported and when it starts: send nothing anywhere.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

from dbt.cli.main import dbtRunner, dbtRunnerResult  # noqa: E402

from backfill import dbt_direct  # noqa: E402
from backfill.errors import DbtProjectError, UnknownModel, WarehouseBusy  # noqa: E402


def _cheap_behavior_flag_source() -> None:
    """dbt-common names the module that declared each adapter behaviour flag with
    `inspect.stack()`, which reads the source lines of every frame; dbt declares
    the flags anew on every invocation (28 flags, 0.06 s per invocation, more than
    a small batch's SQL). Walking the frames' module names gives the same answer."""
    try:
        from dbt_common import behavior_flags
    except ImportError:  # another dbt-common: leave it as it is
        return
    if not hasattr(behavior_flags.BehaviorFlagRendered, "_default_source"):
        return

    def default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if name and name != behavior_flags.__name__:
                return name
            frame = frame.f_back
        return "Unknown"

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(default_source)


_cheap_behavior_flag_source()


@dataclass(frozen=True)
class ModelInfo:
    """What the runner needs to know about a model, read from the manifest."""

    unique_id: str
    name: str
    package_name: str
    fqn: tuple[str, ...]
    materialized: str
    incremental_strategy: Optional[str]
    relation_name: Optional[str]
    event_time: Optional[str]
    columns: tuple[str, ...]
    meta: dict = field(default_factory=dict)
    pre_hooks: tuple[str, ...] = ()
    unique_key: Optional[object] = None

    @property
    def selector(self) -> str:
        """A selector that matches this model and nothing else."""
        return "fqn:" + ".".join(self.fqn)

    @property
    def backfill_settings(self) -> dict:
        """The model's `meta: {backfill: {...}}` settings."""
        return dict(self.meta.get("backfill") or {})

    @property
    def rerun_behaviour(self) -> str:
        """What rerunning a window does to the rows already there:
        "replaced" (the delete_window pre-hook, or dbt's microbatch / insert_overwrite),
        "merged" (a unique_key: changed rows replaced, rows no longer produced stay),
        "appended" (nothing removes them: a rerun duplicates the window)."""
        if self.incremental_strategy in ("microbatch", "insert_overwrite") or any(
            "delete_window" in hook for hook in self.pre_hooks
        ):
            return "replaced"
        return "merged" if self.unique_key else "appended"

    @property
    def period_column(self) -> Optional[str]:
        """The column that says which period a row belongs to: `meta: {backfill:
        {period_column}}`, else the `event_time` config; None when it declares neither."""
        column = self.backfill_settings.get("period_column") or self.event_time
        return str(column) if column else None

    @property
    def window_var_names(self) -> tuple[str, str]:
        settings = self.backfill_settings
        return settings.get("start_var", "start_date"), settings.get("end_var", "end_date")


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot a model reads, and the column its versions begin at."""

    name: str
    package_name: str
    valid_from: str


@dataclass(frozen=True)
class TestRun:
    """The outcome of one data test of a `dbt test --store-failures`."""

    status: str  # pass, fail, warn, error (dbt's own), or "not run"
    failures: int
    message: str
    failures_relation: Optional[str]  # where dbt stored the failing rows


@dataclass(frozen=True)
class ModelRun:
    """The outcome of one `dbt run` of one model."""

    success: bool
    status: str
    message: str
    rows_affected: Optional[int]
    seconds: float


def default_profiles_dir(project_dir: Path) -> Optional[str]:
    """dbt's own order: DBT_PROFILES_DIR, then a profiles.yml beside the project, then ~/.dbt."""
    if os.environ.get("DBT_PROFILES_DIR"):
        return os.environ["DBT_PROFILES_DIR"]
    if (project_dir / "profiles.yml").exists():
        return str(project_dir)
    return None


class DbtProject:
    """A dbt project driven in-process, parsed once."""

    def __init__(
        self,
        project_dir: str | os.PathLike = ".",
        profiles_dir: str | os.PathLike | None = None,
        target: Optional[str] = None,
        vars: Optional[dict] = None,
    ):
        self.project_dir = Path(project_dir).resolve()
        if not (self.project_dir / "dbt_project.yml").exists():
            raise DbtProjectError(f"No dbt_project.yml in {self.project_dir}: pass --project-dir.")
        self.profiles_dir = str(profiles_dir) if profiles_dir else default_profiles_dir(self.project_dir)
        self.target = target
        self.vars = dict(vars or {})
        self._manifest = None
        self.direct_macro_calls = 0
        self.direct_writes = 0
        self.direct_model_runs = 0
        self.direct_queries = 0
        self.direct_test_runs = 0
        self._model_session: Optional[dbt_direct.ModelSession] = None
        self.last_failure: Optional[dbtRunnerResult] = None

    # -- invocation -------------------------------------------------------

    def _common_args(self, vars: Optional[dict] = None) -> list[str]:
        args = ["--project-dir", str(self.project_dir)]
        if self.profiles_dir:
            args += ["--profiles-dir", self.profiles_dir]
        if self.target:
            args += ["--target", self.target]
        merged = {**self.vars, **(vars or {})}
        if merged:
            args += ["--vars", json.dumps(merged, default=str)]
        return args

    def invoke(self, command: list[str], vars: Optional[dict] = None) -> dbtRunnerResult:
        """Run one dbt command on the parsed manifest, its console output silenced.

        Errors dbt only logs (run-operation's, for one) are kept on the result
        as `error_messages`, so failures can be explained in one sentence.
        """
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while True:
            errors: list[str] = []
            runner = dbtRunner(manifest=self.manifest, callbacks=[_error_collector(errors)])
            result = runner.invoke([*QUIET, *command, *self._common_args(vars)])
            result.error_messages = errors
            # A DuckDB file held for a moment by another process (`status` during a run):
            # nothing ran, so trying again shortly is safe.
            if result.success or time.monotonic() > deadline or not warehouse_busy(describe_failure(result)):
                return result
            self._forget_inline_queries()  # a failed `show --inline` leaves its node behind
            time.sleep(0.25)

    def run_operation(self, macro: str, args: dict) -> bool:
        """`dbt run-operation MACRO --args ARGS`; True when it succeeded.

        Small operations (creating the audit tables, a scratch table) skip the
        invocation: the adapter the last invocation set up is still registered,
        with this manifest as its macro resolver, so the macro is called on it
        directly, the way run-operation itself calls it (0.005 s instead of
        0.1 s). Without such an adapter, or when that call fails, it is a plain
        invocation, which waits for a busy DuckDB file and reports dbt's errors."""
        kwargs = json.loads(json.dumps(args, default=str))  # the values --args would carry
        if self._call_macro_directly(macro, kwargs)[0]:
            return True
        result = self.invoke(["run-operation", macro, "--args", json.dumps(kwargs)])
        self.last_failure = None if result.success else result
        return bool(result.success)

    def execute_statements(self, statements: list[str], macro: str) -> bool:
        """Run SQL statements in one committed transaction; True when they succeeded.

        On the adapter the last invocation set up when there is one (no invocation,
        no Jinja: the audit trail's one write per batch), else as `run-operation
        MACRO --args {statements: …}`, which also explains a failure (last_failure)."""
        adapter = dbt_direct.registered_adapter(self.manifest)
        if adapter is not None:
            try:
                dbt_direct.execute_statements(adapter, statements)
                self.direct_writes += 1
                return True
            except Exception:  # the invocation runs them again and explains a failure properly
                pass
        return self.run_operation(macro, {"statements": statements})

    def macro_value(self, macro: str, kwargs: dict) -> Any:
        """What a macro returns (a count, say), called on the adapter the last
        invocation set up, else rendered in a one-line query."""
        called, value = self._call_macro_directly(macro, kwargs)
        if called:
            return value
        return self.query(f"select {{{{ {macro}(**{kwargs!r}) }}}} as value")[0]["value"]

    def _call_macro_directly(self, macro: str, kwargs: dict) -> tuple[bool, Any]:
        """(True, what the macro returned) when it ran on the adapter the last
        invocation set up; (False, None) without one, or when the call failed."""
        adapter = dbt_direct.registered_adapter(self.manifest)
        if adapter is None:
            return False, None
        try:
            value = dbt_direct.call_macro(adapter, self.manifest, macro, kwargs)
        except Exception:  # the caller does it again with dbt, and explains a failure properly
            return False, None
        self.direct_macro_calls += 1
        return True, value

    # -- the project ------------------------------------------------------

    @property
    def manifest(self):
        if self._manifest is None:
            self.parse()
        return self._manifest

    def parse(self):
        """Parse the project (once); refuse with dbt's own reason when it cannot."""
        errors: list[str] = []
        result = dbtRunner(callbacks=[_error_collector(errors)]).invoke([*QUIET, "parse", *self._common_args()])
        result.error_messages = errors
        if not result.success or result.result is None:
            raise DbtProjectError(f"dbt could not parse the project: {describe_failure(result)}")
        self._manifest = result.result
        return self._manifest

    def model(self, name: str) -> ModelInfo:
        """The enabled model called `name` (or `package.name`); refuse anything else."""
        package, _, model_name = name.rpartition(".")
        matches = [
            node
            for node in self.manifest.nodes.values()
            if node.resource_type == "model"
            and node.name == model_name
            and (not package or node.package_name == package)
        ]
        if not matches:
            disabled = [
                node
                for nodes in self.manifest.disabled.values()
                for node in nodes
                if getattr(node, "name", None) == model_name and node.resource_type == "model"
            ]
            if disabled:
                raise UnknownModel(f"Model '{name}' is disabled in this project.")
            raise UnknownModel(f"No model named '{name}' in the dbt project at {self.project_dir}.")
        if len(matches) > 1:
            names = ", ".join(sorted(f"{n.package_name}.{n.name}" for n in matches))
            raise UnknownModel(f"Model name '{name}' is ambiguous ({names}): name the package too.")
        node = matches[0]
        config = node.config
        return ModelInfo(
            unique_id=node.unique_id,
            name=node.name,
            package_name=node.package_name,
            fqn=tuple(node.fqn),
            materialized=config.materialized,
            incremental_strategy=config.get("incremental_strategy"),
            relation_name=node.relation_name,
            event_time=config.get("event_time"),
            columns=tuple(node.columns),
            meta=dict(config.meta or node.meta or {}),
            pre_hooks=tuple(hook.sql for hook in config.pre_hook or ()),
            unique_key=config.get("unique_key"),
        )

    def snapshot_parents(self, model: ModelInfo) -> list[SnapshotInfo]:
        """The snapshots `model` refs directly, with their (possibly renamed) dbt_valid_from column."""
        node = self.manifest.nodes[model.unique_id]
        found = []
        for parent_id in node.depends_on.nodes or []:
            parent = self.manifest.nodes.get(parent_id)
            if parent is None or parent.resource_type != "snapshot":
                continue
            names = parent.config.get("snapshot_meta_column_names") or {}
            if not isinstance(names, dict):
                names = getattr(names, "to_dict", lambda: {})()
            found.append(SnapshotInfo(parent.name, parent.package_name, names.get("dbt_valid_from") or "dbt_valid_from"))
        return found

    # -- work -------------------------------------------------------------

    def run_model(self, model: ModelInfo, vars: Optional[dict] = None, extra_args: list[str] = ()) -> ModelRun:
        """`dbt run` of exactly this model with these vars.

        The first run of a model is a dbt invocation; later ones (same model, vars
        only) reuse what it set up, the way dbt runs microbatch batches (dbt_direct)."""
        started = time.monotonic()
        session = self._model_session
        if session is not None and session.unique_id == model.unique_id and not extra_args:
            node_result = session.run(self.manifest, vars or {})
            self.direct_model_runs += 1
            outcome = _model_run(node_result, _one_line(node_result.message or "") or "dbt reported a failure without a message.",
                                 time.monotonic() - started)
            if not outcome.success:  # a retry starts afresh, with a full invocation
                self.end_model_session()
            return outcome
        self.end_model_session()
        result = self.invoke(["run", "--select", model.selector, *extra_args], vars=vars)
        seconds = time.monotonic() - started
        node_results = list(getattr(result.result, "results", None) or [])
        if not node_results:
            return ModelRun(False, "error", describe_failure(result), None, seconds)
        if result.success and not extra_args and dbt_direct.enabled():
            self._model_session = dbt_direct.ModelSession.capture(model.unique_id, self.manifest, self.vars)
        return _model_run(node_results[0], describe_failure(result), seconds, result.success)

    def end_model_session(self) -> None:
        """The next run of a model is a full invocation again."""
        self.close_connections()
        self._model_session = None

    def close_connections(self) -> None:
        """Close the connection a model's batches kept open (the end of a run)."""
        if self._model_session is not None:
            self._model_session.close()

    def run_tests(self, nodes: list, vars: Optional[dict] = None, store_failures: bool = True) -> dict[str, TestRun]:
        """One `dbt test [--store-failures]` of exactly these test nodes; by unique_id.

        An invocation that ran none of them (a compilation error, say) raises."""
        by_id = self._run_tests_directly(nodes, vars) if not store_failures else None
        if by_id is None:
            selectors = ["fqn:" + ".".join(node.fqn) for node in nodes]
            store = ["--store-failures"] if store_failures else []
            outcome = self.invoke(["test", *store, "--select", *selectors], vars=vars)
            by_id = {result.node.unique_id: result for result in getattr(outcome.result, "results", None) or []}
            if not by_id:
                raise_failure(outcome, "dbt could not run the tests")
        runs = {}
        for node in nodes:
            result = by_id.get(node.unique_id)
            if result is None:
                runs[node.unique_id] = TestRun("not run", 0, "dbt did not run this test.", None)
                continue
            status = str(result.status)
            runs[node.unique_id] = TestRun(
                status=status,
                failures=int(result.failures or 0),
                message=_one_line(result.message or "") if status == "error" else "",
                failures_relation=getattr(result.node, "relation_name", None) if store_failures else None,
            )
        return runs

    def _direct_adapter(self):
        """The adapter to run a query or tests on without an invocation, or None."""
        return dbt_direct.registered_adapter(self.manifest) if dbt_direct.enabled() else None

    def _run_tests_directly(self, nodes: list, vars: Optional[dict]) -> Optional[dict]:
        """The tests' results without an invocation (dbt_direct), or None: no adapter
        to reuse, or a test that errored (the invocation runs them again and
        explains it the way dbt does)."""
        adapter = self._direct_adapter()
        if adapter is None or not nodes:
            return None
        try:
            by_id = dbt_direct.run_tests(adapter, self.manifest, nodes, {**self.vars, **(vars or {})})
        except Exception:
            return None
        if any(str(result.status) == "error" for result in by_id.values()):
            return None
        self.direct_test_runs += 1
        return by_id

    def query(self, sql: str, vars: Optional[dict] = None) -> list[dict[str, Any]]:
        """Run a select where the data is and return its rows (for small results:
        counts, gap ranges, audit rows; never a table's contents)."""
        adapter = self._direct_adapter()
        if adapter is not None:
            try:
                rows = dbt_direct.query(adapter, self.manifest, sql, {**self.vars, **(vars or {})})
                self.direct_queries += 1
                return rows
            except Exception:  # the invocation runs it again and explains a failure properly
                pass
        result = self.invoke(["show", "--inline", sql, "--limit", "-1"], vars=vars)
        node_results = list(getattr(result.result, "results", None) or [])
        if not result.success or not node_results:
            self._forget_inline_queries()
            raise_failure(result, "dbt could not run a query")
        table = node_results[0].agate_table
        return [dict(zip(table.column_names, row)) for row in table.rows]

    def relation_exists(self, relation: str) -> bool:
        """Whether a relation is in the warehouse; `relation` is Jinja that yields one:
        `ref('pkg', 'model')`, `backfill.audit_relation('backfill_runs')`."""
        rows = self.query(f"select {{{{ 1 if load_relation({relation}) is not none else 0 }}}} as present")
        return bool(int(rows[0]["present"]))

    @property
    def target_name(self) -> Optional[str]:
        """The target in use: --target, else the profile's own default."""
        if self.target:
            return self.target
        try:
            return self.credentials_and_target()[1]
        except Exception:  # an unreadable profile fails later, with dbt's own message
            return None

    def _forget_inline_queries(self) -> None:
        """dbt drops the node of `show --inline` from the manifest only when the
        query succeeds; a failed one would break every later query ("Error
        parsing inline query") on this manifest."""
        nodes = self.manifest.nodes
        for unique_id in [key for key in nodes if key.startswith("sql_operation.") and key.endswith(".inline_query")]:
            nodes.pop(unique_id, None)

    def credentials(self):
        """The connection settings of the selected target, rendered by dbt itself."""
        return self.credentials_and_target()[0]

    def credentials_and_target(self):
        """(credentials, target name) of the selected target, rendered by dbt itself."""
        from dbt.config.profile import Profile, read_profile
        from dbt.config.renderer import ProfileRenderer
        from dbt.config.project import load_raw_project
        from dbt_common.context import set_invocation_context

        set_invocation_context(os.environ)  # env_var() in profiles.yml reads it
        raw_project = load_raw_project(str(self.project_dir))
        profiles_dir = self.profiles_dir or str(Path.home() / ".dbt")
        raw_profiles = read_profile(profiles_dir)
        renderer = ProfileRenderer(self.vars)
        profile_name = renderer.render_value(raw_project.get("profile"))
        if profile_name not in raw_profiles:
            raise DbtProjectError(f"No profile '{profile_name}' in {profiles_dir}/profiles.yml.")
        target_name, profile_data = Profile.render_profile(
            raw_profiles[profile_name], profile_name, self.target, renderer
        )
        return Profile._credentials_from_profile(profile_data, profile_name, target_name), target_name


def _model_run(node_result, failure: str, seconds: float, invoked_ok: bool = True) -> ModelRun:
    status = str(node_result.status)
    success = invoked_ok and status == "success"
    rows = (node_result.adapter_response or {}).get("rows_affected")
    return ModelRun(
        success=success,
        status=status,
        message=(node_result.message or "") if success else failure,
        rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
        seconds=seconds,
    )


# How long an invocation waits for a DuckDB file another process holds.
BUSY_WAIT_SECONDS = float(os.environ.get("BACKFILL_BUSY_WAIT_SECONDS", "10"))

# Nothing on the console (the runner prints its own lines); dbt.log keeps the details.
# No run_results.json / manifest.json per invocation: writing them costs more than a
# small batch itself (measured: 0.34 s → 0.20 s per `dbt run`), and the audit trail
# is the record of a backfill.
# (--no-populate-cache would save another 0.02 s, but on DuckDB a model then
# missed rows its own non-transactional pre-hook had just written: not worth it.)
QUIET = ["--log-level", "none", "--log-level-file", "info", "--no-use-colors", "--no-write-json"]


def _error_collector(errors: list):
    def collect(event) -> None:
        if event.info.level == "error" and event.info.msg:
            errors.append(event.info.msg)

    return collect


def describe_failure(result: dbtRunnerResult) -> str:
    """One line from a failed dbt invocation: the node's message, the exception,
    or the error dbt logged."""
    logged = [m for m in getattr(result, "error_messages", []) if m.strip()]
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) in {"error", "fail", "runtime error"}:
            message = (node_result.message or "").strip()
            if message and message.upper() != "ERROR":
                return _one_line(message)
            if logged:  # microbatch batches report just "ERROR"; the log line has the reason
                return _one_line(max(logged, key=len))
    if result.exception is not None:
        return _one_line(str(result.exception))
    if logged:
        return _one_line(max(logged, key=len))
    return "dbt reported a failure without a message (see logs/dbt.log)."


def raise_failure(result: dbtRunnerResult, what: str):
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


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " ".join(lines)[:1000] if lines else str(text)
