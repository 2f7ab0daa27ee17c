"""The inbox is the queue: webhook events are stored before they are acknowledged, then
claimed by workers under a lease, one event per ticket at a time, oldest first.

PostgreSQL claims with FOR UPDATE SKIP LOCKED; on SQLite the claim runs inside BEGIN
IMMEDIATE (see `store`), which serializes writers, so the same query is safe on both.
"""

from __future__ import annotations

import enum
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from integration.runtime.store import (
    action_log,
    delivery_tombstones,
    from_db,
    inbox,
    insert_ignoring_duplicates,
    is_postgres,
    to_db,
    webhook_signatures,
    writing,
)

TOMBSTONE_DAYS = 90  # far past any platform's redeliveries and any signature's time window
Part = tuple[str, str, str, dict[str, str]]  # delivery id, ticket id, source type, headers


class EventStatus(str, enum.Enum):
    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    SKIPPED = "skipped"
    DEAD = "dead"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (a random delay between half the base and the
    exponential ceiling), capped; a server's Retry-After wins."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 900.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError(f"invalid retry policy: {self}")

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap_seconds)
        doublings = min(max(attempts - 1, 0), 40)  # 2**40 base seconds is far past any cap
        ceiling = min(self.cap_seconds, self.base_seconds * 2**doublings)
        return rng.uniform(self.base_seconds / 2, ceiling)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    platform: str
    delivery_id: str
    ticket_key: str
    source_type: str
    payload: str
    headers: dict[str, str]
    status: EventStatus
    attempts: int
    received_at: datetime
    available_at: datetime
    last_error: str | None
    outcome: dict[str, Any] | None
    replays: int = 0

    @property
    def may_have_written(self) -> bool:
        """An earlier run of this event (a retry, a lease taken over, a replay) may have
        reached the ticket before it was cut short."""
        return self.attempts > 1 or self.replays > 0

    @classmethod
    def from_row(cls, row: Any) -> StoredEvent:
        return cls(
            id=row.id,
            platform=row.platform,
            delivery_id=row.delivery_id,
            ticket_key=row.ticket_key,
            source_type=row.source_type,
            payload=row.payload,
            headers=json.loads(row.headers or "{}"),
            status=EventStatus(row.status),
            attempts=row.attempts,
            received_at=from_db(row.received_at),  # type: ignore[arg-type]
            available_at=from_db(row.available_at),  # type: ignore[arg-type]
            last_error=row.last_error,
            outcome=json.loads(row.outcome) if row.outcome else None,
            replays=row.replays,
        )


class Inbox:
    def __init__(self, engine: Engine, lease_seconds: float = 120.0) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)

    def add(
        self,
        platform: str,
        delivery_id: str,
        ticket_id: str,
        source_type: str,
        payload: str,
        headers: dict[str, str],
        now: datetime,
    ) -> bool:
        """Store an event; False when this delivery was stored before (a redelivery)."""
        with writing(self.engine) as connection:
            return self.add_in(connection, platform, delivery_id, ticket_id, source_type, payload, headers, now)

    def add_in(
        self,
        connection: Connection,
        platform: str,
        delivery_id: str,
        ticket_id: str,
        source_type: str,
        payload: str,
        headers: dict[str, str],
        now: datetime,
    ) -> bool:
        """`add`, inside a transaction the caller holds (the clock stores breaches this way)."""
        row = {
            "platform": platform,
            "delivery_id": delivery_id,
            "ticket_key": f"{platform}:{ticket_id}",
            "source_type": source_type,
            "payload": payload,
            "headers": json.dumps(headers, sort_keys=True),
            "received_at": to_db(now),
            "available_at": to_db(now),
            "status": EventStatus.PENDING.value,
            "attempts": 0,
        }
        # A redelivery is an ordinary outcome: nothing inserted, nothing raised.
        statement = insert_ignoring_duplicates(connection.engine, inbox, "platform", "delivery_id").values(**row).returning(inbox.c.id)
        event_id = connection.execute(statement).scalar()
        if event_id is None:
            return False
        # Looked up after the insert, so a prune committing meanwhile is seen (PostgreSQL).
        if connection.execute(select(delivery_tombstones.c.platform).where(*_tombstone_of(platform, delivery_id))).first():
            connection.execute(delete(inbox).where(inbox.c.id == event_id))
            return False
        return True

    def add_signed(
        self, platform: str, digest: str | None, expires_at: datetime | None, parts: list[Part], payload: str, now: datetime
    ) -> list[bool] | None:
        """Store a webhook's parts in one transaction (each True if new). With the digest of
        its signed content: None, and nothing stored, when that content was seen before and
        is still within its time window (the same body under a new delivery id)."""
        with writing(self.engine) as connection:
            if digest is not None and expires_at is not None and not _first_sighting(connection, platform, digest, expires_at, now):
                return None
            return [self.add_in(connection, platform, *part[:3], payload, part[3], now) for part in parts]

    def forget_signatures(self, now: datetime) -> int:
        """Drop signed content whose time window has passed (a replay of it is refused as stale)."""
        with writing(self.engine) as connection:
            return connection.execute(delete(webhook_signatures).where(webhook_signatures.c.expires_at < to_db(now))).rowcount

    def claim(self, owner: str, now: datetime) -> StoredEvent | None:
        """Lease the oldest available event whose ticket has nothing older still to do."""
        claimed = self._claim(owner, now, 1)
        return claimed[0] if claimed else None

    def claim_batch(self, owner: str, now: datetime, platform: str, source_type: str, limit: int) -> list[StoredEvent]:
        """Lease up to `limit` more available events of one kind on one platform, each for a
        different ticket (breaches written together in one bulk update)."""
        return self._claim(owner, now, limit, inbox.c.platform == platform, inbox.c.source_type == source_type)

    def _claim(self, owner: str, now: datetime, limit: int, *only: Any) -> list[StoredEvent]:
        other = inbox.alias("other")
        same_ticket = other.c.ticket_key == inbox.c.ticket_key
        # Blocked: an older event of the ticket is still to do, or any of its events is in
        # flight (a replayed old event must wait for the newer one being processed).
        blocked = exists().where(
            and_(
                same_ticket,
                or_(
                    and_(other.c.id < inbox.c.id, other.c.status == EventStatus.PENDING.value),
                    other.c.status == EventStatus.LEASED.value,
                ),
            )
        )
        query = (
            select(inbox.c.id)
            .where(inbox.c.status == EventStatus.PENDING.value, inbox.c.available_at <= to_db(now), ~blocked, *only)
            .order_by(inbox.c.available_at, inbox.c.id)
            .limit(limit)
        )
        if is_postgres(self.engine):
            query = query.with_for_update(skip_locked=True, of=inbox)
        try:
            with writing(self.engine) as connection:
                event_ids = list(connection.execute(query).scalars())
                if not event_ids:
                    return []
                leased = connection.execute(
                    update(inbox)
                    .where(inbox.c.id.in_(event_ids))
                    .values(
                        status=EventStatus.LEASED.value,
                        lease_owner=owner,
                        lease_expires_at=to_db(now + self.lease),
                        attempts=inbox.c.attempts + 1,
                    )
                    .returning(*inbox.c)
                )
                events = [StoredEvent.from_row(row) for row in leased]
                return sorted(events, key=lambda event: (event.available_at, event.id))
        except IntegrityError:
            return []  # another worker leased one of these tickets' events first; try again later

    def finish(
        self,
        event_id: int,
        owner: str,
        status: EventStatus,
        now: datetime,
        outcome: dict[str, Any] | None = None,
        error: str | None = None,
        also: Callable[[Connection], None] | None = None,
    ) -> bool:
        """Mark a leased event done, skipped or dead; False if the lease was lost meanwhile.
        `also` runs in the same transaction, and is kept even then: what it records happened."""
        # A done event keeps the error of an earlier attempt: how it got there is worth seeing.
        kept = {"last_error": error} if error is not None else {}
        return self._settle(event_id, owner, also, status=status.value, finished_at=to_db(now), outcome=_json(outcome), **kept)

    def retry(self, event_id: int, owner: str, available_at: datetime, error: str) -> bool:
        return self._settle(event_id, owner, None, status=EventStatus.PENDING.value, available_at=to_db(available_at), last_error=error)

    def _settle(self, event_id: int, owner: str, also: Callable[[Connection], None] | None, **values: Any) -> bool:
        with writing(self.engine) as connection:
            if also is not None:
                also(connection)
            result = connection.execute(update(inbox).where(*_held(event_id, owner)).values(lease_owner=None, lease_expires_at=None, **values))
        return result.rowcount == 1

    def renew(self, connection: Connection, event_id: int, owner: str, until: datetime) -> bool:
        """Extend a lease still held, in the caller's transaction; False once it was lost
        (expired and taken, or settled)."""
        return connection.execute(update(inbox).where(*_held(event_id, owner)).values(lease_expires_at=to_db(until))).rowcount == 1

    def release_expired(self, now: datetime) -> int:
        """Leases of workers that died go back to pending, to be processed again."""
        with writing(self.engine) as connection:
            result = connection.execute(
                update(inbox)
                .where(inbox.c.status == EventStatus.LEASED.value, inbox.c.lease_expires_at < to_db(now))
                .values(status=EventStatus.PENDING.value, lease_owner=None, lease_expires_at=None)
            )
        return result.rowcount

    def replay(self, event_id: int, now: datetime) -> bool:
        """Put a dead (or finished) event back in the queue, with fresh attempts."""
        with writing(self.engine) as connection:
            result = connection.execute(
                update(inbox)
                .where(inbox.c.id == event_id, inbox.c.status != EventStatus.LEASED.value)
                .values(
                    status=EventStatus.PENDING.value,
                    attempts=0,
                    replays=inbox.c.replays + 1,
                    available_at=to_db(now),
                    finished_at=None,
                    last_error=None,
                    outcome=None,
                )
            )
        return result.rowcount == 1

    def prune(self, finished_before: datetime) -> int:
        """Delete events done or skipped before `finished_before`, with their action log.
        Dead events stay until replayed; pending and leased ones are never touched. A pruned
        delivery's id is kept (a tombstone, TOMBSTONE_DAYS after it arrived), so were the
        platform to send it again, it is still a duplicate."""
        finished = and_(inbox.c.status.in_((EventStatus.DONE.value, EventStatus.SKIPPED.value)), inbox.c.finished_at < to_db(finished_before))
        keep = select(inbox.c.platform, inbox.c.delivery_id, inbox.c.received_at).where(finished)
        with writing(self.engine) as connection:
            connection.execute(
                insert_ignoring_duplicates(connection.engine, delivery_tombstones, "platform", "delivery_id").from_select(["platform", "delivery_id", "received_at"], keep)
            )
            stale = to_db(finished_before - timedelta(days=TOMBSTONE_DAYS))
            connection.execute(delete(delivery_tombstones).where(delivery_tombstones.c.received_at < stale))
            connection.execute(delete(action_log).where(action_log.c.event_id.in_(select(inbox.c.id).where(finished))))
            return connection.execute(delete(inbox).where(finished)).rowcount

    def get(self, event_id: int) -> StoredEvent | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(inbox).where(inbox.c.id == event_id)).first()
        return StoredEvent.from_row(row) if row else None

    def list(self, status: EventStatus | None = None, limit: int = 50) -> list[StoredEvent]:
        query = select(inbox).order_by(inbox.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(inbox.c.status == status.value)
        with self.engine.connect() as connection:
            return [StoredEvent.from_row(row) for row in connection.execute(query)]

    def counts(self) -> dict[tuple[str, str], int]:
        """Events per (platform, status), for /metrics."""
        query = select(inbox.c.platform, inbox.c.status, func.count()).group_by(inbox.c.platform, inbox.c.status)
        with self.engine.connect() as connection:
            return {(platform, status): count for platform, status, count in connection.execute(query)}

    def retries(self) -> dict[str, int]:
        """Claims beyond each event's first, per platform: how often work was tried again."""
        query = select(inbox.c.platform, func.sum(inbox.c.attempts - 1)).where(inbox.c.attempts > 1).group_by(inbox.c.platform)
        with self.engine.connect() as connection:
            return {platform: int(total or 0) for platform, total in connection.execute(query)}

    def oldest_pending(self) -> dict[str, datetime]:
        query = (
            select(inbox.c.platform, func.min(inbox.c.received_at))
            .where(inbox.c.status == EventStatus.PENDING.value)
            .group_by(inbox.c.platform)
        )
        with self.engine.connect() as connection:
            return {platform: from_db(oldest) for platform, oldest in connection.execute(query)}  # type: ignore[misc]


def _tombstone_of(platform: str, delivery_id: str) -> tuple[Any, ...]:
    return (delivery_tombstones.c.platform == platform, delivery_tombstones.c.delivery_id == delivery_id)


def _first_sighting(connection: Connection, platform: str, digest: str, expires_at: datetime, now: datetime) -> bool:
    """Record signed content as seen; False if it was already, and is still in its window.
    One statement (insert, or renew an expired row), so two processes never both see it first."""
    dialect = postgresql if is_postgres(connection.engine) else sqlite
    statement = dialect.insert(webhook_signatures).values(platform=platform, digest=digest, expires_at=to_db(expires_at))
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "digest"],
        set_={"expires_at": statement.excluded.expires_at},
        where=webhook_signatures.c.expires_at < to_db(now),
    ).returning(webhook_signatures.c.id)
    return connection.execute(statement).first() is not None


def _held(event_id: int, owner: str) -> tuple[Any, ...]:
    """The event, still leased by `owner`."""
    return (inbox.c.id == event_id, inbox.c.status == EventStatus.LEASED.value, inbox.c.lease_owner == owner)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)
