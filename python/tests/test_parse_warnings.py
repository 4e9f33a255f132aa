"""dbt parses the package, the demo project and a user's project importing it, without a warning:
no deprecated property, no macro argument of a type dbt does not know (dbt 1.12
checks them), test arguments under `arguments:`. Run on every dbt of the CI matrix."""

import re

import pytest

from conftest import DEMO, REPO, Warehouse, make_user_project

pytestmark = pytest.mark.slow

# dbt's warnings and deprecations as it prints them; not 1.10's notice that 1.10 itself is old.
WARNING = re.compile(r"\[WARNING\]|Deprecated functionality|deprecation", re.IGNORECASE)


def warnings_of(store: Warehouse) -> list[str]:
    parsed = store.dbt("parse", "--no-partial-parse", "--no-use-colors")
    return [line for line in (parsed.stdout + parsed.stderr).splitlines() if WARNING.search(line)]


def test_the_package_parses_without_a_warning(tmp_path):
    assert warnings_of(Warehouse("duckdb", tmp_path, REPO)) == []


def test_the_demo_project_parses_without_a_warning(tmp_path):
    assert warnings_of(Warehouse("duckdb", tmp_path, DEMO)) == []


def test_a_project_importing_the_package_parses_without_a_warning(tmp_path):
    assert warnings_of(make_user_project(tmp_path, "duckdb")) == []
