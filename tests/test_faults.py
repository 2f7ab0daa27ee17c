"""Fault tests: the real worker, the real zenpy / jira clients, and the fake platforms
misbehaving the way real ones do -- 503 storms, 429 with Retry-After, writes whose answer
is lost to a timeout, the API going away and coming back, dead letters and their replay,
and a 4xx that must not be retried.

The worker runs in this process and is stepped with explicit `now` values: instead of
sleeping until an event's `available_at`, the test moves `now` there. The HTTP side is
real (the fakes are real servers; timeouts are real seconds).

Runs on SQLite and on PostgreSQL (the `database_url` fixture behind `make_app`).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from requests.adapters import HTTPAdapter
from sqlalchemy import func, select

import tests.fakes.zendesk as fake_zendesk_module
from integration import cli
from integration.runtime import platforms
from integration.runtime.inbox import EventStatus, StoredEvent
from integration.runtime.store import action_log, deadlines, from_db, inbox
from integration.runtime.worker import Worker
from tests.conftest import (
    PAYLOADS,
    RULES,
    WEBHOOK_SECRET,
    fresh_jira,
    jira_headers,
    load_json,
    zendesk_headers,
)
from tests.fakes.fixtures import point_zenpy_at
from tests.fakes.jira import FakeJira, adf_text
from tests.fakes.jira_fixtures import JIRA_API_TOKEN
from tests.fakes.zendesk import FakeZendesk
from tests.test_e2e_jira import seeded

BOT_ID = 7700001
REFERENCE = re.compile(r"dd:[0-9a-f]{12}")
PT_CREATED = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")

# ticket id -> (requester id, locale, name, subject, description)
TICKETS: dict[int, tuple[int, str, str, str, str]] = {
    41001: (
        24690135792468,
        "pt-BR",
        "Ana Souza",
        "Cobrança em duplicidade na fatura de março",
        "Olá, fui cobrado duas vezes pela assinatura de março no cartão final 4821. Quero o reembolso (estorno) da cobrança em duplicidade, por favor.",
    ),
    41002: (
        24690135799999,
        "es-419",
        "Lucía Fernández",
        "Cobro duplicado en mi factura",
        "Hola, me cobraron dos veces la factura de febrero. Solicito el reembolso del cargo duplicado.",
    ),
    41003: (
        24690135791111,
        "en-US",
        "John Miller",
        "Charged twice for my subscription",
        "Hello, I was charged twice on my credit card this month. I want a refund of the duplicate charge.",
    ),
}
LANGUAGE = {"pt-BR": "pt", "es-419": "es", "en-US": "en"}
BILLING_CHECKLISTS = ("dispute-core", "dispute-finance")

# A rule whose note carries no marker tag: only the `dd:` references keep it from being
# written twice when a write's answer is lost (the default pack guards its notes with tags).
UNGUARDED_NOTE_RULE = {
    "id": "customer-comment-note",
    "description": "Every customer comment gets an internal note (test rule: no marker tag).",
    "on": ["comment_added"],
    "if": {"all": [{"comment_by": {"is": "customer"}}]},
    "then": {"note": "legal-threat-note"},
}


# ---- helpers ---------------------------------------------------------------------------------


def rules_with(rule: dict[str, Any], tmp_path: Path) -> str:
    """The default rule pack plus one extra rule file."""
    target = tmp_path / "rules"
    target.mkdir()
    for path in RULES.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    (target / "99-test.yaml").write_text(yaml.safe_dump({"version": 1, "rules": [rule]}, sort_keys=False, allow_unicode=True))
    return str(target)


def created_payload(ticket_id: int, delivery: str) -> dict[str, Any]:
    requester, _locale, _name, subject, description = TICKETS[ticket_id]
    payload = copy.deepcopy(PT_CREATED)
    payload["id"] = delivery
    payload["subject"] = f"zen:ticket:{ticket_id}"
    detail = payload["detail"]
    detail.update(
        id=str(ticket_id),
        requester_id=str(requester),
        submitter_id=str(requester),
        actor_id=str(requester),
        subject=subject,
        description=description,
    )
    return payload


def comment_payload(ticket_id: int, delivery: str, body: str) -> dict[str, Any]:
    """A customer's public comment on the ticket (an event-subscription webhook)."""
    requester = str(TICKETS[ticket_id][0])
    payload = created_payload(ticket_id, delivery)
    payload["type"] = "zen:event-type:ticket.comment_added"
    payload["detail"]["status"] = "OPEN"
    payload["event"] = {
        "comment": {"author": {"id": requester, "is_staff": False, "name": TICKETS[ticket_id][2]}, "body": body, "id": str(abs(hash(delivery)) % 10**12), "is_public": True}
    }
    return payload


@dataclass
class Step:
    now: datetime
    event: StoredEvent  # as stored right after the step


class ZendeskDesk:
    """The service wired as `serve` wires it, against a fake Zendesk, stepped by hand."""

    def __init__(self, app: Any, fake: FakeZendesk) -> None:
        self.app, self.fake = app, fake
        self.services = app.extensions["dispute_desk"]
        self.adapters = platforms.build_adapters(self.services)
        self.worker = platforms.make_worker(self.services, self.adapters)
        self.client = app.test_client()
        self.now = datetime.now(UTC)

    @property
    def engine(self) -> Any:
        return self.services.engine

    def deliver(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        response = self.client.post("/webhooks/zendesk", data=body, headers=zendesk_headers(body))
        assert response.status_code == 202, response.get_data(as_text=True)
        self.now = max(self.now, datetime.now(UTC))

    def step(self, now: datetime | None = None) -> Step | None:
        now = now or self.now
        stored = self.worker.step(now)
        if stored is None:
            return None
        return Step(now, self.worker.inbox.get(stored.id))  # type: ignore[arg-type]

    def drain(self, limit: int = 200) -> list[Step]:
        """Step until nothing is pending, moving `now` to the next `available_at` instead of sleeping."""
        steps: list[Step] = []
        for _ in range(limit):
            step = self.step()
            if step is not None:
                steps.append(step)
                continue
            upcoming = next_available(self.engine)
            if upcoming is None:
                return steps
            self.now = max(self.now, upcoming)
        raise AssertionError(f"the inbox did not settle in {limit} steps: {statuses(self.engine)}")

    def bot_bodies(self, ticket_id: int) -> list[str]:
        return [str(c["body"]) for c in self.fake.comments(ticket_id) if c.get("author_id") == BOT_ID]

    def puts(self, ticket_id: int) -> list[Any]:
        return [r for r in self.fake.requests if r.method == "PUT" and r.path == f"/api/v2/tickets/{ticket_id}.json"]

    def checklist_titles(self, ticket_id: int) -> dict[str, str]:
        language = LANGUAGE[TICKETS[ticket_id][1]]
        return {ident: checklist.title[language] for ident, checklist in self.services.rules.current.checklists.items()}


def next_available(engine: Any) -> datetime | None:
    with engine.connect() as connection:
        moment = connection.execute(select(func.min(inbox.c.available_at)).where(inbox.c.status == EventStatus.PENDING.value)).scalar()
    return None if moment is None else moment.replace(tzinfo=UTC)


def statuses(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status)).all())  # type: ignore[arg-type]


def assert_nothing_doubled(bodies: list[str], titles: dict[str, str], expected_checklists: tuple[str, ...]) -> Counter[str]:
    """No `dd:` reference twice, no comment twice, each expected checklist exactly once."""
    references = Counter(ref for body in bodies for ref in REFERENCE.findall(body))
    assert [ref for ref, n in references.items() if n > 1] == [], bodies
    assert len(bodies) == len(set(bodies)), bodies
    for ident, title in titles.items():
        count = sum(body.count(title) for body in bodies)
        assert count == (1 if ident in expected_checklists else 0), (ident, count, bodies)
    return references


def deadline_names(engine: Any, ticket_key: str) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(deadlines.c.name, deadlines.c.status).where(deadlines.c.ticket_key == ticket_key)).all()
    return {row.name: row.status for row in rows}


def duplicate_action_log_rows(engine: Any) -> list[Any]:
    query = select(action_log.c.event_id, action_log.c.action_key, func.count()).group_by(action_log.c.event_id, action_log.c.action_key).having(func.count() > 1)
    with engine.connect() as connection:
        return list(connection.execute(query).all())


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def account(fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> FakeZendesk:
    """The fake account: our own user, the department groups, three customers' tickets."""
    fake_zendesk.me.update({"id": BOT_ID, "name": "dispute-desk", "role": "agent"})
    fake_zendesk.users[BOT_ID] = fake_zendesk.me
    for index, name in enumerate(["Finance", "Legal & Compliance", "Engineering & QA", "Product", "Marketing & PR", "Logistics & Operations", "Senior Management"]):
        fake_zendesk.add_group(id=360000100 + index, name=name)
    for ticket_id, (requester, locale, name, subject, description) in TICKETS.items():
        fake_zendesk.add_user(id=requester, name=name, locale=locale)
        fake_zendesk.add_ticket(id=ticket_id, subject=subject, description=description, status="new", priority=None, tags=[], requester_id=requester)
    point_zenpy_at(fake_zendesk, monkeypatch)
    return fake_zendesk


@pytest.fixture
def make_desk(make_app: Any, account: FakeZendesk) -> Iterator[Any]:
    def build(api_timeout: float = 5.0, rules_path: str | None = None) -> ZendeskDesk:
        options: dict[str, Any] = {"rules_path": rules_path} if rules_path else {}
        app = make_app(
            zendesk_subdomain="example",
            zendesk_email="bot@example.com",
            zendesk_api_token="token",
            zendesk_webhook_secrets=(WEBHOOK_SECRET,),
            api_timeout=api_timeout,
            **options,
        )
        desk = ZendeskDesk(app, account)
        account.reset_log()
        return desk

    yield build


# ---- Zendesk ---------------------------------------------------------------------------------


def test_a_503_storm_is_retried_at_the_servers_pace_and_nothing_is_doubled(make_desk):
    desk = make_desk()
    for ticket_id in TICKETS:
        desk.deliver(created_payload(ticket_id, f"storm-{ticket_id}"))
    desk.fake.fail_next(503, times=10, headers={"Retry-After": "2"}, method="PUT")

    steps = desk.drain()

    retried = [s for s in steps if s.event.status == EventStatus.PENDING]
    assert len(retried) == 10
    for step in retried:
        assert step.event.last_error.startswith("Zendesk answered 503"), step.event.last_error
        assert (step.event.available_at - step.now).total_seconds() == pytest.approx(2.0)  # the server's pace, not ours
    assert statuses(desk.engine) == {"done": 3}
    assert max(s.event.attempts for s in steps) <= 5  # at most 4 failures (10 over 3 events in turn), then the write
    for ticket_id in TICKETS:
        assert len(desk.puts(ticket_id)) >= 2  # failed ones, then exactly one that landed
        assert len([p for p in desk.puts(ticket_id) if not p.injected]) == 1
        references = assert_nothing_doubled(desk.bot_bodies(ticket_id), desk.checklist_titles(ticket_id), BILLING_CHECKLISTS)
        assert len(references) == 3  # two checklists and the routed note
        assert "dispute-finance" in desk.fake.ticket(ticket_id)["tags"]
    assert duplicate_action_log_rows(desk.engine) == []


def test_a_429_is_retried_exactly_when_retry_after_says_and_the_worker_never_sleeps(make_desk):
    desk = make_desk()
    desk.deliver(created_payload(41001, "rate-1"))
    desk.fake.fail_next(429, headers={"Retry-After": "7"}, method="PUT")
    started = datetime.now(UTC)

    first = desk.step()

    assert (datetime.now(UTC) - started).total_seconds() < 3  # zenpy was not left to sleep 7 s
    assert first is not None and first.event.status == EventStatus.PENDING
    assert first.event.last_error == "Zendesk rate limit (429)"
    assert first.event.available_at == first.now + timedelta(seconds=7)
    assert desk.step(first.now + timedelta(seconds=6.9)) is None  # not a moment before
    second = desk.step(first.now + timedelta(seconds=7))
    assert second is not None and second.event.status == EventStatus.DONE, second.event.last_error
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)


@pytest.mark.parametrize("retry_after, expected_wait", [("1.5", 1.5), ("Wed, 21 Oct 2026 07:28:00 GMT", None)], ids=["fractional", "http-date"])
def test_a_429_whose_retry_after_zenpy_cannot_read_is_still_a_rate_limit(make_desk, retry_after, expected_wait):
    """zenpy reads Retry-After with int(); a fraction or a date must not turn into a crash."""
    desk = make_desk()
    desk.deliver(created_payload(41001, "rate-odd"))
    desk.fake.fail_next(429, headers={"Retry-After": retry_after}, method="PUT")

    first = desk.step()

    assert first is not None and first.event.status == EventStatus.PENDING
    assert first.event.last_error == "Zendesk rate limit (429)"
    wait = (first.event.available_at - first.now).total_seconds()
    assert wait == pytest.approx(expected_wait) if expected_wait is not None else 1 <= wait <= 2  # else our own backoff
    second = desk.step(first.event.available_at)
    assert second is not None and second.event.status == EventStatus.DONE, second.event.last_error
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)


def test_writes_keep_no_state_on_the_zenpy_client_that_worker_threads_share(make_desk):
    """zenpy remembers the object it last sent in `_dirty_object`, on the API object every
    worker thread shares, and clears it after each response: with two threads writing, one
    iterated the None the other had left (TypeError, seen in the multi-process test). Our
    writes send plain dicts, which zenpy never keeps there."""
    desk = make_desk()
    desk.fake.tickets[41001]["via"] = {"channel": "chat", "source": {"from": {}, "to": {}, "rel": None}}  # two writes
    desk.deliver(created_payload(41001, "dirty-1"))
    api = desk.adapters["zendesk"].client.tickets
    kept: list[Any] = []

    def note_what_zenpy_kept(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method in ("PUT", "POST"):
            kept.append(api._dirty_object)

    api.session.hooks["response"].append(note_what_zenpy_kept)
    step = desk.step()

    assert step is not None and step.event.status == EventStatus.DONE, step.event.last_error
    assert kept == [None, None]


def test_a_429_retry_after_is_not_lost_to_another_threads_response(make_desk):
    desk = make_desk()
    desk.deliver(created_payload(41001, "race-1"))
    desk.deliver(created_payload(41002, "race-2"))
    other_thread = platforms.make_worker(desk.services, desk.adapters)  # as cli._start_workers: adapters shared
    desk.fake.fail_next(429, headers={"Retry-After": "7"}, method="PUT", path_contains="/tickets/41001")
    rate_limited, other_answered = threading.Event(), threading.Event()

    def interleave(response: Any, *args: Any, **kwargs: Any) -> None:
        """Runs after the adapter's own hook: holds the 429 until another thread's answer is in."""
        if response.status_code == 429:
            rate_limited.set()
            other_answered.wait(10)
        elif rate_limited.is_set():
            other_answered.set()

    desk.adapters["zendesk"].client.tickets.session.hooks["response"].append(interleave)
    now = desk.now
    results: dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(first=desk.worker.step(now)))
    first.start()
    assert rate_limited.wait(10)
    results["second"] = other_thread.step(now)  # ticket 41002, read while 41001's 429 is being handled
    first.join(10)

    rate_limited_event = desk.worker.inbox.get(results["first"].id)
    assert rate_limited_event.last_error == "Zendesk rate limit (429)"
    assert rate_limited_event.available_at == now + timedelta(seconds=7)


def test_a_write_whose_answer_is_lost_to_a_timeout_is_not_posted_again(make_desk):
    """The key case: Zendesk applied the PUT, the client timed out, the event is retried."""
    desk = make_desk(api_timeout=1)
    desk.deliver(created_payload(41001, "lost-1"))
    desk.fake.delay_next(2.5, method="PUT", path_contains="/tickets/41001")

    first = desk.step()

    assert first is not None and first.event.status == EventStatus.PENDING
    assert first.event.last_error.startswith("Zendesk unreachable"), first.event.last_error
    assert len(desk.bot_bodies(41001)) == 1  # it landed; we just never heard

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.DONE]
    assert len(desk.puts(41001)) == 1  # the retry re-read the ticket and had nothing left to write
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)
    assert duplicate_action_log_rows(desk.engine) == []


def test_a_lost_answer_on_a_note_without_marker_tag_is_caught_by_the_references(make_desk, tmp_path):
    """Same, for a note nothing but its `dd:` reference can recognise on the ticket."""
    desk = make_desk(api_timeout=1, rules_path=rules_with(UNGUARDED_NOTE_RULE, tmp_path))
    desk.deliver(created_payload(41002, "ref-created"))
    assert [s.event.status for s in desk.drain()] == [EventStatus.DONE]
    desk.deliver(comment_payload(41002, "ref-comment", "Sigo esperando el reembolso, ya pasaron dos semanas."))
    desk.fake.reset_log()
    desk.fake.delay_next(2.5, method="PUT", path_contains="/tickets/41002")

    first = desk.step()
    assert first is not None and first.event.status == EventStatus.PENDING, first.event.last_error
    [landed] = [body for body in desk.bot_bodies(41002) if "customer-comment-note" in body]

    [retry] = desk.drain()

    assert retry.event.status == EventStatus.DONE, retry.event.last_error
    assert retry.event.outcome["already_applied"] == ["note:customer-comment-note:legal-threat-note"]
    assert len(desk.puts(41002)) == 1
    notes = [body for body in desk.bot_bodies(41002) if "customer-comment-note" in body]
    assert notes == [landed]
    assert_nothing_doubled(desk.bot_bodies(41002), desk.checklist_titles(41002), BILLING_CHECKLISTS)


UNGUARDED_REPLY_RULE = {
    "id": "customer-comment-reply",
    "description": "Every customer comment gets a public reply (test rule: no marker tag).",
    "on": ["comment_added"],
    "if": {"all": [{"comment_by": {"is": "customer"}}]},
    "then": {"reply": "acknowledgement"},
}


def test_a_lost_answer_on_a_public_reply_is_caught_by_its_tag_and_the_customer_never_sees_a_reference(make_desk, tmp_path):
    """A public reply carries no `dd:` reference in its text: the tag written with it is what
    the retry finds on the ticket."""
    desk = make_desk(api_timeout=1, rules_path=rules_with(UNGUARDED_REPLY_RULE, tmp_path))
    desk.deliver(created_payload(41002, "reply-created"))
    assert [s.event.status for s in desk.drain()] == [EventStatus.DONE]
    desk.deliver(comment_payload(41002, "reply-comment", "Sigo esperando el reembolso, ya pasaron dos semanas."))
    desk.fake.reset_log()
    desk.fake.delay_next(2.5, method="PUT", path_contains="/tickets/41002")

    first = desk.step()
    assert first is not None and first.event.status == EventStatus.PENDING, first.event.last_error

    [retry] = desk.drain()

    assert retry.event.status == EventStatus.DONE, retry.event.last_error
    assert retry.event.outcome["already_applied"] == ["reply:customer-comment-reply:acknowledgement"]
    public = [c["body"] for c in desk.fake.comments(41002) if c.get("author_id") == BOT_ID and c["public"]]
    assert len(public) == 1 and "dd:" not in public[0] and "dispute-desk ref" not in public[0]
    assert [tag for tag in desk.fake.ticket(41002)["tags"] if tag.startswith("dd-sent-")]


def test_a_write_whose_answer_is_lost_still_starts_the_first_response_deadline(make_desk):
    desk = make_desk(api_timeout=1)
    desk.deliver(created_payload(41003, "deadline-control"))
    desk.drain()
    assert deadline_names(desk.engine, "zendesk:41003") == {"first-response": "running"}  # as it should be

    desk.deliver(created_payload(41001, "deadline-lost"))
    desk.fake.delay_next(2.5, method="PUT", path_contains="/tickets/41001")
    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING, EventStatus.DONE]
    assert deadline_names(desk.engine, "zendesk:41001") == {"first-response": "running"}


def test_the_api_going_away_and_coming_back_loses_nothing(make_desk, monkeypatch):
    desk = make_desk()
    for ticket_id in TICKETS:
        desk.deliver(created_payload(ticket_id, f"down-{ticket_id}"))
    port = desk.fake.port
    desk.fake.stop()  # connection refused from now on

    down: list[Step] = []
    for _ in range(2 * len(TICKETS)):  # every event fails twice while the API is away
        step = desk.step()
        if step is None:
            self_now = next_available(desk.engine)
            assert self_now is not None
            desk.now = max(desk.now, self_now)
            step = desk.step()
        assert step is not None
        down.append(step)
    assert {s.event.status for s in down} == {EventStatus.PENDING}
    assert {s.event.last_error for s in down} == {"Zendesk unreachable: ConnectionError"}
    for step in down:  # backoff with jitter, no Retry-After: between half the base and the ceiling
        waited = (step.event.available_at - step.now).total_seconds()
        assert 1.0 <= waited <= 2.0 * 2 ** (step.event.attempts - 1)

    real_make_server = fake_zendesk_module.make_server
    monkeypatch.setattr(fake_zendesk_module, "make_server", lambda host, _port, *args, **kwargs: real_make_server(host, port, *args, **kwargs))
    desk.fake.start()  # back, on the same address: the client is not told anything
    assert desk.fake.port == port

    steps = desk.drain()

    assert {s.event.status for s in steps} == {EventStatus.DONE}
    assert statuses(desk.engine) == {"done": 3}
    for ticket_id in TICKETS:
        assert_nothing_doubled(desk.bot_bodies(ticket_id), desk.checklist_titles(ticket_id), BILLING_CHECKLISTS)
        assert desk.fake.ticket(ticket_id)["group_id"] == 360000100  # Finance


def test_after_the_last_attempt_the_event_is_dead_with_the_api_message_and_replay_recovers_it(make_desk):
    desk = make_desk()
    desk.deliver(created_payload(41002, "dead-1"))
    maintenance = {"error": "ServiceUnavailable", "description": "Scheduled maintenance"}
    attempts = desk.worker.policy.max_attempts
    desk.fake.fail_next(503, times=attempts, body=maintenance, method="PUT")

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING] * (attempts - 1) + [EventStatus.DEAD]
    dead = steps[-1].event
    assert dead.attempts == attempts
    assert dead.last_error == f"Zendesk answered 503: ServiceUnavailable; Scheduled maintenance (after {attempts} attempts)"
    assert desk.bot_bodies(41002) == []
    assert desk.drain() == []  # dead stays dead

    result = desk.app.test_cli_runner().invoke(cli.main, ["events", "replay", "--dead"])

    assert result.exit_code == 0, result.output
    assert "replayed 1 event" in result.output
    desk.now = datetime.now(UTC) + timedelta(seconds=1)
    [replayed] = desk.drain()
    assert replayed.event.status == EventStatus.DONE, replayed.event.last_error
    assert replayed.event.attempts == 1 and replayed.event.last_error is None
    assert_nothing_doubled(desk.bot_bodies(41002), desk.checklist_titles(41002), BILLING_CHECKLISTS)
    assert len([p for p in desk.puts(41002) if not p.injected]) == 1


def test_replaying_a_dead_event_whose_write_had_landed_does_not_post_the_note_twice(make_desk, tmp_path):
    desk = make_desk(api_timeout=1, rules_path=rules_with(UNGUARDED_NOTE_RULE, tmp_path))
    desk.deliver(created_payload(41003, "replay-created"))
    desk.drain()
    desk.deliver(comment_payload(41003, "replay-comment", "I am still waiting for the refund of the duplicate charge."))
    attempts = desk.worker.policy.max_attempts
    desk.fake.delay_next(2.5, method="PUT", path_contains="/tickets/41003")  # attempt 1: lands, answer lost
    desk.fake.fail_next(503, times=attempts - 1, method="GET", path_contains="/tickets/41003.json")  # then the reads fail

    steps = desk.drain()

    assert steps[-1].event.status == EventStatus.DEAD
    assert len([b for b in desk.bot_bodies(41003) if "customer-comment-note" in b]) == 1

    result = desk.app.test_cli_runner().invoke(cli.main, ["events", "replay", "--dead"])
    assert result.exit_code == 0, result.output
    desk.now = datetime.now(UTC) + timedelta(seconds=1)
    [replayed] = desk.drain()

    assert replayed.event.status == EventStatus.DONE, replayed.event.last_error
    assert len([b for b in desk.bot_bodies(41003) if "customer-comment-note" in b]) == 1
    assert_nothing_doubled(desk.bot_bodies(41003), desk.checklist_titles(41003), BILLING_CHECKLISTS)


def test_a_4xx_is_dead_at_once_with_the_api_message_and_never_retried(make_desk):
    desk = make_desk()
    desk.deliver(created_payload(41001, "closed-1"))
    desk.fake.fail_next(422, method="PUT")  # the recorded "closed prevents ticket update" body

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.DEAD]
    dead = steps[0].event
    assert dead.attempts == 1
    assert dead.last_error == "Zendesk answered 422: RecordInvalid; Record validation errors; status: Status: closed prevents ticket update"
    desk.now += timedelta(days=1)
    assert desk.drain() == []
    assert len(desk.puts(41001)) == 1
    assert desk.bot_bodies(41001) == []


class HeldWrites(HTTPAdapter):
    """The client's transport with one thread's PUTs (or reads) held on their way to the
    server (a slow network): the request is sent, and applied, only when the test releases it."""

    def __init__(self, thread_name: str, method: str = "PUT") -> None:
        super().__init__(max_retries=0)
        self.thread_name, self.method = thread_name, method
        self.holding, self.release = threading.Event(), threading.Event()

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == self.method and threading.current_thread().name == self.thread_name and not self.release.is_set():
            self.holding.set()
            self.release.wait(10)
        return super().send(request, *args, **kwargs)


def overtake(worker: Any, session: Any, now: datetime, held_method: str = "PUT") -> StoredEvent:
    """`worker` claims the event and sends its write (or, with `held_method="GET"`, its first
    read), which is slow to arrive. Its lease expires meanwhile; a second worker sharing the
    adapters (as `--threads 2` does) takes the event over and finishes it; then the first
    request arrives. Returns the event as stored."""
    held = HeldWrites("slow-worker", held_method)
    session.mount("http://", held)
    slow = threading.Thread(target=worker.step, args=(now,), name="slow-worker")
    slow.start()
    assert held.holding.wait(10), "the first worker never sent its request"
    later = now + worker.inbox.lease + timedelta(seconds=1)
    assert worker.inbox.release_expired(later) == 1
    took_over = Worker(worker.inbox, worker.adapters, worker.rules).step(later)  # what platforms.make_worker builds
    held.release.set()
    slow.join(10)
    assert took_over is not None
    return worker.inbox.get(took_over.id)


def test_a_worker_whose_lease_expired_mid_write_does_not_double_a_note_on_zendesk(make_desk):
    """Zendesk's safe_update turns the late write into a 409; the re-read finds it all done."""
    desk = make_desk()
    desk.deliver(created_payload(41001, "slow-1"))

    event = overtake(desk.worker, desk.adapters["zendesk"].client.tickets.session, desk.now)

    assert event.status == EventStatus.DONE and event.attempts == 2
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)
    assert [p.status for p in desk.puts(41001)] == [200, 409]  # the late write was refused


class FailingSecondWrite(HTTPAdapter):
    """The connection drops on the second PUT of a ticket (the public reply), once."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.puts = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "PUT":
            self.puts += 1
            if self.puts == 2:
                raise requests.ConnectionError("connection reset by peer")
        return super().send(request, *args, **kwargs)


def test_a_public_acknowledgement_whose_write_fails_is_sent_on_the_retry(make_desk):
    """Internal notes and a public reply take two writes; when the second fails, the tag that
    says the acknowledgement was sent must not have landed with the first."""
    desk = make_desk()
    desk.fake.tickets[41001]["via"] = {"channel": "chat", "source": {"from": {}, "to": {}, "rel": None}}
    desk.deliver(created_payload(41001, "ack-1"))
    desk.adapters["zendesk"].client.tickets.session.mount("http://", FailingSecondWrite())

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING, EventStatus.DONE], [s.event.last_error for s in steps]
    public = [c for c in desk.fake.comments(41001) if c.get("author_id") == BOT_ID and c["public"]]
    assert len(public) == 1, public  # the acknowledgement, once
    assert "dispute-acknowledged" in desk.fake.ticket(41001)["tags"]
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)


def test_an_agent_edit_between_the_two_writes_of_a_plan_doubles_nothing(make_desk):
    """The reply's write is guarded by the stamp the notes' write returned: an agent's edit in
    between is a conflict; the re-plan finds the notes already on the ticket and sends the rest."""
    desk = make_desk()
    desk.fake.tickets[41001]["via"] = {"channel": "chat", "source": {"from": {}, "to": {}, "rel": None}}
    desk.deliver(created_payload(41001, "between-1"))
    edits: list[str] = []

    def agent_edits_after_the_first_write(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "PUT" and not edits:
            edits.append("done")
            desk.fake.update_ticket(41001, subject="Cobrança em dobro (editado pelo agente)")

    desk.adapters["zendesk"].client.tickets.session.hooks["response"].append(agent_edits_after_the_first_write)

    [step] = desk.drain()

    assert step.event.status == EventStatus.DONE and step.event.attempts == 1, step.event.last_error
    assert [p.status for p in desk.puts(41001)][:2] == [200, 409]
    public = [c for c in desk.fake.comments(41001) if c.get("author_id") == BOT_ID and c["public"]]
    assert len(public) == 1
    assert desk.fake.ticket(41001)["subject"] == "Cobrança em dobro (editado pelo agente)"
    assert_nothing_doubled(desk.bot_bodies(41001), desk.checklist_titles(41001), BILLING_CHECKLISTS)


def test_a_slow_worker_keeps_its_lease_by_renewing_it_before_writing(make_desk):
    """Time spent reading the ticket extends the lease: the write starts with a whole lease ahead."""
    desk = make_desk()
    desk.deliver(created_payload(41001, "renew-1"))
    readings = iter([0.0])  # the claim at 0 s; then the read took 100 s of a 120 s lease
    desk.worker.elapsed = lambda: next(readings, 100.0)
    lease_expiries: list[datetime] = []

    def note_the_lease(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "PUT":
            with desk.engine.connect() as connection:
                lease_expiries.append(from_db(connection.execute(select(inbox.c.lease_expires_at).where(inbox.c.status == "leased")).scalar()))

    desk.adapters["zendesk"].client.tickets.session.hooks["response"].append(note_the_lease)
    step = desk.step()

    assert step is not None and step.event.status == EventStatus.DONE
    assert lease_expiries == [step.now + timedelta(seconds=100) + desk.worker.inbox.lease]


# ---- Jira ------------------------------------------------------------------------------------

JIRA_DELIVERY = PAYLOADS / "jira" / "issue_created_es_delivery.json"
JIRA_COMMENT = PAYLOADS / "jira" / "comment_created_cloud_es.json"


def jira_retarget(payload: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["issue"]["id"], payload["issue"]["key"] = issue["id"], issue["key"]
    comment = payload.get("comment")
    if comment and "self" in comment:
        base, _, rest = comment["self"].partition("/issue/")
        comment["self"] = f"{base}/issue/{issue['id']}/comment/{rest.rpartition('/')[2]}"
    return payload


class JiraDesk:
    def __init__(self, app: Any, fake: FakeJira) -> None:
        self.app, self.fake = app, fake
        self.services = app.extensions["dispute_desk"]
        self.worker = platforms.make_worker(self.services, platforms.build_adapters(self.services))
        self.client = app.test_client()
        self.now = datetime.now(UTC)

    def deliver(self, payload: dict[str, Any], identifier: str) -> None:
        body = json.dumps(fresh_jira(payload)).encode()  # Jira's body timestamp must be recent
        response = self.client.post("/webhooks/jira", data=body, headers=jira_headers(body, identifier=identifier))
        assert response.status_code == 202, response.get_data(as_text=True)
        self.now = max(self.now, datetime.now(UTC))

    def drain(self, limit: int = 100) -> list[Step]:
        steps: list[Step] = []
        for _ in range(limit):
            stored = self.worker.step(self.now)
            if stored is not None:
                steps.append(Step(self.now, self.worker.inbox.get(stored.id)))  # type: ignore[arg-type]
                continue
            upcoming = next_available(self.services.engine)
            if upcoming is None:
                return steps
            self.now = max(self.now, upcoming)
        raise AssertionError("the inbox did not settle")

    def our_texts(self, key: str) -> list[str]:
        return [adf_text(c["body"]) for c in self.fake.comments(key) if c["author"].get("accountId") == self.fake.me_id]

    def puts(self) -> list[Any]:
        return [r for r in self.fake.requests if r.method == "PUT"]


@pytest.fixture
def make_jira_desk(make_app: Any, fake_jira: FakeJira) -> Iterator[Any]:
    issue, _ = seeded(fake_jira)  # the account, project and Spanish issue of tests/test_e2e_jira.py

    def build(rules_path: str | None = None, api_timeout: float = 1.0) -> tuple[JiraDesk, dict[str, Any]]:
        options: dict[str, Any] = {"rules_path": rules_path} if rules_path else {}
        app = make_app(jira_url=fake_jira.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,), api_timeout=api_timeout, **options)
        desk = JiraDesk(app, fake_jira)
        fake_jira.reset_log()
        return desk, issue

    yield build


def test_jira_a_write_whose_answer_is_lost_to_a_timeout_is_not_posted_again(make_jira_desk):
    desk, issue = make_jira_desk()
    desk.deliver(jira_retarget(load_json(JIRA_DELIVERY), issue), "jira-lost-1")
    desk.fake.delay_next(2.5, method="PUT", path_contains="/issue/")

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING, EventStatus.DONE], [s.event.last_error for s in steps]
    assert steps[0].event.last_error.startswith("Jira unreachable"), steps[0].event.last_error
    assert len(desk.puts()) == 1  # the retry re-read the issue: checklists and labels already there
    texts = desk.our_texts("DD-7")
    references = Counter(ref for text in texts for ref in REFERENCE.findall(text))
    assert references and max(references.values()) == 1, texts
    checklists = desk.services.rules.current.checklists
    for ident in ("dispute-core", "dispute-logistics"):
        assert sum(text.count(checklists[ident].title["es"]) for text in texts) == 1, (ident, texts)
    assert duplicate_action_log_rows(desk.services.engine) == []


def test_jira_a_lost_answer_on_a_note_without_marker_is_caught_by_the_references(make_jira_desk, tmp_path):
    desk, issue = make_jira_desk(rules_path=rules_with(UNGUARDED_NOTE_RULE, tmp_path))
    desk.deliver(jira_retarget(load_json(JIRA_DELIVERY), issue), "jira-ref-created")
    assert [s.event.status for s in desk.drain()] == [EventStatus.DONE]
    desk.deliver(jira_retarget(load_json(JIRA_COMMENT), issue), "jira-ref-comment")
    desk.fake.reset_log()
    desk.fake.delay_next(2.5, method="PUT", path_contains="/issue/")

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING, EventStatus.DONE], [s.event.last_error for s in steps]
    assert steps[-1].event.outcome["already_applied"] == ["note:customer-comment-note:legal-threat-note"]
    assert len(desk.puts()) == 1
    texts = desk.our_texts("DD-7")
    assert len([t for t in texts if "customer-comment-note" in t]) == 1, texts
    references = Counter(ref for text in texts for ref in REFERENCE.findall(text))
    assert max(references.values()) == 1, texts


def test_jira_a_lost_answer_on_a_public_reply_is_caught_by_its_label(make_jira_desk, tmp_path):
    desk, issue = make_jira_desk(rules_path=rules_with(UNGUARDED_REPLY_RULE, tmp_path))
    desk.deliver(jira_retarget(load_json(JIRA_DELIVERY), issue), "jira-reply-created")
    assert [s.event.status for s in desk.drain()] == [EventStatus.DONE]
    desk.deliver(jira_retarget(load_json(JIRA_COMMENT), issue), "jira-reply-comment")
    desk.fake.reset_log()
    desk.fake.delay_next(2.5, method="PUT", path_contains="/issue/")

    steps = desk.drain()

    assert [s.event.status for s in steps] == [EventStatus.PENDING, EventStatus.DONE], [s.event.last_error for s in steps]
    assert steps[-1].event.outcome["already_applied"] == ["reply:customer-comment-reply:acknowledgement"]
    assert len(desk.puts()) == 1
    replies = [t for t in desk.our_texts("DD-7") if "case #DD-7" in t or "caso #DD-7" in t]
    assert len(replies) == 1 and not REFERENCE.findall(replies[0]), replies


def test_jira_a_worker_that_stalls_past_its_lease_before_writing_writes_nothing(make_jira_desk):
    """The lease fences the write. A Jira edit has no precondition: a worker that planned from
    the issue as it was, then stalled (a pause, a slow machine) while its lease ran out and
    another worker did the work, must find out before it writes, and write nothing."""
    desk, issue = make_jira_desk()
    desk.deliver(jira_retarget(load_json(JIRA_DELIVERY), issue), "jira-stall-1")
    planned, resume = threading.Event(), threading.Event()
    readings: list[float] = []

    def stalling_clock() -> float:
        readings.append(0.0)
        if len(readings) == 2:  # the lease check right before the write: stall there
            planned.set()
            resume.wait(10)
        return 0.0

    inbox, adapters, rules = desk.worker.inbox, desk.worker.adapters, desk.worker.rules
    slow = threading.Thread(target=Worker(inbox, adapters, rules, elapsed=stalling_clock).step, args=(desk.now,))
    slow.start()
    assert planned.wait(10), "the first worker never got to its write"
    later = desk.now + inbox.lease + timedelta(seconds=1)
    assert inbox.release_expired(later) == 1
    took_over = Worker(inbox, adapters, rules).step(later)
    resume.set()
    slow.join(10)

    assert took_over is not None
    event = inbox.get(took_over.id)
    assert event is not None and event.status == EventStatus.DONE and event.attempts == 2
    assert len(desk.puts()) == 1  # the second worker's edit only
    texts = desk.our_texts("DD-7")
    references = Counter(ref for text in texts for ref in REFERENCE.findall(text))
    assert references and max(references.values()) == 1, texts


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Known limit, not a bug to fix here: a write already on the wire when its lease runs out cannot be "
        "called back. A Jira edit has no precondition (Zendesk's safe_update turns the same late write into "
        "a 409), so if the write outlives the lease the next worker, reading the issue before it lands, "
        "writes again. In production a write cannot outlive its lease: the worker renews the lease just "
        "before writing, for WORKER_LEASE_SECONDS (default 120), and requests time out after "
        "API_TIMEOUT_SECONDS (default 20); this test holds the write past both to show what is left."
    ),
)
def test_jira_a_worker_whose_lease_expired_mid_write_does_not_double_a_note(make_jira_desk):
    desk, issue = make_jira_desk(api_timeout=5)
    desk.deliver(jira_retarget(load_json(JIRA_DELIVERY), issue), "jira-slow-1")

    event = overtake(desk.worker, desk.worker.adapters["jira"].client._session, desk.now)

    assert event.status == EventStatus.DONE and event.attempts == 2
    texts = desk.our_texts("DD-7")
    references = Counter(ref for text in texts for ref in REFERENCE.findall(text))
    assert max(references.values()) == 1, texts
