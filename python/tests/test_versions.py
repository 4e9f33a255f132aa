"""The dbt versions the runner drives (backfill.dbt.versions): the pins admit what CI
runs, dbt 2 or a missing dbt-core is one sentence and exit 2 before dbt is imported,
and the fast path turns itself on only on what it was tested on, with every internal
it reaches into in place.

A dbt-core of another version is made visible the way Python finds one: a
`dbt_core-X.dist-info` earlier on the path (what `importlib.metadata` reads)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from backfill.dbt import versions
from backfill.dbt.fast_path import _INTERNALS, missing_internal
from conftest import shadow_installed

REPO = Path(__file__).resolve().parents[2]


def test_the_pins_admit_every_dbt_package_this_environment_runs():
    # Run on every leg of CI (1.10, 1.11, 1.12): a `pip install backfill` next to the
    # dbt installed here keeps it, as nothing the package requires excludes it.
    required = [Requirement(text) for text in metadata.requires("backfill") or [] if "extra ==" not in text]
    dbt_pins = {requirement.name: requirement for requirement in required if requirement.name.startswith("dbt-")}
    assert {"dbt-core", "dbt-adapters", "dbt-common", "dbt-duckdb", "dbt-postgres"} <= set(dbt_pins)
    for name, requirement in dbt_pins.items():
        installed = metadata.version(name)
        assert requirement.specifier.contains(installed, prereleases=True), (name, installed, str(requirement))


def test_the_fast_path_ranges_are_the_pins():
    # What the fast path was tested on is what the package admits: no admitted dbt runs it untested.
    pins = {Requirement(text).name: Requirement(text) for text in metadata.requires("backfill") or []}
    for package, (lowest, beyond) in versions.FAST_PATH_TESTED.items():
        specifier = pins[package].specifier
        assert specifier.contains(lowest) and not specifier.contains(beyond), (package, str(specifier))


def test_the_installed_dbt_runs_the_fast_path():
    assert versions.fast_path_off_because() is None
    assert missing_internal(_INTERNALS) is None


@pytest.mark.parametrize("installed, supported", [
    ("1.10.0", True), ("1.11.16", True), ("1.12.6", True), ("1.12.0rc1", True),
    ("1.9.8", False), ("0.21.1", False), ("2.0.0", False), ("2.0.0-preview.47", False),
])
def test_which_dbt_core_versions_the_runner_drives(installed, supported):
    reason = versions.unsupported_dbt(installed)
    assert (reason is None) == supported, reason
    if not supported:
        assert reason.count(". ") == 0 and "1.10, 1.11 and 1.12" in reason and installed in reason


def test_the_fast_path_names_what_keeps_it_off():
    assert versions.within("1.12.6", "1.10.0", "1.13.0") and not versions.within("1.13.0", "1.10.0", "1.13.0")
    reason = missing_internal([("dbt.task.run", "ModelRunner"), ("dbt.task.run", "NoSuchRunner")])
    assert reason == "dbt's dbt.task.run.NoSuchRunner, which it uses, is not there"
    assert missing_internal([("dbt.no_such_module", "Thing")]).startswith("dbt's dbt.no_such_module.Thing")


def installed_as(tmp_path: Path, package: str, version: str) -> dict:
    """An environment in which `importlib.metadata` finds `package` at `version`."""
    shadow = shadow_installed(tmp_path, package, version)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([shadow, os.environ.get("PYTHONPATH", "")])}


@pytest.mark.parametrize("version, expected", [
    ("2.0.0", "dbt-core 2.0.0 is dbt 2, whose engine the runner cannot drive"),
    ("1.9.4", "dbt-core 1.9.4 is too old: backfill runs on dbt-core 1.10, 1.11 and 1.12"),
])
def test_an_unsupported_dbt_is_one_sentence_and_exit_2_before_dbt_starts(tmp_path, version, expected):
    env = installed_as(tmp_path, "dbt-core", version)
    result = subprocess.run(
        [sys.executable, "-m", "backfill", "--project-dir", str(REPO / "demo"), "gaps", "-m", "daily_metrics"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], lines
    # --help still answers (it imports no dbt)
    helped = subprocess.run([sys.executable, "-m", "backfill", "--help"], env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "Usage" in helped.stdout
