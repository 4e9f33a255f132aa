"""`python -m backfill gaps`: the missing ranges of a model, as a table, JSON or a calendar page."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from backfill.errors import EXIT_FAILED
from backfill.planning import GRAINS


@click.command()
@click.option("--model", "-m", required=True, help="The model to check (name or package.name).")
@click.option("--column", "-c", default=None,
              help="Date or timestamp column. Default: the model's meta backfill.period_column, else its event_time.")
@click.option("--grain", default="day", show_default=True, help=f"Period: {', '.join(GRAINS)} (weeks are ISO, Monday first).")
@click.option("--start", default=None,
              help="First period, inclusive: YYYY-MM-DD, or YYYY-MM-DD HH:00 with --grain hour. "
                   "Default: the earliest value in the column.")
@click.option("--end", default=None,
              help="Last period, inclusive: YYYY-MM-DD, or YYYY-MM-DD HH:00 with --grain hour. "
                   "Default: the last complete period before now (UTC).")
@click.option("--partition-by", "partition_by", multiple=True,
              help="Column(s) whose every value must have every period; repeat or comma-separate.")
@click.option("--min-rows", default=1, show_default=True, type=int, help="A period with fewer rows counts as missing.")
@click.option("--where", default=None, help="SQL filter on the checked rows, e.g. \"status = 'ok'\".")
@click.option("--exclude", multiple=True,
              help="A date that may be empty (holiday); with --grain hour a date names all 24 of its hours, "
                   "YYYY-MM-DD HH:00 one hour. Repeat or comma-separate.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False),
              help="Also write a self-contained page with a completeness calendar to this file.")
@click.pass_obj
def gaps(obj, model, column, grain, start, end, partition_by, min_rows, where, exclude, as_json, html_path):
    """Find the missing periods of MODEL: one line per range of consecutive missing periods.

    A period is missing when it has fewer than --min-rows rows and is not
    excluded. The ranges come from the macro backfill.find_gaps, the same SQL
    the dbt test backfill.no_gaps runs. Periods are taken as stored: no time
    zone conversion.

    Exit 0 when nothing is missing, 1 when gaps were found, 2 when the request
    is refused (unknown model or column, a column that is not a date or
    timestamp, bad grain or date, --end before --start).

    \b
    Examples:
      python -m backfill gaps -m daily_metrics
      python -m backfill gaps -m daily_metrics --start 2024-01-01 --end 2024-04-30 --html gaps.html
      python -m backfill gaps -m orders --column order_ts --grain hour --start 2024-03-01 --json
      python -m backfill gaps -m sales --partition-by store_id --min-rows 100 --exclude 2024-12-25
    """
    from backfill.calendar_html import render_calendar
    from backfill.dbt_runner import DbtProject
    from backfill.gaps import (build_check, check_options, default_last_period, gap_ranges, period_counts,
                               refuse_unusable_column)

    check_options(grain, start, end, partition_by, min_rows, where, exclude)  # refuse before parsing the project
    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    info = project.model(model)
    check = build_check(info, column, grain, start, end, partition_by, min_rows, where, exclude)
    refuse_unusable_column(project, info, check.column, check.grain)
    ranges = gap_ranges(project, check)

    if html_path:
        counts = period_counts(project, check)
        first = check.start or (counts[0].period_start if counts else None)
        last = check.end or default_last_period(check.grain)
        page = render_calendar(check, ranges, counts, first, last)
        Path(html_path).write_text(page, encoding="utf-8")

    if as_json:
        click.echo(json.dumps(gaps_document(check, ranges), default=str))
    else:
        print_table(check, ranges)
        if html_path:
            click.echo(f"Calendar written to {html_path}.")
    if ranges:
        sys.exit(EXIT_FAILED)


def gaps_document(check, ranges) -> dict:
    """The --json output: the check, then the builder's rows as they are."""
    return {
        "model": check.model.name,
        "column": check.column,
        "grain": check.grain,
        "start": _text(check.start),
        "end": _text(check.end),
        "min_rows": check.min_rows,
        "partition_by": list(check.partition_by),
        "gaps": [{key: _text(value) for key, value in gap.as_row().items()} for gap in ranges],
        "missing_periods": missing_total(ranges),
    }


def missing_total(ranges):
    """Missing periods over all ranges; None when a range has no start to count
    from (no rows at all and no --start)."""
    if any(gap.missing_periods is None for gap in ranges):
        return None
    return sum(gap.missing_periods for gap in ranges)


def print_table(check, ranges) -> None:
    where = f"{check.label} by {check.grain}"
    span = f"{_text(check.start) or 'first value'} → {_text(check.end) or 'last complete ' + check.grain}"
    if not ranges:
        click.echo(f"No gaps in {where} ({span}).")
        return
    missing = missing_total(ranges)
    if missing is None:
        last = _text(ranges[0].gap_end)
        click.echo(f"Gaps in {where} ({span}): no rows at all up to {last}; pass --start to count the missing "
                   f"{check.grain}s.")
    else:
        click.echo(f"Gaps in {where} ({span}): {len(ranges)} range(s), {missing} missing {check.grain}(s).")
    rows = [gap.as_row() for gap in ranges]
    headers = list(rows[0])
    cells = [[_cell(name, row[name]) for name in headers] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(headers)]
    numeric = {"missing_periods"}

    def line(values):
        return "  " + "  ".join(
            value.rjust(width) if name in numeric else value.ljust(width)
            for name, value, width in zip(headers, values, widths)
        ).rstrip()

    click.echo(line(headers))
    for values in cells:
        click.echo(line(values))


def _cell(name: str, value) -> str:
    """A table cell: a null gap_start is the case of no rows at all; a null partition value is null."""
    if value is None:
        return {"gap_start": "(no rows at all)", "missing_periods": ""}.get(name, "null")
    return str(_text(value))


def _text(value):
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, (int, float)) else str(value)
