"""The `dispute-desk` command line: serve, worker, rules check, explain, events, deadlines,
feedback report, db upgrade; one module per command group, each adding its commands to
`main` (in `group`) when imported here.

Commands that need the application get it from Flask's ScriptInfo, so tests run them with
`app.test_cli_runner()` against a test app, exactly as a user runs them from a shell.
"""

from __future__ import annotations

from flask import Flask

from integration.cli import db, deadlines, events, explain, feedback, rules, serve  # noqa: F401 - registers the commands
from integration.cli.group import main
from integration.cli.serve import _watch_rules
from integration.logs import configure as configure_logging

__all__ = ["_watch_rules", "main", "register_commands", "run"]


def run() -> None:
    """The console script: JSON logs on stderr, then the command."""
    configure_logging()
    main(prog_name="dispute-desk")


def register_commands(app: Flask) -> None:
    """The same commands under `flask --app integration ...`."""
    for command in main.commands.values():
        app.cli.add_command(command)
