"""`POST /webhooks/jira`: issue and comment webhooks from Jira Cloud and Data Center.

Signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (Jira's "secret"
webhook setting), checked on the raw bytes before anything is parsed. Jira signs no
timestamp header and its delivery id header is not signed: the body's own `timestamp` must be
recent (`Config.jira_max_age_seconds`), and the same signed body twice within that time is a
duplicate, whatever delivery id comes with it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from adapters.jira import PART_HEADER, NotActedOn, NotATicketEvent, identify
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

blueprint = Blueprint("jira_webhooks", __name__)

SIGNATURE = "X-Hub-Signature"
KEPT_HEADERS = ("X-Atlassian-Webhook-Identifier", "X-Atlassian-Webhook-Retry", "X-Atlassian-Webhook-Flow")


def verify(body: bytes, signature: str | None, secrets: tuple[str, ...]) -> None:
    if not signature:
        raise ApiError(401, f"missing {SIGNATURE} header")
    method, _, given = signature.strip().partition("=")
    if method.lower() != "sha256" or not given:
        raise ApiError(401, f"{SIGNATURE} must be sha256=<hex digest>")
    expected = [hmac_sha256(secret, body).hex() for secret in secrets]
    if not any_matches(expected, given.lower()):
        raise ApiError(401, "signature does not match")


def fresh(body: bytes, payload: Any, now: datetime, max_age: int, skew: int) -> Signed:
    """The signed body, if its `timestamp` (epoch milliseconds) is recent; acceptable until
    it is `max_age` old."""
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    if stamp is None:
        raise ApiError(400, "timestamp missing: a signed Jira body must say when it was sent")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not math.isfinite(stamp) or abs(stamp) > 1e15:
        raise ApiError(400, f"timestamp must be epoch milliseconds (got {str(stamp)[:40]!r})")
    sent_at = datetime.fromtimestamp(stamp / 1000, UTC)
    if not -skew <= (now - sent_at).total_seconds() <= max_age:
        raise ApiError(401, f"timestamp is outside the allowed window (older than {max_age} seconds or ahead by over {skew})")
    return Signed(body, sent_at + timedelta(seconds=max_age))


@blueprint.post("/webhooks/jira")
@counted("jira")
def receive() -> ResponseReturnValue:
    config = current_app.extensions["dispute_desk"].config
    now = datetime.now(UTC)
    body = read_body(request, config.max_body_bytes)
    if config.jira_webhook_secrets:
        verify(body, request.headers.get(SIGNATURE), config.jira_webhook_secrets)
    else:
        unsigned_allowed(request, "JIRA_WEBHOOK_SECRET")
    payload = parse_json(body)
    signed = None
    if config.jira_webhook_secrets and isinstance(payload, dict):
        signed = fresh(body, payload, now, config.jira_max_age_seconds, config.signature_tolerance_seconds)
    try:
        envelopes = identify(payload, dict(request.headers))
    except NotActedOn as reason:
        return ignored(str(reason))
    except NotATicketEvent as error:
        raise ApiError(400, str(error)) from None
    kept = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    deliveries = [
        Delivery(envelope.delivery_id, envelope.ticket_id, envelope.source_type, {**kept, PART_HEADER: envelope.part})
        for envelope in envelopes
    ]
    return store_deliveries("jira", deliveries, body, now, signed)
