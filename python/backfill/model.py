"""A model as the runner sees it, and the rules that decide what may be done with it.

`ModelInfo` holds the facts read from the project (by `backfill.dbt`, the one
place that reads dbt's manifest); the rules here are written once and used by
every command: which column is a model's period column, which columns are its
key, which vars carry a batch's window, what rerunning a window does to the
rows already there, and whether the model can be backfilled at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from backfill.errors import NoPeriodColumn, UnsupportedModel

# How each way of declaring the period column is written in a refusal.
PERIOD_COLUMN_HOWTO = "set its event_time config or meta: {backfill: {period_column: ...}}"


@dataclass(frozen=True)
class ModelInfo:
    """What the runner needs to know about a model."""

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
    database: Optional[str] = None
    schema: Optional[str] = None
    on_schema_change: Optional[str] = None
    batch_size: Optional[str] = None  # dbt's microbatch config: the grain of its batches

    @property
    def keeps_its_columns(self) -> bool:
        """Whether a batch's run leaves the columns of the model's table as they were:
        dbt's incremental materialization alters an existing table only when
        on_schema_change is append_new_columns or sync_all_columns (`ignore`, the
        default, and `fail` never do); any other materialization builds it anew."""
        return self.is_incremental and (self.on_schema_change or "ignore") in ("ignore", "fail")

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
        """The column that says which period a row belongs to, as declared (possibly
        quoted): `meta: {backfill: {period_column}}`, else the `event_time` config;
        None when it declares neither."""
        column = self.backfill_settings.get("period_column") or self.event_time
        return str(column) if column else None

    @property
    def window_var_names(self) -> tuple[str, str]:
        """The vars a batch's window reaches the model in: start_date / end_date, or its own."""
        settings = self.backfill_settings
        return settings.get("start_var", "start_date"), settings.get("end_var", "end_date")

    @property
    def is_incremental(self) -> bool:
        """Rewritten window by window; any other model a run rebuilds is rebuilt whole (a table
        of a selection)."""
        return self.materialized == "incremental"

    @property
    def is_microbatch(self) -> bool:
        return self.incremental_strategy == "microbatch"


def require_period_column(model: ModelInfo, column: Optional[str] = None, remedy: str = "") -> str:
    """`column` when given, else the model's period column as declared; refused in one
    sentence when it declares none (`remedy`: what else the caller can do, e.g.
    "pass --column")."""
    chosen = column or model.period_column
    if not chosen:
        raise NoPeriodColumn(
            f"Model '{model.name}' declares no period column: {PERIOD_COLUMN_HOWTO}"
            + (f", or {remedy}" if remedy else "") + "."
        )
    return str(chosen)


def key_columns(model: ModelInfo, period_column: str) -> list[str]:
    """The columns that identify a row of the model: its `unique_key` config, else
    `meta: {backfill: {key: [...]}}`, else the period column alone; the period
    column always included (unquoted names, as the builders quote them)."""
    configured = model.unique_key or model.backfill_settings.get("key")
    if isinstance(configured, str):
        configured = [part.strip() for part in configured.split(",") if part.strip()]
    keys = [unquoted(str(column)) for column in (configured or [])]
    if period_column not in keys:
        keys.append(period_column)
    return keys


def check_backfillable(model: ModelInfo, verify: bool) -> None:
    """Only incremental models are backfilled window by window; verifying needs a period column."""
    if not model.is_incremental:
        raise UnsupportedModel(
            f"Model '{model.name}' is materialized as '{model.materialized}': only incremental "
            "models can be backfilled window by window."
        )
    if verify:
        require_period_column(model, remedy="pass --no-verify")


def require_built(project, model: ModelInfo, action: str) -> None:
    """Refuse, in one sentence, a command that reads the model's table (`action`: "verifying a
    window", "repairing it") when there is no table yet: otherwise its checks would fail on
    the database's "relation does not exist"."""
    if not model.relation_name:
        raise UnsupportedModel(f"Model '{model.name}' is {model.materialized}: it stores nothing to check.")
    if not project.relation_exists(f"ref('{model.package_name}', '{model.name}')"):
        raise UnsupportedModel(
            f"Model '{model.name}' has no table yet ({model.relation_name}): build it before {action}.")


def check_rerun_replaces(model: ModelInfo, allow_append: bool) -> None:
    """A batch must replace its window; a model that only appends would duplicate it."""
    if model.rerun_behaviour == "appended" and not allow_append:
        raise UnsupportedModel(
            f"Model '{model.name}' only appends (no unique_key, no backfill.delete_window pre-hook), so "
            "rerunning a window would duplicate its rows: add the pre-hook (README: two lines) or pass --allow-append."
        )


# -- column names, compared the way the macros' identifier rule reads them ----------

# A name the rule reads unquoted (macros/shared/_resolved_columns.sql): anything else is
# quoted, or an expression.
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def unquoted(name: str) -> str:
    """The name inside a quoted identifier, or the name as written: `"date"` and `date` (in
    backquotes) give date, doubled quotes inside are one; what the builders quote through the adapter."""
    name = str(name).strip()
    if len(name) > 1 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    if len(name) > 1 and name[0] == name[-1] == "`":
        return name[1:-1]
    return name


def same_column(declared, name) -> bool:
    """Whether two spellings name one column (a YAML column with `quote: true`, a config value),
    compared without quotes and case, as the package's identifier rule matches plain names."""
    return unquoted(str(declared or "")).lower() == unquoted(str(name or "")).lower()


def matched_column(name: str, columns: list[str]) -> Optional[str]:
    """The real name among `columns` of the column `name` names, or None: a quoted name exactly,
    a plain one as written, else ignoring case (macros/shared/_matched_column.sql)."""
    text = str(name).strip()
    if unquoted(text) != text:
        real = unquoted(text)
        return real if real in columns else None
    if text in columns:
        return text
    return next((column for column in columns if same_column(column, text)), None)
