"""Running contenders side by side and checking they agree.

Repetitions go round-robin (every contender once, then every contender again),
so a machine that gets busier or quieter during the run affects all of them
alike. Each run: a fresh sandbox, the contender's untimed preparation, the
timed command, then what it produced is read back (untimed) and compared with
what the scenario knows is right. A contender that disagrees stops the
benchmark: numbers of a wrong answer are not worth printing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from bench.dbt_project import REPO, contender_env
from bench.measure import Run, median, run_command
from bench.warehouses import DataSet, Sandbox, Warehouse


class ResultsDisagree(RuntimeError):
    """A contender's result differs from the expected one."""


@dataclass
class Contender:
    name: str
    # (sandbox, scratch folder) -> the command line to time
    command: Callable[[Sandbox, Path], list[str]]
    # (sandbox, the finished run) -> what it produced, comparable with `expected`
    result: Callable[[Sandbox, Run], Any]
    expected: Any
    this_project: bool = False
    prepare: Callable[[Sandbox, Path], None] = lambda sandbox, scratch: None
    ok_exit_codes: tuple[int, ...] = (0,)
    batches: Optional[int] = None  # scenario 1: how many batches one run does


@dataclass
class Measured:
    """A contender's runs in one scenario."""

    contender: Contender
    runs: list[Run] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.contender.name

    @property
    def seconds(self) -> float:
        return median([run.seconds for run in self.runs])

    @property
    def fastest(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def slowest(self) -> float:
        return max(run.seconds for run in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(run.peak_rss_mb for run in self.runs)

    def as_dict(self) -> dict:
        return {
            "contender": self.name,
            "this_project": self.contender.this_project,
            "batches": self.contender.batches,
            "seconds": [round(run.seconds, 3) for run in self.runs],
            "peak_rss_mb": [round(run.peak_rss_mb, 1) for run in self.runs],
            "result": self.results[-1] if self.results else None,
        }


def measure(warehouse: Warehouse, data: DataSet, contenders: list[Contender], repetitions: int,
            period: tuple[str, str], timeout: float, log: Callable[[str], None]) -> list[Measured]:
    measured = [Measured(contender) for contender in contenders]
    for repetition in range(1, repetitions + 1):
        for entry in measured:
            contender = entry.contender
            with warehouse.sandbox(data) as sandbox, tempfile.TemporaryDirectory(prefix="bench-") as folder:
                scratch = Path(folder)
                contender.prepare(sandbox, scratch)
                env = contender_env(sandbox, scratch, period)
                run = run_command(contender.command(sandbox, scratch), env, str(REPO), timeout,
                                  contender.ok_exit_codes)
                result = contender.result(sandbox, run)
            log(f"    {contender.name:<46} run {repetition}/{repetitions}: {run.seconds:8.2f} s  "
                f"{run.peak_rss_mb:7.0f} MB")
            check_result(contender, warehouse, result)
            entry.runs.append(run)
            entry.results.append(result)
    return measured


def check_result(contender: Contender, warehouse: Warehouse, result: Any) -> None:
    """Stop the benchmark when a contender's result is not the expected one."""
    if result != contender.expected:
        raise ResultsDisagree(
            f"{contender.name} on {warehouse.kind} produced {result!r}, expected {contender.expected!r}: "
            "the contenders do not agree, so no numbers are written."
        )
