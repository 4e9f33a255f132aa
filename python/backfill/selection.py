"""`run --select`: which models of a dbt selection a run rewrites, in which order, at which grain.

    dbt resolves the selection (`dbt ls`, its own syntax) → the models rewritten:
      incremental ones window by window, tables whole once their parents' windows
      are written; views and ephemerals need nothing (they read their parents)
    → each model's parents among them, through everything else → DAG order
    → each model's grain → planning.plan_selection (pure) makes the batches.

Everything that would stop a batch of the run is refused here, in one sentence,
before anything runs: a model whose windows cannot be derived is named with the
remedy (declare it, or leave it out with --exclude).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from backfill.errors import InvalidInput, UnsupportedModel
from backfill.model import ModelInfo, check_rerun_replaces, require_period_column
from backfill.periods import GRAINS
from backfill.planning import PlannedModel

if TYPE_CHECKING:
    from backfill.dbt import DbtProject

# Materializations a run rewrites; the others need nothing after their parents change.
REWRITTEN = ("incremental", "table")
NEEDS_NOTHING = {
    "view": "a view reads its parents as they are",
    "ephemeral": "an ephemeral model is inlined into the models that use it",
    "materialized_view": "a materialized view is refreshed by the warehouse",
}


@dataclass(frozen=True)
class Selection:
    """The models a run over a selection rewrites, parents first."""

    models: list[ModelInfo]
    planned: list[PlannedModel]
    # (name, why) of selected models the run leaves alone.
    left_alone: list[tuple[str, str]] = field(default_factory=list)

    @property
    def grains(self) -> dict[str, str]:
        return {model.name: model.grain for model in self.planned}


def resolve_selection(project: "DbtProject", select: list[str], exclude: Optional[list[str]], grain: str,
                      verify: bool, allow_append: bool) -> Selection:
    """The run's models, or the one sentence that refuses the selection."""
    given = " ".join(select) + (f" --exclude {' '.join(exclude)}" if exclude else "")
    chosen = project.select_models(select, exclude)
    if not chosen:
        raise InvalidInput(f"--select {given} selects no model.")
    rewritten = [model for model in chosen if model.materialized in REWRITTEN]
    left_alone = [(model.name, NEEDS_NOTHING.get(model.materialized, f"it is materialized as {model.materialized}"))
                  for model in chosen if model.materialized not in REWRITTEN]
    if not any(model.is_incremental for model in rewritten):
        raise UnsupportedModel(f"--select {given} selects no incremental model, so there is no window to backfill "
                               "(views read their parents; rebuild tables with dbt run).")
    names = [model.name for model in rewritten]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InvalidInput(f"--select {given} selects models of the same name in several packages "
                           f"({', '.join(duplicated)}): leave one of each out with --exclude.")
    parents = {model.name: tuple(project.upstream_models(model, rewritten)) for model in rewritten}
    order = dag_order(parents)
    by_name = {model.name: model for model in rewritten}
    planned = []
    for name in order:
        model = by_name[name]
        planned.append(PlannedModel(name, _grain_of(project, model, parents[name], grain), parents[name],
                                    whole=not model.is_incremental))
        if model.is_incremental:
            _refuse_unrunnable(model, verify, allow_append)
    return Selection([by_name[name] for name in order], planned, left_alone)


def dag_order(parents: dict[str, tuple[str, ...]]) -> list[str]:
    """The names, each after every one of its parents (ties in the order given)."""
    ordered: list[str] = []
    placed: set[str] = set()
    pending = list(parents)
    while pending:
        ready = [name for name in pending if all(parent in placed for parent in parents[name])]
        if not ready:  # dbt refuses cycles at parse time; this only guards the loop
            raise InvalidInput(f"The selected models depend on each other in a cycle: {', '.join(pending)}.")
        for name in ready:
            ordered.append(name)
            placed.add(name)
        pending = [name for name in pending if name not in placed]
    return ordered


def declared_grain(project: "DbtProject", model: ModelInfo) -> Optional[str]:
    """The grain a model declares: `meta: {backfill: {grain}}`, else dbt's microbatch
    `batch_size`, else the grain its `backfill.no_gaps` tests agree on; None when none says."""
    from backfill.no_gaps import declared_tests

    grain = model.backfill_settings.get("grain")
    if grain:
        if str(grain) not in GRAINS:
            raise InvalidInput(f"Model '{model.name}' declares meta: {{backfill: {{grain: {grain}}}}}: use one of "
                               f"{', '.join(GRAINS)}.")
        return str(grain)
    if model.is_microbatch and model.batch_size in GRAINS:
        return model.batch_size
    tested = {str(check.arguments.get("grain", "day")) for check in declared_tests(project, model)}
    return tested.pop() if len(tested) == 1 and tested <= set(GRAINS) else None


def _grain_of(project, model: ModelInfo, parents: tuple[str, ...], run_grain: str) -> str:
    """A model's grain: as declared; a model without parents in the run may take the run's
    --grain, but one built from others must say its own, since its windows are derived
    from theirs and a guess would rewrite the wrong days."""
    grain = declared_grain(project, model)
    if grain:
        return grain
    if not parents or not model.is_incremental:
        return run_grain
    raise UnsupportedModel(
        f"Model '{model.name}' is built from {', '.join(parents)} but declares no grain, so the windows of it "
        f"that theirs rewrite cannot be derived: set meta: {{backfill: {{grain: ...}}}} (one of "
        f"{', '.join(GRAINS)}) or a backfill.no_gaps test with its grain, or leave it out with --exclude "
        f"{model.name}.")


def _refuse_unrunnable(model: ModelInfo, verify: bool, allow_append: bool) -> None:
    """The single-model rules (model.py), each refusal ending with the selection's own remedy."""
    try:
        if verify:
            require_period_column(model, remedy="pass --no-verify")
        check_rerun_replaces(model, allow_append)
    except UnsupportedModel as refused:
        raise type(refused)(f"{refused.message.rstrip('.')}; or leave it out with --exclude {model.name}.") from None
