"""Tables of numbers: as Markdown for BENCHMARKS.md and as plain text for the terminal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

# A cell of numbers: seconds, ranges, ratios, "≈ 12.3", "1.2 / 340".
NUMERIC = re.compile(r"^[\d.,\s×/–≈—-]*$")


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


@dataclass(frozen=True)
class Target:
    """One target of issue 19 as this run measured it, for BENCHMARKS.md's Targets section."""

    goal: str  # "reconcile_rows SQL ≤ 2× the full-outer-join floor (DuckDB)"
    measured: str  # the figure, with what it was computed from
    met: bool
    # Where the target is not met: what the remaining time is spent on, when the run shows it.
    remaining: str = ""

    @property
    def verdict(self) -> str:
        return verdict(self.met)

    def note(self) -> str:
        """The target as a note under its scenario's table."""
        return f"Issue 19's target, {self.goal}: **{self.verdict}** — {self.measured}."


@dataclass
class Table:
    title: str
    intro: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers: dict = field(default_factory=dict)  # the raw measurements, for results.json
    headline: str = ""  # the figures in one sentence, for the summary at the top of BENCHMARKS.md
    ratios: str = ""  # the same as ratios in one short sentence, for the README
    targets: list[Target] = field(default_factory=list)  # issue 19's targets this table measures

    def markdown(self) -> str:
        align = ["---"] + ["---:" if self._numeric(i) else "---" for i in range(1, len(self.headers))]
        lines = [f"### {self.title}", "", self.intro, "",
                 "| " + " | ".join(self.headers) + " |",
                 "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def _numeric(self, column: int) -> bool:
        return all(NUMERIC.match(row[column].replace("**", "")) for row in self.rows)

    def text(self) -> str:
        cells = [self.headers] + [[cell.replace("`", "").replace("**", "") for cell in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]

        def line(row):
            return "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))

        rule = "-" * len(line(self.headers))
        return "\n".join([self.title, rule, line(self.headers), rule, *map(line, cells[1:]), ""])


def seconds(value: Optional[float]) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def spread(fastest: float, slowest: float) -> str:
    return f"{seconds(fastest)}–{seconds(slowest)}"


def megabytes(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: Optional[float], reference: Optional[float]) -> str:
    if value is None or not reference:
        return "—"
    return f"{value / reference:.2f}×"


def named(name: str, this_project: bool) -> str:
    return f"**{name}**" if this_project else name


def timing_cells(entry) -> list[str]:
    """The first cells of a contender's row: its name (bold for this project's),
    median seconds, fastest–slowest, peak memory."""
    return [named(entry.name, entry.contender.this_project), seconds(entry.seconds),
            spread(entry.fastest, entry.slowest), megabytes(entry.peak_rss_mb)]
