"""Nothing written twice: the action log (a table) records what each event applied; the
references on the ticket (`integration.core.references`) cover the moment between a write and
that record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from integration.runtime.store import action_log, insert_ignoring_duplicates, to_db


def logged_keys(connection: Connection, event_id: int) -> set[str]:
    rows = connection.execute(select(action_log.c.action_key).where(action_log.c.event_id == event_id))
    return {row.action_key for row in rows}


def log_applied(connection: Connection, event_id: int, ticket_key: str, keys: list[str], now: datetime) -> None:
    if not keys:
        return
    rows = [{"event_id": event_id, "ticket_key": ticket_key, "action_key": key, "applied_at": to_db(now)} for key in keys]
    connection.execute(insert_ignoring_duplicates(connection.engine, action_log, "event_id", "action_key"), rows)
