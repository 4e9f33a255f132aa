"""Every question the runner asks of a parsed project, answered in one place and
in the package's own small types: which model a name means, which tests a model
has (and of which kind), which snapshots it reads, which names exist at all.
Nothing outside `backfill.dbt` ever holds a dbt node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from backfill.errors import UnknownModel
from backfill.model import ModelInfo


@dataclass(frozen=True)
class TestInfo:
    """A data test of the project, as the runner needs it."""

    __test__ = False  # a name pytest would otherwise collect

    unique_id: str
    name: str
    fqn: tuple[str, ...]
    test_name: Optional[str]  # the generic test (`no_gaps`, `unique`, ...); None for a singular test
    namespace: Optional[str]  # `backfill` for the package's tests; None for dbt's own
    kwargs: dict = field(default_factory=dict, compare=False)  # its arguments, unrendered
    attached_node: Optional[str] = None  # the model (or source) it is declared on
    depends_on: tuple[str, ...] = ()  # unique_ids of the nodes it reads
    macros: tuple[str, ...] = ()  # unique_ids of the macros it calls
    enabled: bool = True
    severity: str = "error"
    where: Optional[str] = None
    store_failures: Optional[bool] = None
    store_failures_as: Optional[str] = None
    refs: tuple[tuple[Optional[str], str], ...] = ()  # (package or None, name)
    sources: tuple[tuple[str, str], ...] = ()  # (source, table)

    def is_package_test(self, name: str) -> bool:
        """This is the package's generic test `name` (its macro, not a homonym of another package)."""
        return self.test_name == name and f"macro.backfill.test_{name}" in self.macros

    @property
    def stores_failures(self) -> bool:
        """Whether `dbt test --store-failures` stores its failing rows: not when its config says
        `store_failures: false` (or `store_failures_as: ephemeral`)."""
        return self.store_failures is not False and self.store_failures_as != "ephemeral"

    def reads(self, unique_id: str) -> bool:
        return unique_id in self.depends_on


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot a model reads, and the column its versions begin at."""

    name: str
    package_name: str
    valid_from: str


def selector(fqn) -> str:
    """A dbt selector that matches exactly the node of this fully qualified name."""
    return "fqn:" + ".".join(fqn)


def find_model(manifest, name: str, project_dir) -> ModelInfo:
    """The enabled model called `name` (or `package.name`); refuse anything else in one sentence."""
    package, _, model_name = name.rpartition(".")
    matches = [
        node for node in manifest.nodes.values()
        if node.resource_type == "model" and node.name == model_name and (not package or node.package_name == package)
    ]
    if not matches:
        disabled = [node for nodes in manifest.disabled.values() for node in nodes
                    if getattr(node, "name", None) == model_name and node.resource_type == "model"]
        if disabled:
            raise UnknownModel(f"Model '{name}' is disabled in this project.")
        raise UnknownModel(f"No model named '{name}' in the dbt project at {project_dir}.")
    if len(matches) > 1:
        names = ", ".join(sorted(f"{n.package_name}.{n.name}" for n in matches))
        raise UnknownModel(f"Model name '{name}' is ambiguous ({names}): name the package too.")
    return model_info(matches[0])


def model_info(node) -> ModelInfo:
    """A model node as the runner sees it."""
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
        database=node.database,
        schema=node.schema,
        on_schema_change=config.get("on_schema_change"),
        batch_size=config.get("batch_size"),
    )


def models_by_id(manifest, unique_ids) -> list[ModelInfo]:
    """The models among `unique_ids` (a selection: tests, seeds and the rest left out)."""
    return [model_info(manifest.nodes[uid]) for uid in unique_ids
            if uid in manifest.nodes and manifest.nodes[uid].resource_type == "model"]


def nearest_upstream(manifest, unique_id: str, among: set[str]) -> tuple[str, ...]:
    """The nodes of `among` that `unique_id` is built from, directly or through nodes not
    among them (a view, an ephemeral model, a model left out of a selection); sorted."""
    found, seen = set(), set()
    pending = list(manifest.nodes[unique_id].depends_on.nodes or [])
    while pending:
        parent = pending.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent in among:
            found.add(parent)
        elif parent in manifest.nodes:
            pending.extend(getattr(manifest.nodes[parent].depends_on, "nodes", None) or [])  # a seed has none
    return tuple(sorted(found))


def tests(manifest) -> list[TestInfo]:
    """Every enabled data test of the project (tests of disabled nodes, which dbt keeps in
    the manifest disabled, are not among them)."""
    return [test_info(node) for node in manifest.nodes.values()
            if node.resource_type == "test" and node.config.enabled is not False]


def disabled_tests(manifest) -> list[TestInfo]:
    """The data tests dbt keeps in the manifest disabled: by their own config, as tests of a
    disabled node, or because a ref or source of theirs names nothing."""
    return [test_info(node) for node in manifest.nodes.values()
            if node.resource_type == "test" and node.config.enabled is False]


def resource_names(manifest) -> set[tuple[str, str]]:
    """(package, name) of every model, seed and snapshot, enabled or not."""
    everything = list(manifest.nodes.values()) + [n for nodes in manifest.disabled.values() for n in nodes]
    return {(node.package_name, node.name) for node in everything
            if node.resource_type in ("model", "seed", "snapshot")}


def source_names(manifest) -> set[tuple[str, str]]:
    """(source, table) of every source, enabled or not."""
    everything = list(manifest.sources.values()) + [n for nodes in manifest.disabled.values() for n in nodes]
    return {(node.source_name, node.name) for node in everything if node.resource_type == "source"}


def snapshot_parents(manifest, model: ModelInfo) -> list[SnapshotInfo]:
    """The snapshots `model` refs directly, with their (possibly renamed) dbt_valid_from column."""
    found = []
    for parent_id in manifest.nodes[model.unique_id].depends_on.nodes or []:
        parent = manifest.nodes.get(parent_id)
        if parent is None or parent.resource_type != "snapshot":
            continue
        names = parent.config.get("snapshot_meta_column_names") or {}
        if not isinstance(names, dict):
            names = getattr(names, "to_dict", lambda: {})()
        found.append(SnapshotInfo(parent.name, parent.package_name, names.get("dbt_valid_from") or "dbt_valid_from"))
    return found


def has_run_hooks(manifest) -> bool:
    """on-run-start / on-run-end hooks (of the project or a package): they belong to invocations."""
    return any(node.resource_type == "operation" for node in manifest.nodes.values())


def test_info(node: Any) -> TestInfo:
    """A dbt test node as a TestInfo."""
    metadata = getattr(node, "test_metadata", None)
    config = node.config
    return TestInfo(
        unique_id=node.unique_id,
        name=node.name,
        fqn=tuple(node.fqn),
        test_name=metadata.name if metadata is not None else None,
        namespace=metadata.namespace if metadata is not None else None,
        kwargs=dict(metadata.kwargs or {}) if metadata is not None else {},
        attached_node=getattr(node, "attached_node", None),
        depends_on=tuple(node.depends_on.nodes or ()),
        macros=tuple(node.depends_on.macros or ()),
        enabled=config.enabled is not False,
        severity=str(config.severity or "error").lower(),
        where=config.get("where") or None,
        store_failures=config.get("store_failures"),
        store_failures_as=config.get("store_failures_as"),
        refs=tuple((getattr(ref, "package", None), ref.name) for ref in getattr(node, "refs", ()) or ()),
        sources=tuple((source[0], source[-1]) for source in getattr(node, "sources", ()) or ()),
    )
