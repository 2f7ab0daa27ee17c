"""Deadlines the rules start and cancel, kept in the database (the clock enforces them).

Starting a deadline that is already running changes nothing: a repeated event must not
double it or push it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from integration.plan import Plan
from integration.store import deadlines, to_db

ACTIVE = ("running", "paused")


def record(connection: Connection, ticket_key: str, plan: Plan, now: datetime) -> dict[str, list[str]]:
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
            select(deadlines.c.id, deadlines.c.status).where(deadlines.c.ticket_key == ticket_key, deadlines.c.name == deadline.name)
        ).first()
        if existing is not None and existing.status in ACTIVE:
            continue
        values: dict[str, Any] = {
            "status": "running",
            "due_at": to_db(deadline.due_at),
            "started_at": to_db(now),
            "within": deadline.within,
            "calendar": deadline.calendar,
            "met_by": ",".join(deadline.met_by),
            "pause_while": ",".join(deadline.pause_while),
            "rule_id": deadline.rule_id,
            "updated_at": to_db(now),
        }
        if existing is None:
            connection.execute(insert(deadlines).values(ticket_key=ticket_key, name=deadline.name, **values))
        else:
            connection.execute(update(deadlines).where(deadlines.c.id == existing.id).values(**values))
        started.append(deadline.name)
    return {"started": started, "cancelled": cancelled}
