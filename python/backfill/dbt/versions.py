"""The dbt versions this runner supports, and those its in-process fast path was
tested on.

The runner drives dbt through `dbtRunner` (dbt's documented programmatic entry
point) on every version dbt-core 1.10 and later of the 1.x line. The fast path
(`fast_path.py`) goes further, into dbt's task runners and adapter internals,
which change between releases; it turns itself on only for the dbt-core,
dbt-adapters and dbt-common versions CI runs it on, and otherwise every batch is
a full invocation, as with BACKFILL_INVOCATION_PER_BATCH=1.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata
from typing import Optional

# package -> (lowest version, first version not tested): what CI runs the fast path on.
# .ci/dbt-versions runs dbt-core 1.10 (with dbt-common 1.37.5, the lowest the pins
# admit) and 1.12, `make test` runs 1.11; each with dbt-adapters 1.24.
FAST_PATH_TESTED = {
    "dbt-core": ("1.10.0", "1.13.0"),
    "dbt-adapters": ("1.24.5", "1.25.0"),
    "dbt-common": ("1.37.5", "1.40.0"),
}

# The dbt-core versions the runner supports at all: dbt 2 is another engine (Rust),
# whose dbtRunner takes neither a parsed manifest nor callbacks.
SUPPORTED_CORE = ("1.10.0", "2.0.0")
SUPPORTED_SENTENCE = "backfill runs on dbt-core 1.10, 1.11 and 1.12"


def version_of(package: str) -> Optional[str]:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _parsed(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def within(version: str, lowest: str, beyond: str) -> bool:
    """Whether `version` lies in [lowest, beyond), by release numbers (pre-releases count as their release)."""
    return _parsed(lowest) <= _parsed(version) < _parsed(beyond)


def unsupported_dbt(installed: Optional[str]) -> Optional[str]:
    """Why the runner cannot drive this dbt-core (one sentence), or None when it can."""
    if installed is None:
        return f"dbt-core is not installed: {SUPPORTED_SENTENCE}; `pip install backfill` installs it."
    lowest, beyond = SUPPORTED_CORE
    if within(installed, lowest, beyond):
        return None
    if _parsed(installed) >= _parsed(beyond):
        return (f"dbt-core {installed} is dbt 2, whose engine the runner cannot drive (its dbtRunner takes "
                f"no parsed manifest and no callbacks): {SUPPORTED_SENTENCE}; "
                "install one of them in a virtualenv of its own.")
    return f"dbt-core {installed} is too old: {SUPPORTED_SENTENCE}; pip install 'dbt-core>=1.10,<1.13'."


def refuse_unsupported_dbt() -> None:
    """Stop in one sentence (exit 2) before importing a dbt-core the runner cannot drive."""
    reason = unsupported_dbt(version_of("dbt-core"))
    if reason:
        from backfill.errors import DbtProjectError

        raise DbtProjectError(reason)


@lru_cache(maxsize=None)
def fast_path_off_because() -> Optional[str]:
    """Why the fast path stays off on the installed dbt (a sentence), or None when it may run."""
    for package, (lowest, beyond) in FAST_PATH_TESTED.items():
        installed = version_of(package)
        if installed is None:
            return f"{package} is not installed"
        if not within(installed, lowest, beyond):
            return (f"{package} {installed} is outside the versions the in-process fast path was tested on "
                    f"({lowest} up to {beyond}, not included)")
    return None
