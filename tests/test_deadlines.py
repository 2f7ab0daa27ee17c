"""Follow-up deadlines: the pure lifecycle (`transition`, `met_by`), then end to end with the
real zenpy adapter against the fake Zendesk (both databases), the `deadlines list` command,
and several workers and clocks racing on PostgreSQL.

Time is always an argument: the tests pass explicit `now` values to `transition`,
`Worker.step(now)` and `clock.tick(engine, inbox, now)`, and never sleep.

End-to-end tests use a copy of the default rule pack in which every `first-response`
deadline of rules/30-routing.yaml is `within: 3s` on the wall clock (no calendar), so the
pack's own `first-response-missed` rule escalates, plus one extra file (`90-test.yaml`)
whose `close-watch` deadline is met by an agent's reply only (not by solving), to show a
close cancelling a deadline.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import threading
import time as wall
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from integration.cli import main as cli_main
from integration.core.calendars import WALL_CLOCK, Calendar
from integration.core.events import Comment, EventKind, TicketEvent
from integration.runtime import clock, platforms
from integration.runtime.deadlines import Deadline, met_by, transition
from integration.runtime.inbox import EventStatus
from integration.runtime.rulefiles import load_ruleset
from integration.runtime.store import deadlines as deadlines_table
from integration.runtime.store import from_db, to_db
from integration.runtime.store import inbox as inbox_table
from tests.conftest import PAYLOADS, RULES, WEBHOOK_SECRET, load_json, zendesk_headers
from tests.fakes.fixtures import point_zenpy_at
from tests.openapi import ZENPY_ALLOWED, load_spec

# ============================================================================================
# a. The pure lifecycle
# ============================================================================================

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
T = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Monday 10:00 in São Paulo
DEFAULT_CALENDAR = load_ruleset(RULES).calendars["default"]  # São Paulo, mon-fri 09:00-18:00, BR holidays

COMMENTED = frozenset({EventKind.COMMENT_ADDED, EventKind.UPDATED})
STATUS = frozenset({EventKind.STATUS_CHANGED, EventKind.UPDATED})
SOLVED = frozenset({EventKind.STATUS_CHANGED, EventKind.SOLVED, EventKind.UPDATED})


def sp(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A São Paulo wall-clock time, as the UTC instant the code works with."""
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO).astimezone(UTC)


def deadline(
    status: str = "running",
    due_at: datetime | None = T + timedelta(hours=1),
    met: tuple[str, ...] = ("agent_reply",),
    pause_while: tuple[str, ...] = ("pending", "on_hold"),
    remaining: float | None = None,
    calendar: str | None = None,
) -> Deadline:
    return Deadline(1, "zendesk:1", "first-response", status, due_at, calendar, met, pause_while, remaining)


def event(kinds: frozenset[EventKind], status: str | None = "open", comment: Comment | None = None, **extra: Any) -> TicketEvent:
    return TicketEvent(platform="zendesk", ticket_id="1", kinds=kinds, delivery_id="d-1", status=status, comment=comment, **extra)


def reply(by: str, public: bool = True, status: str = "open") -> TicketEvent:
    return event(COMMENTED, status, Comment(id="c1", body="Olá", public=public, by=by, author_id="42"))


AGENT_PUBLIC = reply("agent")
AGENT_NOTE = reply("agent", public=False)
CUSTOMER = reply("customer")
TO_SOLVED = event(SOLVED, "solved", previous_status="open")
TO_CLOSED = event(SOLVED, "closed", previous_status="open")  # closed straight from open is a resolution too
CLOSED_AFTER_SOLVED = event(STATUS, "closed", previous_status="solved")


@pytest.mark.parametrize(
    "ticket_event, ways",
    [
        (AGENT_PUBLIC, {"agent_reply"}),
        (AGENT_NOTE, set()),
        (CUSTOMER, {"customer_reply"}),
        (reply("customer", public=False), {"customer_reply"}),
        (TO_SOLVED, {"solved"}),
        (TO_CLOSED, {"solved"}),
        (event(STATUS, "pending", previous_status="open"), set()),
        (event(frozenset({EventKind.PRIORITY_CHANGED, EventKind.UPDATED})), set()),
        # A comment field on an event that is not a comment_added does not count as a reply.
        (event(STATUS, "open", Comment(id="c", body="x", public=True, by="agent")), set()),
    ],
    ids=["agent-public", "agent-internal-note", "customer", "customer-private", "solved", "closed", "pending", "priority", "comment-on-status-event"],
)
def test_met_by_names_the_ways_an_event_can_meet_a_deadline(ticket_event, ways):
    assert met_by(ticket_event) == ways


@pytest.mark.parametrize(
    "before, ticket_event, expected",
    [
        # met by the reply its met_by names, and only by it
        (deadline(), AGENT_PUBLIC, {"status": "met"}),
        (deadline(), AGENT_NOTE, None),
        (deadline(), CUSTOMER, None),
        (deadline(met=("customer_reply",)), CUSTOMER, {"status": "met"}),
        (deadline(met=("customer_reply", "solved")), AGENT_PUBLIC, None),
        (deadline(met=("agent_reply", "solved")), TO_SOLVED, {"status": "met"}),
        (deadline(), TO_SOLVED, None),  # not met by solving unless met_by says so
        # a reply meets a paused deadline too (the agent answered while waiting)
        (deadline("paused", None, remaining=60.0), reply("agent", status="pending"), {"status": "met"}),
        # closed: cancelled (unless closing is a way to meet it: closing from open is a resolution)
        (deadline(), TO_CLOSED, {"status": "cancelled"}),
        (deadline(), CLOSED_AFTER_SOLVED, {"status": "cancelled"}),
        (deadline("paused", None, remaining=60.0), CLOSED_AFTER_SOLVED, {"status": "cancelled"}),
        (deadline(met=("agent_reply", "solved")), TO_CLOSED, {"status": "met"}),
        # nothing for unrelated events
        (deadline(), event(frozenset({EventKind.PRIORITY_CHANGED, EventKind.UPDATED})), None),
        (deadline(), event(frozenset({EventKind.TAGS_CHANGED, EventKind.UPDATED})), None),
        (deadline(), event(frozenset({EventKind.DEADLINE_BREACHED}), deadline="other"), None),
        (deadline(), event(STATUS, "open", previous_status="new"), None),
        (deadline(pause_while=("on_hold",)), event(STATUS, "pending", previous_status="open"), None),
        (deadline("paused", None, remaining=60.0), event(frozenset({EventKind.PRIORITY_CHANGED}), "pending"), None),
        (deadline("paused", None, remaining=60.0), event(STATUS, "on_hold", previous_status="pending"), None),
        (deadline("paused", None, remaining=60.0), event(frozenset({EventKind.DEADLINE_BREACHED}), status=None), None),
    ],
    ids=[
        "agent-public-reply-meets",
        "agent-internal-note-does-not",
        "customer-reply-does-not-by-default",
        "customer-reply-meets-when-named",
        "agent-reply-does-not-when-not-named",
        "solved-meets-when-named",
        "solved-does-not-by-default",
        "agent-reply-meets-a-paused-deadline",
        "closed-cancels",
        "closed-after-solved-cancels",
        "closed-cancels-a-paused-deadline",
        "closed-from-open-meets-when-solved-named",
        "priority-change",
        "tags-change",
        "another-deadline-breached",
        "new-to-open",
        "pending-not-in-pause-while",
        "still-pending",
        "pending-to-on-hold",
        "no-status-known",
    ],
)
def test_transition_table(before, ticket_event, expected):
    assert transition(before, ticket_event, T, WALL_CLOCK) == expected


# ---- pause and resume ----------------------------------------------------------------------


def test_a_wall_clock_deadline_pauses_and_resumes_in_real_seconds():
    running = deadline(due_at=T + timedelta(seconds=90))

    paused = transition(running, event(STATUS, "pending", previous_status="open"), T, WALL_CLOCK)
    assert paused == {"status": "paused", "remaining_seconds": 90.0, "due_at": None}

    later = T + timedelta(days=2, hours=3)  # over a weekend night: the wall clock counts nothing
    resumed = transition(deadline("paused", None, remaining=90.0), event(STATUS, "open", previous_status="pending"), later, WALL_CLOCK)
    assert resumed == {"status": "running", "due_at": to_db(later + timedelta(seconds=90)), "remaining_seconds": None}


def test_on_hold_pauses_when_pause_while_names_it():
    running = deadline(due_at=T + timedelta(minutes=5), pause_while=("on_hold",))
    assert transition(running, event(STATUS, "on_hold", previous_status="open"), T, WALL_CLOCK) == {
        "status": "paused",
        "remaining_seconds": 300.0,
        "due_at": None,
    }


def test_an_overdue_deadline_paused_before_the_clock_saw_it_keeps_no_time_and_fires_on_resume():
    late = deadline(due_at=T - timedelta(seconds=30))
    assert transition(late, event(STATUS, "pending"), T, WALL_CLOCK) == {"status": "paused", "remaining_seconds": 0.0, "due_at": None}
    resumed = transition(deadline("paused", None, remaining=0.0), event(STATUS, "open"), T + timedelta(hours=1), WALL_CLOCK)
    assert resumed == {"status": "running", "due_at": to_db(T + timedelta(hours=1)), "remaining_seconds": None}


def test_a_business_deadline_paused_on_friday_keeps_its_open_hours_only():
    """São Paulo 09:00-18:00: paused Friday 17:00 with due Monday 12:00 leaves 1 h on Friday and
    3 h on Monday; the weekend is not counted."""
    friday_17, monday_12 = sp(2026, 3, 6, 17), sp(2026, 3, 9, 12)
    running = deadline(due_at=monday_12, calendar="default")

    paused = transition(running, event(STATUS, "pending", previous_status="open"), friday_17, DEFAULT_CALENDAR)

    assert paused == {"status": "paused", "remaining_seconds": 4 * 3600.0, "due_at": None}


def test_paused_outside_open_hours_counts_from_the_next_opening():
    saturday = sp(2026, 3, 7, 11)
    running = deadline(due_at=sp(2026, 3, 9, 12), calendar="default")
    assert transition(running, event(STATUS, "on_hold"), saturday, DEFAULT_CALENDAR)["remaining_seconds"] == 3 * 3600.0


@pytest.mark.parametrize(
    "resumed_at, due",
    [
        (sp(2026, 3, 7, 10), sp(2026, 3, 9, 13)),  # Saturday: counting starts Monday 09:00
        (sp(2026, 3, 9, 10), sp(2026, 3, 9, 14)),  # Monday 10:00 (open): 4 open hours later
        (sp(2026, 3, 13, 16), sp(2026, 3, 16, 11)),  # Friday 16:00: 2 h Friday, 2 h Monday
        (sp(2026, 3, 9, 20), sp(2026, 3, 10, 13)),  # Monday evening: from Tuesday 09:00
        (sp(2026, 4, 2, 17), sp(2026, 4, 6, 12)),  # Thursday 17:00, Good Friday is a holiday: 1 h + 3 h Monday
    ],
    ids=["saturday", "monday-open", "friday-afternoon", "monday-evening", "over-good-friday"],
)
def test_a_business_deadline_resumes_with_the_remaining_open_time(resumed_at, due):
    paused = deadline("paused", None, remaining=4 * 3600.0, calendar="default")
    changes = transition(paused, event(STATUS, "open", previous_status="pending"), resumed_at, DEFAULT_CALENDAR)
    assert changes == {"status": "running", "due_at": to_db(due), "remaining_seconds": None}


def test_a_business_deadline_round_trip_pause_and_resume_on_a_custom_calendar():
    """The same arithmetic on a calendar built by hand (Mon-Fri 09:00-18:00, no holidays)."""
    calendar = Calendar("sp", SAO_PAULO, {day: ((time(9), time(18)),) for day in range(5)})
    due = sp(2026, 4, 6, 12)  # Monday
    paused = transition(deadline(due_at=due, calendar="sp"), event(STATUS, "pending"), sp(2026, 4, 2, 17), calendar)
    assert paused is not None and paused["remaining_seconds"] == (1 + 9 + 3) * 3600.0  # Good Friday is open here
    resumed = transition(deadline("paused", None, remaining=paused["remaining_seconds"], calendar="sp"), event(STATUS, "open"), sp(2026, 4, 7, 9), calendar)
    assert resumed == {"status": "running", "due_at": to_db(sp(2026, 4, 8, 13)), "remaining_seconds": None}


# Pauses rarely start on a whole second: the time left is fractional, and resuming must cope.

def test_a_deadline_paused_a_fraction_of_a_second_off_resumes():
    due = T + timedelta(seconds=3)
    paused = transition(deadline(due_at=due), event(STATUS, "pending"), T + timedelta(seconds=0.5), WALL_CLOCK)
    assert paused == {"status": "paused", "remaining_seconds": 2.5, "due_at": None}
    later = T + timedelta(seconds=20)
    resumed = transition(deadline("paused", None, remaining=2.5), event(STATUS, "open"), later, WALL_CLOCK)
    assert resumed == {"status": "running", "due_at": to_db(later + timedelta(seconds=2.5)), "remaining_seconds": None}


def test_a_business_deadline_paused_a_fraction_of_a_second_off_resumes():
    monday_12 = sp(2026, 3, 9, 12)
    paused = transition(deadline(due_at=monday_12, calendar="default"), event(STATUS, "pending"), sp(2026, 3, 6, 17) + timedelta(microseconds=250_000), DEFAULT_CALENDAR)
    assert paused is not None and paused["remaining_seconds"] == pytest.approx(4 * 3600 - 0.25)
    transition(deadline("paused", None, remaining=paused["remaining_seconds"], calendar="default"), event(STATUS, "open"), sp(2026, 3, 9, 10), DEFAULT_CALENDAR)


# ============================================================================================
# b. End to end: webhook in, worker, real zenpy against the fake Zendesk, the clock
# ============================================================================================

BOT_ID = 7700001
AGENT_ID = "13579246801357"
TICKET_ID = 35436
DUE_IN = 3  # seconds: the rewritten first-response deadline
FIRST_RESPONSE = re.compile(r"(name: first-response, within: )\d+h business, calendar: (?:default|always)")
EXTRA_RULES = """\
version: 1
rules:
  # Test-only: a deadline met by an agent's reply and NOT by solving, so a close cancels it.
  - id: close-watch
    on: [created]
    if:
      all:
        - tags: {contains: close-watch}
    then:
      deadline: {name: close-watch, within: 3s, met_by: [agent_reply]}
"""


@pytest.fixture
def quick_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    routing = folder / "30-routing.yaml"
    text, count = FIRST_RESPONSE.subn(rf"\g<1>{DUE_IN}s", routing.read_text(encoding="utf-8"))
    assert count >= 7, "the default pack's first-response deadlines were not found"
    routing.write_text(text, encoding="utf-8")
    (folder / "90-test.yaml").write_text(EXTRA_RULES, encoding="utf-8")
    return folder


@pytest.fixture
def zendesk(fake_zendesk, monkeypatch):
    fake_zendesk.me.update({"id": BOT_ID, "name": "dispute-desk", "role": "agent"})
    fake_zendesk.users[BOT_ID] = fake_zendesk.me
    fake_zendesk.add_user(id=int(AGENT_ID), name="Marina Costa", email="marina@example.com", role="agent")
    point_zenpy_at(fake_zendesk, monkeypatch)
    return fake_zendesk


def build_desk(make_app, zendesk, rules_path: Path, **config: Any) -> Desk:
    """The app on the fake Zendesk account, with a group for each department of the rules."""
    app = make_app(
        rules_path=str(rules_path),
        zendesk_subdomain="example",
        zendesk_email="bot@example.com",
        zendesk_api_token="token",
        zendesk_webhook_secrets=(WEBHOOK_SECRET,),
        **config,
    )
    services = app.extensions["dispute_desk"]
    for index, department in enumerate(services.rules.current.departments.values()):
        if name := department.zendesk.get("group"):
            zendesk.add_group(id=360000100 + index, name=name)
    return Desk(app, zendesk, platforms.build_adapters(services))


@pytest.fixture
def desk(make_app, zendesk, quick_rules):
    return build_desk(make_app, zendesk, quick_rules)


CREATED = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
STATUS_CHANGED = load_json(PAYLOADS / "zendesk" / "ticket_status_changed_solved.json")


class Desk:
    """The service as `worker` runs it, with time passed in: `t0` is a minute after the real
    clock (so every webhook stored so far is already available to the worker), and every
    `work`/`tick` takes an offset in seconds from it."""

    def __init__(self, app, fake, adapters) -> None:
        self.app, self.fake, self.adapters = app, fake, adapters
        self.services = app.extensions["dispute_desk"]
        self.worker = platforms.make_worker(self.services, adapters)
        self.client = app.test_client()
        self.t0 = datetime.now(UTC) + timedelta(minutes=1)
        self.deliveries = 0

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    # -- the account

    def open_ticket(self, ticket_id: int = TICKET_ID, tags: tuple[str, ...] = ()) -> dict[str, Any]:
        detail = CREATED["detail"]
        requester = int(detail["requester_id"])
        if requester not in self.fake.users:
            self.fake.add_user(id=requester, name="Ana Souza", email="ana@example.com.br", locale="pt-BR")
        self.fake.add_ticket(
            id=ticket_id,
            subject=detail["subject"],
            description=detail["description"],
            status="new",
            priority=None,
            tags=list(tags),
            requester_id=requester,
            group_id=None,
        )
        return self.deliver(self.created(ticket_id))

    def department_group(self, department: str) -> int:
        name = self.services.rules.current.departments[department].zendesk["group"]
        return next(gid for gid, group in self.fake.groups.items() if group["name"] == name)

    def bot_notes(self, ticket_id: int = TICKET_ID) -> list[dict[str, Any]]:
        return [c for c in self.fake.comments(ticket_id) if c.get("author_id") == BOT_ID]

    # -- webhooks, as Zendesk sends them

    def _delivery(self) -> str:
        self.deliveries += 1
        return f"00000000-0000-4000-8000-{self.deliveries:012d}"

    def created(self, ticket_id: int) -> dict[str, Any]:
        payload = copy.deepcopy(CREATED)
        payload["id"] = self._delivery()
        payload["subject"] = f"zen:ticket:{ticket_id}"
        payload["detail"]["id"] = str(ticket_id)
        payload["detail"]["tags"] = self.fake.ticket(ticket_id)["tags"]
        return payload

    def agent_comment(self, ticket_id: int = TICKET_ID, public: bool = True) -> dict[str, Any]:
        """An agent answers (public reply or internal note)."""
        body = "Olá Ana, confirmamos a cobrança em duplicidade e já solicitamos o estorno."
        payload = copy.deepcopy(CREATED)
        delivery = self._delivery()
        payload.update(id=delivery, type="zen:event-type:ticket.comment_added", subject=f"zen:ticket:{ticket_id}")
        payload["detail"].update(id=str(ticket_id), actor_id=AGENT_ID, status=self.fake.ticket(ticket_id)["status"].upper())
        payload["event"] = {
            "comment": {"author": {"id": AGENT_ID, "is_staff": True, "name": "Marina Costa"}, "body": body, "id": delivery[-8:], "is_public": public}
        }
        return payload

    def customer_comment(self, body: str, ticket_id: int = TICKET_ID) -> dict[str, Any]:
        requester = CREATED["detail"]["requester_id"]
        payload = copy.deepcopy(CREATED)
        delivery = self._delivery()
        payload.update(id=delivery, type="zen:event-type:ticket.comment_added", subject=f"zen:ticket:{ticket_id}")
        payload["detail"].update(id=str(ticket_id), actor_id=requester, status=self.fake.ticket(ticket_id)["status"].upper())
        payload["event"] = {"comment": {"author": {"id": requester, "is_staff": False, "name": "Ana Souza"}, "body": body, "id": delivery[-8:], "is_public": True}}
        return payload

    def status_change(self, current: str, ticket_id: int = TICKET_ID) -> dict[str, Any]:
        """An agent changes the status in Zendesk (the ticket changes first, then the webhook)."""
        previous = self.fake.ticket(ticket_id)["status"]
        self.fake.update_ticket(ticket_id, status=current)
        payload = copy.deepcopy(STATUS_CHANGED)
        payload["id"] = self._delivery()
        payload["subject"] = f"zen:ticket:{ticket_id}"
        payload["detail"].update(id=str(ticket_id), actor_id=AGENT_ID, status=current.upper(), tags=self.fake.ticket(ticket_id)["tags"])
        payload["event"].update(previous=previous.upper(), current=current.upper())
        return payload

    def deliver(self, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        response = self.client.post("/webhooks/zendesk", data=body, headers=zendesk_headers(body))
        assert response.status_code == 202, response.get_data(as_text=True)
        return response

    # -- time passes

    def work(self, seconds: float) -> list[Any]:
        """Run the worker at t0 + seconds until nothing is due; the events it settled."""
        now, done = self.at(seconds), []
        while (stored := self.worker.step(now)) is not None:
            done.append(self.services.inbox.get(stored.id))
        return done

    def tick(self, seconds: float) -> int:
        return clock.tick(self.services.engine, self.services.inbox, self.at(seconds))

    # -- the database

    def deadline_rows(self, ticket_id: int = TICKET_ID) -> dict[str, Any]:
        with self.services.engine.connect() as connection:
            rows = connection.execute(select(deadlines_table).where(deadlines_table.c.ticket_key == f"zendesk:{ticket_id}"))
            return {row.name: row for row in rows}

    def breach_events(self) -> list[Any]:
        with self.services.engine.connect() as connection:
            rows = connection.execute(select(inbox_table).where(inbox_table.c.source_type == "dispute-desk:deadline_breached").order_by(inbox_table.c.id))
            return list(rows)

    def deadlines_cli(self, *args: str) -> Any:
        return self.app.test_cli_runner().invoke(cli_main, ["deadlines", "list", *args])


def ticket_writes(fake: Any) -> Counter[int]:
    """How many times each ticket was written, by a single PUT or as an entry of update_many."""
    written: Counter[int] = Counter()
    for request in fake.requests:
        if request.method != "PUT":
            continue
        if request.path == "/api/v2/tickets/update_many.json":
            written.update(int(entry["id"]) for entry in request.json["tickets"])
        elif match := re.fullmatch(r"/api/v2/tickets/(\d+)\.json", request.path):
            written[int(match.group(1))] += 1
    return written


def assert_done(events: list[Any]) -> None:
    assert events, "nothing was processed"
    for stored in events:
        assert stored.status == EventStatus.DONE, (stored.source_type, stored.status, stored.last_error)


def ticket_puts(fake, ticket_id: int = TICKET_ID) -> list[Any]:
    return [r for r in fake.requests if r.method == "PUT" and r.path == f"/api/v2/tickets/{ticket_id}.json"]


def test_a_missed_first_response_is_escalated_once_to_management_with_a_portuguese_note(desk):
    desk.open_ticket()
    [created] = desk.work(0)
    assert_done([created])
    assert created.outcome["deadlines_recorded"]["started"] == ["first-response"]
    start = desk.deadline_rows()["first-response"]
    assert from_db(start.due_at) == desk.at(DUE_IN) and start.calendar is None and start.within == "3s"
    assert desk.tick(DUE_IN - 1) == 0  # not yet due

    assert desk.tick(DUE_IN + 2) == 1
    [breach] = desk.breach_events()
    assert breach.ticket_key == f"zendesk:{TICKET_ID}" and breach.status == "pending"
    assert json.loads(breach.payload)["deadline"] == "first-response"
    assert desk.deadline_rows()["first-response"].status == "breached"
    desk.fake.reset_log()

    [escalated] = desk.work(DUE_IN + 2)

    assert_done([escalated])
    assert "first-response-missed" in escalated.outcome["matched_rules"]
    assert len(ticket_puts(desk.fake)) == 1  # exactly one write for the breach
    assert [w.method for w in desk.fake.writes()] == ["PUT"]
    ticket = desk.fake.ticket(TICKET_ID)
    assert ticket["group_id"] == desk.department_group("management")
    assert ticket["priority"] == "urgent"
    assert "escalated" in ticket["tags"]
    escalation = [note for note in desk.bot_notes() if "ESCALONAMENTO" in note["body"]]
    assert len(escalation) == 1
    [note] = escalation
    assert note["public"] is False
    body = note["body"]
    assert 'o prazo "primeira resposta" foi ultrapassado em menos de um minuto' in body  # 2 s late, in Portuguese
    assert f"vencia em {desk.at(DUE_IN):%Y-%m-%d %H:%M} (UTC)" in body  # a wall-clock deadline: no calendar's zone
    assert "Diretoria" in body  # management's Portuguese title
    assert "ESCALATION" not in body and "missed by" not in body

    # Time passes: nothing more fires, nothing more is written.
    desk.fake.reset_log()
    assert desk.tick(DUE_IN + 60) == 0
    assert desk.tick(DUE_IN + 3600) == 0
    assert desk.work(DUE_IN + 3600) == []
    assert len(desk.breach_events()) == 1
    assert desk.fake.writes() == []


def test_the_escalation_note_says_how_late_the_breach_was_handled(desk):
    desk.open_ticket()
    desk.work(0)
    assert desk.tick(DUE_IN + 1) == 1
    # The worker only gets to the breach 2 hours and 5 minutes after the due time.
    [escalated] = desk.work(DUE_IN + 2 * 3600 + 5 * 60 + 30)
    assert_done([escalated])
    [note] = [n for n in desk.bot_notes() if "ESCALONAMENTO" in n["body"]]
    assert "foi ultrapassado em 2 horas 5 minutos" in note["body"]


def test_an_agents_public_reply_in_time_meets_the_deadline_and_nothing_escalates(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.agent_comment(public=False))  # an internal note does not answer the customer
    assert_done(desk.work(1))
    assert desk.deadline_rows()["first-response"].status == "running"

    desk.deliver(desk.agent_comment(public=True))
    [answered] = desk.work(2)

    assert_done([answered])
    assert answered.outcome["deadlines_recorded"]["met"] == ["first-response"]
    rows = desk.deadline_rows()
    assert rows["first-response"].status == "met"
    assert rows["follow-up"].status == "running"  # the reply starts the (2-business-day) follow-up
    desk.fake.reset_log()
    assert desk.tick(DUE_IN + 5) == 0
    assert desk.tick(DUE_IN + 3600) == 0
    assert desk.breach_events() == []
    assert desk.work(DUE_IN + 3600) == []
    assert desk.fake.writes() == []
    assert desk.fake.ticket(TICKET_ID)["group_id"] == desk.department_group("finance")
    assert desk.fake.ticket(TICKET_ID)["priority"] != "urgent"


def test_a_customer_reply_does_not_meet_the_first_response_deadline(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.customer_comment("Alguém pode me responder? Ainda aguardo o estorno."))
    assert_done(desk.work(1))
    assert desk.deadline_rows()["first-response"].status == "running"
    assert desk.tick(DUE_IN + 1) == 1


def test_re_routing_to_another_department_restarts_the_first_response_deadline(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.customer_comment("Se não resolverem hoje vou processar a empresa no juizado especial."))
    [rerouted] = desk.work(2)
    assert_done([rerouted])
    assert desk.fake.ticket(TICKET_ID)["group_id"] == desk.department_group("legal")
    assert "first-response" in rerouted.outcome["deadlines"]  # legal-escalation asks for a new deadline...
    row = desk.deadline_rows()["first-response"]
    assert from_db(row.due_at) == desk.at(2 + DUE_IN)  # ...which legal gets from the re-route on
    assert desk.tick(DUE_IN + 1) == 0


def test_pending_pauses_the_deadline_and_open_resumes_it_with_the_time_left(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.status_change("pending"))
    [paused] = desk.work(1)
    assert_done([paused])
    assert paused.outcome["deadlines_recorded"]["paused"] == ["first-response"]
    row = desk.deadline_rows()["first-response"]
    assert (row.status, row.due_at, row.remaining_seconds) == ("paused", None, pytest.approx(DUE_IN - 1))

    assert desk.tick(10) == 0  # long past the original due time, still waiting on the customer
    assert desk.breach_events() == []

    desk.deliver(desk.status_change("open"))
    [resumed] = desk.work(20)
    assert_done([resumed])
    assert resumed.outcome["deadlines_recorded"]["running"] == ["first-response"]
    row = desk.deadline_rows()["first-response"]
    assert row.status == "running" and from_db(row.due_at) == desk.at(22)  # 2 s left from +20 s

    assert desk.tick(21) == 0
    assert desk.tick(23) == 1
    [breach] = desk.breach_events()
    assert json.loads(breach.payload)["due_at"] == desk.at(22).isoformat()
    [escalated] = desk.work(23)
    assert_done([escalated])
    assert desk.fake.ticket(TICKET_ID)["group_id"] == desk.department_group("management")


def test_a_ticket_put_on_hold_between_whole_seconds_still_resumes(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.status_change("on_hold"))
    assert_done(desk.work(1.5))  # 1.5 s left
    desk.deliver(desk.status_change("open"))
    resumed = desk.work(20)
    assert_done(resumed)  # fails: ValueError in deadlines.transition, the event is retried
    assert desk.tick(21.6) == 1


def test_solving_the_ticket_stops_the_deadline_and_nothing_fires(desk):
    desk.open_ticket()
    assert_done(desk.work(0))
    desk.deliver(desk.status_change("solved"))
    [solved] = desk.work(1)
    assert_done([solved])
    assert desk.deadline_rows()["first-response"].status == "met"  # met_by: [agent_reply, solved]
    assert desk.tick(DUE_IN + 60) == 0
    assert desk.breach_events() == []


def test_closing_the_ticket_cancels_a_deadline_not_met_by_solving(desk):
    desk.open_ticket(tags=("close-watch",))
    [created] = desk.work(0)
    assert_done([created])
    assert sorted(created.outcome["deadlines_recorded"]["started"]) == ["close-watch", "first-response"]
    desk.deliver(desk.status_change("closed"))
    desk.fake.reset_log()

    [closed] = desk.work(1)

    assert_done([closed])
    rows = desk.deadline_rows()
    assert rows["close-watch"].status == "cancelled"
    # Closing straight from open is a resolution too: the first-response deadline, met_by solved, is met.
    assert rows["first-response"].status == "met"
    assert closed.outcome["deadlines_recorded"]["met"] == ["first-response"]
    assert desk.fake.writes() == []  # nothing is written to a closed ticket
    assert desk.tick(DUE_IN + 60) == 0
    assert desk.breach_events() == []


def test_the_events_outcome_names_the_deadline_a_close_cancelled(desk):
    desk.open_ticket(tags=("close-watch",))
    assert_done(desk.work(0))
    desk.deliver(desk.status_change("closed"))
    [closed] = desk.work(1)
    assert desk.deadline_rows()["close-watch"].status == "cancelled"
    assert "close-watch" in closed.outcome["deadlines_recorded"]["cancelled"]


def test_deadlines_list_shows_running_paused_met_and_breached_deadlines(desk):
    result = desk.deadlines_cli()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no deadlines"

    running, paused, met, breached = 1001, 1002, 1003, 1004
    for ticket in (paused, met, breached):
        desk.open_ticket(ticket)
    assert_done(desk.work(0))
    desk.deliver(desk.status_change("pending", paused))
    desk.deliver(desk.agent_comment(met))
    assert_done(desk.work(1))
    assert desk.tick(DUE_IN + 1) == 1  # only `breached` is due
    desk.open_ticket(running)  # a later ticket, not due yet
    assert_done(desk.work(DUE_IN + 1))

    result = desk.deadlines_cli()
    assert result.exit_code == 0, result.output
    lines = {tuple(line.split()[:3]): line for line in result.output.splitlines()}
    assert ("zendesk:1002", "first-response", "paused") in lines
    assert "2 s left when resumed" in lines[("zendesk:1002", "first-response", "paused")]
    assert ("zendesk:1003", "first-response", "met") in lines
    assert ("zendesk:1003", "follow-up", "running") in lines
    assert ("zendesk:1003", "next-update", "running") in lines  # the agents' own: keep the customer informed
    assert ("zendesk:1004", "first-response", "breached") in lines
    assert f"breached {desk.at(DUE_IN + 1):%Y-%m-%d %H:%M:%S} UTC" in lines[("zendesk:1004", "first-response", "breached")]
    assert ("zendesk:1001", "first-response", "running") in lines
    assert f"due {desk.at(2 * DUE_IN + 1):%Y-%m-%d %H:%M:%S} UTC" in lines[("zendesk:1001", "first-response", "running")]
    assert len(lines) == 6
    assert "rule finance-dispute" in lines[("zendesk:1004", "first-response", "breached")]

    one = desk.deadlines_cli("--ticket", "zendesk:1003")
    assert one.exit_code == 0, one.output
    names = sorted(line.split()[1] for line in one.output.splitlines())
    assert names == ["first-response", "follow-up", "next-update"]
    assert all(line.startswith("zendesk:1003 ") for line in one.output.splitlines())
    running_line = next(line for line in one.output.splitlines() if " follow-up " in line)
    assert "running" in running_line and "due " in running_line and "2d business" in running_line


# ============================================================================================
# c. PostgreSQL: three workers and three clocks at once
# ============================================================================================

TICKETS = 50


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_clocks_and_workers_fire_and_escalate_each_breach_once(desk):
    ids = [5000 + n for n in range(TICKETS)]
    for ticket_id in ids:
        desk.open_ticket(ticket_id)
    created = desk.work(0)
    assert len(created) == TICKETS
    assert_done(created)
    desk.fake.reset_log()

    now = desk.at(DUE_IN + 5)
    services = desk.services
    workers = [platforms.make_worker(services, desk.adapters) for _ in range(3)]
    assert len({w.owner for w in workers}) == 3
    start = threading.Barrier(6)
    clocks_done = threading.Event()
    fired: list[int] = []
    processed: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    give_up = wall.monotonic() + 120  # a guard against a hang, not a timing assumption

    def pending_now() -> int:
        with services.engine.connect() as connection:
            query = select(func.count()).select_from(inbox_table).where(inbox_table.c.status.in_(("pending", "leased")))
            return connection.execute(query).scalar_one()

    def run_clock() -> None:
        try:
            start.wait()
            count = clock.tick(services.engine, services.inbox, now, batch=5)  # small batches: the clocks interleave
            with lock:
                fired.append(count)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def run_worker(worker) -> None:
        try:
            start.wait()
            idle = threading.Event()
            while wall.monotonic() < give_up:
                stored = worker.step(now)
                if stored is not None:
                    with lock:
                        processed.append((worker.owner, stored.id))
                    continue
                if clocks_done.is_set() and pending_now() == 0:
                    return
                idle.wait(0.005)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    clocks = [threading.Thread(target=run_clock) for _ in range(3)]
    threads = [threading.Thread(target=run_worker, args=(w,)) for w in workers]
    for thread in clocks + threads:
        thread.start()
    for thread in clocks:
        thread.join(60)
    clocks_done.set()
    for thread in threads:
        thread.join(150)

    assert errors == []
    assert sum(fired) == TICKETS
    breaches = desk.breach_events()
    assert Counter(b.ticket_key for b in breaches) == Counter({f"zendesk:{t}": 1 for t in ids})
    assert Counter(b.status for b in breaches) == Counter({"done": TICKETS})
    assert processed and len({event_id for _, event_id in processed}) == len(processed)  # breaches written in bulk: step returns the first of each batch
    with services.engine.connect() as connection:
        statuses = Counter(connection.execute(select(inbox_table.c.status)).scalars())
        states = Counter(connection.execute(select(deadlines_table.c.status)).scalars())
    assert statuses == Counter({"done": 2 * TICKETS})  # none dead, none left
    assert states == Counter({"breached": TICKETS})
    assert ticket_writes(desk.fake) == Counter(ids)  # one write per ticket, alone or in a bulk update
    management = desk.department_group("management")
    for ticket_id in ids:
        ticket = desk.fake.ticket(ticket_id)
        assert (ticket["group_id"], ticket["priority"]) == (management, "urgent")
        assert len([n for n in desk.bot_notes(ticket_id) if "ESCALONAMENTO" in n["body"]]) == 1


# ============================================================================================
# d. Many breaches at once: Zendesk's update_many, at most 100 tickets a call
# ============================================================================================


def bulk_calls(fake: Any) -> list[Any]:
    return [r for r in fake.requests if r.method == "PUT" and r.path == "/api/v2/tickets/update_many.json"]


def escalation_notes(desk: Desk, ticket_id: int) -> list[dict[str, Any]]:
    return [n for n in desk.bot_notes(ticket_id) if "ESCALONAMENTO" in n["body"]]


def open_and_route(desk: Desk, ids: list[int]) -> None:
    for ticket_id in ids:
        desk.open_ticket(ticket_id)
    assert_done(desk.work(0))
    desk.fake.reset_log()


def test_many_breaches_at_once_are_written_with_update_many_at_most_100_a_call(desk):
    ids = [7000 + n for n in range(150)]
    open_and_route(desk, ids)
    assert desk.tick(DUE_IN + 1) == 150

    settled = desk.work(DUE_IN + 2)

    assert settled  # each step settles a batch; it returns the first event of each
    calls = bulk_calls(desk.fake)
    assert [len(call.json["tickets"]) for call in calls] == [100, 50]
    spec = load_spec()
    for call in calls:
        spec.validate_request("PUT", call.path, call.json, strict=True, allow=ZENPY_ALLOWED)
    polls = [r for r in desk.fake.requests if r.method == "GET" and r.path.startswith("/api/v2/job_statuses/")]
    assert len(polls) == 2  # the fake finishes a job at its first poll
    reads = [r for r in desk.fake.requests if r.method == "GET" and r.path.startswith("/api/v2/tickets/")]
    assert [(r.path, len(r.query["ids"].split(","))) for r in reads] == [("/api/v2/tickets/show_many.json", 100), ("/api/v2/tickets/show_many.json", 50)]
    assert ticket_writes(desk.fake) == Counter(ids)  # no ticket written twice, none alone
    management = desk.department_group("management")
    for ticket_id in ids:
        ticket = desk.fake.ticket(ticket_id)
        assert (ticket["group_id"], ticket["priority"]) == (management, "urgent")
        assert "dispute" in ticket["tags"]  # tag deltas kept the tags already there
        assert len(escalation_notes(desk, ticket_id)) == 1
    with desk.services.engine.connect() as connection:
        breaches = Counter(connection.execute(select(inbox_table.c.status).where(inbox_table.c.source_type == "dispute-desk:deadline_breached")).scalars())
    assert breaches == Counter({"done": 150})
    done = [e for e in desk.services.inbox.list(EventStatus.DONE, limit=500) if e.source_type == "dispute-desk:deadline_breached"]
    assert {e.outcome["written"]["bulk_job"] for e in done} and all(e.outcome["written"]["writes"] == 1 for e in done)


def test_a_ticket_changed_during_a_bulk_update_is_retried_on_its_own(desk):
    ids = [7100, 7101, 7102]
    open_and_route(desk, ids)
    assert desk.tick(DUE_IN + 1) == 3

    def agent_edits_7101_after_it_was_read(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "GET" and response.request.path_url.startswith("/api/v2/tickets/show_many.json"):
            desk.fake.update_ticket(7101, subject="Cobrança em duplicidade (editado)")

    session = desk.adapters["zendesk"].client.tickets.session
    session.hooks["response"].append(agent_edits_7101_after_it_was_read)
    settled = desk.work(DUE_IN + 2)

    assert_done(settled)
    [bulk] = bulk_calls(desk.fake)
    assert sorted(entry["id"] for entry in bulk.json["tickets"]) == ids
    assert ticket_writes(desk.fake) == Counter({7100: 1, 7101: 2, 7102: 1})  # 7101 refused in bulk, then alone
    breach = next(e for e in desk.services.inbox.list(limit=500) if e.ticket_key == "zendesk:7101" and e.source_type == "dispute-desk:deadline_breached")
    assert (breach.status, breach.attempts) == (EventStatus.DONE, 2)
    assert desk.fake.ticket(7101)["subject"] == "Cobrança em duplicidade (editado)"  # the agent's edit stands
    for ticket_id in ids:
        assert len(escalation_notes(desk, ticket_id)) == 1
        assert desk.fake.ticket(ticket_id)["priority"] == "urgent"


def test_a_failed_bulk_read_falls_back_to_reading_each_ticket(desk):
    ids = [7300, 7301]
    open_and_route(desk, ids)
    assert desk.tick(DUE_IN + 1) == 2
    desk.fake.fail_next(503, method="GET", path_contains="/tickets/show_many")

    assert_done(desk.work(DUE_IN + 2))

    reads = [r.path for r in desk.fake.requests if r.method == "GET" and r.path.startswith("/api/v2/tickets/")]
    assert reads == ["/api/v2/tickets/show_many.json", "/api/v2/tickets/7300.json", "/api/v2/tickets/7301.json"]
    assert [len(call.json["tickets"]) for call in bulk_calls(desk.fake)] == [2]
    for ticket_id in ids:
        assert len(escalation_notes(desk, ticket_id)) == 1


def test_a_bulk_job_whose_status_cannot_be_read_is_retried_without_doubling_a_note(desk):
    ids = [7200, 7201]
    open_and_route(desk, ids)
    assert desk.tick(DUE_IN + 1) == 2
    desk.fake.fail_next(503, method="GET", path_contains="/job_statuses/")

    desk.work(DUE_IN + 2)  # the job ran, but its outcome is unknown: both events wait to retry

    with desk.services.engine.connect() as connection:
        rows = list(connection.execute(select(inbox_table).where(inbox_table.c.source_type == "dispute-desk:deadline_breached")))
    assert {(row.status, row.attempts) for row in rows} == {("pending", 1)}
    assert all(row.last_error.startswith("Zendesk answered 503") for row in rows)

    retried = desk.work(DUE_IN + 60)

    assert_done(retried)
    for ticket_id in ids:
        assert len(escalation_notes(desk, ticket_id)) == 1  # the retry found the notes on the tickets
        assert desk.fake.ticket(ticket_id)["priority"] == "urgent"
