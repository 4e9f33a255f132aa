"""backfill: find gaps in dbt history, backfill them in verified resumable
batches, reconcile sources, rerun old days reproducibly.

    from backfill import run_backfill
    report = run_backfill("daily_metrics", "2024-01-01", "2024-01-31", batch_size=7)

The Python API, imported lazily (importing dbt takes a second, and `--help`
should not wait for it):

    run_backfill, resume_backfill   backfill.runner     a run, and finishing one
    repair_model                    backfill.repair     rewrite what failing checks point at
    verify_window                   backfill.recompute  would a rerun change history?
    find_gap_ranges                 backfill.gaps       the find_gaps builder's ranges
    gap_windows                     backfill.no_gaps    what --gaps-only plans from
    run_checks                      backfill.reconcile  the reconciliation tests, reported
    DbtProject                      backfill.dbt        a dbt project, parsed once
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "run_backfill": "backfill.runner",
    "resume_backfill": "backfill.runner",
    "repair_model": "backfill.repair",
    "verify_window": "backfill.recompute",
    "find_gap_ranges": "backfill.gaps",
    "gap_windows": "backfill.no_gaps",
    "run_checks": "backfill.reconcile",
    "DbtProject": "backfill.dbt",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
