"""Errors a user can cause, each one clear sentence and a non-zero exit.

Plain exceptions, with no command-line library behind them: the runner and the
Python API raise them, and the CLI (backfill.cli) prints `Error: <message>` and
exits with their `exit_code`. Exit codes a scheduler can act on:
    0  everything asked for was done and passed
    1  work ran and something failed (a batch, a check)
    2  the request was refused before anything was written (bad input,
       unknown model, broken project)
"""

EXIT_FAILED = 1
EXIT_REFUSED = 2

# The epilog of every command's --help.
EXIT_CODES = """\b
Exit codes:
  0  everything asked for was done and passed
  1  work ran and something failed (a batch, a check)
  2  refused before anything was written (bad input, unknown model)
"""


class BackfillError(Exception):
    """Base class: refused before anything was written (exit 2). `message` is the one sentence."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(BackfillError):
    """An option or argument has a value that cannot be used."""


class UnknownModel(BackfillError):
    """The model is not in the dbt project (or is disabled)."""


class UnsupportedModel(BackfillError):
    """The model exists but cannot be backfilled batch by batch."""


class NoPeriodColumn(UnsupportedModel, InvalidInput):
    """The model declares no period column, and the request needs one (an unsupported
    model for a backfill, a missing option for a gap check)."""


class DbtProjectError(BackfillError):
    """dbt could not load or parse the project."""


class WarehouseBusy(BackfillError):
    """The warehouse refused a connection because another process holds it."""


class BackfillFailed(BackfillError):
    """Work ran and did not all pass."""

    exit_code = EXIT_FAILED
