"""SQL that comes from the command line, checked before it reaches the warehouse.

Two kinds of option take SQL text, and neither may carry anything else:

- a **filter** (`gaps --where`) is SQL by design, as dbt's `where` config is, but it
  is ONE boolean expression: parsed with sqlglot in the target's dialect (generic
  for a warehouse sqlglot has no dialect for), it is refused when it is not exactly
  one expression — a `;`, a statement (DDL, DML, COMMIT, SET ...), a comment, a
  subquery that is not a plain select (`for update`, `select into`, a data-modifying
  CTE), Jinja — and when it calls a function sqlglot does not know as a standard
  one (it parses those into `exp.Anonymous`: `setval`, `nextval`, `pg_sleep`,
  `lo_import`, `dblink`, `pg_terminate_backend`, a user's own function), or one of
  the few it knows that read files, draw on a sequence or call a model. A filter
  with such a function belongs in the model's YAML (a test's `where:` config),
  which the project's author controls. What passes is handed on in parentheses.
- a **column** (`gaps --column`, `--partition-by`) is a column name on the command
  line: a plain name matched against the relation's real columns ignoring case, or
  a quoted name matched exactly (the package's one identifier rule, see
  macros/shared/column_identifiers.sql). Expressions stay available in the macros'
  arguments, in YAML.

Pure: no click, no dbt; refusals are `InvalidInput`, one sentence each.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from backfill.errors import InvalidInput
from backfill.model import PLAIN_NAME, matched_column

__all__ = ["checked_column", "checked_filter", "dialect_of", "filter_problem"]

# The adapter types whose SQL sqlglot reads in a dialect of its own; any other is parsed generically.
_DIALECTS = {"postgres": "postgres", "redshift": "redshift", "duckdb": "duckdb", "snowflake": "snowflake",
             "bigquery": "bigquery", "spark": "spark", "databricks": "databricks", "trino": "trino",
             "athena": "athena", "clickhouse": "clickhouse", "mysql": "mysql", "sqlite": "sqlite",
             "oracle": "oracle", "tsql": "tsql", "sqlserver": "tsql", "fabric": "fabric", "teradata": "teradata"}

_QUOTED_NAME = re.compile(r'^(?:"(?:[^"]|"")+"|`[^`]+`)$')

# Functions sqlglot knows as typed nodes that are no plain scalar function all the same: reading
# files or URLs, drawing from a sequence, calling a model (paid for, slow).
_UNSAFE_KNOWN_FUNCTIONS = {
    "ReadCSV": "reads files", "ReadParquet": "reads files", "ReadJSON": "reads files", "ToFile": "reads files",
    "NextValueFor": "draws from a sequence", "AIGenerate": "calls a model", "GenerateEmbedding": "calls a model",
    "GenerateText": "calls a model", "GenerateTable": "calls a model", "Predict": "calls a model",
}

# Statements, wherever sqlglot finds them (a CTE's body, a subquery), by the names sqlglot gives them;
# those an older sqlglot lacks are skipped.
_STATEMENT_NAMES = ("DDL", "DML", "Create", "Drop", "Alter", "AlterTable", "Insert", "Update", "Delete", "Merge",
                    "Copy", "Command", "Commit", "Rollback", "Transaction", "Set", "Use", "Pragma", "Describe",
                    "Show", "Grant", "Revoke", "Analyze", "Kill", "Refresh", "Cache", "Uncache", "LoadData",
                    "Attach", "Detach", "Install", "Summarize", "Declare", "Execute", "Call", "Export", "Into",
                    "Lock", "TruncateTable", "Comment", "Vacuum")


def dialect_of(adapter_type: Optional[str]) -> Optional[str]:
    """The sqlglot dialect of a dbt adapter type (`postgres`, `duckdb`, ...), or None: generic SQL."""
    return _DIALECTS.get(str(adapter_type or "").lower())


def checked_filter(option: str, text: Optional[str], adapter_type: Optional[str] = None) -> Optional[str]:
    """`text` as the one boolean expression a filter option may be, in parentheses (None when
    no filter is given); refused in one sentence naming the option otherwise."""
    if text is None or not str(text).strip():
        return None
    problem = filter_problem(str(text), dialect_of(adapter_type))
    if problem:
        raise InvalidInput(f"{option} {problem}.")
    return f"({str(text).strip()})"


def filter_problem(text: str, dialect: Optional[str] = None) -> Optional[str]:
    """Why `text` is not one boolean expression a command-line filter may be (completing the
    sentence `--where ...`), or None when it is."""
    import sqlglot
    from sqlglot import exp, tokens
    from sqlglot.errors import SqlglotError

    if "{{" in text or "{%" in text or "{#" in text:
        return "must not contain Jinja ({{ }}, {% %}): put a filter that needs it in the model's YAML (a test's where: config)"
    try:
        found = sqlglot.tokenize(text, read=dialect)
    except SqlglotError:
        return f"is not a SQL expression (sqlglot cannot read {text!r})"
    if any(token.token_type == tokens.TokenType.SEMICOLON for token in found):
        return "must be one SQL expression, without ';'"
    if any(token.comments for token in found):
        return "has a comment (-- or /* */): give the expression alone"
    try:
        trees = [tree for tree in sqlglot.parse(text, read=dialect) if tree is not None]
    except SqlglotError:
        return f"is not a SQL expression: {text!r}"
    if len(trees) != 1:
        return "must be one SQL expression"
    tree = trees[0]
    statements = _statement_types(exp)
    if isinstance(tree, exp.Query) or isinstance(tree, statements):
        return f"must be one boolean expression, not a statement or a query ({_first_words(text)} ...)"
    for node in tree.walk():
        node = node[0] if isinstance(node, tuple) else node  # sqlglot < 26 walks (node, parent, key)
        if isinstance(node, statements):
            return f"holds a statement ({type(node).__name__.upper()}): it must be one boolean expression"
        if isinstance(node, exp.Query) and not _plain_select(node, exp):
            return "holds a subquery that is not a plain select"
        if isinstance(node, (exp.Anonymous, getattr(exp, "AnonymousAggFunc", exp.Anonymous))):
            name = str(node.name or node.this).lower()
            return (f"calls {name}(), a function that is not a standard SQL function: a filter with a custom "
                    "function belongs in the model's YAML (a test's where: config), which the project's author "
                    "controls")
        unsafe = _UNSAFE_KNOWN_FUNCTIONS.get(type(node).__name__)
        if unsafe is None and isinstance(node, exp.Func) and type(node).__name__.startswith("Read"):
            unsafe = "reads files"
        if unsafe:
            return (f"{unsafe} ({node.sql(dialect=dialect)[:60]}): a command-line filter may call standard SQL "
                    "functions only")
    return None


def checked_column(option: str, value: str, columns: Optional[Iterable[str]], relation: str) -> str:
    """`value`, a column named on the command line, when it names one of `columns` (the relation's
    real columns; None when they cannot be read, e.g. the table is not built) by the package's
    identifier rule: a plain name ignoring case, a quoted name exactly. Anything else — an
    expression — is refused in one sentence naming the option, the value and the columns; a name
    the relation does not have, in the sentence the macros say it in (`_resolved_columns`)."""
    text = str(value).strip()
    names = None if columns is None else [str(name) for name in columns]
    has = f" (it has: {', '.join(sorted(names, key=str.lower))})" if names else ""
    if not (PLAIN_NAME.match(text) or _QUOTED_NAME.match(text)):
        raise InvalidInput(f"{option} '{text}' is not a column of {relation}{has}: on the command line a column "
                           "is a name; an expression belongs in the model's YAML.")
    if names is not None and matched_column(text, names) is None:
        raise InvalidInput(f"{relation} has no column '{text}'{has}.")
    return text


def _statement_types(exp) -> tuple:
    return tuple(getattr(exp, name) for name in _STATEMENT_NAMES if isinstance(getattr(exp, name, None), type))


def _plain_select(node, exp) -> bool:
    """A select (or a union / intersect / except of selects), without locks or INTO."""
    set_operation = getattr(exp, "SetOperation", None) or getattr(exp, "Union")
    if isinstance(node, exp.Subquery):
        return True  # the parenthesised query inside is checked on its own
    if not isinstance(node, (exp.Select, set_operation)):
        return False
    return not node.args.get("locks") and not node.args.get("into")


def _first_words(text: str) -> str:
    return " ".join(text.split()[:2])
