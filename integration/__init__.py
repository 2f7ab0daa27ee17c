"""dispute-desk: dispute-escalation rules for Zendesk and Jira tickets, from webhooks.

`create_app` is the Flask application factory (gunicorn: `integration:create_app()`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine lives in this package and must not pull Flask in
    from flask import Flask

    from integration.config import Config


def create_app(config: Config | None = None) -> Flask:
    from flask import Flask

    from integration import errors, ops
    from integration.config import Config
    from integration.feedback import page as feedback_page
    from integration.services import Services
    from integration.webhooks import jira, zendesk

    config = config or Config.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["dispute_desk"] = Services.build(config)
    errors.register(app)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(zendesk.blueprint)
    app.register_blueprint(jira.blueprint)
    feedback_page.init_app(app)
    from integration.cli import register_commands

    register_commands(app)
    return app
