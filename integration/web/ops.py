"""Health, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from integration.runtime.store import ping
from integration.web.errors import RETRY_AFTER

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    services = current_app.extensions["dispute_desk"]
    try:
        ping(services.engine)
    except SQLAlchemyError as error:
        return jsonify(status="unavailable", database=f"unreachable: {type(error).__name__}"), 503, RETRY_AFTER
    ruleset = services.rules.current
    return jsonify(status="ready", database="ok", rules=len(ruleset.rules), rule_files=list(ruleset.files))


@blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    services = current_app.extensions["dispute_desk"]
    text = services.metrics.render(services.inbox, datetime.now(UTC))
    return Response(text, mimetype="text/plain; version=0.0.4")
