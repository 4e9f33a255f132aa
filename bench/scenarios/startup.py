"""Scenario 6: how long the command line takes to answer before any work.

- `python -m backfill --help` and `python -m backfill run --help`: they import
  no dbt (python/tests/test_layers.py checks that), so they should answer in
  well under a second;
- `python -c "import dbt.cli.main"`: what importing dbt alone costs, which the
  help no longer pays;
- `dbt --help`, dbt's own start-up, for reference.

No warehouse is touched: this runs once, in the PostgreSQL pass.
"""

from __future__ import annotations

import os

from bench import report
from bench.dbt_project import DBT, PYTHON, REPO
from bench.measure import median, run_command
from bench.scenarios import Context

CONTENDERS = {
    "python -m backfill --help": [PYTHON, "-m", "backfill", "--help"],
    "python -m backfill run --help": [PYTHON, "-m", "backfill", "run", "--help"],
    "import dbt.cli.main (what --help no longer pays)": [PYTHON, "-c", "import dbt.cli.main"],
    "dbt --help (reference)": [DBT, "--help"],
}
REPETITIONS = 5


def run(context: Context) -> report.Table:
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    timings: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for repetition in range(1, REPETITIONS + 1):  # round-robin: a busier moment hits all alike
        for name, command in CONTENDERS.items():
            finished = run_command(command, env, str(REPO), context.timeout)
            if "Usage:" not in finished.stdout and "--help" in command:
                raise RuntimeError(f"{name} printed no usage: {finished.stdout[:200]}")
            timings[name].append(finished.seconds)
            context.log(f"    {name:<50} run {repetition}/{REPETITIONS}: {finished.seconds:6.3f} s")
    help_seconds = median(timings["python -m backfill run --help"])
    dbt_import = median(timings["import dbt.cli.main (what --help no longer pays)"])
    table = report.Table(
        title="6. Start-up: the command line before any work",
        intro=(f"Median of {REPETITIONS} runs each, round-robin, as separate processes. The help of every command "
               "imports no dbt module (python/tests/test_layers.py), so it costs what Python and click cost."),
        headers=["command", "median s", "fastest–slowest"],
        numbers={name: [round(value, 3) for value in values] for name, values in timings.items()},
    )
    for name, values in timings.items():
        table.rows.append([report.named(name, name.startswith("python -m backfill")), report.seconds(median(values)),
                           report.spread(min(values), max(values))])
    verdict = "met" if help_seconds < 1.0 else "NOT met"
    table.headline = (f"Start-up: `python -m backfill run --help` answers in {report.seconds(help_seconds)} s "
                      f"(target: well under a second, {verdict}); importing dbt alone takes "
                      f"{report.seconds(dbt_import)} s.")
    table.ratios = table.headline
    return table
