"""`python -m backfill repair` (issue 7)."""

from backfill.not_yet import not_yet

repair = not_yet("repair", 7, "Backfill exactly the periods that failing checks point to.")
