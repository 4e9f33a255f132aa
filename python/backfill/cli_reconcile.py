"""`python -m backfill reconcile` (issue 4)."""

from backfill.not_yet import not_yet

reconcile = not_yet("reconcile", 4, "Run the reconciliation tests and report pass or fail per check.")
