"""How big each scenario is and how often it repeats.

`full` is what `make bench` runs and what BENCHMARKS.md should show; `quick`
is `make bench-quick` and the smoke test (tiny, to keep the harness working,
its numbers mean little); `medium` sits between, to check that time and
memory grow sanely without the hour a full run takes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sizes:
    name: str
    # Scenarios 1 and 2: the days of the year backfilled, events per day.
    backfill_days: int
    events_per_day: int
    # Scenario 1: contenders that cost seconds per batch (the runner with
    # verification, the shell loop) are timed on the year's first
    # `sampled_batches` days; their year is that per-batch time × backfill_days.
    sampled_batches: int
    # Scenario 3: rows of the table whose gaps are found (over 365 days).
    gap_rows: int
    # Scenarios 4 and 5: rows of each table compared; the sizes of the scaling
    # scenario (the largest one is scenario 4's, measured once).
    recon_rows: int
    scaling_rows: tuple[int, ...]
    # Timed runs of each contender, fewer where one run takes minutes:
    backfill_repetitions: int  # scenario 1 on PostgreSQL (the production target)
    repetitions: int  # scenarios 2 and 3
    duckdb_backfill_repetitions: int = 1  # scenario 1 on DuckDB
    recon_repetitions: int = 1  # scenario 4 (and 5 at scenario 4's size)
    scaling_repetitions: int = 1  # scenario 5 at its other sizes
    # The scenarios also run on DuckDB (all of them run on PostgreSQL, the
    # production target). Scenario 2 repeats 1 with other sizes: on DuckDB it
    # would lengthen the run for little news. Scenario 5 runs on both: issue 19
    # asks for DuckDB's scale table too (its largest size is scenario 4's, measured once).
    duckdb_scenarios: tuple[int, ...] = (1, 3, 4, 5)

    @property
    def sampled(self) -> int:
        return min(self.sampled_batches, self.backfill_days)

    def describe(self) -> str:
        return (f"{self.name}: a year of {self.backfill_days} days × {self.events_per_day:,} events, "
                f"gap detection on {self.gap_rows:,} rows, reconciliation of {self.recon_rows:,} rows "
                f"(scaling {', '.join(f'{n:,}' for n in self.scaling_rows)}); runs per contender: scenario 1 "
                f"{self.backfill_repetitions} (DuckDB {self.duckdb_backfill_repetitions}), scenarios 2 and 3 "
                f"{self.repetitions}, scenario 4 {self.recon_repetitions}, scenario 5's other sizes "
                f"{self.scaling_repetitions}; DuckDB runs scenarios {', '.join(map(str, self.duckdb_scenarios))}")


PRESETS = {
    # About 30 minutes on a quiet 2-core machine (DuckDB runs scenario 5 at 1 and
    # 3 million rows too): scenario 4 at 10 million rows (reladiff ~1.5 min, pandas ~1 min
    # a run, two runs each) and scenario 1 (a year of daily batches, ~20 s a
    # contender's run) are most of it.
    "full": Sizes("full", backfill_days=365, events_per_day=10_000, sampled_batches=10, gap_rows=10_000_000,
                  recon_rows=10_000_000, scaling_rows=(1_000_000, 3_000_000, 10_000_000),
                  backfill_repetitions=2, duckdb_backfill_repetitions=1, repetitions=3, recon_repetitions=2,
                  scaling_repetitions=1),
    "medium": Sizes("medium", backfill_days=30, events_per_day=10_000, sampled_batches=5, gap_rows=1_000_000,
                    recon_rows=1_000_000, scaling_rows=(100_000, 300_000, 1_000_000),
                    backfill_repetitions=2, duckdb_backfill_repetitions=1, repetitions=3, recon_repetitions=3,
                    scaling_repetitions=1),
    "quick": Sizes("quick", backfill_days=7, events_per_day=100, sampled_batches=3, gap_rows=20_000,
                   recon_rows=20_000, scaling_rows=(5_000, 20_000), backfill_repetitions=1, repetitions=1,
                   duckdb_scenarios=(3, 4)),
}


def sizes(preset: str, **overrides) -> Sizes:
    chosen = PRESETS[preset]
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(chosen, **given, name=chosen.name + (" (adjusted)" if given else ""))
