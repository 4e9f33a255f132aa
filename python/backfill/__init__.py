"""backfill: find gaps in dbt history, backfill them in verified resumable
batches, reconcile sources, rerun old days reproducibly.

    from backfill import run_backfill
    report = run_backfill("daily_metrics", "2024-01-01", "2024-01-31", batch_size=7)
"""

__version__ = "0.1.0"

__all__ = ["run_backfill", "resume_backfill", "repair_model", "__version__"]


def __getattr__(name):
    # Imported lazily: importing dbt takes a second, and `--help` should not wait for it.
    if name in ("run_backfill", "resume_backfill"):
        from backfill import runner

        return getattr(runner, name)
    if name == "repair_model":
        from backfill.repair import repair_model

        return repair_model
    raise AttributeError(name)
