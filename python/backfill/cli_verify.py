"""`python -m backfill verify` (issue 5)."""

from backfill.not_yet import not_yet

verify = not_yet("verify", 5, "Recompute a window into a scratch relation and compare it with what is stored.")
