"""A dbt project driven in-process: the only place that builds dbt command lines.

dbt runs in-process through `dbtRunner`. The project is parsed once per
`DbtProject`; every later invocation reuses that manifest, which saves the
parse (~0.5 s) per batch. Vars passed per invocation still reach `var()` in SQL
bodies, which are rendered at compile time; anything resolved at parse time
(configs, `enabled`, refs) keeps the values of the parse.

dbtRunner is not thread-safe (the adapter is global), so one process runs one
invocation at a time; parallel batches need separate processes.

What the rest of the runner gets back is its own small types (`ModelInfo`,
`TestInfo`, `ModelRun`, `TestResult`, rows as dicts), never dbt's objects.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

# dbt reads these when it is imported and when it starts: send nothing anywhere.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

from backfill.dbt.versions import refuse_unsupported_dbt  # noqa: E402

refuse_unsupported_dbt()  # before dbt is imported: dbt 2 or a missing dbt gets one sentence

from dbt.cli.main import dbtRunner  # noqa: E402

from backfill.dbt import fast_path, manifest as manifest_queries  # noqa: E402
from backfill.dbt.failures import (describe_failure, error_collector, one_line, raise_failure,  # noqa: E402
                                   warehouse_busy, yaml_failure)
from backfill.dbt.manifest import SnapshotInfo, TestInfo, selector  # noqa: E402
from backfill.dbt.profile import credentials_and_target, default_profiles_dir  # noqa: E402
from backfill.errors import DbtProjectError  # noqa: E402
from backfill.model import ModelInfo  # noqa: E402

fast_path.speed_up_invocations()


@dataclass(frozen=True)
class TestResult:
    """The outcome of one data test of a `dbt test [--store-failures]`."""

    __test__ = False  # a name pytest would otherwise collect

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


# How long an invocation waits for a DuckDB file another process holds.
BUSY_WAIT_SECONDS = float(os.environ.get("BACKFILL_BUSY_WAIT_SECONDS", "10"))

# Nothing on the console (the runner prints its own lines); dbt.log keeps the details.
# No run_results.json / manifest.json per invocation: writing them costs more than a
# small batch itself (measured: 0.34 s → 0.20 s per `dbt run`), and the audit trail
# is the record of a backfill.
# (--no-populate-cache would save another 0.02 s, but on DuckDB a model then
# missed rows its own non-transactional pre-hook had just written: not worth it.)
QUIET = ["--log-level", "none", "--log-level-file", "info", "--no-use-colors", "--no-write-json"]


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
        self._tests: Optional[list[TestInfo]] = None
        # How often the fast path served (tests read them to prove it ran).
        self.direct_writes = 0
        self.direct_model_runs = 0
        self.direct_queries = 0
        self.direct_test_runs = 0
        self._model_session: Optional[fast_path.ModelSession] = None
        self.last_failure = None

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

    def invoke(self, command: list[str], vars: Optional[dict] = None):
        """Run one dbt command on the parsed manifest, its console output silenced.

        Errors dbt only logs (run-operation's, for one) are kept on the result
        as `error_messages`, so failures can be explained in one sentence."""
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while True:
            errors: list[str] = []
            runner = dbtRunner(manifest=self.manifest, callbacks=[error_collector(errors)])
            result = runner.invoke([*QUIET, *command, *self._common_args(vars)])
            result.error_messages = errors
            # A DuckDB file held for a moment by another process (`status` during a run):
            # nothing ran, so trying again shortly is safe.
            if result.success or time.monotonic() > deadline or not warehouse_busy(describe_failure(result)):
                return result
            self._forget_inline_queries()  # a failed `show --inline` leaves its node behind
            time.sleep(0.25)

    def raise_last_failure(self, what: str):
        """Raise the one sentence for the last operation that failed (run_operation, execute_statements)."""
        raise_failure(self.last_failure, what)

    def last_failure_message(self) -> str:
        return describe_failure(self.last_failure) if self.last_failure is not None else ""

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

    def operation(self, macro: str, args: dict, failure: str) -> None:
        """`dbt run-operation` that must succeed: refused as `<failure>: <dbt's reason>` otherwise."""
        result = self.invoke(["run-operation", macro, "--args", json.dumps(args, default=str)])
        if not result.success:
            raise DbtProjectError(f"{failure}: {describe_failure(result)}")

    def execute_statements(self, statements: list[str], macro: str) -> bool:
        """Run SQL statements in one committed transaction; True when they succeeded.

        On the adapter the last invocation set up when there is one (no invocation,
        no Jinja: the audit trail's one write per batch), else as `run-operation
        MACRO --args {statements: …}`, which also explains a failure (last_failure)."""
        adapter = fast_path.registered_adapter(self.manifest)
        if adapter is not None:
            try:
                fast_path.execute_statements(adapter, statements)
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
        adapter = fast_path.registered_adapter(self.manifest)
        if adapter is None:
            return False, None
        try:
            value = fast_path.call_macro(adapter, self.manifest, macro, kwargs)
        except Exception:  # the caller does it again with dbt, and explains a failure properly
            return False, None
        return True, value

    # -- the project ------------------------------------------------------

    @property
    def manifest(self):
        """dbt's parsed manifest (for this package's dbt layer; everything else asks the methods below)."""
        if self._manifest is None:
            self.parse()
        return self._manifest

    def parse(self):
        """Parse the project (once); refuse with dbt's own reason when it cannot."""
        errors: list[str] = []
        result = dbtRunner(callbacks=[error_collector(errors)]).invoke([*QUIET, "parse", *self._common_args()])
        result.error_messages = errors
        if not result.success or result.result is None:
            broken_yaml = yaml_failure(str(result.exception or ""), self.project_dir)
            raise DbtProjectError(broken_yaml or f"dbt could not parse the project: {describe_failure(result)}")
        self._manifest = result.result
        self._tests = None
        return self._manifest

    def model(self, name: str) -> ModelInfo:
        """The enabled model called `name` (or `package.name`); refuse anything else."""
        return manifest_queries.find_model(self.manifest, name, self.project_dir)

    def tests(self) -> list[TestInfo]:
        """Every enabled data test of the project."""
        if self._tests is None:
            self._tests = manifest_queries.tests(self.manifest)
        return self._tests

    def disabled_tests(self) -> list[TestInfo]:
        return manifest_queries.disabled_tests(self.manifest)

    def resource_names(self) -> set[tuple[str, str]]:
        return manifest_queries.resource_names(self.manifest)

    def source_names(self) -> set[tuple[str, str]]:
        return manifest_queries.source_names(self.manifest)

    def snapshot_parents(self, model: ModelInfo) -> list[SnapshotInfo]:
        return manifest_queries.snapshot_parents(self.manifest, model)

    def select_tests(self, select: list[str]) -> set[str]:
        """The unique_ids of the tests a dbt selection names (`dbt ls`); refused when it is not one."""
        return set(self._selected("test", select))

    def select_models(self, select: list[str], exclude: Optional[list[str]] = None) -> list[ModelInfo]:
        """The models a dbt selection names, `--exclude` taken out, resolved by dbt itself
        (`dbt ls`: graph operators, tags, paths, state); refused when it is not a selection."""
        return manifest_queries.models_by_id(self.manifest, self._selected("model", select, exclude))

    def upstream_models(self, model: ModelInfo, among: list[ModelInfo]) -> list[str]:
        """The names of the models of `among` that `model` is built from, directly or through
        models not among them (views, ephemerals, models left out)."""
        names = {info.unique_id: info.name for info in among}
        return [names[uid] for uid in manifest_queries.nearest_upstream(self.manifest, model.unique_id, set(names))]

    def _selected(self, resource_type: str, select: list[str], exclude: Optional[list[str]] = None) -> list[str]:
        """The unique_ids `dbt ls` lists for a selection, in its order."""
        from backfill.errors import InvalidInput

        excluded = ["--exclude", *exclude] if exclude else []
        listed = self.invoke(["ls", "--resource-type", resource_type, "--output", "json", "--output-keys",
                              "unique_id", "--select", *select, *excluded])
        if not listed.success:
            given = " ".join(select) + (f" --exclude {' '.join(exclude)}" if exclude else "")
            raise InvalidInput(f"--select {given} is not a valid dbt selection: {describe_failure(listed)}")
        chosen = []
        for line in listed.result or []:
            try:
                chosen.append(json.loads(line)["unique_id"])
            except (ValueError, KeyError, TypeError):
                chosen.append(str(line))
        return list(dict.fromkeys(chosen))

    # -- work -------------------------------------------------------------

    def run_model(self, model: ModelInfo, vars: Optional[dict] = None,
                  event_time: Optional[tuple[str, str]] = None) -> ModelRun:
        """`dbt run` of exactly this model with these vars (and for a microbatch model, the
        batch's `event_time` bounds: `--event-time-start` / `--event-time-end`).

        The first run of a model is a dbt invocation; later ones (same model, vars
        only) reuse what it set up, the way dbt runs microbatch batches (fast_path)."""
        started = time.monotonic()
        extra_args = ["--event-time-start", event_time[0], "--event-time-end", event_time[1]] if event_time else []
        session = self._model_session
        if session is not None and session.unique_id == model.unique_id and not extra_args:
            node_result = session.run(self.manifest, vars or {})
            self.direct_model_runs += 1
            outcome = _model_run(node_result, one_line(node_result.message or "")
                                 or "dbt reported a failure without a message.", time.monotonic() - started)
            if not outcome.success:  # a retry starts afresh, with a full invocation
                self.end_model_session()
            return outcome
        self.end_model_session()
        result = self.invoke(["run", "--select", selector(model.fqn), *extra_args], vars=vars)
        seconds = time.monotonic() - started
        node_results = list(getattr(result.result, "results", None) or [])
        if not node_results:
            return ModelRun(False, "error", describe_failure(result), None, seconds)
        if result.success and not extra_args and fast_path.enabled():
            self._model_session = fast_path.ModelSession.capture(model.unique_id, self.manifest, self.vars)
        return _model_run(node_results[0], describe_failure(result), seconds, result.success)

    def end_model_session(self) -> None:
        """The next run of a model is a full invocation again."""
        self.close_connections()
        self._model_session = None

    def close_connections(self) -> None:
        """Close the connection a model's batches kept open (the end of a run), and
        forget the columns its checks read (`columns_read_once`: once per run)."""
        if self._model_session is not None:
            self._model_session.close()
        adapter = fast_path.registered_adapter(self._manifest) if self._manifest is not None else None
        if adapter is not None:
            fast_path.forget_columns(adapter)

    def run_tests(self, tests: list[TestInfo], vars: Optional[dict] = None,
                  store_failures: bool = True) -> dict[str, TestResult]:
        """One `dbt test [--store-failures]` of exactly these tests; by unique_id.

        An invocation that ran none of them (a compilation error, say) raises."""
        by_id = self._run_tests_directly(tests, vars) if not store_failures else None
        if by_id is None:
            store = ["--store-failures"] if store_failures else []
            outcome = self.invoke(["test", *store, "--select", *(selector(test.fqn) for test in tests)], vars=vars)
            by_id = {result.node.unique_id: result for result in getattr(outcome.result, "results", None) or []}
            if not by_id:
                raise_failure(outcome, "dbt could not run the tests")
        results = {}
        for test in tests:
            result = by_id.get(test.unique_id)
            if result is None:
                results[test.unique_id] = TestResult("not run", 0, "dbt did not run this test.", None)
                continue
            status = str(result.status)
            results[test.unique_id] = TestResult(
                status=status,
                failures=int(result.failures or 0),
                message=one_line(result.message or "") if status == "error" else "",
                failures_relation=getattr(result.node, "relation_name", None) if store_failures else None,
            )
        return results

    def _direct_adapter(self):
        """The adapter to run a query or tests on without an invocation, or None."""
        return fast_path.registered_adapter(self.manifest) if fast_path.enabled() else None

    def _run_tests_directly(self, tests: list[TestInfo], vars: Optional[dict]) -> Optional[dict]:
        """The tests' results without an invocation (fast_path), or None: no adapter
        to reuse, or a test that errored (the invocation runs them again and
        explains it the way dbt does)."""
        adapter = self._direct_adapter()
        if adapter is None or not tests:
            return None
        try:
            nodes = [self.manifest.nodes[test.unique_id] for test in tests]
            by_id = fast_path.run_tests(adapter, self.manifest, nodes, {**self.vars, **(vars or {})})
        except Exception:
            return None
        if any(str(result.status) == "error" for result in by_id.values()):
            return None
        self.direct_test_runs += 1
        return by_id

    @contextmanager
    def columns_read_once(self, written: Optional[ModelInfo] = None):
        """While in it, queries and tests on the fast path read a relation's columns
        once per run, except `written`'s table, read afresh (fast_path.columns_read_once)."""
        adapter = self._direct_adapter()
        if adapter is None:
            yield
            return
        identifier = _identifier_of(written.relation_name) if written is not None and written.relation_name else None
        with fast_path.columns_read_once(adapter, identifier):
            yield

    def compile_tests(self, tests: list[TestInfo], vars: Optional[dict] = None) -> dict[str, str]:
        """Each test's SQL compiled now with these vars, by unique_id (those dbt could compile)."""
        if not tests:
            return {}
        outcome = self.invoke(["compile", "--select", *(selector(test.fqn) for test in tests)], vars=vars)
        return {result.node.unique_id: result.node.compiled_code
                for result in getattr(outcome.result, "results", None) or []
                if getattr(result.node, "compiled_code", None)}

    def compile_model(self, model: ModelInfo, vars: Optional[dict] = None) -> str:
        """The SQL a `dbt run` of the model would run with these vars; refused when it does not compile."""
        result = self.invoke(["compile", "--select", selector(model.fqn)], vars=vars)
        nodes = [r.node for r in (getattr(result.result, "results", None) or []) if r.node.unique_id == model.unique_id]
        if not result.success or not nodes or not getattr(nodes[0], "compiled_code", None):
            raise DbtProjectError(f"dbt could not compile {model.name} for the window: {describe_failure(result)}")
        return nodes[0].compiled_code

    def query(self, sql: str, vars: Optional[dict] = None) -> list[dict[str, Any]]:
        """Run a select where the data is and return its rows (for small results:
        counts, gap ranges, audit rows; never a table's contents)."""
        adapter = self._direct_adapter()
        if adapter is not None:
            try:
                rows = fast_path.query(adapter, self.manifest, sql, {**self.vars, **(vars or {})})
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

    def _forget_inline_queries(self) -> None:
        """dbt drops the node of `show --inline` from the manifest only when the
        query succeeds; a failed one would break every later query ("Error
        parsing inline query") on this manifest."""
        nodes = self.manifest.nodes
        for unique_id in [key for key in nodes if key.startswith("sql_operation.") and key.endswith(".inline_query")]:
            nodes.pop(unique_id, None)

    # -- the target -------------------------------------------------------

    @property
    def target_name(self) -> Optional[str]:
        """The target in use: --target, else the profile's own default."""
        if self.target:
            return self.target
        try:
            return self.credentials_and_target()[1]
        except Exception:  # an unreadable profile fails later, with dbt's own message
            return None

    @property
    def adapter_type(self) -> str:
        """The warehouse the target is (`duckdb`, `postgres`, ...)."""
        return self.credentials().type

    def credentials(self):
        """The connection settings of the selected target, rendered by dbt itself."""
        return self.credentials_and_target()[0]

    def credentials_and_target(self):
        """(credentials, target name) of the selected target, rendered by dbt itself."""
        return credentials_and_target(self.project_dir, self.profiles_dir, self.target, self.vars)


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


def _identifier_of(relation_name: str) -> str:
    """The last part of a rendered relation name: `"db"."main"."orders"` -> `orders`."""
    return relation_name.rsplit(".", 1)[-1].strip().strip('"`[]')
