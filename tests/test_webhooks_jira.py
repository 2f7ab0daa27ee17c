"""POST /webhooks/jira: X-Hub-Signature on raw bytes, comments that arrive twice stored
once, bad input refused with a reason. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import (
    PAYLOADS,
    REAL,
    WEBHOOK_SECRET,
    fresh_jira,
    fresh_jira_body,
    jira_headers,
    load_json,
)

URL = "/webhooks/jira"
CREATED = PAYLOADS / "jira" / "issue_created_es_delivery.json"


@pytest.fixture
def app(make_app):
    return make_app(jira_webhook_secrets=(WEBHOOK_SECRET,))


@pytest.fixture
def client(app):
    return app.test_client()


def stored(app) -> list:
    return sorted(app.extensions["dispute_desk"].inbox.list(), key=lambda event: event.id)


def post(client, body: bytes, headers: dict[str, str]):
    return client.post(URL, data=body, headers=headers)


@pytest.mark.parametrize("path", sorted(REAL.glob("jira_*.json")) + sorted((PAYLOADS / "jira").glob("*.json")), ids=lambda p: p.stem)
def test_every_recorded_and_written_jira_payload_is_accepted(client, app, path: Path):
    body = fresh_jira_body(path.read_bytes())
    response = post(client, body, jira_headers(body, identifier=f"id-{path.stem}"))
    assert response.status_code == 202, response.get_json()
    assert {event.platform for event in stored(app)} == {"jira"}


def test_a_signed_delivery_is_stored_with_its_part(client, app):
    body = fresh_jira_body(CREATED.read_bytes())
    response = post(client, body, jira_headers(body, identifier="4b2e1c1a-7c57-4b9e-9d5f-0d0c0c0c0c01"))
    assert response.status_code == 202
    [event] = stored(app)
    assert (event.ticket_key, event.delivery_id) == ("jira:10107", "4b2e1c1a-7c57-4b9e-9d5f-0d0c0c0c0c01")
    assert event.headers["X-Dispute-Desk-Part"] == "created"
    assert "X-Hub-Signature" not in event.headers


def test_a_comment_that_arrives_twice_is_stored_once(client, app):
    comment = fresh_jira(load_json(PAYLOADS / "jira" / "comment_created_cloud_es.json"))
    as_update = {
        "timestamp": comment["timestamp"] + 5,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_commented",
        "user": comment["comment"]["author"],
        "issue": comment["issue"],
        "comment": comment["comment"],
    }
    first = json.dumps(comment).encode()
    second = json.dumps(as_update).encode()
    assert post(client, first, jira_headers(first, identifier="delivery-1")).status_code == 202
    response = post(client, second, jira_headers(second, identifier="delivery-2"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "duplicate"
    assert [event.headers["X-Dispute-Desk-Part"] for event in stored(app)] == ["comment"]


def test_a_transition_with_a_comment_is_two_parts(client, app):
    payload = fresh_jira(load_json(REAL / "jira_issue_updated_server_issue_commented.json"))
    payload["changelog"] = {"id": "20001", "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "Open", "to": "3", "toString": "In Progress"}]}
    body = json.dumps(payload).encode()
    response = post(client, body, jira_headers(body, identifier="delivery-3"))
    assert response.status_code == 202
    assert [event.headers["X-Dispute-Desk-Part"] for event in stored(app)] == ["changelog", "comment"]


def test_a_redelivery_answers_200(client, app):
    body = fresh_jira_body(CREATED.read_bytes())
    headers = jira_headers(body, identifier="same-id")
    assert post(client, body, headers).status_code == 202
    assert post(client, body, headers).status_code == 200
    assert len(stored(app)) == 1


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h, b: h.pop("X-Hub-Signature"), "missing X-Hub-Signature header"),
        (lambda h, b: h.update({"X-Hub-Signature": "sha1=abc"}), "X-Hub-Signature must be sha256=<hex digest>"),
        (lambda h, b: h.update(jira_headers(b, secret="not-ours")), "signature does not match"),
        (lambda h, b: h.update({"X-Hub-Signature": "sha256=" + "0" * 64}), "signature does not match"),
    ],
    ids=["missing", "wrong-method", "wrong-secret", "zeros"],
)
def test_forged_or_unsigned_requests_get_401_and_store_nothing(client, app, mutate, reason):
    body = CREATED.read_bytes()
    headers = jira_headers(body, identifier="x")
    mutate(headers, body)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == reason
    assert stored(app) == []


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"timestamp": 1, "issue": {"id": "1"}}, "not a Jira webhook (expected webhookEvent)"),
        ([1, 2], "body is not a JSON object"),
    ],
    ids=["no-event", "array"],
)
def test_bodies_that_are_not_issue_events_get_400_with_a_reason(client, app, payload, reason):
    body = json.dumps(fresh_jira(payload)).encode()
    response = post(client, body, jira_headers(body, identifier="y"))
    assert response.status_code == 400
    assert response.get_json()["error"] == reason
    assert stored(app) == []
