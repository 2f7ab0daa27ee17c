"""A ticket that is deleted, merged away or marked as spam ends its running deadlines (they
would later escalate a ticket nobody can answer), without reading or writing the ticket.

Runs on SQLite and on PostgreSQL (the `make_app` fixture)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from adapters import jira, zendesk
from adapters.base import PermanentFailure
from adapters.dryrun import DryRunAdapter
from integration.core.events import EVENT_KINDS, EventKind, TicketEvent
from integration.runtime import clock
from integration.runtime.inbox import EventStatus, RetryPolicy
from integration.runtime.store import deadlines
from integration.runtime.worker import Worker
from tests.conftest import PAYLOADS, load_json

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # a Monday, inside business hours
LATER = NOW + timedelta(days=30)


class GoneAfterFirstRead(DryRunAdapter):
    """The dry run, except that the ticket is gone once the deletion is known: any read of
    it answers 404, as Zendesk and Jira do for a deleted ticket."""

    def __init__(self, platform: str, normalize: Any) -> None:
        super().__init__(platform, normalize)
        self.reads_after_deletion = 0
        self.deleted = False

    def refresh(self, event: TicketEvent) -> TicketEvent:
        if self.deleted:
            self.reads_after_deletion += 1
            raise PermanentFailure("404 RecordNotFound")
        return event


def zendesk_gone(name: str) -> dict[str, Any]:
    return load_json(PAYLOADS / "zendesk" / name)


def trigger_deleted() -> dict[str, Any]:
    """A trigger body rendered for a deleted ticket (`{{ticket.status}}` renders `Deleted`)."""
    body = load_json(PAYLOADS / "zendesk" / "trigger_created_es.json")
    body.update(event="updated", status="Deleted", ticket_id="35436")  # the opening dispute's ticket
    return body


# (name, platform, payload, headers, the source type the reason names)
GONE = [
    ("zendesk soft deleted", "zendesk", lambda: zendesk_gone("ticket_soft_deleted.json"), {}, "zen:event-type:ticket.soft_deleted"),
    ("zendesk permanently deleted", "zendesk", lambda: zendesk_gone("ticket_permanently_deleted.json"), {}, "zen:event-type:ticket.permanently_deleted"),
    ("zendesk merged into another", "zendesk", lambda: zendesk_gone("ticket_merged.json"), {}, "zen:event-type:ticket.merged"),
    ("zendesk marked as spam", "zendesk", lambda: zendesk_gone("ticket_marked_as_spam.json"), {}, "zen:event-type:ticket.marked_as_spam"),
    ("zendesk trigger, status deleted", "zendesk", trigger_deleted, {"X-Zendesk-Webhook-Invocation-Id": "inv-gone-1"}, "trigger:updated"),
    ("jira issue deleted", "jira", lambda: load_json(PAYLOADS / "jira" / "issue_deleted.json"), {}, "jira:issue_deleted/issue_deleted"),
]


def opening(platform: str) -> tuple[dict[str, Any], str]:
    """The dispute that starts the ticket's first-response deadline, and its delivery id."""
    if platform == "zendesk":
        return load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"), "d-open"
    return load_json(PAYLOADS / "jira" / "issue_created_es_delivery.json"), "d-open"


def ticket_of(platform: str, payload: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    if platform == "zendesk":
        return zendesk.identify(payload, headers).ticket_id
    return jira.identify(payload, headers)[0].ticket_id


def store(services, platform: str, payload: dict[str, Any], delivery: str, headers: Mapping[str, str] | None = None) -> int:
    body = json.dumps(payload, ensure_ascii=False)
    ticket = ticket_of(platform, payload, headers or {"X-Atlassian-Webhook-Identifier": delivery})
    key = f"{platform}:{ticket}"
    assert services.inbox.add(platform, delivery, ticket, "test", body, {"X-Atlassian-Webhook-Identifier": delivery, **(headers or {})}, NOW)
    stored = next(e for e in services.inbox.list() if e.delivery_id == delivery)
    assert stored.ticket_key == key
    return stored.id


def rows(services) -> dict[str, str]:
    with services.engine.connect() as connection:
        return {row.name: row.status for row in connection.execute(select(deadlines))}


@pytest.fixture
def services(make_app):
    return make_app().extensions["dispute_desk"]


@pytest.mark.parametrize(("platform", "gone", "headers", "source"), [case[1:] for case in GONE], ids=[case[0] for case in GONE])
def test_a_gone_ticket_ends_its_deadlines_with_the_reason_and_is_never_read(services, platform, gone, headers, source):
    adapter = GoneAfterFirstRead(platform, zendesk.normalize if platform == "zendesk" else jira.normalize)
    worker = Worker(services.inbox, {platform: adapter}, services.rules, owner="w1", policy=RetryPolicy(max_attempts=2), rng=random.Random(1))
    payload, delivery = opening(platform)
    store(services, platform, payload, delivery)
    worker.step(NOW)
    assert rows(services) == {"first-response": "running"}

    adapter.deleted = True
    gone_id = store(services, platform, gone(), "d-gone", headers)
    worker.step(NOW + timedelta(minutes=5))

    event = services.inbox.get(gone_id)
    assert event.status == EventStatus.DONE, event.last_error
    assert event.outcome["kinds"] == ["deleted"]
    assert event.outcome["deadlines_recorded"]["cancelled"] == ["first-response"]
    assert event.outcome["warnings"] == [f"the ticket is gone ({source}): its running deadlines end, and nothing is written to it"]
    assert event.outcome["written"] == {"writes": 0}
    assert adapter.reads_after_deletion == 0
    assert rows(services) == {"first-response": "cancelled"}
    # A month later the clock finds nothing to escalate.
    assert clock.tick(services.engine, services.inbox, LATER) == 0


def test_the_ticket_others_were_merged_into_keeps_its_deadlines():
    payload = copy.deepcopy(load_json(PAYLOADS / "zendesk" / "ticket_merged.json"))
    payload["event"]["target_ticket_id"] = payload["detail"]["id"]
    payload["detail"]["status"] = "OPEN"

    assert EventKind.DELETED not in zendesk.normalize(payload, {}).kinds


def test_rules_cannot_listen_to_a_deleted_ticket():
    # Nothing can be written to it: `on: [deleted]` would promise what cannot happen.
    assert "deleted" not in EVENT_KINDS
