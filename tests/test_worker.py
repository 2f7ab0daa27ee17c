"""The worker: claim, normalize, plan with the default rule pack, write back through the
platform's adapter, record deadlines, and settle each event as done, skipped, retried or dead.

Runs on SQLite and on PostgreSQL (the `make_app` fixture). The only stand-in is a scripted
*platform* (an adapter with no API behind it); the app, inbox, rules and engine are real."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from adapters import zendesk
from adapters.base import Adapter, Conflict, PermanentFailure, TemporaryFailure
from adapters.dryrun import DryRunAdapter
from integration.core.events import TicketEvent
from integration.core.plan import NoteEffect, Plan
from integration.core.references import references_in
from integration.runtime.inbox import EventStatus, RetryPolicy
from integration.runtime.store import deadlines
from integration.runtime.worker import Worker
from tests.conftest import PAYLOADS, REAL, load_json

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # a Monday, inside business hours
PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
SOLVED = PAYLOADS / "zendesk" / "ticket_status_changed_solved.json"
POLICY = RetryPolicy(max_attempts=3, base_seconds=1.0, cap_seconds=60.0)


@dataclass
class AfterWrite:
    """The write reached the ticket, then the answer was lost (a timeout, a crash)."""

    error: BaseException


class ScriptedPlatform:
    """A platform whose write endpoint answers from a script: an exception to raise (before
    or after the write lands), or a record of the write. It keeps to the adapter protocol of
    adapters/base.py, and keeps the comments written to its one ticket."""

    platform = "zendesk"

    def __init__(self, *script: BaseException | None, own_actor: str | None = None) -> None:
        self.script = list(script)
        self.own_actor = own_actor
        self.refreshed = 0
        self.applied: list[Plan] = []
        self.comments: list[str] = []

    def normalize(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent:
        return zendesk.normalize(payload, headers)

    def own_actor_reason(self, event: TicketEvent) -> str | None:
        return self.own_actor

    def refresh(self, event: TicketEvent) -> TicketEvent:
        self.refreshed += 1
        return event

    def references_on_ticket(self, event: TicketEvent) -> set[str]:
        return references_in(self.comments)

    def apply(self, plan: Plan, extra_notes: list[NoteEffect]) -> dict[str, Any]:
        self.applied.append(plan)
        answer = self.script.pop(0) if self.script else None
        if isinstance(answer, AfterWrite):
            self.comments += [note.body for note in plan.effects.notes]
            raise answer.error
        if answer is not None:
            raise answer
        self.comments += [note.body for note in plan.effects.notes]
        return {"writes": 1, "department": plan.effects.department}


def _conforms(platform: ScriptedPlatform) -> Adapter:
    return platform


@pytest.fixture
def services(make_app):
    return make_app().extensions["dispute_desk"]


def make_worker(services, adapter, owner: str = "worker-1") -> Worker:
    return Worker(services.inbox, {"zendesk": adapter}, services.rules, owner=owner, policy=POLICY, rng=random.Random(42))


def deliver(services, payload: Any, delivery: str | None = None, now: datetime = NOW, platform: str = "zendesk", ticket: str = "35436") -> int:
    """Store an event as the webhook does (body text as received), and return its id."""
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    if delivery is None:
        delivery = payload["id"] if isinstance(payload, dict) else "d-raw"
    assert services.inbox.add(platform, delivery, ticket, "zen:event-type:ticket.created", body, {}, now)
    return next(e.id for e in services.inbox.list() if e.delivery_id == delivery)


def pt_billing(delivery: str | None = None) -> dict[str, Any]:
    payload = load_json(PT_BILLING)
    if delivery:
        payload["id"] = delivery
    return payload


def deadline_rows(services) -> list[Any]:
    with services.engine.connect() as connection:
        return list(connection.execute(select(deadlines).order_by(deadlines.c.id)))


# ---- the default rule pack through the dry run --------------------------------------------


def test_a_portuguese_billing_dispute_is_done_and_routed_to_finance(services):
    adapter = DryRunAdapter("zendesk", zendesk.normalize)
    event_id = deliver(services, pt_billing())

    stepped = make_worker(services, adapter).step(NOW)

    assert stepped is not None and stepped.id == event_id
    event = services.inbox.get(event_id)
    assert event.status == EventStatus.DONE, event.last_error
    assert (event.attempts, event.last_error) == (1, None)
    outcome = event.outcome
    assert outcome["department"] == "finance"
    assert {"dispute-core-checklist", "finance-dispute"} <= set(outcome["matched_rules"])
    assert outcome["ticket"] == "zendesk:35436"
    assert outcome["language"] == "pt"
    assert outcome["priority"] == "high"
    assert {"dispute", "dispute-finance"} <= set(outcome["add_tags"])
    assert outcome["deadlines"] == ["first-response"]
    assert outcome["deadlines_recorded"] == {"started": ["first-response"], "cancelled": []}
    finance = next(rule for rule in outcome["explanation"] if rule["rule"] == "finance-dispute")
    # the rule holds; its `failed` list names the dispute signals it did not need (an `any`)
    assert finance["matched"] is True
    assert not any(failed.startswith(("status", "comment_by")) for failed in finance["failed"])
    unmatched = next(rule for rule in outcome["explanation"] if rule["rule"] == "logistics-dispute")
    assert unmatched["matched"] is False and unmatched["failed"]  # says which condition failed

    # The dry run recorded the write it would have made: the checklist in Portuguese.
    [record] = adapter.recorded
    assert outcome["written"] == record
    would = record["would_write"]
    assert record["dry_run"] is True
    assert (would["department"], would["department_title"]) == ("finance", "Financeiro")
    checklist = services.rules.current.checklists["dispute-core"]
    bodies = "\n".join(comment["body"] for comment in would["comments"])
    assert checklist.title["pt"] in bodies
    assert all(item["pt"] in bodies for item in checklist.items)
    assert checklist.items[0]["en"] not in bodies
    assert all(comment["public"] is False for comment in would["comments"])


def test_events_caused_by_the_integration_itself_are_skipped_with_the_reason(services):
    platform = ScriptedPlatform(own_actor="caused by the integration's own user 7700001")
    event_id = deliver(services, pt_billing())

    make_worker(services, platform).step(NOW)

    event = services.inbox.get(event_id)
    assert (event.status, event.outcome) == (EventStatus.SKIPPED, {"skipped": "caused by the integration's own user 7700001"})
    assert platform.applied == [] and platform.refreshed == 0


def test_nothing_due_means_no_step(services):
    worker = make_worker(services, DryRunAdapter("zendesk", zendesk.normalize))
    assert worker.step(NOW) is None
    deliver(services, pt_billing(), now=NOW + timedelta(seconds=1))
    assert worker.step(NOW) is None  # stored after `now`: not available yet
    assert worker.step(NOW + timedelta(seconds=1)) is not None


# ---- events that can never be processed ----------------------------------------------------


@pytest.mark.parametrize(
    "body, platform, ticket, error",
    [
        ((REAL / "zendesk_event_user_deleted_real_delivery.json").read_text(), "zendesk", "1", "not a ticket event: zen:event-type:user.deleted is not a ticket event"),
        ((REAL / "zendesk_trigger_webhook_body_template_placeholders.json").read_text(), "zendesk", "1", "not a ticket event: ticket id is an unrendered placeholder ({{ticket.id}}): this is a trigger body template, not a rendered delivery"),
        ("{not json", "zendesk", "1", "not a ticket event: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[1, 2]", "zendesk", "1", "not a ticket event: body is not a JSON object"),
        ('{"type": "zen:event-type:ticket.created", "id": "d-1"}', "zendesk", "1", "not a ticket event: ticket id missing (expected detail.id or ticketId)"),
        (PT_BILLING.read_text(), "jira", "ABC-1", "no adapter configured for jira"),
    ],
    ids=["user-deleted", "unrendered-trigger", "not-json", "array", "no-ticket-id", "no-adapter"],
)
def test_an_event_that_cannot_be_normalized_is_dead_at_once_with_a_clear_error(services, body, platform, ticket, error):
    event_id = deliver(services, body, delivery="d-bad", platform=platform, ticket=ticket)
    worker = make_worker(services, ScriptedPlatform())

    worker.step(NOW)

    event = services.inbox.get(event_id)
    assert (event.status, event.last_error, event.attempts) == (EventStatus.DEAD, error, 1)
    assert worker.adapters["zendesk"].applied == []
    assert worker.step(NOW + timedelta(days=1)) is None  # never retried


# ---- failures while writing back ------------------------------------------------------------


def test_a_temporary_failure_is_retried_when_the_server_says_then_done(services):
    platform = ScriptedPlatform(TemporaryFailure("503", retry_after=5))
    event_id = deliver(services, pt_billing())
    worker = make_worker(services, platform)

    worker.step(NOW)
    waiting = services.inbox.get(event_id)
    assert (waiting.status, waiting.last_error, waiting.attempts) == (EventStatus.PENDING, "503", 1)
    assert waiting.available_at == NOW + timedelta(seconds=5)
    assert worker.step(NOW + timedelta(seconds=4.999)) is None

    worker.step(NOW + timedelta(seconds=5))
    done = services.inbox.get(event_id)
    assert (done.status, done.attempts, done.last_error) == (EventStatus.DONE, 2, "503")  # how it got there stays visible
    assert done.outcome["department"] == "finance"
    assert done.outcome["written"] == {"writes": 1, "department": "finance"}
    assert len(platform.applied) == 2


def test_a_permanent_failure_is_dead_at_once_with_the_message(services):
    message = "Zendesk answered 422: RecordInvalid (Status: closed prevents ticket update)"
    platform = ScriptedPlatform(PermanentFailure(message))
    event_id = deliver(services, pt_billing())

    make_worker(services, platform).step(NOW)

    event = services.inbox.get(event_id)
    assert (event.status, event.last_error, event.attempts) == (EventStatus.DEAD, message, 1)
    assert len(platform.applied) == 1
    # Started before the write, withdrawn when it was refused: nothing left to escalate.
    assert {(row.name, row.status) for row in deadline_rows(services)} == {("first-response", "cancelled")}


def test_temporary_failures_up_to_max_attempts_end_dead_with_the_count(services):
    failures = [TemporaryFailure(f"Zendesk answered 503 (try {n})") for n in range(1, POLICY.max_attempts + 1)]
    platform = ScriptedPlatform(*failures)
    event_id = deliver(services, pt_billing())
    worker = make_worker(services, platform)

    now = NOW
    for attempt in range(1, POLICY.max_attempts):
        worker.step(now)
        event = services.inbox.get(event_id)
        assert (event.status, event.attempts) == (EventStatus.PENDING, attempt)
        ceiling = min(POLICY.cap_seconds, POLICY.base_seconds * 2 ** (attempt - 1))
        assert timedelta(seconds=POLICY.base_seconds / 2) <= event.available_at - now <= timedelta(seconds=ceiling)
        now = event.available_at
    worker.step(now)

    dead = services.inbox.get(event_id)
    assert dead.status == EventStatus.DEAD
    assert dead.last_error == f"Zendesk answered 503 (try {POLICY.max_attempts}) (after {POLICY.max_attempts} attempts)"
    assert len(platform.applied) == POLICY.max_attempts
    assert worker.step(now + timedelta(days=1)) is None


def test_an_unexpected_exception_is_retried_not_lost(services):
    platform = ScriptedPlatform(RuntimeError("boom"))
    event_id = deliver(services, pt_billing())
    worker = make_worker(services, platform)

    worker.step(NOW)
    waiting = services.inbox.get(event_id)
    assert (waiting.status, waiting.last_error, waiting.attempts) == (EventStatus.PENDING, "RuntimeError: boom", 1)
    assert NOW < waiting.available_at <= NOW + timedelta(seconds=POLICY.base_seconds)

    worker.step(waiting.available_at)
    assert services.inbox.get(event_id).status == EventStatus.DONE


def test_conflicts_re_read_and_re_plan_then_succeed(services):
    platform = ScriptedPlatform(Conflict("409"), Conflict("409"))
    event_id = deliver(services, pt_billing())

    make_worker(services, platform).step(NOW)

    event = services.inbox.get(event_id)
    assert (event.status, event.attempts) == (EventStatus.DONE, 1)
    assert platform.refreshed == 3
    assert len(platform.applied) == 3
    assert event.outcome["deadlines_recorded"]["started"] == ["first-response"]
    assert len(deadline_rows(services)) == 1  # recorded once, after the write that succeeded


def test_a_ticket_that_keeps_changing_is_retried_later(services):
    platform = ScriptedPlatform(Conflict("409"), Conflict("409"), Conflict("409"))
    event_id = deliver(services, pt_billing())
    worker = make_worker(services, platform)

    worker.step(NOW)
    event = services.inbox.get(event_id)
    assert (event.status, event.last_error) == (EventStatus.PENDING, "the ticket kept changing (3 conflicts in a row)")
    assert platform.refreshed == 3

    worker.step(event.available_at)
    assert services.inbox.get(event_id).status == EventStatus.DONE


# ---- deadlines -----------------------------------------------------------------------------


def test_a_deadline_is_started_once_and_cancelled_when_the_dispute_is_solved(services):
    adapter = DryRunAdapter("zendesk", zendesk.normalize)
    worker = make_worker(services, adapter)

    deliver(services, pt_billing())
    worker.step(NOW)
    [started] = deadline_rows(services)
    assert (started.ticket_key, started.name, started.status) == ("zendesk:35436", "first-response", "running")
    assert started.due_at == datetime(2026, 3, 2, 17, 0)  # 4 business hours later (stored as naive UTC)
    assert (started.within, started.calendar, started.rule_id) == ("4h business", "default", "finance-dispute")
    assert started.met_by == "agent_reply,solved"

    # The same event again (a new delivery an hour later): the deadline is not restarted.
    again = deliver(services, pt_billing("0b6f3c9e-again"), now=NOW + timedelta(hours=1))
    worker.step(NOW + timedelta(hours=1))
    event = services.inbox.get(again)
    assert event.status == EventStatus.DONE, event.last_error
    assert event.outcome["deadlines"] == ["first-response"]  # the plan asks for it...
    assert event.outcome["deadlines_recorded"] == {"started": [], "cancelled": []}  # ...it is already running
    [unchanged] = deadline_rows(services)
    assert (unchanged.due_at, unchanged.started_at, unchanged.status) == (started.due_at, started.started_at, "running")

    # Solved: the first-response deadline is cancelled.
    solved = deliver(services, load_json(SOLVED), now=NOW + timedelta(hours=2))
    worker.step(NOW + timedelta(hours=2))
    event = services.inbox.get(solved)
    assert event.status == EventStatus.DONE, event.last_error
    assert "dispute-solved" in event.outcome["matched_rules"]
    # Solving meets it (met_by includes solved) before the rule's cancel_deadline runs.
    assert event.outcome["deadlines_recorded"] == {"met": ["first-response"], "started": [], "cancelled": []}
    [met] = deadline_rows(services)
    assert (met.status, met.due_at) == ("met", started.due_at)

    # Cancelling again changes nothing, and says so.
    repeat = copy.deepcopy(load_json(SOLVED))
    repeat["id"] = "solved-again"
    replayed = deliver(services, repeat, now=NOW + timedelta(hours=3))
    worker.step(NOW + timedelta(hours=3))
    assert services.inbox.get(replayed).outcome["deadlines_recorded"] == {"started": [], "cancelled": []}


# ---- several worker threads in one process (as `serve` and `worker` start them) -----------



def test_each_worker_of_a_process_has_its_own_lease_owner(services):
    from integration.runtime import platforms

    adapters = platforms.build_adapters(services)
    first, second = (platforms.make_worker(services, adapters) for _ in range(2))
    assert first.owner != second.owner


def test_a_stalled_worker_thread_loses_its_lease_to_a_sibling(services):
    from integration.runtime import platforms

    adapters = platforms.build_adapters(services)
    stalled, sibling = (platforms.make_worker(services, adapters) for _ in range(2))
    event_id = deliver(services, pt_billing())
    inbox = services.inbox
    assert inbox.claim(stalled.owner, NOW).id == event_id
    later = NOW + inbox.lease + timedelta(seconds=1)
    assert inbox.release_expired(later) == 1
    assert inbox.claim(sibling.owner, later).id == event_id

    # The stalled thread wakes up: its lease is gone, so it must not settle the event.
    assert inbox.finish(event_id, stalled.owner, EventStatus.DONE, later, {"stale": True}) is False


def test_a_write_whose_answer_was_lost_is_not_written_again(services):
    platform = ScriptedPlatform(AfterWrite(TemporaryFailure("read timeout")))
    worker = make_worker(services, platform)
    event_id = deliver(services, pt_billing())

    worker.step(NOW)  # the notes land on the ticket, the answer is lost: retried later
    retried = services.inbox.get(event_id)
    assert retried.status == EventStatus.PENDING
    worker.step(retried.available_at)

    done = services.inbox.get(event_id)
    assert done.status == EventStatus.DONE, done.last_error
    first, second = platform.applied
    assert len(first.effects.notes) >= 2 and second.effects.notes == []  # nothing posted twice
    assert sorted(done.outcome["already_applied"]) == sorted(note.key for note in first.effects.notes)
    assert len(platform.comments) == len(first.effects.notes)
    assert all("— dispute-desk ref dd:" in comment for comment in platform.comments)
