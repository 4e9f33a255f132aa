"""The shape of the runner, checked: dbt is imported in one package only
(backfill.dbt), click in the command line only, no module imports another that
imports it back, and `--help` of any command imports no dbt at all."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backfill"
DBT_PACKAGES = ("dbt", "dbt_common", "dbt_adapters", "agate")
COMMANDS = ["run", "gaps", "status", "resume", "reconcile", "repair", "verify"]


def modules() -> dict[str, Path]:
    """backfill's modules by dotted name (a package by its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every import of a file, at any depth (a function's too): (module, names imported from it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_no_module_outside_backfill_dbt_imports_dbt():
    offenders = {
        name: sorted({module for module, _ in imports(path) if module.split(".")[0] in DBT_PACKAGES})
        for name, path in modules().items() if not (name == "backfill.dbt" or name.startswith("backfill.dbt."))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_only_the_command_line_imports_click():
    # demo_data is a command of its own (python -m backfill.demo_data)
    offenders = [name for name, path in modules().items()
                 if not name.startswith("backfill.cli") and name != "backfill.demo_data"
                 and any(module.split(".")[0] == "click" for module, _ in imports(path))]
    assert offenders == []


def test_no_module_imports_one_that_imports_it_back():
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for module, names in imports(path):
            if not module.startswith("backfill"):
                continue
            targets = [f"{module}.{item}" for item in names if f"{module}.{item}" in known] or [module]
            graph[name].update(target for target in targets if target in known and target != name)

    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target] if target in trail else [node, target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


HELP = """
import json, sys
from backfill.cli import cli
for args in ([], *[[command] for command in sys.argv[1:]]):
    try:
        cli([*args, "--help"], prog_name="python -m backfill")
    except SystemExit as exit:
        assert exit.code == 0, (args, exit.code)
print("LOADED " + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
""" % (DBT_PACKAGES,)


def test_help_imports_no_dbt():
    result = subprocess.run([sys.executable, "-c", HELP, *COMMANDS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.split("LOADED ", 1)[1])
    assert loaded == []
    for command in COMMANDS:
        assert f"Usage: python -m backfill {command}" in result.stdout


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_says_what_it_holds(name):
    docstring = ast.get_docstring(ast.parse(modules()[name].read_text()))
    assert docstring and len(docstring.split()) >= 5, f"{name} has no opening comment"
