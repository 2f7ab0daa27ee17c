"""One error type for the HTTP API: a status, a message, and a JSON body."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException


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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        # Werkzeug's own errors (405, 413 from MAX_CONTENT_LENGTH, ...) as JSON too.
        return jsonify(error=error.description, status=error.code), error.code or 500
