"""`python -m backfill status` and `resume` (issue 6)."""

from backfill.not_yet import not_yet

status = not_yet("status", 6, "Show backfill runs and their batches from the audit trail.")
resume = not_yet("resume", 6, "Finish a backfill run that failed or was killed.")
