"""`python -m backfill gaps` (issue 3)."""

from backfill.not_yet import not_yet

gaps = not_yet("gaps", 3, "Find missing periods of a model and show them as ranges or a calendar.")
