"""Placeholder for commands whose issue is still open."""

import click


def not_yet(name: str, issue: int, help_text: str) -> click.Command:
    def command():
        raise click.ClickException(f"'{name}' is not available in this version yet (issue {issue}).")

    return click.Command(name, callback=command, help=help_text)
