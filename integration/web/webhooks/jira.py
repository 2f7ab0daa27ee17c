"""`POST /webhooks/jira`: issue and comment webhooks from Jira Cloud and Data Center.

Signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (Jira's "secret"
webhook setting), checked on the raw bytes before anything is parsed. Jira signs no
timestamp, so its delivery id is the replay guard: a replayed delivery is a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from adapters.jira import PART_HEADER, NotATicketEvent, identify
from integration.web.errors import ApiError
from integration.web.webhooks import (
    Delivery,
    any_matches,
    hmac_sha256,
    parse_json,
    read_body,
    store_deliveries,
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


@blueprint.post("/webhooks/jira")
def receive() -> ResponseReturnValue:
    config = current_app.extensions["dispute_desk"].config
    now = datetime.now(UTC)
    body = read_body(request, config.max_body_bytes)
    if config.jira_webhook_secrets:
        verify(body, request.headers.get(SIGNATURE), config.jira_webhook_secrets)
    payload = parse_json(body)
    try:
        envelopes = identify(payload, dict(request.headers))
    except NotATicketEvent as error:
        raise ApiError(400, str(error)) from None
    kept = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    deliveries = [
        Delivery(envelope.delivery_id, envelope.ticket_id, envelope.source_type, {**kept, PART_HEADER: envelope.part})
        for envelope in envelopes
    ]
    return store_deliveries("jira", deliveries, body, now)
