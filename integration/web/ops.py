"""Health, readiness and metrics endpoints for load balancers and Prometheus.

Both are safe to expose: /readyz names rule files, never the paths they live at, and
/metrics reads the database at most once per cache period however often it is scraped
(and asks for `Authorization: Bearer METRICS_TOKEN` when that is set).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from integration.runtime.store import ping
from integration.web.errors import RETRY_AFTER, ApiError

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
    body = {"status": "ready", "database": "ok", "rules": len(ruleset.rules), "rule_files": [_file_name(f, services.rules.path) for f in ruleset.files]}
    platforms = services.connections.report()
    if platforms:  # this process writes to the platforms (serve, worker): which are connected
        body["platforms"] = platforms
    return jsonify(body)


def _file_name(file: str, rules_path: str) -> str:
    """A rule file as named inside RULES_PATH: where the service is installed is nobody's business."""
    try:
        return str(Path(file).relative_to(rules_path))
    except ValueError:
        return Path(file).name


@blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    services = current_app.extensions["dispute_desk"]
    _require_token(services.config.metrics_token)
    text = services.metrics.render(services.inbox, datetime.now(UTC))
    return Response(text, mimetype="text/plain; version=0.0.4")


def _require_token(token: str | None) -> None:
    if token is None:
        return
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode("utf-8"), f"Bearer {token}".encode()):
        raise ApiError(401, "/metrics needs Authorization: Bearer <METRICS_TOKEN>", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
