"""The webhooks in the real world: genuine deliveries the service does not act on answer 200,
no body makes a 500, ids are ids, nothing unsigned gets in by default, nobody forges an
internal event, and signed bodies cannot be replayed. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.zendesk import normalize as zendesk_normalize
from integration.config import Config
from integration.core import engine
from integration.runtime.inbox import EventStatus
from tests.conftest import (
    PAYLOADS,
    REAL,
    WEBHOOK_SECRET,
    fresh_jira,
    jira_headers,
    load_json,
    zendesk_headers,
    zendesk_timestamp,
)

ZENDESK = "/webhooks/zendesk"
JIRA = "/webhooks/jira"
TRIGGER = load_json(PAYLOADS / "zendesk" / "trigger_created_es.json")
JIRA_CREATED = load_json(PAYLOADS / "jira" / "issue_created_es_delivery.json")
INVOKED = {"X-Zendesk-Webhook-Invocation-Id": "inv-1"}
ZENDESK_CREDENTIALS = {"zendesk_subdomain": "example", "zendesk_email": "bot@example.com", "zendesk_api_token": "token"}


def now_ms(shift: timedelta = timedelta()) -> int:
    return int((datetime.now(UTC) + shift).timestamp() * 1000)


@pytest.fixture
def app(make_app):
    return make_app(zendesk_webhook_secrets=(WEBHOOK_SECRET,), jira_webhook_secrets=(WEBHOOK_SECRET,))


@pytest.fixture
def client(app):
    return app.test_client()


def stored(app) -> list:
    return app.extensions["dispute_desk"].inbox.list()


def signed(platform: str, body: bytes, delivery: str = "delivery-1") -> dict[str, str]:
    if platform == "jira":
        return jira_headers(body, identifier=delivery)
    return zendesk_headers(body, invocation=delivery)


def post(client, platform: str, payload: Any, delivery: str = "delivery-1"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(f"/webhooks/{platform}", data=body, headers=signed(platform, body, delivery))


def metric(client, sample: str) -> float:
    lines = client.get("/metrics").get_data(as_text=True).splitlines()
    return next((float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(sample + " ")), 0.0)


# ---- 6. genuine deliveries never fail ------------------------------------------------------


def _jira_event(event: str, **extra: Any) -> dict[str, Any]:
    return {"timestamp": now_ms(), "webhookEvent": event, **extra}


WORKLOG = {"id": "10100", "issueId": "10107", "timeSpentSeconds": 3600, "author": {"accountId": "5b10a2844c20165700ede21g"}}
COMMENT = load_json(PAYLOADS / "jira" / "comment_created_cloud_es.json")["comment"]
IGNORED_JIRA = [
    (_jira_event("worklog_created", worklog=WORKLOG), "worklog_created"),
    (_jira_event("worklog_updated", worklog=WORKLOG), "worklog_updated"),
    (_jira_event("worklog_deleted", worklog=WORKLOG), "worklog_deleted"),
    (_jira_event("jira:worklog_updated", issue={"id": "10107", "key": "DD-7"}), "jira:worklog_updated"),  # Server
    (_jira_event("comment_deleted", comment=COMMENT, issue={"id": "10107"}), "comment_deleted"),
    (_jira_event("project_created", project={"id": "10000", "key": "DD"}), "project_created"),
]


@pytest.mark.parametrize("payload, event", IGNORED_JIRA, ids=[event for _, event in IGNORED_JIRA])
def test_genuine_jira_events_not_acted_on_answer_200_ignored(client, app, payload, event):
    response = post(client, "jira", payload)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ignored", "reason": f"{event}: dispute-desk does not act on this event"}
    assert stored(app) == []
    assert metric(client, 'dispute_desk_webhooks_received_total{platform="jira",result="ignored"}') == 1


MESSAGING = {
    "type": "zen:event-type:messaging_ticket.agent_joined",
    "account_id": 22129848,
    "id": "c8a5d2a0-5f3c-4a9c-8a59-7c2a4f2b1a10",
    "subject": "zen:ticket:35436",
    "time": "2026-03-02T13:00:00.000Z",
    "zendesk_event_version": "2022-11-06",
    "detail": {"id": "35436"},
    "event": {},
}
IGNORED_ZENDESK = [
    (MESSAGING, "zen:event-type:messaging_ticket.agent_joined is not a ticket event"),
    *[
        (load_json(REAL / name), f"{load_json(REAL / name)['type']} is not a ticket event")
        for name in (
            "zendesk_event_user_deleted_real_delivery.json",
            "zendesk_event_user_active_changed_docs.json",
            "zendesk_event_user_group_membership_created_docs_derived.json",
        )
    ],
]


@pytest.mark.parametrize("payload, reason", IGNORED_ZENDESK, ids=["messaging", "user-deleted", "user-active", "group-membership"])
def test_genuine_zendesk_events_not_acted_on_answer_200_ignored(client, app, payload, reason):
    response = post(client, "zendesk", payload)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ignored", "reason": reason}
    assert stored(app) == []


def test_a_foreign_body_gets_400_naming_the_trigger_body_expected(client, app):
    response = post(client, "zendesk", {"ticket": {"id": 35436}, "status": "open"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error.startswith("not a Zendesk ticket webhook (expected type zen:event-type:ticket.* or a trigger body with ticket_id)")
    assert '"ticket_id": "{{ticket.id}}"' in error and '"dispute_desk": "1"' in error


@pytest.mark.parametrize(
    "send, result",
    [
        (lambda c: c.post(JIRA, data=b"{}", headers=jira_headers(b"{}", secret="wrong", identifier="x")), "unauthorized"),
        (lambda c: c.post(JIRA, data=b"[1]", headers=jira_headers(b"[1]", identifier="x")), "malformed"),
        (lambda c: post(c, "jira", fresh_jira(JIRA_CREATED)), "accepted"),
    ],
    ids=["401", "400", "202"],
)
def test_every_answer_is_counted_by_result(client, app, send, result):
    send(client)
    assert metric(client, f'dispute_desk_webhooks_received_total{{platform="jira",result="{result}"}}') == 1


# ---- 8. no 500 for any body ----------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED = json.dumps(json.loads("{\"a\": " * 300 + "1" + "}" * 300)).encode()
HUGE_INT = b'{"ticket_id": ' + b"9" * 5000 + b', "webhookEvent": "jira:issue_created", "timestamp": ' + b"1" * 5000 + b"}"


@pytest.mark.parametrize("platform", ["zendesk", "jira"])
@pytest.mark.parametrize(
    "body, reason",
    [
        (DEEP, "body is nested deeper than 64 levels"),
        (NESTED, "body is nested deeper than 64 levels"),
        (HUGE_INT, "body is not valid JSON: a number has more than 4300 digits"),
    ],
    ids=["recursion", "deep", "huge-int"],
)
def test_bodies_that_break_the_parser_get_400(client, app, platform, body, reason):
    response = post(client, platform, body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"] == reason
    assert stored(app) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"webhookEvent": ["jira:issue_created"], "timestamp": "NOW"},
        {"webhookEvent": "jira:issue_created", "issue": [], "timestamp": "NOW"},
        {"webhookEvent": "jira:issue_created", "issue": {"id": {"a": 1}}, "timestamp": "NOW"},
        {"webhookEvent": "comment_created", "comment": "text", "timestamp": "NOW"},
        {"webhookEvent": "comment_created", "comment": {"id": "1", "self": 7}, "timestamp": "NOW"},
        {"webhookEvent": "jira:issue_updated", "issue": {"id": "10107"}, "changelog": {"items": "x"}, "timestamp": "NOW"},
        {"webhookEvent": "jira:issue_updated", "issue": {"id": "10107"}, "timestamp": "soon"},
        {"webhookEvent": "jira:issue_updated", "issue": {"id": "10107"}, "timestamp": 1e308},
        {"webhookEvent": "jira:issue_updated", "issue": {"id": "10107"}, "timestamp": True},
    ],
)
def test_odd_jira_bodies_never_get_a_500(client, app, payload):
    payload = {**payload, "timestamp": now_ms()} if payload.get("timestamp") == "NOW" else payload
    response = post(client, "jira", payload)
    assert response.status_code in (200, 202, 400, 401), response.get_json()


# ---- 9. ids are ids ------------------------------------------------------------------------


def _subscription(ticket_id: Any) -> dict[str, Any]:
    payload = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
    payload["detail"]["id"] = ticket_id
    return payload


def _jira_comment_on(self_url: str) -> dict[str, Any]:
    payload = fresh_jira(load_json(REAL / "jira_comment_created_server.json"))
    payload["comment"]["self"] = self_url
    return payload


@pytest.mark.parametrize(
    "platform, payload, reason",
    [
        ("zendesk", _subscription("35436/../../users/me"), "ticket id '35436/../../users/me' is not a number"),
        ("zendesk", {**TRIGGER, "ticket_id": "12.json?x"}, "ticket id '12.json?x' is not a number"),
        ("jira", {**fresh_jira(JIRA_CREATED), "issue": {**JIRA_CREATED["issue"], "id": "10107/../../myself"}}, "issue id '10107/../../myself' is not a number"),
        ("jira", _jira_comment_on("https://jira.example.com/rest/api/2/issue/DD-1/comment/10500"), "issue id 'DD-1' is not a number"),
    ],
    ids=["zendesk-subscription", "zendesk-trigger", "jira-issue", "jira-comment-self"],
)
def test_ticket_ids_must_be_digits(client, app, platform, payload, reason):
    response = post(client, platform, payload)
    assert response.status_code == 400
    assert response.get_json()["error"] == reason
    assert stored(app) == []


# ---- 11. no unsigned webhooks by default ---------------------------------------------------


def test_a_platform_without_a_secret_refuses_unsigned_posts_even_when_the_other_is_live(make_app):
    app = make_app(**ZENDESK_CREDENTIALS, zendesk_webhook_secrets=(WEBHOOK_SECRET,))
    client = app.test_client()
    body = json.dumps(fresh_jira(JIRA_CREATED)).encode()
    answers = [client.post(JIRA, data=body, headers={"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": f"u-{n}"}) for n in range(5)]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert answers[0].get_json()["error"] == (
        "JIRA_WEBHOOK_SECRET is not set: unsigned webhooks are refused "
        "(DEV_ALLOW_UNSIGNED_WEBHOOKS=1 accepts them from this machine, for development)"
    )
    assert stored(app) == []
    assert metric(client, 'dispute_desk_webhooks_received_total{platform="jira",result="unauthorized"}') == 5


@pytest.mark.parametrize(
    "allow, remote, expected",
    [(False, "127.0.0.1", 401), (True, "127.0.0.1", 202), (True, "::1", 202), (True, "203.0.113.9", 401)],
    ids=["default", "dev-loopback", "dev-loopback-v6", "dev-remote"],
)
def test_unsigned_only_with_the_development_setting_and_only_from_loopback(make_app, allow, remote, expected):
    app = make_app(allow_unsigned_webhooks=allow)
    body = (PAYLOADS / "zendesk" / "ticket_created_pt_billing.json").read_bytes()
    response = app.test_client().post(ZENDESK, data=body, headers={"Content-Type": "application/json"}, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == expected, response.get_json()


@pytest.mark.parametrize("value, allowed", [("1", True), ("true", True), ("", False), ("0", False)])
def test_the_development_setting_is_read_from_the_environment(value, allowed):
    assert Config.from_env({"DEV_ALLOW_UNSIGNED_WEBHOOKS": value}).allow_unsigned_webhooks is allowed


# ---- 12. internal events cannot be forged --------------------------------------------------


@pytest.mark.parametrize(
    "platform, body, reason",
    [
        ("zendesk", json.dumps({**TRIGGER, "dispute_desk_event": "feedback_received", "rating": 1}).encode(), "body has the key dispute_desk_event, which is reserved for dispute-desk's own events"),
        ("jira", json.dumps({**fresh_jira(JIRA_CREATED), "dispute_desk_event": "deadline_breached"}).encode(), "body has the key dispute_desk_event, which is reserved for dispute-desk's own events"),
        ("zendesk", json.dumps(TRIGGER)[:-1].encode() + b', "ticket_id": "1002"}', "body has the key 'ticket_id' twice"),
        ("zendesk", json.dumps({**TRIGGER, "ticketID": "1002"}).encode(), "keys 'ticket_id' and 'ticketID' are the same field spelled two ways"),
    ],
    ids=["reserved-zendesk", "reserved-jira", "duplicate", "ambiguous"],
)
def test_reserved_and_ambiguous_keys_are_refused(client, app, platform, body, reason):
    response = post(client, platform, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == reason
    assert stored(app) == []


# ---- 13. replays -----------------------------------------------------------------------------


def test_a_jira_body_replayed_under_a_new_identifier_is_a_duplicate(client, app):
    body = json.dumps(fresh_jira(JIRA_CREATED)).encode()
    assert post(client, "jira", body, "wh-1").status_code == 202
    replayed = post(client, "jira", body, "wh-forged-2")
    assert replayed.status_code == 200
    assert replayed.get_json()["status"] == "duplicate"
    assert len(stored(app)) == 1


@pytest.mark.parametrize(
    "shift, reason",
    [
        (timedelta(days=2), "timestamp is outside the allowed window (older than 86400 seconds or ahead by over 300)"),
        (timedelta(hours=-1), "timestamp is outside the allowed window (older than 86400 seconds or ahead by over 300)"),
    ],
    ids=["stale", "future"],
)
def test_a_jira_body_must_be_fresh(client, app, shift, reason):
    payload = {**JIRA_CREATED, "timestamp": now_ms(-shift)}
    response = post(client, "jira", payload)
    assert response.status_code == 401
    assert response.get_json()["error"] == reason
    assert stored(app) == []


def test_a_jira_body_without_a_timestamp_is_refused(client, app):
    payload = {key: value for key, value in JIRA_CREATED.items() if key != "timestamp"}
    response = post(client, "jira", payload)
    assert response.status_code == 400
    assert response.get_json()["error"] == "timestamp missing: a signed Jira body must say when it was sent"


def test_a_zendesk_body_replayed_under_a_new_invocation_is_a_duplicate(client, app):
    body = json.dumps(TRIGGER).encode()
    headers = zendesk_headers(body, timestamp=zendesk_timestamp(), invocation="inv-1")
    assert client.post(ZENDESK, data=body, headers=headers).status_code == 202
    replayed = client.post(ZENDESK, data=body, headers={**headers, "X-Zendesk-Webhook-Invocation-Id": "inv-forged-2"})
    assert replayed.status_code == 200
    assert replayed.get_json()["status"] == "duplicate"
    assert len(stored(app)) == 1


# ---- 12 and 13 in the runtime: the stored row decides; keys outlive `events prune` --------

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def services(make_app):
    return make_app().extensions["dispute_desk"]


def _work(services, platform: str = "zendesk"):
    from adapters import jira, zendesk
    from adapters.dryrun import DryRunAdapter
    from integration.runtime.worker import Worker

    adapters = {"zendesk": DryRunAdapter("zendesk", zendesk.normalize), "jira": DryRunAdapter("jira", jira.normalize)}
    worker = Worker(services.inbox, adapters, services.rules, owner="worker-1")
    done = worker.step(NOW)
    return services.inbox.get(done.id), adapters[platform].recorded


FORGED = {**TRIGGER, "ticket_id": "1001", "dispute_desk_event": "feedback_received", "platform": "zendesk", "rating": 1}


@pytest.mark.parametrize(
    "source_type, payload, ticket",
    [
        # Stored as a webhook (before bodies with the reserved key were refused): a webhook.
        ("trigger:created", {**FORGED, "ticket_id": "1001"}, "1001"),
        # Our own event names the ticket inside it; the row's ticket is the one acted on.
        ("dispute-desk:feedback_received", {"dispute_desk_event": "feedback_received", "platform": "zendesk", "ticket_id": "1002", "rating": 1}, "1001"),
    ],
    ids=["webhook-with-the-mark", "internal-naming-another-ticket"],
)
def test_the_stored_row_decides_what_an_event_is_and_which_ticket(services, source_type, payload, ticket):
    services.inbox.add("zendesk", "d-1", "1001", source_type, json.dumps(payload), {"X-Zendesk-Webhook-Invocation-Id": "d-1"}, NOW)
    event, _ = _work(services)
    assert event.status.value == "done", event.last_error
    assert event.outcome["ticket"] == f"zendesk:{ticket}"
    internal = source_type.startswith("dispute-desk:")
    assert ("feedback_received" in event.outcome["kinds"]) is internal


def test_a_delivery_pruned_is_still_a_duplicate(services):
    inbox = services.inbox
    assert inbox.add("zendesk", "d-1", "35436", "zen:event-type:ticket.created", "{}", {}, NOW)
    leased = inbox.claim("w", NOW)
    inbox.finish(leased.id, "w", EventStatus.DONE, NOW)
    assert inbox.prune(NOW + timedelta(seconds=1)) == 1
    assert inbox.list() == []
    assert inbox.add("zendesk", "d-1", "35436", "zen:event-type:ticket.created", "{}", {}, NOW + timedelta(days=3)) is False
    assert inbox.list() == []


def test_a_signature_is_a_duplicate_until_it_expires(services):
    inbox = services.inbox
    expires = NOW + timedelta(minutes=5)
    assert inbox.add_signed("jira", "digest-1", expires, [("k-1", "10107", "jira:issue_created", {})], "{}", NOW) == [True]
    assert inbox.add_signed("jira", "digest-1", expires, [("k-2", "10107", "jira:issue_created", {})], "{}", NOW + timedelta(minutes=4)) is None
    later = NOW + timedelta(minutes=6)
    assert inbox.add_signed("jira", "digest-1", later + timedelta(minutes=5), [("k-3", "10107", "jira:issue_created", {})], "{}", later) == [True]


# ---- 10. `{{` no longer blanks a field ------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, read",
    [
        ("subject", "Cobrança em dobro {{ urgente", "Cobrança em dobro {{ urgente"),
        ("subject", "reembolso {{ticket.id}} agora", "reembolso {{ticket.id}} agora"),
        ("subject", "{{ticket.title}}", ""),
        ("subject", " {{ ticket.title }} ", ""),
        ("description", "Quero meu dinheiro de volta {{", "Quero meu dinheiro de volta {{"),
        ("tags", "vip {{x", ("vip", "{{x")),
        ("requester_email", "{{ticket.requester.email}}", None),
    ],
)
def test_only_a_value_that_is_exactly_a_placeholder_is_one(field, value, read):
    event = zendesk_normalize({**TRIGGER, field: value}, INVOKED)
    seen = {"subject": event.subject, "description": event.description, "tags": event.tags, "requester_email": event.requester.email}
    assert seen[field] == read


def test_a_customer_cannot_evade_routing_with_braces(services):
    body = {**TRIGGER, "subject": "Cobrança em dobro {{", "description": TRIGGER["description"] + " {{"}
    plain, braced = (engine.plan(zendesk_normalize(payload, INVOKED), services.rules(), NOW) for payload in (TRIGGER, body))
    assert plain.effects.department is not None
    assert braced.effects.department == plain.effects.department


@pytest.mark.parametrize(
    "environ, host, allowed",
    [
        ({}, "127.0.0.1", True),
        ({}, "localhost", True),
        ({}, "0.0.0.0", False),
        ({"JIRA_WEBHOOK_SECRET": "s"}, "127.0.0.1", False),
        ({"ZENDESK_SUBDOMAIN": "x", "ZENDESK_EMAIL": "a@x", "ZENDESK_API_TOKEN": "t"}, "127.0.0.1", False),
        ({"DEV_ALLOW_UNSIGNED_WEBHOOKS": "0"}, "127.0.0.1", False),
    ],
    ids=["loopback", "localhost", "all-interfaces", "a-secret", "credentials", "said-no"],
)
def test_serve_takes_unsigned_webhooks_only_with_nothing_connected_on_loopback(environ, host, allowed):
    from integration.config import unsigned_for_local_dry_run

    environ = dict(environ)
    unsigned_for_local_dry_run(environ, host)
    assert Config.from_env(environ).allow_unsigned_webhooks is allowed
