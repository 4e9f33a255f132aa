"""The scenarios: five of issue 8, one module each (4 and 5 share one), and the start-up (6).

Each takes a `Context` and returns report Tables; each checks that its
contenders' results agree before it reports a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bench.sizes import Sizes
from bench.warehouses import Warehouse


@dataclass
class Context:
    warehouse: Warehouse
    sizes: Sizes
    timeout: float  # seconds one contender's run may take before it is killed
    log: Callable[[str], None]
    # what a scenario leaves for a later one (the pipeline data, scenario 1's numbers)
    shared: dict
    # refuse to run when a contender's package (pandas, reladiff) is missing,
    # instead of leaving that contender out with a note
    require_all: bool = False

    def installed(self, package: str) -> bool:
        import importlib.util

        if importlib.util.find_spec(package) is not None:
            return True
        if self.require_all:
            raise RuntimeError(f"{package} is not installed: pip install -e '.[bench]' (make bench does).")
        return False
