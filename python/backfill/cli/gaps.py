"""`python -m backfill gaps`: the missing ranges of a model, as a table, JSON or a calendar page."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from backfill.cli import options
from backfill.errors import EXIT_FAILED, InvalidInput


@click.command()
@options.model("The model to check")
@click.option("--column", "-c", default=None,
              help="Date or timestamp column, by name (an expression belongs in YAML). Default: the model's meta "
                   "backfill.period_column, else its event_time.")
@options.grain("Period (default: the test's, else day)", default=None)
@options.start("First period", "the test's start, else the earliest value in the column")
@options.end("Last period", "the test's end, else the last complete period before now (UTC)")
@click.option("--partition-by", "partition_by", multiple=True,
              help="Column name(s) whose every value must have every period; repeat or comma-separate.")
@click.option("--min-rows", default=None, type=int,
              help="A period with fewer rows counts as missing. Default: the test's, else 1.")
@click.option("--where", default=None,
              help="SQL filter on the checked rows: one boolean expression of standard SQL functions, e.g. "
                   "\"status = 'ok'\" (no ';', statement or custom function: those belong in the test's where: config).")
@click.option("--exclude", multiple=True,
              help="A date that may be empty (holiday); with --grain hour a date names all 24 of its hours, "
                   "YYYY-MM-DD HH:00 one hour. Repeat or comma-separate.")
@click.option("--test", "tests", multiple=True,
              help="Only this backfill.no_gaps test of the model (repeat for several). Default: all on the column.")
@click.option("--no-tests", is_flag=True, help="Ignore the model's no_gaps tests: the plain check with these options.")
@options.as_json("the result as one JSON object")
@click.option("--html", "html_path", default=None, type=click.Path(dir_okay=False),
              help="Also write a self-contained page with a completeness calendar to this file.")
@click.pass_obj
def gaps(obj, model, column, grain, start, end, partition_by, min_rows, where, exclude, tests, no_tests, as_json,
         html_path):
    """Find the missing periods of MODEL: one line per range of consecutive missing periods.

    What is missing is what the model's own backfill.no_gaps tests on the
    column report — their grain, start, end, min_rows, partition_by, exclude
    and where config, rendered by dbt as for `dbt test`, so the ranges are
    exactly the rows each test fails with — and the output names the test and
    what it applied. Options given here replace the test's own; a model without
    such a test (or --no-tests) gets the plain check: a period with fewer than
    --min-rows rows that is not excluded. The ranges come from the macro
    backfill.find_gaps. A timestamp with time zone is read in UTC periods;
    dates and timestamps without time zone as stored.

    Exit 0 when nothing is missing, 1 when gaps were found, 2 when the request
    is refused (unknown model, column or test, a column that is not a date or
    timestamp, bad grain or date, --end before --start, a --where that is not
    one boolean expression, a --column or --partition-by that is not a name).

    \b
    Examples:
      python -m backfill gaps -m daily_metrics
      python -m backfill gaps -m daily_metrics --start 2024-01-01 --end 2024-04-30 --html gaps.html
      python -m backfill gaps -m orders --column order_ts --grain hour --start 2024-03-01 --json
      python -m backfill gaps -m sales --partition-by store_id --min-rows 100 --exclude 2024-12-25
    """
    from backfill.calendar_html import render_calendar
    from backfill.dbt import DbtProject
    from backfill.gaps import (check_options, default_last_period, period_column, period_counts,
                               refuse_unusable_column, relation_columns, split_names)
    from backfill.no_gaps import model_gap_reports, probe_grain
    from backfill.sql_input import checked_column, checked_filter

    # Refuse what needs no project first (dates are checked again once the grain is known).
    check_options(probe_grain(grain, start, end), start, end, partition_by, 1 if min_rows is None else min_rows,
                  where, ())
    if grain is not None:
        check_options(grain, start, end, (), 1, None, exclude)
    if tests and no_tests:
        raise InvalidInput("--test and --no-tests contradict each other: give one of them.")
    if html_path:
        options.check_writable_file(html_path, "--html")
    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    # SQL from the command line, checked before it reaches the warehouse (backfill.sql_input):
    # --where one boolean expression, --column / --partition-by names of the table's real columns.
    if where is not None:
        where = checked_filter("--where", where, _adapter_type(project))
    info = project.model(model)
    if column is not None or partition_by:
        columns = relation_columns(project, info)
        if column is not None:
            checked_column("--column", column, columns, info.name)
        for name in split_names(partition_by):
            checked_column("--partition-by", name, columns, info.name)
    refuse_unusable_column(project, info, period_column(info, column), grain or "day")
    reports = model_gap_reports(project, info, column, grain, start, end, partition_by, min_rows, where, exclude,
                                tests, use_tests=not no_tests)

    if html_path:
        report = reports[0]
        counts = period_counts(project, report.check)
        first = report.check.start or (counts[0].period_start if counts else None)
        last = report.check.end or default_last_period(report.check.grain)
        page = render_calendar(report.check, report.ranges, counts, first, last)
        try:
            Path(html_path).write_text(page, encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"--html {html_path} could not be written: {error.strerror or error}.") from None

    if as_json:
        click.echo(json.dumps(gaps_document(reports), default=str))
    else:
        for position, report in enumerate(reports):
            if position:
                click.echo("")
            print_table(report.check, report.ranges)
            click.echo(applied_line(report))
        if html_path:
            shown = f" (of {reports[0].check.test})" if len(reports) > 1 and reports[0].check.test else ""
            click.echo(f"Calendar{shown} written to {html_path}.")
    if any(report.ranges for report in reports):
        sys.exit(EXIT_FAILED)


def _adapter_type(project):
    """The target's warehouse, for --where to be read in its dialect; None (generic SQL) when
    the profile cannot be read here (dbt says why, in its own words, when it loads it)."""
    try:
        return project.adapter_type
    except Exception:
        return None


def check_document(report, several: bool) -> dict:
    """One check as --json shows it: what it applied, then the builder's rows as they are."""
    check = report.check
    return {
        "model": check.model.name,
        "column": check.column,
        "test": check.test,
        "severity": check.severity if check.test else None,
        "grain": check.grain,
        "start": _text(check.start),
        "end": _text(check.end),
        "min_rows": check.min_rows,
        "partition_by": list(check.partition_by),
        "exclude": check.shown_exclude if check.test else list(check.exclude),
        "where": check.where,
        "overridden": list(report.overridden),
        "gaps": [{**({"test": check.test} if several else {}),
                  **{key: _text(value) for key, value in gap.as_row().items()}} for gap in report.ranges],
        "missing_periods": missing_total(report.ranges),
    }


def gaps_document(reports) -> dict:
    """The --json output: the first check's fields at the top (the whole answer when the model
    has one test), every check under `checks`, and the gaps of all of them."""
    several = len(reports) > 1
    checks = [check_document(report, several) for report in reports]
    totals = [check["missing_periods"] for check in checks]
    return {
        **checks[0],
        "gaps": [gap for check in checks for gap in check["gaps"]],
        "missing_periods": None if any(total is None for total in totals) else sum(totals),
        "checks": checks,
    }


def missing_total(ranges):
    """Missing periods over all ranges; None when a range has no start to count
    from (no rows at all and no --start)."""
    if any(gap.missing_periods is None for gap in ranges):
        return None
    return sum(gap.missing_periods for gap in ranges)


def applied_line(report) -> str:
    """Which check this was and what it applied, in one line."""
    check = report.check
    applied = [f"grain {check.grain}", f"min_rows {check.min_rows}"]
    if check.partition_by:
        applied.append("partition_by " + ", ".join(check.partition_by))
    excluded = check.shown_exclude if check.test else list(check.exclude)
    if excluded:
        applied.append("exclude " + (", ".join(map(str, excluded)) if isinstance(excluded, list) else str(excluded)))
    if check.where:
        applied.append(f"where {check.where}")
    if not check.test:
        return f"Checked: the plain check ({'; '.join(applied)}), no backfill.no_gaps test of the model."
    given = (f"; from the command line: {', '.join(report.overridden)}" if report.overridden else "")
    return f"Checked as the model's test {check.test} declares it ({'; '.join(applied)}{given})."


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
