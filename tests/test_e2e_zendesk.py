"""End to end on Zendesk: a signed webhook in, the worker, the real zenpy client writing to
a fake Zendesk over HTTP, and every request body checked against Zendesk's OpenAPI spec.

Runs on SQLite and on PostgreSQL (the `make_app` fixture)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from integration.runtime import platforms
from integration.runtime.inbox import EventStatus
from tests.conftest import PAYLOADS, WEBHOOK_SECRET, load_json, zendesk_headers
from tests.fakes.fixtures import point_zenpy_at
from tests.openapi import ZENPY_ALLOWED, load_spec

BOT_ID = 7700001
TICKET_ID = 35436


@pytest.fixture
def zendesk(fake_zendesk, monkeypatch):
    """The fake account: the integration's own user, the seven department groups, and a
    Portuguese-speaking customer's new ticket about a double charge."""
    fake_zendesk.me.update({"id": BOT_ID, "name": "dispute-desk", "role": "agent"})
    fake_zendesk.users[BOT_ID] = fake_zendesk.me
    point_zenpy_at(fake_zendesk, monkeypatch)
    return fake_zendesk


@pytest.fixture
def desk(make_app, zendesk):
    """The service as `serve` builds it, connected to the fake account."""
    app = make_app(
        zendesk_subdomain="example",
        zendesk_email="bot@example.com",
        zendesk_api_token="token",
        zendesk_webhook_secrets=(WEBHOOK_SECRET,),
    )
    services = app.extensions["dispute_desk"]
    for index, department in enumerate(services.rules.current.departments.values()):
        name = department.zendesk.get("group")
        if name:
            zendesk.add_group(id=360000100 + index, name=name)
    payload = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
    detail = payload["detail"]
    requester = zendesk.add_user(id=int(detail["requester_id"]), name="Ana Souza", email="ana@example.com.br", locale="pt-BR")
    zendesk.add_ticket(
        id=TICKET_ID,
        subject=detail["subject"],
        description=detail["description"],
        status="new",
        priority=None,
        tags=[],
        requester_id=requester["id"],
        group_id=None,
    )
    adapters = platforms.build_adapters(services)
    return Desk(app, zendesk, platforms.make_worker(services, adapters), payload)


class Desk:
    def __init__(self, app, fake, worker, payload) -> None:
        self.app, self.fake, self.worker, self.payload = app, fake, worker, payload
        self.client = app.test_client()

    def deliver(self, payload: dict[str, Any], **header_options: Any):
        body = json.dumps(payload, indent=3).encode()
        return self.client.post("/webhooks/zendesk", data=body, headers=zendesk_headers(body, **header_options))

    def work(self) -> list:
        """Run the worker until nothing is due; `now` is after every delivery so far."""
        self.now = datetime.now(UTC)
        done = []
        while (event := self.worker.step(self.now)) is not None:
            done.append(self.worker.inbox.get(event.id))
        return done

    @property
    def ticket(self) -> dict[str, Any]:
        return self.fake.ticket(TICKET_ID)

    def comments(self) -> list[dict[str, Any]]:
        return [c for c in self.fake.comments(TICKET_ID) if c.get("author_id") == BOT_ID]

    def department_group(self, department: str) -> int:
        name = self.app.extensions["dispute_desk"].rules.current.departments[department].zendesk["group"]
        return next(gid for gid, group in self.fake.groups.items() if group["name"] == name)


def comment_added(payload: dict[str, Any], actor: str, body: str, delivery: str, staff: bool = False) -> dict[str, Any]:
    event = copy.deepcopy(payload)
    event["id"] = delivery
    event["type"] = "zen:event-type:ticket.comment_added"
    event["detail"]["actor_id"] = actor
    event["event"] = {
        "comment": {"author": {"id": actor, "is_staff": staff, "name": "x"}, "body": body, "id": delivery[-8:], "is_public": True}
    }
    return event


def test_portuguese_billing_dispute_is_routed_checklisted_and_prioritized_in_one_write(desk):
    assert desk.deliver(desk.payload).status_code == 202
    desk.fake.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    writes = desk.fake.writes()
    assert [(w.method, w.path) for w in writes] == [("PUT", f"/api/v2/tickets/{TICKET_ID}.json")]
    load_spec().validate_request("PUT", writes[0].path, writes[0].json, strict=True, allow=ZENPY_ALLOWED)
    sent = writes[0].json["ticket"]
    assert sent["safe_update"] is True and sent["updated_stamp"]

    ticket = desk.ticket
    assert ticket["group_id"] == desk.department_group("finance")
    assert ticket["priority"] in ("high", "urgent")
    assert {"dispute", "dispute-finance"} <= set(ticket["tags"])
    [note] = desk.comments()
    assert note["public"] is False
    checklists = desk.app.extensions["dispute_desk"].rules.current.checklists
    assert checklists["dispute-core"].title["pt"] in note["body"]
    assert checklists["dispute-core"].items[0]["pt"] in note["body"]
    assert checklists["dispute-core"].items[0]["en"] not in note["body"]
    assert "finance" in event.outcome["department"]


def test_redelivery_and_repeated_events_add_nothing_twice(desk):
    desk.deliver(desk.payload)
    desk.work()
    desk.fake.reset_log()
    tags_before = list(desk.ticket["tags"])

    assert desk.deliver(desk.payload).status_code == 200  # the same delivery again
    assert desk.work() == []
    follow_up = comment_added(desk.payload, actor=desk.payload["detail"]["requester_id"], body="Ainda aguardo o reembolso!", delivery="c-1")
    assert desk.deliver(follow_up).status_code == 202
    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    assert len(desk.comments()) == 1  # still one checklist note
    assert desk.ticket["tags"] == tags_before
    assert [w for w in desk.fake.writes()] == []  # nothing left to change: no write at all


def test_events_caused_by_the_integration_itself_are_skipped_with_the_reason(desk):
    own = comment_added(desk.payload, actor=str(BOT_ID), body="Checklist de resolução de disputa", delivery="c-own", staff=True)
    desk.deliver(own)
    desk.fake.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.SKIPPED
    assert event.outcome == {"skipped": f"caused by the integration's own user {BOT_ID}"}
    assert desk.fake.requests == []  # not even a read


def test_a_forged_request_changes_nothing(desk):
    body = json.dumps(desk.payload).encode()
    headers = zendesk_headers(body, secret="not-the-secret")
    assert desk.client.post("/webhooks/zendesk", data=body, headers=headers).status_code == 401
    assert desk.work() == []
    assert desk.fake.writes() == []
    assert desk.ticket["tags"] == []


def test_a_conflicting_edit_is_reread_and_replanned(desk):
    desk.deliver(desk.payload)
    desk.fake.reset_log()
    # Between our read and our write, an agent routes the ticket by hand and tags it.
    desk.fake.fail_next(409, path_contains=f"tickets/{TICKET_ID}", method="PUT")
    desk.fake.update_ticket(TICKET_ID, tags=["agent-was-here"])

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    puts = [w for w in desk.fake.requests if w.method == "PUT"]
    assert len(puts) == 2 and puts[0].injected and not puts[1].injected
    gets = [r for r in desk.fake.requests if r.method == "GET" and f"tickets/{TICKET_ID}" in r.path]
    assert len(gets) == 2  # read, conflict, read again
    assert "agent-was-here" in desk.ticket["tags"]  # the re-plan kept the agent's tag
    assert len(desk.comments()) == 1


@pytest.mark.parametrize(
    "status, headers, expected_status, expected_error",
    [
        (429, {"Retry-After": "7"}, EventStatus.PENDING, "Zendesk rate limit (429)"),
        (503, {"Retry-After": "5"}, EventStatus.PENDING, "Zendesk answered 503: "),
        (422, None, EventStatus.DEAD, "Zendesk answered 422: RecordInvalid"),
    ],
    ids=["429", "503", "422"],
)
def test_write_failures_are_retried_or_dead_lettered_with_the_api_message(desk, status, headers, expected_status, expected_error):
    desk.deliver(desk.payload)
    desk.fake.fail_next(status, headers=headers, method="PUT")

    [event] = desk.work()

    assert event.status == expected_status
    assert event.last_error.startswith(expected_error)
    if expected_status == EventStatus.PENDING and headers:
        waited = (event.available_at - desk.now).total_seconds()
        assert waited == pytest.approx(float(headers["Retry-After"]))  # the server's word wins


def test_a_department_whose_group_is_missing_is_reported_not_silently_dropped(make_app, zendesk):
    app = make_app(zendesk_subdomain="example", zendesk_email="bot@example.com", zendesk_api_token="token", zendesk_webhook_secrets=(WEBHOOK_SECRET,))
    services = app.extensions["dispute_desk"]
    payload = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
    zendesk.add_user(id=int(payload["detail"]["requester_id"]), name="Ana", locale="pt-BR")
    zendesk.add_ticket(id=TICKET_ID, subject=payload["detail"]["subject"], description=payload["detail"]["description"], status="new", tags=[], requester_id=int(payload["detail"]["requester_id"]))
    adapters = platforms.build_adapters(services)  # no groups exist in this account
    desk = Desk(app, zendesk, platforms.make_worker(services, adapters), payload)
    assert adapters["zendesk"].start() == [
        f'department {ident}: no Zendesk group named "{d.zendesk["group"]}"' for ident, d in services.rules.current.departments.items()
    ]
    desk.deliver(payload)
    [event] = desk.work()
    assert event.status == EventStatus.DONE
    assert event.outcome["warnings"] == ['not routed to finance: no Zendesk group "Finance" was found at start-up']
    assert "group_id" not in zendesk.writes()[-1].json["ticket"]
    assert len(desk.comments()) == 1  # everything else was still written


def test_logs_are_json_with_event_ticket_and_rules_and_never_carry_a_secret(desk, caplog):
    import logging

    from integration.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)  # libraries' debug output too (zenpy logs its requests)
    body = json.dumps(desk.payload, indent=3).encode()
    headers = zendesk_headers(body)
    desk.client.post("/webhooks/zendesk", data=body, headers=headers)
    desk.work()

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]
    done = [e for e in entries if e["message"] == "event done"]
    assert len(done) == 1 and done[0]["ticket"] == f"zendesk:{TICKET_ID}" and "finance-dispute" in done[0]["matched_rules"]
    assert isinstance(done[0]["event_id"], int)
    text = "\n".join(lines)
    for secret in (WEBHOOK_SECRET, "token", headers["X-Zendesk-Webhook-Signature"]):
        assert secret not in text, f"a secret reached the logs: {secret[:4]}…"
