"""`python -m backfill reconcile`: run the reconciliation tests, print one line per check."""

from __future__ import annotations

import json
import sys
import uuid

import click

from backfill.cli import options
from backfill.errors import EXIT_FAILED

EXAMPLES = """\b
Examples:
  python -m backfill reconcile
  python -m backfill reconcile --select source:reference_raw.orders
  python -m backfill reconcile --start 2024-01-01 --end 2024-01-07 --history
  python -m backfill reconcile --json --webhook https://alerts.example.com/hooks/dbt
"""


@click.command(epilog=EXAMPLES, short_help="Run the reconciliation tests; report pass or fail per check.")
@options.select("The reconciliation tests to run (default: every one)")
@options.start("Only check this window (the checks that set window_column): its first day")
@options.end("The window's last day (with --start)")
@options.vars("the checks")
@options.as_json("the results as one JSON document")
@click.option("--history", is_flag=True, help="Append each result to <target schema>.backfill_reconcile_history.")
@click.option("--webhook", default=None, metavar="URL", help="POST the failing checks as JSON to URL.")
@click.option("--warn-error", is_flag=True, help="Treat checks of severity warn that found differences as failures.")
@click.pass_obj
def reconcile(obj, select, start, end, vars_text, as_json, history, webhook, warn_error):
    """Run the reconciliation tests (backfill.reconcile_count, _sum, _keys, _rows)
    through dbt and report each: pass or fail, both sides' figures, the worst groups.

    The tests declared in the project's YAML are the checks; nothing is compared
    in Python. Exits 1 when a check fails (or errors), so a scheduler can alert;
    checks of severity warn print WARN and pass unless --warn-error.
    """
    from backfill.dbt import DbtProject
    from backfill.errors import InvalidInput
    from backfill.periods import parse_range
    from backfill.reconcile import append_history, run_checks
    from backfill.webhook import check_url, post_json, reachable_problem

    vars = options.parse_vars(vars_text)
    if (start is None) != (end is None):
        raise InvalidInput("Give both --start and --end, or neither.")
    if start is not None:
        # the same refusals as `run`: a real date each, the start not after the end
        first, last = parse_range(start, end, "day")
        vars.update({"start_date": first.isoformat(), "end_date": last.isoformat()})
    unreachable = None
    if webhook:
        check_url(webhook)
        unreachable = reachable_problem(webhook)
    project = DbtProject(obj["project_dir"], obj["profiles_dir"], obj["target"])
    checks = run_checks(project, select=list(select) or None, vars=vars)
    failing = [c for c in checks if c.status in ("fail", "error") or (warn_error and c.status == "warn")]
    invocation_id = str(uuid.uuid4())

    if as_json:
        click.echo(json.dumps(report_document(checks, failing, invocation_id), indent=2, default=str))
    else:
        for check in checks:
            click.echo(report_line(check))
        click.echo(summary_line(checks, failing))

    problems = []
    if history:
        append_history(project, checks, invocation_id, vars)
        if not as_json:
            click.echo(f"Appended {len(checks)} result(s) to backfill_reconcile_history.")
    if unreachable:
        problems.append(f"Could not post to --webhook: {unreachable}.")
    elif webhook and failing:
        try:
            post_json(webhook, webhook_payload(failing, checks, invocation_id, project))
            if not as_json:
                click.echo(f"Posted {len(failing)} failing check(s) to the webhook.")
        except OSError as error:
            problems.append(f"Could not post to --webhook: {error}.")
    for problem in problems:
        click.echo(problem, err=True)
    if failing or problems:
        sys.exit(EXIT_FAILED)


def report_document(checks, failing, invocation_id) -> dict:
    return {
        "invocation_id": invocation_id,
        "passed": not failing,
        "counts": {status: sum(1 for c in checks if c.status == status) for status in ("pass", "warn", "fail", "error")},
        "checks": [check.as_dict() for check in checks],
    }


def webhook_payload(failing, checks, invocation_id, project) -> dict:
    return {
        "source": "backfill reconcile",
        "invocation_id": invocation_id,
        "project_dir": str(project.project_dir),
        "target": project.target_name,  # the target used: --target, else the profile's default
        "failed": len(failing),
        "total": len(checks),
        "checks": [check.as_dict() for check in failing],
    }


# -- the text report: one line per check ---------------------------------------------

def report_line(check) -> str:
    label = {"pass": "pass", "warn": "WARN", "fail": "FAIL", "error": "ERROR"}.get(check.status, check.status.upper())
    if check.kind == "sum":
        compare_column = check.compare_column or check.column
        sides = f"{check.model}.{check.column} vs {check.compare_model}.{compare_column}"
    else:
        sides = f"{check.model} vs {check.compare_model}"
    head = f"{label:<5}  {check.name}  {check.kind}: {sides}{_scope(check)}"
    if check.status == "error":
        return f"{head} — {check.message}"
    if check.status == "pass":
        return f"{head} — agree"
    if not check.worst and check.message:  # failing rows that could not be read
        return f"{head} — {check.failures} failing row(s); {check.message}"
    return f"{head} — {_findings(check)}"


def summary_line(checks, failing) -> str:
    counts = {status: sum(1 for c in checks if c.status == status) for status in ("pass", "warn", "fail", "error")}
    parts = [f"{counts['pass']} passed"]
    parts += [f"{counts[s]} {name}" for s, name in (("warn", "warned"), ("fail", "failed"), ("error", "errored")) if counts[s]]
    verdict = "FAILED" if failing else "OK"
    return f"{verdict}: {len(checks)} check(s), " + ", ".join(parts) + "."


def _scope(check) -> str:
    scope = f" on {', '.join(check.key_columns)}" if check.kind in ("keys", "rows") else ""
    if check.group_by:
        scope += f" per {', '.join(check.group_by)}"
    return scope


def _findings(check) -> str:
    if check.kind in ("count", "sum"):
        totals = f"totals {_fmt(check.model_total)} vs {_fmt(check.compare_total)}"
        groups = f"{check.failures} of {check.groups_compared} group(s) differ" if check.group_by else "totals differ"
        worst = "; ".join(_group_finding(check, row) for row in check.worst[:3])
        return f"{groups}, {totals}" + (f"; worst: {worst}" if check.group_by and worst else "")
    if check.kind == "rows" and check.summary:
        parts = []
        for row in check.worst:
            if row.get("column_name") is None:
                parts += [f"{row[k]} key(s) {text}" for k, text in (
                    ("keys_missing_in_compare", "missing in compare_model"),
                    ("keys_missing_in_model", "missing in model"),
                    ("duplicated_keys", "duplicated")) if row.get(k)]
            else:
                counts = [f"{row[k]} {text}" for k, text in (
                    ("differing_rows", "differ"), ("null_in_model_rows", "null in model only"),
                    ("null_in_compare_rows", "null in compare_model only")) if row.get(k)]
                parts.append(f"{row['column_name']}: {', '.join(counts)} of {row['matched_rows']} matched rows")
        return "; ".join(parts)
    issues = "; ".join(_issue_count(issue, count) for issue, count in sorted(check.issues.items(), key=lambda i: -i[1]))
    keys = ", ".join(_key_of(check, row) for row in check.worst[:3])
    return f"{issues}" + (f"; e.g. {keys}" if keys else "")


def _issue_count(issue: str, count: int) -> str:
    column, _, what = issue.rpartition(": ")
    return f"{column}: {count} {what}" if column else f"{count} {what}"


def _group_finding(check, row) -> str:
    group = ", ".join(_fmt(v) for v in list(row.values())[: len(check.group_by)])  # the group columns lead
    if row.get("missing_in"):
        return f"{group} only in {'compare_model' if row['missing_in'] == 'model' else 'model'} ({_fmt(row['model_value'])} vs {_fmt(row['compare_value'])})"
    return f"{group} {_fmt(row['model_value'])} vs {_fmt(row['compare_value'])} ({_signed(row['difference'])})"



def _key_of(check, row) -> str:
    # The key columns lead each row, under the user's names, or key_1 ... for an expression or a
    # name the builders use themselves (`issue`): labelled with the names the check declares.
    values = list(row.values())[: len(check.key_columns)]
    key = ", ".join(f"{name}={_fmt(value)}" for name, value in zip(check.key_columns, values))
    if row.get("column_name"):
        return f"{key} {row['column_name']} {_fmt(row.get('model_value'))!s} vs {_fmt(row.get('compare_value'))}"
    return f"{key} ({row.get('issue')})"


def _fmt(value) -> str:
    if value is None:
        return "null"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        # the same figure prints the same on every warehouse (a count may arrive as a decimal)
        number = float(value)
        return f"{int(number):,}" if number == int(number) else f"{number:,.2f}"
    return str(value)


def _signed(value) -> str:
    text = _fmt(value)
    return text if text.startswith("-") else f"+{text}"
