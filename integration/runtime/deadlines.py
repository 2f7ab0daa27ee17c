"""Follow-up deadlines: started and cancelled by rules, met by the right reply, paused
while the ticket waits on the customer, and found by the clock when they are missed.

The decisions are pure functions of (deadline, event, now); the functions that touch the
`deadlines` table apply them. Time is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from integration.core.calendars import WALL_CLOCK, Calendar, Duration
from integration.core.events import EventKind, TicketEvent
from integration.core.plan import Plan
from integration.core.ruleset import RuleSet
from integration.runtime.store import deadlines, from_db, to_db

ACTIVE = ("running", "paused")
STATES = ("running", "paused", "met", "breached", "cancelled")


@dataclass(frozen=True)
class Deadline:
    id: int
    ticket_key: str
    name: str
    status: str
    due_at: datetime | None
    calendar: str | None
    met_by: tuple[str, ...]
    pause_while: tuple[str, ...]
    remaining_seconds: float | None

    @classmethod
    def from_row(cls, row: Any) -> Deadline:
        return cls(
            row.id,
            row.ticket_key,
            row.name,
            row.status,
            from_db(row.due_at),
            row.calendar,
            tuple(filter(None, row.met_by.split(","))),
            tuple(filter(None, row.pause_while.split(","))),
            row.remaining_seconds,
        )


def met_by(event: TicketEvent) -> set[str]:
    """Which of `agent_reply`, `customer_reply`, `solved` this event is."""
    ways: set[str] = set()
    comment = event.comment
    if comment is not None and EventKind.COMMENT_ADDED in event.kinds:
        if comment.by == "agent" and comment.public:
            ways.add("agent_reply")
        if comment.by == "customer":
            ways.add("customer_reply")
    if EventKind.SOLVED in event.kinds or event.status in ("solved", "closed"):
        ways.add("solved")
    return ways


def transition(deadline: Deadline, event: TicketEvent, now: datetime, calendar: Calendar) -> dict[str, Any] | None:
    """What this event does to an active deadline: the column changes, or None."""
    if EventKind.DELETED in event.kinds:
        return {"status": "cancelled"}  # deleted, merged away, spam: nobody is left to answer
    if set(deadline.met_by) & met_by(event):
        return {"status": "met"}
    if event.status == "closed":
        return {"status": "cancelled"}
    waiting = event.status in deadline.pause_while
    if deadline.status == "running" and waiting and deadline.due_at is not None:
        left = max(calendar.open_seconds_between(now, deadline.due_at), 0.0)
        return {"status": "paused", "remaining_seconds": left, "due_at": None}
    if deadline.status == "paused" and not waiting and event.status is not None:
        return {"status": "running", "due_at": to_db(resumed_due_at(deadline.remaining_seconds or 0.0, now, calendar)), "remaining_seconds": None}
    return None


def resumed_due_at(remaining_seconds: float, now: datetime, calendar: Calendar) -> datetime:
    """When a paused deadline falls due again. A pause rarely starts on a whole second, and
    durations are whole seconds: the calendar adds those, the fraction is added after."""
    whole = int(remaining_seconds)
    fraction = timedelta(seconds=remaining_seconds - whole)
    start = calendar.add(now, Duration(timedelta(seconds=whole), business=True)) if whole else now
    return start + fraction


def calendar_for(deadline: Deadline, ruleset: RuleSet) -> Calendar:
    """Business deadlines count their calendar's open time; the others count the wall clock."""
    return ruleset.calendars.get(deadline.calendar or "", WALL_CLOCK)


def observe(connection: Connection, ticket_key: str, event: TicketEvent, ruleset: RuleSet, now: datetime) -> dict[str, list[str]]:
    """Apply one event to the ticket's active deadlines (before the event starts new ones,
    so a reply never meets the deadline its own rule just started)."""
    changed: dict[str, list[str]] = {}
    rows = connection.execute(select(deadlines).where(deadlines.c.ticket_key == ticket_key, deadlines.c.status.in_(ACTIVE)))
    for deadline in map(Deadline.from_row, rows):
        changes = transition(deadline, event, now, calendar_for(deadline, ruleset))
        if changes is None:
            continue
        connection.execute(update(deadlines).where(deadlines.c.id == deadline.id).values(**changes, updated_at=to_db(now)))
        changed.setdefault(changes["status"], []).append(deadline.name)
    return changed


def record(connection: Connection, ticket_key: str, plan: Plan, now: datetime) -> dict[str, list[str]]:
    """Starts and cancellations the rules asked for. Starting a deadline that is already
    running changes nothing when the same rule asks again: a repeated event must not double it
    or push it back. Another rule restarts it: a ticket re-routed to another department gives
    that department its own time to answer."""
    started: list[str] = []
    cancelled: list[str] = []
    for name in plan.effects.cancel_deadlines:
        result = connection.execute(
            update(deadlines)
            .where(deadlines.c.ticket_key == ticket_key, deadlines.c.name == name, deadlines.c.status.in_(ACTIVE))
            .values(status="cancelled", updated_at=to_db(now))
        )
        if result.rowcount:
            cancelled.append(name)
    for deadline in plan.effects.deadlines:
        existing = connection.execute(
            select(deadlines.c.id, deadlines.c.status, deadlines.c.rule_id).where(deadlines.c.ticket_key == ticket_key, deadlines.c.name == deadline.name)
        ).first()
        if existing is not None and existing.status in ACTIVE and existing.rule_id == deadline.rule_id:
            continue
        values: dict[str, Any] = {
            "status": "running",
            "due_at": to_db(deadline.due_at),
            "started_at": to_db(now),
            "within": deadline.within,
            "calendar": deadline.calendar if "business" in deadline.within else None,
            "met_by": ",".join(deadline.met_by),
            "pause_while": ",".join(deadline.pause_while),
            "rule_id": deadline.rule_id,
            "updated_at": to_db(now),
            "remaining_seconds": None,
            "breached_at": None,
        }
        if existing is None:
            connection.execute(insert(deadlines).values(ticket_key=ticket_key, name=deadline.name, **values))
        else:
            connection.execute(update(deadlines).where(deadlines.c.id == existing.id).values(**values))
        started.append(deadline.name)
    return {"started": started, "cancelled": cancelled}


def withdraw(connection: Connection, ticket_key: str, names: list[str], started_at: datetime) -> None:
    """Cancel the deadlines started at `started_at` (by one event whose write was refused)."""
    if names:
        connection.execute(
            update(deadlines)
            .where(deadlines.c.ticket_key == ticket_key, deadlines.c.name.in_(names), deadlines.c.status == "running", deadlines.c.started_at == to_db(started_at))
            .values(status="cancelled", updated_at=to_db(started_at))
        )


def prune(connection: Connection, ended_before: datetime) -> int:
    """Delete deadlines met, breached or cancelled before `ended_before` (running and paused
    ones stay, however old): the ticket's history is on the ticket."""
    ended = deadlines.c.status.in_(("met", "breached", "cancelled"))
    return connection.execute(delete(deadlines).where(ended, deadlines.c.updated_at < to_db(ended_before))).rowcount


def listing(connection: Connection, ticket_key: str | None = None, limit: int = 200) -> list[Any]:
    query = select(deadlines).order_by(deadlines.c.updated_at.desc(), deadlines.c.id.desc()).limit(limit)
    if ticket_key:
        query = query.where(deadlines.c.ticket_key == ticket_key)
    return list(connection.execute(query))
