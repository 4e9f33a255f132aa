"""`python -m backfill gaps`, the `no_gaps` test and `gap_windows` on the demo's
daily_metrics after a full build, on DuckDB and PostgreSQL: the planted gap days
of the demo data, the test's stored failures and `gaps --json` are one set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import date, timedelta

import pytest

from backfill.demo_data import MISSING_EVENT_DAYS, DemoSize

pytestmark = pytest.mark.slow

FULL_RANGE = ["--start", "2024-01-01", "--end", "2024-04-30"]
MISSING_COLOUR = (0xD7, 0x30, 0x1F)  # .cell.missing in calendar_html.STYLE


def planted_ranges() -> list[dict]:
    """The demo's missing event days (demo_data constants), collapsed into ranges."""
    size = DemoSize()
    days = sorted(size.day(offset) for offset in MISSING_EVENT_DAYS if offset < size.days)
    ranges: list[list[date]] = []
    for day in days:
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [{"gap_start": a.isoformat(), "gap_end": b.isoformat(), "missing_periods": (b - a).days + 1}
            for a, b in ranges]


@pytest.fixture(scope="module")
def built(demo_warehouse):
    """The demo data with daily_metrics built in full (one dbt run)."""
    demo_warehouse.dbt("run", "--select", "daily_metrics")
    return demo_warehouse


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory):
    """One `gaps --json --html` over the demo's history and one over a range without gaps."""
    folder = tmp_path_factory.mktemp("pages")
    with_gaps, without_gaps = folder / "gaps.html", folder / "clean.html"
    full = built.cli("gaps", "--model", "daily_metrics", *FULL_RANGE, "--json", "--html", str(with_gaps))
    clean = built.cli("gaps", "--model", "daily_metrics", "--start", "2024-01-16", "--end", "2024-02-09",
                      "--html", str(without_gaps))
    return {"full": full, "clean": clean, "with_gaps": with_gaps, "without_gaps": without_gaps}


def test_gaps_json_reports_exactly_the_planted_days_and_exits_1(pages):
    assert pages["full"].returncode == 1, pages["full"].stderr
    document = json.loads(pages["full"].stdout)
    assert document["gaps"] == planted_ranges()
    assert document["missing_periods"] == len(MISSING_EVENT_DAYS)
    assert (document["column"], document["grain"]) == ("metric_date", "day")  # from the model's event_time


def test_the_no_gaps_test_stores_the_same_rows_as_gaps_json(built, pages):
    result = built.dbt("test", "--select", "daily_metrics_has_no_gaps", "--store-failures")
    assert "WARN=1" in result.stdout, result.stdout  # severity warn: the demo still passes
    audit_schema = f"{built.schema}_dbt_test__audit"
    stored = built.sql(
        f'select gap_start, gap_end, missing_periods from "{audit_schema}".daily_metrics_has_no_gaps'
    )
    stored_rows = sorted(
        ({"gap_start": str(a)[:10], "gap_end": str(b)[:10], "missing_periods": int(n)} for a, b, n in stored),
        key=lambda row: row["gap_start"],
    )
    assert stored_rows == json.loads(pages["full"].stdout)["gaps"] == planted_ranges()


def test_a_range_without_gaps_passes_the_test_and_exits_0(built, pages):
    clean = pages["clean"]
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines()[0] == "No gaps in daily_metrics.metric_date by day (2024-01-16 → 2024-02-09)."
    test = built.dbt("test", "--select", "daily_metrics_has_no_gaps",
                     "--vars", '{backfill_history_start: "2024-01-16", backfill_history_end: "2024-02-09"}')
    assert "PASS=1" in test.stdout, test.stdout


def test_the_table_output_lists_the_ranges(built):
    result = built.cli("gaps", "--model", "daily_metrics", *FULL_RANGE)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Gaps in daily_metrics.metric_date by day (2024-01-01 → 2024-04-30): 4 range(s), 6 missing day(s)."
    assert lines[1].split() == ["gap_start", "gap_end", "missing_periods"]
    assert [line.split() for line in lines[2:-1]] == [
        [r["gap_start"], r["gap_end"], str(r["missing_periods"])] for r in planted_ranges()
    ]
    # Which check found them: the model's own no_gaps test, as dbt renders its arguments.
    assert lines[-1] == ("Checked as the model's test daily_metrics_has_no_gaps declares it (grain day; min_rows 1; "
                         "from the command line: start, end).")


GAP_WINDOWS = r"""
import json, sys
from backfill.dbt import DbtProject
from backfill.no_gaps import gap_windows
from backfill.planning import plan_batches_for_ranges

project = DbtProject(sys.argv[1])
model = project.model("daily_metrics")
out = {}
for grain, start, end in [("day", "2024-01-01", "2024-04-30"), ("month", "2024-01-01", "2024-05-15"),
                          ("week", "2024-01-03", "2024-05-08")]:
    windows = gap_windows(project, model, start, end, grain)
    batches = plan_batches_for_ranges(windows, grain, batch_size=2)
    out[grain] = {"windows": [[a.isoformat(), b.isoformat()] for a, b in windows],
                  "batches": [[b.start.isoformat(), b.end.isoformat()] for b in batches]}
print("WINDOWS " + json.dumps(out))
"""


def test_gap_windows_feed_the_batch_planner(built):
    result = built._run([sys.executable, "-c", GAP_WINDOWS, str(built.project_dir)], check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("WINDOWS "))
    windows = json.loads(line[len("WINDOWS "):])
    expected_days = [[r["gap_start"], r["gap_end"]] for r in planted_ranges()]
    assert windows["day"]["windows"] == expected_days
    # Batches of two days never span two gaps: the 3-day gap is split 2 + 1.
    assert windows["day"]["batches"] == [
        ["2024-01-15", "2024-01-15"], ["2024-02-10", "2024-02-11"], ["2024-02-12", "2024-02-12"],
        ["2024-02-29", "2024-02-29"], ["2024-03-30", "2024-03-30"],
    ]
    # The model's no_gaps test (grain day) says what is missing; a month or week batch reruns the whole
    # period that holds a missing day, merged where they touch and clipped to the asked range.
    assert windows["month"]["windows"] == [["2024-01-01", "2024-03-31"], ["2024-05-01", "2024-05-15"]]
    assert windows["week"]["windows"] == [
        ["2024-01-15", "2024-01-21"], ["2024-02-05", "2024-02-18"], ["2024-02-26", "2024-03-03"],
        ["2024-03-25", "2024-03-31"], ["2024-04-29", "2024-05-08"]]


@pytest.mark.parametrize(
    "args, sentence, needs_warehouse",
    [
        (["--grain", "year"], "Error: Unknown grain 'year': use one of hour, day, week, month.", False),
        (["--start", "2024-02-01", "--end", "2024-01-31"], "Error: --end 2024-01-31 is before --start 2024-02-01.", False),
        (["--start", "2024-02-30"], "Error: --start '2024-02-30' is not a real date.", False),
        (["--min-rows", "0"], "Error: --min-rows must be a whole number, 1 or more (got 0).", False),
        (["--column", "metric_day"], "Error: daily_metrics has no column 'metric_day' (it has: event_count, "
         "item_count, metric_date, total_amount, total_quantity).", True),
        (["--partition-by", "store_id"], "Error: daily_metrics has no column 'store_id' (it has: event_count, "
         "item_count, metric_date, total_amount, total_quantity).", True),
    ],
)
def test_bad_input_is_refused_with_one_sentence_and_exit_2(built, args, sentence, needs_warehouse):
    result = built.cli("gaps", "--model", "daily_metrics", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == sentence


# -- the calendar page in a real browser --------------------------------------------


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("BACKFILL_REQUIRE_CHROMIUM") == "1":
        pytest.fail("Chromium is required (BACKFILL_REQUIRE_CHROMIUM=1) but none was found on PATH.")
    pytest.skip("no Chromium on PATH (apt-get install chromium)")


def browse(page, tmp_path, *flags) -> subprocess.CompletedProcess:
    browser = chromium()
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", *flags, page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path) -> list[tuple[int, int, int]]:
    """The RGB pixels of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour_type in (2, 6)
    channels = 4 if colour_type == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - upper_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
                nearest = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[i] = (line[i] + nearest) & 0xFF
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return pixels


def test_the_calendar_page_renders_in_chromium_with_the_missing_days_marked(pages, tmp_path):
    chromium()  # skip before anything else when there is no browser
    with_gaps, without_gaps = pages["with_gaps"], pages["without_gaps"]

    # The DOM as Chromium parsed it: one cell per day, exactly the planted days missing.
    dom = browse(with_gaps, tmp_path, "--dump-dom").stdout
    cells = re.findall(r'<div class="cell [^"]*" data-period="([^"]+)" data-state="(\w+)"', dom)
    assert len(cells) == 121
    missing = sorted(period for period, state in cells if state == "missing")
    planted = sorted(
        (date.fromisoformat(r["gap_start"]) + timedelta(days=n)).isoformat()
        for r in planted_ranges() for n in range(r["missing_periods"])
    )
    assert missing == planted

    # The pixels: each missing day adds a red cell to what the page without gaps shows (the legend).
    def red_pixels(page):
        shot = tmp_path / (page.stem + ".png")
        browse(page, tmp_path, "--window-size=1000,700", f"--screenshot={shot}")
        return sum(1 for pixel in png_pixels(shot) if pixel == MISSING_COLOUR)

    baseline = red_pixels(without_gaps)
    marked = red_pixels(with_gaps)
    assert baseline > 0  # the legend's swatch
    assert marked - baseline >= len(planted) * 16 * 16 // 2, (marked, baseline)
