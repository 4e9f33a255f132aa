"""BENCHMARKS.md, and the headline lines of the README's Benchmarks section,
written from one run's tables: nothing in them is typed by hand."""

from __future__ import annotations

import re
from pathlib import Path

from bench.report import Table

README_START = "<!-- bench:headline:start -->"
README_END = "<!-- bench:headline:end -->"

METHOD = """\
- Every contender runs as its own process, started as a user starts it (`python -m backfill …`,
  `dbt …`, a shell loop, a Python script), so its wall time includes starting Python, importing dbt
  and parsing the project. Each run gets a sandbox of its own: a fresh PostgreSQL schema (dropped
  afterwards) or a fresh copy of the DuckDB file, and a fresh dbt target folder (no partial-parse
  cache carried from one contender to the next).
- Preparation (copying a table with missing days, writing a query file) is not timed; reading what
  the contender produced is not timed either. Repetitions go round-robin over the contenders.
- **Same result, checked**: after every run the harness compares what the contender produced with the
  right answer — the table a backfill wrote against the model's SQL over the same days (row count and
  an md5 of every row), the gaps found against the planted ones, the differences found against the
  planted ones. A contender that disagrees stops the run and nothing is written.
- **Peak memory** is the peak resident set size of the contender's process and of the processes it
  waited for (`wait4`; for the shell loop, its largest `dbt run`). **The PostgreSQL server's memory is
  not counted**: on PostgreSQL, comparisons that run in the warehouse (reconcile_rows, reconcile_keys,
  reladiff's joindiff, the floors) use server memory that this column does not show, while pandas
  pulls both tables into the client, where it does show. DuckDB runs inside the contender's process,
  so on DuckDB the column counts the database's memory too.
- The data is generated in SQL (`generate_series`, values from a multiplicative hash of the row
  number: deterministic, the same on both warehouses) and vacuumed and analysed before any contender
  runs; item_events has an index on event_date on PostgreSQL (a daily batch reads one day).
- Medians are of the runs shown (min–max beside them). Ratios divide a contender's median by the
  reference named in the column header."""


def targets_section(tables: list[Table], full_sizes: bool) -> list[str]:
    """Issue 19's targets that this run measured, each with its figure and verdict, and
    where one is not met, what the remaining time is spent on (when the run shows it)."""
    targets = [target for table in tables for target in table.targets]
    if not targets:
        return []
    caveat = "" if full_sizes else (" At these sizes the verdicts say little: the targets are set for the full "
                                    "sizes, where start-up no longer dominates.")
    lines = ["## Targets (issue 19)", "",
             f"Each target this run measured, judged side by side in this one run: {sum(t.met for t in targets)} "
             f"of {len(targets)} met.{caveat} The scenario tables below show how each figure was measured.", "",
             "| target | measured | verdict | where the remaining time goes |", "| --- | --- | --- | --- |"]
    for target in targets:
        verdict = target.verdict if target.met else f"**{target.verdict}**"
        remaining = "" if target.met else target.remaining
        lines.append(f"| {target.goal} | {target.measured} | {verdict} | {remaining} |")
    return [*lines, ""]


def targets_line(tables: list[Table]) -> list[str]:
    """The README's one line on issue 19's targets."""
    targets = [target for table in tables for target in table.targets]
    if not targets:
        return []
    missed = [target.goal for target in targets if not target.met]
    return [f"- Issue 19's targets: {len(targets) - len(missed)} of {len(targets)} met"
            + (f"; NOT met: {'; '.join(missed)}." if missed else " (BENCHMARKS.md lists them).")]


def machine_table(facts: dict) -> str:
    lines = ["| | |", "| --- | --- |"]
    for name, value in facts.items():
        if isinstance(value, dict):
            value = ", ".join(f"{key} {setting}" for key, setting in value.items())
        lines.append(f"| {name} | {value} |")
    return "\n".join(lines)


def benchmarks_md(tables: list[Table], facts: dict, sizes_text: str, full_sizes: bool, command: str,
                  started: str, minutes: float) -> str:
    warning = "" if full_sizes else (
        "\n> **These are not the sizes issue 8 asks for** (a year of daily batches, 10 million rows): this file "
        "comes from a smaller run, to check the harness and how costs grow. `make bench` runs the full sizes "
        "and replaces it.\n")
    parts = [
        "# Benchmarks",
        "",
        "<!-- Written by the benchmark harness (bench/). Every number is what that run measured: "
        "do not edit by hand, run it again. -->",
        "",
        f"Measured by [bench/](bench/) on {started}; the run took {minutes:.1f} minutes. Sizes — {sizes_text}.",
        warning,
        "Reproduce with `make bench` (full sizes, about 30 minutes on a quiet 2-core machine; it rewrites this "
        "file and the headline lines of the README), or `make bench-quick` (tiny sizes, a few minutes, written to "
        "bench/results/). This file came from:",
        "",
        "```bash",
        command,
        "```",
        "",
        *targets_section(tables, full_sizes),
        "## Summary",
        "",
        *[f"- {table.headline}" for table in tables if table.headline],
        "",
        "## Machine",
        "",
        machine_table(facts),
        "",
        "## How it was measured",
        "",
        METHOD,
        "",
        "## Scenarios",
        "",
    ]
    for table in tables:
        parts += [table.markdown(), ""]
    return "\n".join(parts).rstrip() + "\n"


def update_readme(readme: Path, tables: list[Table], sizes_text: str, full_sizes: bool) -> None:
    """Replace the lines between the README's headline markers with this run's headlines."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise RuntimeError(f"{readme} has no {README_START} … {README_END} block to write the headlines into.")
    caveat = "" if full_sizes else " **Not the full sizes**: `make bench` replaces these lines."
    block = "\n".join([README_START, f"Sizes — {sizes_text}.{caveat}", "",
                       *targets_line(tables), *[f"- {table.ratios}" for table in tables if table.ratios],
                       README_END])
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    readme.write_text(pattern.sub(lambda match: block, text, count=1))
