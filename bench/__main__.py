"""The benchmark harness of issue 8: every scenario, every contender, one run.

    python -m bench --preset full --output BENCHMARKS.md --readme README.md   # make bench
    python -m bench --preset quick --output bench/results/BENCHMARKS-quick.md  # make bench-quick

Generates the data, times each contender on it, checks they agree, prints the
tables and writes them (with the machine and the command) to --output. Not a
test: CI never runs it (a smoke test runs the quick preset).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench import document, machine
from bench.dbt_project import REPO, install_package
from bench.measure import ContenderFailed
from bench.scenarios import Context, backfill_throughput, gap_aware_backfill, gap_detection, reconciliation, startup
from bench.sizes import PRESETS, sizes
from bench.trials import ResultsDisagree
from bench.warehouses import DuckDB, Postgres, new_run_id

SCENARIOS = {
    1: backfill_throughput.run,
    2: gap_aware_backfill.run,
    3: gap_detection.run,
    4: reconciliation.run_comparison,
    5: reconciliation.run_scaling,
    6: startup.run,
}
WAREHOUSES = {"postgres": Postgres, "duckdb": DuckDB}


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--warehouses", default="postgres,duckdb",
                        help="comma-separated: postgres, duckdb (default both)")
    parser.add_argument("--scenarios", type=numbers, default=list(SCENARIOS), help="e.g. 1,3 (default all)")
    parser.add_argument("--output", type=Path, default=None, help="the Markdown file to write (default: none)")
    parser.add_argument("--readme", type=Path, default=None,
                        help="also write the headlines between the bench:headline markers of this README")
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results",
                        help="where the raw numbers of the run go, as JSON")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one contender's run may take")
    parser.add_argument("--require-all", action="store_true",
                        help="refuse to run without pandas and reladiff instead of leaving them out")
    # The sizes, to override the preset's (see bench/sizes.py).
    parser.add_argument("--backfill-days", type=int)
    parser.add_argument("--events-per-day", type=int)
    parser.add_argument("--sampled-batches", type=int)
    parser.add_argument("--gap-rows", type=int)
    parser.add_argument("--recon-rows", type=int)
    parser.add_argument("--scaling-rows", type=lambda text: tuple(numbers(text)))
    parser.add_argument("--backfill-repetitions", type=int)
    parser.add_argument("--repetitions", type=int)
    parser.add_argument("--duckdb-backfill-repetitions", type=int)
    parser.add_argument("--recon-repetitions", type=int)
    parser.add_argument("--scaling-repetitions", type=int)
    parser.add_argument("--duckdb-scenarios", type=lambda text: tuple(numbers(text)))
    args = parser.parse_args(argv)
    unknown = set(args.warehouses.split(",")) - set(WAREHOUSES)
    if unknown:
        parser.error(f"unknown warehouse(s): {', '.join(sorted(unknown))}")
    if set(args.scenarios) - set(SCENARIOS):
        parser.error("scenarios are numbered 1 to 6")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    chosen = sizes(args.preset, backfill_days=args.backfill_days, events_per_day=args.events_per_day,
                   sampled_batches=args.sampled_batches, gap_rows=args.gap_rows, recon_rows=args.recon_rows,
                   scaling_rows=args.scaling_rows, backfill_repetitions=args.backfill_repetitions,
                   repetitions=args.repetitions, duckdb_backfill_repetitions=args.duckdb_backfill_repetitions,
                   recon_repetitions=args.recon_repetitions, scaling_repetitions=args.scaling_repetitions,
                   duckdb_scenarios=args.duckdb_scenarios)
    # `kill` (a CI timeout, Ctrl-C in make) still drops what this run created.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_id = new_run_id()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    began = time.monotonic()
    log(f"Benchmark {run_id}: {chosen.describe()}")
    install_package()
    tables, warehouses = [], []
    load_before = machine.load_average()
    with tempfile.TemporaryDirectory(prefix="bench-duckdb-") as duckdb_folder:
        for kind in args.warehouses.split(","):
            warehouse = WAREHOUSES[kind](run_id, Path(duckdb_folder) / run_id)
            warehouses.append(warehouse)
            context = Context(warehouse, chosen, args.timeout, log, shared={}, require_all=args.require_all)
            chosen_here = [n for n in sorted(args.scenarios) if kind == "postgres" or n in chosen.duckdb_scenarios]
            try:
                for number in chosen_here:
                    tables.append((number, SCENARIOS[number](context)))
            except (ResultsDisagree, ContenderFailed) as error:
                log(f"\nBENCHMARK FAILED ({kind}): {error}")
                return 1
            finally:
                log(f"  dropping what run {run_id} created on {kind}")
                warehouse.cleanup()
        facts = machine.facts(warehouses)
    facts["Load average (1/5/15 min) at start, at end"] = f"{load_before}; {machine.load_average()}"
    ordered = [table for _, table in sorted(tables, key=lambda pair: pair[0])]
    minutes = (time.monotonic() - began) / 60
    for table in ordered:
        print(table.text())
    command = ".venv/bin/python -m bench " + " ".join(map(shlex.quote, argv))
    save_numbers(args.results_dir, run_id, chosen, facts, ordered)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document.benchmarks_md(ordered, facts, chosen.describe(), chosen.name == "full",
                                                      command, started, minutes))
        log(f"Wrote {args.output}.")
    if args.readme:
        document.update_readme(args.readme, ordered, chosen.describe(), chosen.name == "full")
        log(f"Wrote the headlines into {args.readme}.")
    log(f"Done in {minutes:.1f} minutes.")
    return 0


def save_numbers(folder: Path, run_id: str, chosen, facts: dict, tables) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}.json"
    path.write_text(json.dumps({"run_id": run_id, "sizes": chosen.__dict__, "machine": facts,
                                "tables": [{"title": t.title, "numbers": t.numbers} for t in tables]},
                               indent=2, default=str))
    log(f"Raw numbers: {path}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
