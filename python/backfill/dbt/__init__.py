"""The one package that imports dbt.

    project.py    DbtProject: parse once, invoke dbt in-process, run a model, run tests,
                  compile, query, call a macro; the only place that builds dbt command lines
    manifest.py   every question asked of the parsed project, answered in the package's
                  own types (ModelInfo, TestInfo, SnapshotInfo), never dbt nodes
    fast_path.py  a model's later batches, queries and tests without a new invocation,
                  on the dbt versions it was tested on (versions.py)
    profile.py    the profile and target, rendered by dbt
    failures.py   a failed invocation in one sentence

Importing this package imports dbt (a second or so): the CLI imports it only once a
command runs, never for --help.
"""

from backfill.dbt.manifest import SnapshotInfo, TestInfo
from backfill.dbt.project import DbtProject, ModelRun, TestResult

__all__ = ["DbtProject", "ModelRun", "TestResult", "TestInfo", "SnapshotInfo"]
