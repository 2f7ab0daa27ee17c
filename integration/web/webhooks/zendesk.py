"""`POST /webhooks/zendesk`: event-subscription and trigger webhooks from Zendesk.

Signature: base64(HMAC-SHA256(secret, X-Zendesk-Webhook-Signature-Timestamp + raw body)),
checked on the raw bytes before anything is parsed. The timestamp is the time of each
delivery attempt, so a 5-minute window refuses replays without refusing Zendesk's retries.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from adapters.zendesk import NotActedOn, NotATicketEvent, identify
from integration.web.errors import ApiError
from integration.web.webhooks import (
    Delivery,
    Signed,
    any_matches,
    counted,
    hmac_sha256,
    ignored,
    parse_json,
    read_body,
    store_deliveries,
    unsigned_allowed,
)

blueprint = Blueprint("zendesk_webhooks", __name__)

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
KEPT_HEADERS = ("X-Zendesk-Webhook-Id", "X-Zendesk-Webhook-Invocation-Id", "X-Zendesk-Account-Id", TIMESTAMP)


def verify(body: bytes, signature: str | None, timestamp: str | None, secrets: tuple[str, ...], now: datetime, tolerance: int) -> Signed:
    """The signed content (timestamp + body), acceptable until the timestamp leaves the window."""
    if not signature or not timestamp:
        raise ApiError(401, f"missing {SIGNATURE} or {TIMESTAMP} header")
    signed_at = _parse_timestamp(timestamp)
    if abs((now - signed_at).total_seconds()) > tolerance:
        raise ApiError(401, "signature timestamp is outside the allowed window")
    content = timestamp.encode("utf-8") + body
    expected = [base64.b64encode(hmac_sha256(secret, content)) for secret in secrets]
    if not any_matches(expected, signature.strip()):
        raise ApiError(401, "signature does not match")
    return Signed(content, signed_at + timedelta(seconds=tolerance))


def _parse_timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())  # Python 3.11 reads a trailing "Z"
    except ValueError:
        raise ApiError(401, f"{TIMESTAMP} is not a timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@blueprint.post("/webhooks/zendesk")
@counted("zendesk")
def receive() -> ResponseReturnValue:
    config = current_app.extensions["dispute_desk"].config
    now = datetime.now(UTC)
    body = read_body(request, config.max_body_bytes)
    signed = None
    if config.zendesk_webhook_secrets:
        signed = verify(body, request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP), config.zendesk_webhook_secrets, now, config.signature_tolerance_seconds)
    else:
        unsigned_allowed(request, "ZENDESK_WEBHOOK_SECRET")
    payload = parse_json(body)
    try:
        envelope = identify(payload, dict(request.headers))
    except NotActedOn as reason:
        return ignored(str(reason))
    except NotATicketEvent as error:
        raise ApiError(400, str(error)) from None
    kept = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    delivery = Delivery(envelope.delivery_id, envelope.ticket_id, envelope.source_type, kept)
    return store_deliveries("zendesk", [delivery], body, now, signed)
