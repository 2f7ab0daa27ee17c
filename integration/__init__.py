"""dispute-desk: dispute-escalation rules for Zendesk and Jira tickets, from webhooks.

The package is layered; each layer imports only the ones below it (import-linter checks it):

- `integration.core` — pure: events, rules, conditions, actions, the engine, plans;
- `integration.runtime` — the database, the inbox and worker, the clock, platform wiring;
- `integration.web` — the Flask application: webhooks, the feedback page, health, metrics;
- `integration.cli` — the `dispute-desk` command.

`create_app` is the application factory (gunicorn: `integration:create_app()`): the web
application with the command line attached, so `flask --app integration` and the tests'
`app.test_cli_runner()` see every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package must not pull Flask in: the core lives below it
    from flask import Flask

    from integration.config import Config


def create_app(config: Config | None = None) -> Flask:
    from integration.cli import register_commands
    from integration.config import Config
    from integration.web import create_web_app

    app = create_web_app(config or Config.from_env())
    register_commands(app)
    return app
