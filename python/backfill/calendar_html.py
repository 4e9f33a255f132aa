"""A completeness calendar: one self-contained HTML page, one cell per period.

The page draws what the builders returned — row counts from
`backfill.period_counts`, missing ranges from `backfill.find_gaps` — and
decides nothing itself: a cell is missing exactly when it lies in a range
`find_gaps` reported. Present periods are shaded by row count; missing ones are
red and crossed, partial ones (rows, but fewer than --min-rows) striped red.
No script, no external file: it opens from disk, in a mail, in a CI artifact.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Optional, Sequence

from backfill.periods import Bound, period_start, periods_between

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SHADES = ("#c7e9c0", "#74c476", "#31a354", "#006d2c")  # few rows → many rows

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; }
.summary { color: #57606a; margin: 0 0 16px; }
.summary strong { color: #b31d28; }
.legend { display: flex; gap: 16px; align-items: center; margin: 0 0 16px; flex-wrap: wrap; color: #57606a; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.calendar { display: grid; gap: 3px; align-items: center; width: max-content; }
.label { color: #57606a; font-size: 12px; padding-right: 8px; white-space: nowrap; text-align: right; }
.head { color: #8c959f; font-size: 10px; text-align: center; }
.cell { width: 16px; height: 16px; border-radius: 3px; box-sizing: border-box; position: relative; }
.cell.none { background: transparent; }
.cell.present { background: var(--shade); }
.cell.excluded { background: #d0d7de; }
.cell.missing { background: #d7301f; }
.cell.missing::after { content: "\\00d7"; color: #fff; font: bold 14px/16px sans-serif; position: absolute;
  inset: 0; text-align: center; }
.cell.partial { background: repeating-linear-gradient(135deg, #d7301f 0 3px, #fdae61 3px 6px); }
.cell.partial::after { content: ""; }
.swatch { width: 14px; height: 14px; border-radius: 3px; display: inline-block; position: relative; }
table { border-collapse: collapse; margin-top: 24px; }
th, td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid #eaeef2; }
td.number { text-align: right; }
.ok { color: #1a7f37; font-weight: 600; }
"""


def render_calendar(check, ranges: Sequence, counts: Sequence, first: Optional[Bound], last: Bound) -> str:
    """The page for one gap check: summary, legend, calendar, then the ranges."""
    grain = check.grain
    missing_by_period = _missing_periods(ranges, grain, first, last)
    rows_by_period = {count.period_start: count.row_count for count in counts}
    excluded = {period for value in check.exclude for period in _excluded_periods(value, grain)}
    present_counts = [rows for period, rows in rows_by_period.items() if period not in missing_by_period]
    scale = (min(present_counts, default=0), max(present_counts, default=0))
    periods = periods_between(first, last, grain) if first is not None else []

    title = f"Completeness of {check.label} by {grain}"
    missing_total = sum(gap.missing_periods or 0 for gap in ranges)
    if first is None:
        summary = f"No rows at all up to {_label(last, grain)}."
    elif ranges:
        summary = (
            f"{_label(first, grain)} → {_label(last, grain)} · {len(periods)} {grain}s · "
            f"<strong>{missing_total} missing in {len(ranges)} range(s)</strong>"
        )
    else:
        summary = f"{_label(first, grain)} → {_label(last, grain)} · {len(periods)} {grain}s · " \
                  '<span class="ok">no gaps</span>'
    details = [f"at least {check.min_rows} row(s) per {grain}"]
    if check.partition_by:
        details.append("in every " + ", ".join(check.partition_by))
    if check.where:
        details.append(f"where {check.where}")

    cells = {
        period: _cell(period, grain, rows_by_period.get(period, 0), scale, missing_by_period.get(period),
                      period in excluded, check.min_rows)
        for period in periods
    }
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="summary">{summary} · {html.escape("; ".join(details))}</p>',
        _legend(scale),
        _grid(cells, grain, first, last) if periods else "",
        _ranges_table(ranges, grain),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _missing_periods(ranges, grain, first, last) -> dict:
    """period start → labels of the partitions missing it ('' for the whole relation)."""
    missing: dict = {}
    for gap in ranges:
        start = gap.gap_start if gap.gap_start is not None else first
        if start is None:
            continue
        label = ", ".join(f"{name}={_value(value)}" for name, value in gap.partition.items())
        for period in periods_between(start, gap.gap_end, grain):
            missing.setdefault(period, []).append(label)
    return missing


def _cell(period, grain, rows, scale, missing_in, is_excluded, min_rows) -> str:
    label = _label(period, grain)
    if missing_in is not None:
        partitions = [p for p in missing_in if p]
        where = f" in {len(partitions)} partition(s): {'; '.join(partitions[:5])}" if partitions else ""
        state = "partial" if rows and not partitions else "missing"
        text = f"{label}: {rows} row(s), missing{where}"
        if rows and not partitions:
            text = f"{label}: {rows} row(s), fewer than {min_rows}: missing"
        classes = "cell missing partial" if state == "partial" else "cell missing"
        return f'<div class="{classes}" data-period="{label}" data-state="missing" title="{html.escape(text)}"></div>'
    if is_excluded:
        return (f'<div class="cell excluded" data-period="{label}" data-state="excluded" '
                f'title="{label}: excluded ({rows} row(s))"></div>')
    shade = SHADES[_shade_index(rows, scale)]
    return (f'<div class="cell present" data-period="{label}" data-state="present" data-rows="{rows}" '
            f'style="--shade:{shade}" title="{label}: {rows} row(s)"></div>')


def _shade_index(rows: int, scale: tuple[int, int]) -> int:
    """Fewest rows of the page → lightest green, most → darkest, linearly."""
    low, high = scale
    if high <= low:
        return len(SHADES) - 1
    return min(len(SHADES) - 1, (rows - low) * len(SHADES) // (high - low))


def _grid(cells: dict, grain: str, first: Bound, last: Bound) -> str:
    """Rows of the calendar: a month of days, a day of hours, a year of weeks or of months."""
    if grain == "day":
        columns, heads = 31, [str(day) for day in range(1, 32)]
        row_of = lambda p: (p.year, p.month)  # noqa: E731
        column_of = lambda p: p.day - 1  # noqa: E731
        row_label = lambda key: f"{MONTH_NAMES[key[1] - 1]} {key[0]}"  # noqa: E731
    elif grain == "hour":
        columns, heads = 24, [f"{hour:02d}" for hour in range(24)]
        row_of = lambda p: p.date()  # noqa: E731
        column_of = lambda p: p.hour  # noqa: E731
        row_label = lambda key: key.isoformat()  # noqa: E731
    elif grain == "week":
        columns, heads = 53, [str(week) if week % 4 == 1 else "" for week in range(1, 54)]
        row_of = lambda p: p.isocalendar()[0]  # noqa: E731
        column_of = lambda p: p.isocalendar()[1] - 1  # noqa: E731
        row_label = lambda key: f"{key} (ISO weeks)"  # noqa: E731
    else:
        columns, heads = 12, list(MONTH_NAMES)
        row_of = lambda p: p.year  # noqa: E731
        column_of = lambda p: p.month - 1  # noqa: E731
        row_label = lambda key: str(key)  # noqa: E731

    rows: dict = {}
    for period, cell in cells.items():
        rows.setdefault(row_of(period), {})[column_of(period)] = cell
    out = [f'<div class="calendar" style="grid-template-columns: auto repeat({columns}, 16px)">',
           '<div class="label"></div>']
    out += [f'<div class="head">{head}</div>' for head in heads]
    for key, row in rows.items():
        out.append(f'<div class="label">{html.escape(row_label(key))}</div>')
        out += [row.get(column, '<div class="cell none"></div>') for column in range(columns)]
    out.append("</div>")
    return "\n".join(out)


def _legend(scale: tuple[int, int]) -> str:
    low, high = scale
    if high == 0:
        shades = [(f"background:{SHADES[0]}", "fewest rows"), (f"background:{SHADES[-1]}", "most rows")]
    elif low == high:
        shades = [(f"background:{SHADES[-1]}", f"{high} row(s)")]
    else:
        shades = [(f"background:{SHADES[0]}", f"{low} row(s)"), (f"background:{SHADES[-1]}", f"{high} row(s)")]
    items = [
        *shades,
        ("background:#d7301f", "missing (no rows)"),
        ("background:repeating-linear-gradient(135deg,#d7301f 0 3px,#fdae61 3px 6px)", "missing (too few rows)"),
        ("background:#d0d7de", "excluded"),
    ]
    spans = "".join(f'<span><i class="swatch" style="{style}"></i>{text}</span>' for style, text in items)
    return f'<div class="legend">{spans}</div>'


def _ranges_table(ranges, grain) -> str:
    if not ranges:
        return ""
    partition_names = list(ranges[0].partition)
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in partition_names)
    out = ["<table>", f"<tr>{head}<th>gap_start</th><th>gap_end</th><th>missing_periods</th></tr>"]
    for gap in ranges:
        values = "".join(f"<td>{html.escape(_value(value))}</td>" for value in gap.partition.values())
        start = _label(gap.gap_start, grain) if gap.gap_start is not None else "(no rows at all)"
        missing = "" if gap.missing_periods is None else gap.missing_periods
        out.append(f'<tr class="gap">{values}<td>{start}</td><td>{_label(gap.gap_end, grain)}</td>'
                   f'<td class="number">{missing}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def _label(value: Bound, grain: str) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:00")
    return value.isoformat()


def _value(value) -> str:
    """A partition value as SQL shows it: a null is null."""
    return "null" if value is None else str(value)


def _excluded_periods(text: str, grain: str) -> list[Bound]:
    """The periods an --exclude value names: at grain hour a date is all 24 of its hours."""
    value = datetime.fromisoformat(text)
    if grain != "hour":
        return [period_start(value.date(), grain)]
    if len(text.strip()) == 10:  # YYYY-MM-DD
        return [value + timedelta(hours=hour) for hour in range(24)]
    return [value]

