"""One error type for the HTTP API: a status, a message, and a JSON body."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("dispute_desk.web")

# Zendesk retries a 503 only when Retry-After is under 60 seconds.
RETRY_AFTER = {"Retry-After": "30"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> ResponseReturnValue:
        response = jsonify(error=error.message, status=error.status)
        return response, error.status, error.headers

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError) -> ResponseReturnValue:
        # Any database trouble on the request path (down, locked, pool exhausted) is
        # temporary for the caller: never a 500, which Zendesk would not retry.
        log.warning("database unavailable", extra={"path": request.path, "error": type(error).__name__})
        return jsonify(error="the database is unavailable; try again shortly", status=503), 503, RETRY_AFTER

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        # Werkzeug's own errors (405, 413 from MAX_CONTENT_LENGTH, ...) as JSON too.
        return jsonify(error=error.description, status=error.code), error.code or 500
