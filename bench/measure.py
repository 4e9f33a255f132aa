"""Timing a contender: one command in its own process, wall time and peak memory.

Every contender runs as a separate process (a `python -m backfill` command, a
`dbt` command, a shell loop, a small Python script), started the way a user
starts it, so start-up and parsing are part of its time. Its peak memory is the
peak resident set size that the kernel reports for the process and every
process it waited for (`wait4`): for the shell loop, the largest of its `dbt
run` processes. Memory of the database server is not part of it.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Optional


class ContenderFailed(RuntimeError):
    """A contender's command exited with a code it must not exit with."""


@dataclass(frozen=True)
class Run:
    """One timed run of one command."""

    seconds: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def run_command(command: list[str], env: dict, cwd: str, timeout: float,
                ok_exit_codes: tuple[int, ...] = (0,)) -> Run:
    """Run `command`, wait for it with wait4, and refuse an unexpected exit code."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        # Its own process group, so a timeout ends the shell loop's dbt too.
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, [process.pid])
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: leave no contender running
            _kill_group(process.pid)
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
            exit_code=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )
    if run.exit_code not in ok_exit_codes:
        tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-15:])
        raise ContenderFailed(f"`{' '.join(command[:8])} …` exited {run.exit_code} after {seconds:.1f}s:\n{tail}")
    return run


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None
