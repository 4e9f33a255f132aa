"""The daily job's data, shared by scenarios 1 and 2: the generated events, the
model's SQL as dbt compiles it for one day (the floor sends exactly that), and
the right answer for the whole year (`truth_daily_metrics`, built once from the
same SQL), which every contender's table is compared with.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench import data
from bench.connect import quoted
from bench.dbt_project import DAILY_MODEL, compile_node, contender_env
from bench.scenarios import Context
from bench.warehouses import DataSet, Sandbox

# Compiled with this day as the window, then written as {start} / {end_exclusive}.
SENTINEL = date(1999, 1, 1)
TRUTH_TABLE = "truth_daily_metrics"
COLUMNS = ("metric_date", "event_count", "item_count", "total_amount", "total_quantity")


@dataclass(frozen=True)
class Pipeline:
    data: DataSet
    select_template: str  # the model's select for one day: {start}, {end_exclusive}
    first_day: date
    last_day: date

    @property
    def period(self) -> tuple[str, str]:
        return self.first_day.isoformat(), self.last_day.isoformat()


def prepare_pipeline(context: Context) -> Pipeline:
    if "pipeline" in context.shared:
        return context.shared["pipeline"]
    sizes, warehouse = context.sizes, context.warehouse
    context.log(f"  generating {sizes.backfill_days} days × {sizes.events_per_day:,} events ({warehouse.kind})")
    dataset = warehouse.generate("pipeline", lambda dialect, schema: data.pipeline_statements(
        dialect, schema, sizes.backfill_days, sizes.events_per_day))
    first, last = data.day_of(0), data.day_of(sizes.backfill_days - 1)
    with warehouse.sandbox(dataset) as sandbox, tempfile.TemporaryDirectory(prefix="bench-") as folder:
        env = contender_env(sandbox, Path(folder), (first.isoformat(), last.isoformat()))
        vars = {"start_date": SENTINEL.isoformat(), "end_date": SENTINEL.isoformat()}
        template = window_template(compile_node(env, Path(folder), DAILY_MODEL, vars))
    whole_year = template.replace("{start}", data.date_literal(first)).replace(
        "{end_exclusive}", data.date_literal(data.day_of(sizes.backfill_days)))
    warehouse.execute(f"create table {quoted(dataset.schema, TRUTH_TABLE)} as {whole_year}",
                      duckdb_path=dataset.duckdb_path)
    pipeline = Pipeline(dataset, template, first, last)
    context.shared["pipeline"] = pipeline
    return pipeline


def window_template(compiled: str) -> str:
    """The compiled select with the sentinel day's bounds made placeholders
    (the package writes them as `cast('1999-01-01T00:00:00' as date)`)."""
    bounds = {"{start}": SENTINEL, "{end_exclusive}": date.fromordinal(SENTINEL.toordinal() + 1)}
    for placeholder, day in bounds.items():
        literal = re.compile(r"cast\('" + day.isoformat() + r"[^']*' as date\)")
        if not literal.search(compiled):
            raise RuntimeError(f"The compiled {DAILY_MODEL} does not show its window bounds:\n{compiled}")
        compiled = literal.sub(placeholder, compiled)
    return compiled


def fingerprint_sql(table: str, where: str = "1 = 1") -> str:
    """The row count and an md5 of every row, in date order: equal tables, equal fingerprints."""
    row = "concat_ws('|', " + ", ".join(COLUMNS) + ")"
    return f"select count(*), md5(string_agg({row}, ',' order by metric_date)) from {table} where {where}"


def truth(pipeline: Pipeline, warehouse, last_day: date) -> tuple:
    """The fingerprint of the right table for the days up to `last_day`."""
    where = f"metric_date <= {data.date_literal(last_day)}"
    table = quoted(pipeline.data.schema, TRUTH_TABLE)
    return tuple(warehouse.query(fingerprint_sql(table, where), pipeline.data.duckdb_path)[0])


def table_fingerprint(sandbox: Sandbox, model: str) -> tuple:
    """The fingerprint of everything the contender left in its table."""
    return tuple(sandbox.query(fingerprint_sql(sandbox.table(model)))[0])
