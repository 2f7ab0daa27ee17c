"""The web side: the Flask application (webhook blueprints, the feedback page, health and
metrics) on top of the runtime. `integration.create_app` adds the command line to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from integration.config import Config


def create_web_app(config: Config) -> Flask:
    from flask import Flask

    from integration.runtime.services import Services
    from integration.web import errors, ops
    from integration.web.feedback import page as feedback_page
    from integration.web.webhooks import jira, zendesk

    app = Flask("integration")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["dispute_desk"] = Services.build(config)
    errors.register(app)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(zendesk.blueprint)
    app.register_blueprint(jira.blueprint)
    feedback_page.init_app(app)
    return app
