"""Receiving webhooks: bounded body reads, signature checks, and persist-then-acknowledge.

The request path does no API call and no rule evaluation: it verifies, identifies and
stores the event, commits, and answers 202 (or 200 for a delivery it already has).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Request, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from integration.config import UNSIGNED_SETTING, is_loopback
from integration.runtime import internal_events
from integration.runtime.clock import INTERNAL_MARK
from integration.web.errors import RETRY_AFTER, ApiError

log = logging.getLogger("dispute_desk.webhooks")

MAX_DEPTH = 64  # real deliveries nest about 10 deep (ADF in Jira); the worker's readers recurse
MAX_DIGITS = 4300  # Python's own limit on int(str): beyond it, a ValueError, not a JSONDecodeError
# Every answer is counted by result, so a wrong secret or a malformed trigger shows on /metrics.
RESULTS = {400: "malformed", 401: "unauthorized", 413: "too_large", 503: "unavailable"}


def counted(platform: str) -> Callable[[Callable[[], ResponseReturnValue]], Callable[[], ResponseReturnValue]]:
    """Count the view's every answer in `webhooks_received_total{platform, result}`."""

    def decorate(view: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
        @functools.wraps(view)
        def counting_view() -> ResponseReturnValue:
            metrics = current_app.extensions["dispute_desk"].metrics
            try:
                response = current_app.make_response(view())
            except ApiError as error:
                metrics.count("webhooks_received_total", platform=platform, result=RESULTS.get(error.status, str(error.status)))
                raise
            except Exception:
                metrics.count("webhooks_received_total", platform=platform, result="error")
                raise
            body = response.get_json(silent=True)
            metrics.count("webhooks_received_total", platform=platform, result=str(body.get("status")) if isinstance(body, dict) else str(response.status_code))
            return response

        return counting_view

    return decorate


def ignored(reason: str) -> ResponseReturnValue:
    """A genuine event the service does not act on: 200, so the platform's log shows no
    failure (and Zendesk's circuit breaker does not pause the webhook)."""
    return jsonify(status="ignored", reason=reason), 200


def unsigned_allowed(request: Request, platform_secret: str) -> None:
    """A platform without a webhook secret: refused, unless the development setting is on and
    the request comes from this machine."""
    config = current_app.extensions["dispute_desk"].config
    if config.allow_unsigned_webhooks and is_loopback(request.remote_addr):
        return
    raise ApiError(
        401,
        f"{platform_secret} is not set: unsigned webhooks are refused "
        f"({UNSIGNED_SETTING}=1 accepts them from this machine, for development)",
    )


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
    """The body as JSON, or a 400 saying why not: never an exception from deep nesting or huge
    numbers, never a key given twice, never our own events' reserved key."""
    if not body.strip():
        raise ApiError(400, "empty body: expected a JSON ticket event")
    text = body_text(body)
    try:
        payload = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except RecursionError:
        raise ApiError(400, f"body is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"body is not valid JSON: {error}") from None
    except ValueError as error:  # from the hooks below: a duplicate key, a huge number
        raise ApiError(400, str(error)) from None
    if _depth_over(payload, MAX_DEPTH):
        raise ApiError(400, f"body is nested deeper than {MAX_DEPTH} levels")
    if isinstance(payload, dict) and INTERNAL_MARK in payload:
        raise ApiError(400, f"body has the key {INTERNAL_MARK}, which is reserved for dispute-desk's own events")
    return payload


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key given twice means two readers may see two values; which one counts is a guess.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"body has the key {key!r} twice")
        result[key] = value
    return result


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"body is not valid JSON: a number has more than {MAX_DIGITS} digits")
    return int(digits)


def _depth_over(payload: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit`, walked without recursion."""
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


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


@dataclass(frozen=True)
class Signed:
    """What a verified signature covers, as a digest, and until when that content is
    acceptable: the same content again before then is a replay (or a redelivery)."""

    content: bytes
    expires_at: datetime

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def store_deliveries(platform: str, deliveries: Sequence[Delivery], body: bytes, now: datetime, signed: Signed | None) -> ResponseReturnValue:
    """Store every part in one transaction, then answer: 202 if anything was new, 200 if all
    were seen before, or if this signed content was (a replay under a new delivery id)."""
    services = current_app.extensions["dispute_desk"]
    text = body_text(body)
    if any(internal_events.is_internal_source(d.source_type) for d in deliveries):
        raise ApiError(400, "a webhook cannot carry one of dispute-desk's own event types")
    parts = [(d.delivery_id, d.ticket_id, d.source_type, dict(d.headers)) for d in deliveries]
    try:
        inserted = services.inbox.add_signed(platform, signed.digest if signed else None, signed.expires_at if signed else None, parts, text, now)
    except SQLAlchemyError:  # down, locked, or every pooled connection busy
        log.exception("database unavailable; asking the sender to retry", extra={"platform": platform})
        raise ApiError(503, "temporarily unable to store the event", headers=RETRY_AFTER) from None
    ids = [delivery.delivery_id for delivery in deliveries]
    if inserted is None:
        log.warning("signed content seen before under another delivery id; not stored again", extra={"platform": platform, "delivery_ids": ids})
        return jsonify(status="duplicate", delivery_id=ids[0], delivery_ids=ids), 200
    new = [delivery.delivery_id for delivery, stored in zip(deliveries, inserted, strict=True) if stored]
    for delivery, stored in zip(deliveries, inserted, strict=True):
        extra = {"platform": platform, "delivery_id": delivery.delivery_id, "ticket": f"{platform}:{delivery.ticket_id}"}
        log.info("event stored" if stored else "duplicate delivery ignored", extra=extra)
    if not new:
        return jsonify(status="duplicate", delivery_id=ids[0], delivery_ids=ids), 200
    return jsonify(status="accepted", delivery_id=new[0], delivery_ids=new), 202
