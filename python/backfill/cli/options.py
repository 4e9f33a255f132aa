"""The options several commands share, each defined once: its name, its type and
how its help reads. A command says only what is its own (what the model is for,
what the range limits).

    @options.model("The incremental model to backfill")
    @options.start("First day (or hour) to backfill")
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import yaml

from backfill.errors import InvalidInput
from backfill.periods import GRAINS

BOUND_FORMS = "YYYY-MM-DD, or YYYY-MM-DD HH:00 with --grain hour"


def model(what: str, required: bool = True):
    """--model/-m: one model of the project, by `name` or `package.name`. Given twice it is
    refused: click would silently keep the last one, and a run of the other model is not
    what the user asked for."""
    # No explicit default: click 8.3 takes `default=None` as a value given, and `required` would not hold.
    return click.option("--model", "-m", "model", required=required, multiple=True, callback=_one_model,
                        help=f"{what} (name or package.name); one per command.")


def _one_model(ctx, param, models: tuple[str, ...]):
    if len(models) > 1:
        raise InvalidInput(f"--model is given {len(models)} times ({', '.join(models)}): {ctx.info_name} takes "
                           "one model, so run it once per model.")
    return models[0] if models else None


def select(what: str):
    """--select/-s: nodes named in dbt's own selection syntax, resolved by dbt (`dbt ls`)."""
    return click.option("--select", "-s", "select", multiple=True, metavar="SELECTOR",
                        help=f"{what}, in dbt's selection syntax (daily_metrics+, tag:finance, "
                             "path:models/marts); repeatable.")


def exclude(what: str):
    """--exclude: nodes taken out of --select, in dbt's selection syntax."""
    return click.option("--exclude", multiple=True, metavar="SELECTOR",
                        help=f"{what}, in dbt's selection syntax; repeatable.")


def start(what: str, default: str = "", required: bool = False):
    """--start: the first period, inclusive."""
    return click.option("--start", required=required,
                        help=f"{what}, inclusive: {BOUND_FORMS}.{_default(default)}")


def end(what: str, default: str = "", required: bool = False):
    """--end: the last period, inclusive."""
    return click.option("--end", required=required,
                        help=f"{what}, inclusive: {BOUND_FORMS}.{_default(default)}")


def grain(what: str, default="day"):
    """--grain: hour, day, week (ISO, Monday first) or month."""
    return click.option("--grain", default=default, show_default=default is not None,
                        help=f"{what}: {', '.join(GRAINS)} (weeks are ISO, Monday first).")


def vars(what: str = "every batch"):
    """--vars: extra dbt vars, as YAML (like dbt's own --vars)."""
    return click.option("--vars", "vars_text", default=None, help=f"Extra dbt vars for {what}, as YAML: '{{region: eu}}'.")


def as_json(what: str = "JSON lines (one per event)"):
    """--json: machine output."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} instead of text.")


def batch_size(what: str = "Periods per batch (one dbt run each)."):
    return click.option("--batch-size", default=1, show_default=True, type=int, help=what)


def retries():
    return click.option("--retries", default=0, show_default=True, type=int,
                        help="Retry a failing batch this many times.")


def verify(what: str):
    return click.option("--verify/--no-verify", default=True, show_default=True, help=what)


def parse_vars(text: str | None) -> dict:
    """--vars takes YAML (or JSON), like dbt's own --vars."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"--vars is not valid YAML: {yaml_problem(error)}.") from None
    if not isinstance(value, dict):
        raise InvalidInput("--vars must be a mapping, e.g. --vars '{region: eu}'.")
    return value


def yaml_problem(error: "yaml.YAMLError") -> str:
    """What YAML found wrong, and where: `expected ',' or '}' (column 12)`."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (column {mark.column + 1})" if mark is not None else problem


def check_writable_file(path: str, option: str) -> Path:
    """A file an option will write (--html): its folder must exist and take files, checked
    before anything runs."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInput(f"{option} {path} is a folder: give a file name, e.g. {target / 'gaps.html'}.")
    if not folder.is_dir():
        raise InvalidInput(f"{option} {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InvalidInput(f"{option} {path} cannot be written: no permission to write in {folder}.")
    return target


def _default(text: str) -> str:
    return f" Default: {text}." if text else ""
