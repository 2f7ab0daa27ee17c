"""Receiving webhooks: bounded body reads, signature checks, and persist-then-acknowledge.

The request path does no API call and no rule evaluation: it verifies, identifies and
stores the event, commits, and answers 202 (or 200 for a delivery it already has).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Request, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError

from integration.web.errors import ApiError

log = logging.getLogger("dispute_desk.webhooks")


def read_body(request: Request, limit: int) -> bytes:
    """The raw body, at most `limit` bytes; a larger body is refused, never cut short.

    A chunked request has no Content-Length: the server (gunicorn, werkzeug) marks the
    input as terminated, and we read it ourselves up to limit + 1 bytes. (Werkzeug's own
    stream would stop silently at its MAX_CONTENT_LENGTH, which we therefore do not set.)
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise ApiError(413, f"body of {declared} bytes is over the {limit}-byte limit")
    if request.environ.get("wsgi.input_terminated") and not request.environ.get("CONTENT_LENGTH"):
        body = request.environ["wsgi.input"].read(limit + 1)
    else:
        body = request.stream.read(limit + 1)  # bounded by the declared length; none means no body
    if len(body) > limit:
        raise ApiError(413, f"body is over the {limit}-byte limit")
    return body


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError(400, "empty body: expected a JSON ticket event")
    try:
        return json.loads(body_text(body))
    except json.JSONDecodeError as error:
        raise ApiError(400, f"body is not valid JSON: {error}") from None


def body_text(body: bytes) -> str:
    """JSON between systems is UTF-8 (RFC 8259 section 8.1); a byte-order mark is tolerated
    and dropped, so the stored text parses again in the worker."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApiError(400, f"body is not UTF-8 (JSON webhooks must be UTF-8): {error}") from None


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def any_matches(expected: Iterable[bytes | str], given: bytes | str) -> bool:
    """Constant-time comparison against every configured secret's signature (rotation)."""
    given_bytes = given.encode("utf-8") if isinstance(given, str) else given
    matched = False
    for candidate in expected:
        candidate_bytes = candidate.encode("utf-8") if isinstance(candidate, str) else candidate
        matched |= hmac.compare_digest(candidate_bytes, given_bytes)
    return matched


@dataclass(frozen=True)
class Delivery:
    """One stored unit of a webhook: most webhooks are one; a Jira update that carries a
    comment is two (the comment, and the change), each deduplicated on its own key."""

    delivery_id: str
    ticket_id: str
    source_type: str
    headers: Mapping[str, str]


def store_deliveries(platform: str, deliveries: Sequence[Delivery], body: bytes, now: datetime) -> ResponseReturnValue:
    """Store every part, then answer: 202 if anything was new, 200 if all were seen before."""
    services = current_app.extensions["dispute_desk"]
    text = body_text(body)
    new = []
    for delivery in deliveries:
        try:
            inserted = services.inbox.add(platform, delivery.delivery_id, delivery.ticket_id, delivery.source_type, text, dict(delivery.headers), now)
        except DBAPIError:
            log.exception("database unavailable; asking the sender to retry", extra={"platform": platform})
            # Zendesk retries a 503 only when Retry-After is under 60 seconds.
            raise ApiError(503, "temporarily unable to store the event", headers={"Retry-After": "30"}) from None
        services.metrics.count("webhooks_received_total", platform=platform, result="accepted" if inserted else "duplicate")
        extra = {"platform": platform, "delivery_id": delivery.delivery_id, "ticket": f"{platform}:{delivery.ticket_id}"}
        log.info("event stored" if inserted else "duplicate delivery ignored", extra=extra)
        if inserted:
            new.append(delivery.delivery_id)
    ids = [delivery.delivery_id for delivery in deliveries]
    if not new:
        return jsonify(status="duplicate", delivery_id=ids[0], delivery_ids=ids), 200
    return jsonify(status="accepted", delivery_id=new[0], delivery_ids=new), 202
