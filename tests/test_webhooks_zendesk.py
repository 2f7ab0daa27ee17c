"""POST /webhooks/zendesk: signatures on raw bytes, size limits, bad input, persist-then-ack.

Every test runs on SQLite and on PostgreSQL (the `make_app` fixture)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from integration.runtime.inbox import EventStatus
from tests.conftest import (
    PAYLOADS,
    REAL,
    WEBHOOK_SECRET,
    load_json,
    zendesk_headers,
    zendesk_timestamp,
)

URL = "/webhooks/zendesk"
COMMENT_ADDED = REAL / "zendesk_event_ticket_comment_added_production.json"


@pytest.fixture
def app(make_app):
    return make_app(zendesk_webhook_secrets=(WEBHOOK_SECRET,))


@pytest.fixture
def client(app):
    return app.test_client()


def stored(app) -> list:
    return app.extensions["dispute_desk"].inbox.list()


def post(client, body: bytes, headers: dict[str, str]):
    return client.post(URL, data=body, headers=headers)


def test_signed_real_delivery_is_stored_before_202(client, app):
    body = COMMENT_ADDED.read_bytes()
    response = post(client, body, zendesk_headers(body))
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"status": "accepted", "delivery_id": "d8551ba3-4243-433c-8629-aa79dc3e7182", "delivery_ids": ["d8551ba3-4243-433c-8629-aa79dc3e7182"]}
    [event] = stored(app)
    assert (event.platform, event.ticket_key, event.status) == ("zendesk", "zendesk:71447", EventStatus.PENDING)
    assert event.payload == body.decode()  # the raw bytes, exactly as signed
    assert "X-Zendesk-Webhook-Signature" not in event.headers  # no secret material is stored


def test_redelivery_answers_200_and_changes_nothing(client, app):
    body = COMMENT_ADDED.read_bytes()
    assert post(client, body, zendesk_headers(body)).status_code == 202
    again = post(client, body, zendesk_headers(body))  # Zendesk signs each attempt anew
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert len(stored(app)) == 1


def test_trigger_webhook_uses_the_invocation_id_as_delivery_id(client, app):
    body = (PAYLOADS / "zendesk" / "trigger_created_es.json").read_bytes()
    response = post(client, body, zendesk_headers(body, invocation="01HANA2B5D5W9XSJS3NE5SQA1J"))
    assert response.status_code == 202, response.get_json()
    assert stored(app)[0].delivery_id == "01HANA2B5D5W9XSJS3NE5SQA1J"


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h, b: h.pop("X-Zendesk-Webhook-Signature"), "missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp header"),
        (lambda h, b: h.pop("X-Zendesk-Webhook-Signature-Timestamp"), "missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp header"),
        (lambda h, b: h.update({"X-Zendesk-Webhook-Signature": "TmnyajSgXX2+tMqZ98RmknPqglKM+XJsgum1GkwFsW0="}), "signature does not match"),
        (lambda h, b: h.update(zendesk_headers(b, secret="someone-else")), "signature does not match"),
        (lambda h, b: h.update(zendesk_headers(b, timestamp=zendesk_timestamp(datetime.now(UTC) - timedelta(minutes=6)))), "signature timestamp is outside the allowed window"),
        (lambda h, b: h.update({"X-Zendesk-Webhook-Signature-Timestamp": "yesterday"}), "X-Zendesk-Webhook-Signature-Timestamp is not a timestamp"),
    ],
    ids=["no-signature", "no-timestamp", "recorded-foreign-signature", "wrong-secret", "stale", "bad-timestamp"],
)
def test_unsigned_or_forged_requests_get_401_and_store_nothing(client, app, mutate, reason):
    body = COMMENT_ADDED.read_bytes()
    headers = zendesk_headers(body)
    mutate(headers, body)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == reason
    assert stored(app) == []


def test_a_body_altered_after_signing_is_refused(client, app):
    body = COMMENT_ADDED.read_bytes()
    headers = zendesk_headers(body)
    response = post(client, body.replace(b"71447", b"71448"), headers)
    assert response.status_code == 401
    assert stored(app) == []


def test_rotated_secrets_both_verify(make_app):
    app = make_app(zendesk_webhook_secrets=("new-secret", WEBHOOK_SECRET))
    body = COMMENT_ADDED.read_bytes()
    assert post(app.test_client(), body, zendesk_headers(body, secret=WEBHOOK_SECRET)).status_code == 202


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "empty body: expected a JSON ticket event"),
        (b"{not json", "body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (b"[1, 2]", None),
        (COMMENT_ADDED.read_text().encode("utf-16"), "body is not UTF-8 (JSON webhooks must be UTF-8): 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
        ((REAL / "zendesk_trigger_webhook_body_template_placeholders.json").read_bytes(), None),
    ],
    ids=["empty", "not-json", "array", "utf-16", "unrendered-template"],
)
def test_bodies_that_are_not_ticket_events_get_400_with_a_reason(client, app, body, reason):
    response = post(client, body, zendesk_headers(body, invocation="inv-1"))
    assert response.status_code == 400
    message = response.get_json()["error"]
    assert message if reason is None else message == reason
    assert stored(app) == []


def test_a_utf8_body_with_a_byte_order_mark_is_stored_without_it(client, app):
    body = b"\xef\xbb\xbf" + COMMENT_ADDED.read_bytes()
    assert post(client, body, zendesk_headers(body)).status_code == 202
    [row] = stored(app)
    assert json.loads(row.payload) == load_json(COMMENT_ADDED)


def test_bodies_over_one_mebibyte_get_413(client, app):
    payload = load_json(COMMENT_ADDED)
    payload["detail"]["description"] = "x" * (1024 * 1024)
    body = json.dumps(payload).encode()
    response = post(client, body, zendesk_headers(body))
    assert response.status_code == 413
    assert stored(app) == []


@pytest.fixture
def served(app):
    """The app behind a real HTTP server on loopback, for what the test client cannot send."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{URL}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize("size, expected", [(1024 * 1024 + 1, 413), (2000, 202)], ids=["over", "under"])
def test_chunked_bodies_are_read_up_to_the_limit_and_refused_beyond_it(served, app, size, expected):
    # No Content-Length: requests sends a generator as Transfer-Encoding: chunked.
    payload = load_json(COMMENT_ADDED)
    payload["detail"]["description"] = "x" * size
    body = json.dumps(payload).encode()

    def chunks():
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = requests.post(served, data=chunks(), headers=zendesk_headers(body), timeout=30)
    assert response.status_code == expected, response.text
    assert len(stored(app)) == (1 if expected == 202 else 0)


@pytest.mark.parametrize("path", sorted((PAYLOADS / "zendesk").glob("*.json")), ids=lambda p: p.stem)
def test_every_written_payload_is_accepted(client, app, path: Path):
    body = path.read_bytes()
    response = post(client, body, zendesk_headers(body, invocation=f"inv-{path.stem}"))
    assert response.status_code == 202, response.get_json()


def test_without_a_configured_secret_dry_run_accepts_unsigned_from_this_machine(make_app):
    app = make_app(allow_unsigned_webhooks=True)  # no credentials, no secret: what `serve` runs on loopback
    body = COMMENT_ADDED.read_bytes()
    response = app.test_client().post(URL, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 202


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "zen:event-type:ticket.created", "detail": "not an object", "id": "x1"},
        {"type": "zen:event-type:ticket.created", "detail": {"id": {"nested": 1}}, "id": "x2"},
        {"type": "zen:event-type:ticket.created", "id": "x3"},
        {"type": 17, "id": "x4"},
        {"dispute_desk": "1", "event": "created"},
        {"dispute_desk": "1", "event": "exploded", "ticket_id": "5"},
        {"ticketID": None},
        "just a string",
        None,
        12,
    ],
)
def test_odd_bodies_get_a_4xx_never_a_500(client, app, payload):
    body = json.dumps(payload).encode()
    response = post(client, body, zendesk_headers(body, invocation="inv-odd"))
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["error"]
