"""Later batches of a model without a new dbt invocation (part of the dbt layer;
only `project.py` uses it).

A `dbt run` invocation spends ~0.1 s before and after the model's SQL: flags, event
logging, a fresh adapter, the relation cache, the selection, the thread pool,
on-run hooks. dbt's own microbatch strategy pays that once and then runs each batch
through a model runner on the same adapter; this does the same for a backfill's
batches. The first batch of a model runs as a full `dbt run`; what it set up (its
adapter, its flags) is kept, and each later batch compiles the model with its
window's vars and runs the model's materialization through dbt's `ModelRunner` on
that adapter: the same pre-hooks, materialization, post-hooks and relation cache a
`dbt run` uses, minus the invocation around them.

Projects with on-run-start / on-run-end hooks keep one invocation per batch, so
those hooks run per batch as they always did; `BACKFILL_INVOCATION_PER_BATCH=1`
does that for any project, and so does a dbt whose versions the fast path was
not tested on, or one missing an internal it needs (`versions.py`): it says so
once in the debug log (`--debug`) and every batch is a full invocation.

On PostgreSQL the session also keeps its connection from one batch to the next
(`keep_connection`): dbt closes a node's connection when the node ends, and a
new connection costs a connect plus a cold catalog cache (the materialization's
column lookups take ~5 ms instead of ~2 ms). What a new connection would reset
is reset instead: an open transaction is rolled back, as dbt's close does, and
the session's temporary tables (dbt's `__dbt_tmp` relations) are discarded
after each batch.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from backfill.dbt.versions import fast_path_off_because

log = logging.getLogger("backfill")

# What the fast path reaches into, besides dbtRunner: if one is gone, the path stays off.
_INTERNALS = [
    ("dbt.task.run", "ModelRunner"),
    ("dbt.task.test", "TestRunner"),
    ("dbt.parser.sql", "SqlBlockParser"),
    ("dbt.parser.manifest", "process_node"),
    ("dbt.compilation", "Compiler"),
    ("dbt.context.providers", "generate_runtime_model_context"),
    ("dbt.clients.jinja", "get_template"),
    ("dbt.clients.jinja", "render_template"),
    ("dbt.adapters.factory", "FACTORY"),
    ("dbt.flags", "get_flags"),
    ("dbt.flags", "set_flags"),
    ("dbt_common.clients.jinja", "CallableMacroGenerator"),
]


def enabled() -> bool:
    """Whether batches after a model's first may skip the invocation: not switched off,
    and a dbt the fast path was tested on with every internal it uses in place."""
    if os.environ.get("BACKFILL_INVOCATION_PER_BATCH", "").lower() in ("1", "true", "yes"):
        return False
    return _off_because() is None


@lru_cache(maxsize=None)
def _off_because() -> Optional[str]:
    """Why the fast path is off on this dbt (said once in the debug log), or None."""
    reason = fast_path_off_because() or missing_internal(_INTERNALS)
    if reason:
        log.debug("The in-process fast path is off: %s; every batch is a full dbt invocation.", reason)
    return reason


def missing_internal(internals: list[tuple[str, str]]) -> Optional[str]:
    """The first of dbt's `(module, name)` internals that is not there, as a sentence, or None."""
    import importlib

    for module, name in internals:
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            return f"dbt's {module}.{name}, which it uses, is not there"
    return None


def speed_up_invocations() -> None:
    """dbt-common names the module that declared each adapter behaviour flag with
    `inspect.stack()`, which reads the source lines of every frame; dbt declares
    the flags anew on every invocation (28 flags, 0.06 s per invocation, more than
    a small batch's SQL). Walking the frames' module names gives the same answer.
    Only on the dbt-common versions the fast path was tested on."""
    if fast_path_off_because() is not None:
        return
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
    _compile_templates_once()


# How many compiled Jinja sources `_compile_templates_once` keeps (a run uses a few dozen).
_KEPT_TEMPLATES = 2048


def _compile_templates_once() -> None:
    """dbt compiles the Jinja of every string it renders anew each time: a model's SQL,
    a hook, a test's SQL and each of its arguments, a check's query; get_environment
    makes a new environment for each, and Jinja keeps templates only by a loader's
    name. That is ~2.5 ms a template, a dozen a verified batch, the same sources every
    window. The compiled code depends only on the source and the environment's class
    and extensions (the rest of what get_environment sets, `undefined`, is read when the
    template runs), so it is kept by those; each template still gets its own
    environment and globals. Not while dbt's MACRO_DEBUGGING writes sources out."""
    from dbt_common.clients import jinja as dbt_jinja

    environment = dbt_jinja.MacroFuzzEnvironment
    if getattr(environment.compile, "kept_by_backfill", False):
        return
    compile_anew = environment.compile
    kept: dict = {}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str) or name or filename or raw or defer_init or dbt_jinja.MACRO_DEBUGGING:
            return compile_anew(self, source, name, filename, raw, defer_init)
        key = (type(self), tuple(sorted(self.extensions)), source)
        code = kept.get(key)
        if code is None:
            if len(kept) >= _KEPT_TEMPLATES:
                kept.clear()
            code = kept[key] = compile_anew(self, source)
        return code

    compile.kept_by_backfill = True
    environment.compile = compile


@dataclass
class ModelSession:
    """What a finished `dbt run` of a model set up, kept for its later batches."""

    unique_id: str
    adapter: Any
    flags: Any
    base_vars: dict  # the project's --vars; each batch adds its window to them

    @classmethod
    def capture(cls, unique_id: str, manifest, base_vars: dict) -> Optional["ModelSession"]:
        """The session the `dbt run` that just finished left, if it can be reused."""
        from dbt.flags import get_flags

        from backfill.dbt.manifest import has_run_hooks

        adapter = registered_adapter(manifest)
        if adapter is None or has_run_hooks(manifest):
            return None
        return cls(unique_id, adapter, get_flags(), dict(base_vars))

    def run(self, manifest, vars: dict):
        """Compile and materialise the model with these vars; dbt's RunResult.

        The adapter goes back in dbt's registry first: the Jinja context's `adapter`
        is looked up there, and a verification invocation in between registered its
        own (and closed this one's connections, which reopen on demand)."""
        from dbt.adapters.factory import FACTORY
        from dbt.flags import set_flags
        from dbt.task.run import ModelRunner

        set_flags(self.flags)
        FACTORY.adapters.clear()
        FACTORY.adapters[self.adapter.type()] = self.adapter
        self.adapter.config.cli_vars = {**self.base_vars, **vars}
        node = manifest.nodes[self.unique_id]
        runner = ModelRunner(self.adapter.config, self.adapter, node, 1, 1)
        kept = keep_connection(self.adapter)
        try:
            return runner.safe_run(manifest)
        finally:
            if kept:
                _discard_temporary_tables(self.adapter)
            else:
                self.adapter.cleanup_connections()

    def close(self) -> None:
        """Close the connection kept open for the batches (the end of a run); the
        session stays usable, and its next batch keeps a new one."""
        close_connection(self.adapter)


def registered_adapter(manifest):
    """The adapter an earlier invocation on this manifest left registered, else None."""
    from dbt.adapters.factory import FACTORY

    adapters = list(FACTORY.adapters.values())
    if len(adapters) == 1 and getattr(adapters[0], "_macro_resolver", None) is manifest:
        return adapters[0]
    return None


# How many queries `query` keeps prepared; past that it starts again (a query whose
# text holds a window, such as a failing check's own SQL, is sent once or twice).
_KEPT_QUERIES = 64


def query(adapter, manifest, sql: str, cli_vars: dict) -> list[dict]:
    """A select (Jinja allowed) compiled and run on `adapter`, as `dbt show --inline`
    does it, minus the invocation (0.005 s instead of 0.1 s for a check's count).
    Raises whatever dbt raises; the caller falls back to an invocation.

    A SQL text sent again is not parsed again (`_PreparedQuery`): a batch's checks send
    the same query for every window, with other vars. It is prepared the second time
    it is seen, so a query sent once costs nothing more."""
    config = adapter.config
    config.cli_vars = dict(cli_vars)
    prepared_queries = adapter.__dict__.setdefault("_backfill_prepared_queries", {})
    seen = sql in prepared_queries
    prepared = prepared_queries.get(sql)
    try:
        # compiling may query the warehouse too (a macro's run_query, load_relation)
        with adapter.connection_named("backfill_query"):
            if prepared is None:
                compiled_sql, prepared = _compile_query(config, manifest, sql, prepare=seen)
                if len(prepared_queries) >= _KEPT_QUERIES:
                    prepared_queries.clear()
                prepared_queries[sql] = prepared
            else:
                try:
                    compiled_sql = prepared.render(config)
                except Exception:  # parsed with other vars (a ref they named): parse it afresh next time
                    prepared_queries.pop(sql, None)
                    raise
            _, table = adapter.execute(compiled_sql, fetch=True)
    finally:
        _done(adapter)
    return [dict(zip(table.column_names, row)) for row in table.rows]


def _compile_query(config, manifest, sql: str, prepare: bool) -> tuple[str, Optional["_PreparedQuery"]]:
    """The query parsed and compiled as `dbt show --inline` does; with `prepare`, what
    renders it again without a parse, unless it needs more than a render (an ephemeral
    model's CTEs)."""
    from dbt.compilation import Compiler
    from dbt.parser.manifest import process_node
    from dbt.parser.sql import SqlBlockParser

    node = SqlBlockParser(project=config, manifest=manifest, root_project=config).parse_remote(sql, "backfill_query")
    try:
        process_node(config, manifest, node)
        compiled = Compiler(config).compile_node(node, manifest, {}, write=False)
    finally:
        manifest.nodes.pop(node.unique_id, None)
    prepared = _PreparedQuery.of(node, config, manifest) if prepare and not compiled.extra_ctes else None
    return compiled.compiled_code, prepared


@dataclass
class _PreparedQuery:
    """A query's parsed node, its Jinja compiled and the context dbt renders it in,
    kept to render it again with other vars: a parse (~20 ms), a context (~2 ms)
    and a template (~5 ms) less per call.

    What dbt fixes at parse time stays right: the refs a render calls are checked
    against the node's (dbt's RefBadContextError, and the query is parsed afresh);
    `var()` reads the vars of each call, through a Var made for it."""

    node: Any
    context: dict
    template: Any

    @classmethod
    def of(cls, node, config, manifest) -> "_PreparedQuery":
        from dbt.clients.jinja import get_template
        from dbt.context.providers import generate_runtime_model_context

        context = generate_runtime_model_context(node, config, manifest)
        return cls(node, context, get_template(node.raw_code, context, node))

    def render(self, config) -> str:
        from dbt.clients.jinja import render_template

        # the context's Var read config.cli_vars when it was made: one for this call's vars
        self.context["var"] = type(self.context["var"])(self.context, config, self.node)
        return render_template(self.template, self.context, self.node)


def run_tests(adapter, manifest, nodes: list, cli_vars: dict) -> dict:
    """Data tests compiled and run on `adapter` through dbt's TestRunner, as
    `dbt test --select …` runs them, minus the invocation; RunResults by unique_id."""
    from dbt.task.test import TestRunner

    adapter.config.cli_vars = dict(cli_vars)
    results = {}
    try:
        for position, node in enumerate(nodes, start=1):
            runner = TestRunner(adapter.config, adapter, manifest.nodes[node.unique_id], position, len(nodes))
            results[node.unique_id] = runner.safe_run(manifest)
    finally:
        _done(adapter)
    return results


def call_macro(adapter, manifest, macro: str, kwargs: dict) -> Any:
    """Call `package.macro` on `adapter` the way run-operation does, minus the
    invocation; what the macro returns.

    The macro's context (every macro of the project, ~3 ms to build) is built once per
    adapter and macro and kept: the audit trail calls the same macro once a batch."""
    from dbt_common.clients.jinja import CallableMacroGenerator

    package, _, name = macro.rpartition(".")
    cache = adapter.__dict__.setdefault("_backfill_macro_calls", {})
    function = cache.get(macro)
    if function is None:
        found = manifest.find_macro_by_name(name, adapter.config.project_name, package or None)
        if found is None:
            raise LookupError(f"No macro {macro}")
        context = adapter._macro_context_generator(found, adapter.config, manifest, package or None)
        function = cache[macro] = CallableMacroGenerator(found, context)
    try:
        # run-operation begins and commits an empty transaction here first
        # (clear_transaction): a round trip or two that changes nothing
        with adapter.connection_named(f"macro_{name}"):
            with adapter.connections.exception_handler(f"macro {name}"):
                return function(**kwargs)
    finally:
        _done(adapter)


@contextmanager
def columns_read_once(adapter, rewritten: Optional[str]):
    """While in it, the columns of a relation are read from the warehouse once per run
    (until `forget_columns`): a catalog query each, ~6 ms on DuckDB, that a batch's
    checks make for the model's table and each compared relation, window after window.
    Except the relation named `rewritten` (its identifier), whose earlier reading is dropped:
    the batch just wrote it, and a model run may change its columns. Only the
    checks go through it, never a model run (its materialization compares columns)."""
    kept = adapter.__dict__.setdefault("_backfill_columns", {})
    if rewritten:
        for key in [key for key, (identifier, _) in kept.items() if identifier == rewritten.lower()]:
            del kept[key]
    read = adapter.get_columns_in_relation

    def get_columns_in_relation(relation):
        identifier = getattr(relation, "identifier", None)
        if not isinstance(identifier, str):
            return read(relation)
        key = str(relation)
        if key not in kept:
            kept[key] = (identifier.lower(), read(relation))
        return list(kept[key][1])

    adapter.get_columns_in_relation = get_columns_in_relation  # this instance only, as keep_connection does
    try:
        yield
    finally:
        vars(adapter).pop("get_columns_in_relation", None)


def forget_columns(adapter) -> None:
    """What `columns_read_once` kept on this adapter is read again next time (a new run)."""
    vars(adapter).pop("_backfill_columns", None)


def execute_statements(adapter, statements: list[str]) -> None:
    """Statements run in one transaction and committed, as `run-operation
    backfill.audit_write` runs them, minus the invocation and the Jinja.

    On PostgreSQL and DuckDB, whose drivers take several statements in one call,
    they go out in one round trip: the audit trail's write between two batches
    costs that and a commit. Elsewhere they go through dbt one by one."""
    try:
        with adapter.connection_named("backfill_write"):
            connection = adapter.connections.get_thread_connection()
            if adapter.type() in ("postgres", "duckdb") and not connection.transaction_open:
                _execute_at_once(adapter.type(), connection.handle, statements)
                return
            with adapter.connections.exception_handler("backfill_write"):
                for sql in statements:
                    adapter.execute(sql, auto_begin=True)
                adapter.connections.commit()
    finally:
        _done(adapter)


def _execute_at_once(kind: str, handle, statements: list[str]) -> None:
    script = ";\n".join(statements)
    if kind == "duckdb":  # its cursor runs them all; the transaction is explicit
        cursor = handle.cursor()
        try:
            cursor.execute(f"begin transaction;\n{script};\ncommit")
        except Exception:
            _quietly(cursor.execute, "rollback")
            raise
        return
    try:  # psycopg2 opens the transaction itself, unless the profile asks for autocommit
        with handle.cursor() as cursor:
            cursor.execute(script)
        if not handle.autocommit:
            handle.commit()
    except Exception:
        if not handle.autocommit:
            _quietly(handle.rollback)
        raise


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except Exception:  # cleaning up after a failure must not hide the failure
        pass


# -- one connection for a whole run (PostgreSQL) ----------------------------------


def keep_connection(adapter) -> bool:
    """From now on, ending a node or call leaves the adapter's connection open.

    dbt ends each node with `connections.release()`, which closes the connection
    (rolling back an open transaction first). Here release only rolls back, on this
    adapter instance alone; `close_connection` restores dbt's release. PostgreSQL
    only: it is where connecting costs most and where resetting a session is one
    statement (DISCARD TEMP)."""
    if adapter.type() != "postgres":
        return False
    manager = adapter.connections
    if "release" in vars(manager):
        return True

    def release() -> None:
        connection = manager.get_if_exists()
        if connection is None or connection.state != "open" or not connection.transaction_open:
            return
        try:
            manager._rollback(connection)  # uncommitted work is undone, as dbt's close does
        except Exception:
            _quietly(manager.close, connection)  # a broken connection: the next use opens a new one
            raise

    manager.release = release
    return True


def is_kept(adapter) -> bool:
    return "release" in vars(adapter.connections)


def close_connection(adapter) -> None:
    vars(adapter.connections).pop("release", None)
    adapter.cleanup_connections()


def _done(adapter) -> None:
    """After a query, test or write: close the connection, unless the run keeps it."""
    if not is_kept(adapter):
        adapter.cleanup_connections()


def _discard_temporary_tables(adapter) -> None:
    """What the end of a connection would drop: the batch's temporary tables (dbt's
    incremental materialization leaves its temp relation to the session's end)."""
    connection = adapter.connections.get_if_exists()
    if connection is None or connection.state != "open":
        return
    try:
        handle = connection.handle
        with handle.cursor() as cursor:
            cursor.execute("discard temp")
        if not handle.autocommit:
            handle.commit()
    except Exception:  # a broken connection: drop it, the next batch opens a new one
        close_connection(adapter)
        keep_connection(adapter)
