"""The command line: parse options, call the runner, print what happened.

    python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7

One module per command (`run`, `gaps`, `status` and `resume`, `reconcile`,
`repair`, `verify`), each with its printing beside it; options several commands
share are defined once in `options.py`. Nothing here imports dbt until a command
runs: `--help` answers at once. Errors the runner raises (`backfill.errors`) are
printed as `Error: <one sentence>` and exit with their code.
"""

from __future__ import annotations

import logging

import click

from backfill import __version__
from backfill.errors import EXIT_CODES, BackfillError


class CommandError(click.ClickException):
    """A runner's error, as click prints and exits with it."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class BackfillGroup(click.Group):
    """The command group: a runner's one-sentence error becomes `Error: ...` and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BackfillError as error:
            raise CommandError(error.message, error.exit_code) from None


@click.group(
    cls=BackfillGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(__version__, prog_name="backfill")
@click.option(
    "--project-dir",
    envvar="DBT_PROJECT_DIR",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The dbt project (folder with dbt_project.yml).",
)
@click.option(
    "--profiles-dir",
    envvar="DBT_PROFILES_DIR",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder with profiles.yml. Default: the project folder if it has one, else ~/.dbt.",
)
@click.option("--target", "-t", envvar="DBT_TARGET", default=None, help="Profile target. Default: the profile's own.")
@click.option("--debug", is_flag=True, help="Print the runner's debug log (what it decided and why) to stderr.")
@click.pass_context
def cli(ctx, project_dir, profiles_dir, target, debug):
    """Find gaps in dbt history, backfill them in verified batches, reconcile sources.

    \b
    Backfill January in weekly batches, then check what is still missing:
      python -m backfill run --model daily_metrics --start 2024-01-01 --end 2024-01-31 --batch-size 7
      python -m backfill gaps --model daily_metrics

    Every command talks to the warehouse of the dbt profile's target (--target).
    """
    if debug:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("debug: %(message)s"))
        log = logging.getLogger("backfill")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    ctx.obj = {"project_dir": project_dir, "profiles_dir": profiles_dir, "target": target}


def main() -> None:
    """`python -m backfill` and the `backfill` script."""
    cli(prog_name="python -m backfill")


# Each command lives in its own module and registers here.
from backfill.cli.gaps import gaps  # noqa: E402
from backfill.cli.reconcile import reconcile  # noqa: E402
from backfill.cli.repair import repair  # noqa: E402
from backfill.cli.run import run  # noqa: E402
from backfill.cli.status import resume, status  # noqa: E402
from backfill.cli.verify import verify  # noqa: E402

for _command in (run, gaps, status, resume, reconcile, repair, verify):
    cli.add_command(_command)
