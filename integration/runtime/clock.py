"""The clock: finds deadlines that are due and raises one `deadline_breached` event per
breach into the inbox, so escalation is an ordinary rule (`on: [deadline_breached]`).

Its cost grows with the number of deadlines due, not with the number open: one indexed
range read on (status, due_at), in batches. The breach's delivery id is derived from the
deadline and its due time, so any number of workers running the clock fire each breach
once (the inbox's unique key does the rest).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from integration.runtime.inbox import Inbox
from integration.runtime.store import deadlines, from_db, is_postgres, to_db, writing

log = logging.getLogger("dispute_desk.clock")

INTERNAL_MARK = "dispute_desk_event"  # payloads we make ourselves carry this key
BATCH = 500


def breach_payload(row: Any) -> dict[str, Any]:
    platform, _, ticket_id = row.ticket_key.partition(":")
    return {
        INTERNAL_MARK: "deadline_breached",
        "platform": platform,
        "ticket_id": ticket_id,
        "deadline": row.name,
        "due_at": from_db(row.due_at).isoformat(),  # type: ignore[union-attr]
        "rule_id": row.rule_id,
        "calendar": row.calendar,  # notes show the due time in its time zone
    }


def tick(engine: Engine, inbox: Inbox, now: datetime, batch: int = BATCH) -> int:
    """Turn every deadline due at `now` into a breach event; returns how many fired."""
    fired = 0
    while True:
        count = _fire_batch(engine, inbox, now, batch)
        fired += count
        if count < batch:
            return fired


def _fire_batch(engine: Engine, inbox: Inbox, now: datetime, batch: int) -> int:
    query = (
        select(deadlines)
        .where(deadlines.c.status == "running", deadlines.c.due_at <= to_db(now))
        .order_by(deadlines.c.due_at)
        .limit(batch)
    )
    if is_postgres(engine):
        query = query.with_for_update(skip_locked=True)  # other workers' clocks take other rows
    with writing(engine) as connection:
        rows = list(connection.execute(query))
        for row in rows:
            payload = breach_payload(row)
            delivery = f"deadline:{row.id}:{payload['due_at']}"
            inbox.add_in(connection, payload["platform"], delivery, payload["ticket_id"], "dispute-desk:deadline_breached", json.dumps(payload), {}, now)
            connection.execute(
                update(deadlines).where(deadlines.c.id == row.id).values(status="breached", breached_at=to_db(now), updated_at=to_db(now))
            )
    if rows:
        log.info("deadlines breached", extra={"count": len(rows), "deadlines": [f"{r.ticket_key}/{r.name}" for r in rows[:20]]})
    return len(rows)


def run(engine: Engine, inbox: Inbox, stop: threading.Event, every_seconds: float) -> None:
    """The loop: the only place the clock reads the system clock."""
    while not stop.wait(every_seconds):
        try:
            now = datetime.now(UTC)
            tick(engine, inbox, now)
            inbox.forget_signatures(now)  # replay guards past their window: the window refuses those
        except Exception:  # the database may be away for a moment; try again next tick
            log.exception("clock tick failed")
