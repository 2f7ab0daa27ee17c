"""The worker: claims stored events, plans them with the rules, writes back through the
platform's adapter, and settles each event as done, skipped, retried or dead.

Only `run` reads the system clock; every other method takes `now`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.base import Adapter, AdapterFailure, Conflict, PermanentFailure, TemporaryFailure
from integration import deadlines, engine, internal_events
from integration.idempotency import log_applied, logged_keys, with_references, without_applied
from integration.inbox import EventStatus, Inbox, RetryPolicy, StoredEvent
from integration.plan import Plan
from integration.ruleset import RuleSet
from integration.store import writing

log = logging.getLogger("dispute_desk.worker")

CONFLICT_RETRIES = 3


class EventRejected(Exception):
    """The stored payload cannot be made into a ticket event; retrying will not help."""


def worker_name() -> str:
    """Unique per Worker, even for sibling threads built by one thread: leases tell them apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Worker:
    inbox: Inbox
    adapters: Mapping[str, Adapter]
    rules: Callable[[], RuleSet]  # the current rule set (it may be reloaded while we run)
    owner: str = field(default_factory=worker_name)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=random.Random)

    def step(self, now: datetime) -> StoredEvent | None:
        """Process at most one event; returns it, or None when nothing was due."""
        stored = self.inbox.claim(self.owner, now)
        if stored is None:
            return None
        try:
            status, outcome = self.process(stored, now)
        except TemporaryFailure as failure:
            self._retry_or_bury(stored, now, failure)
        except (PermanentFailure, EventRejected) as failure:
            self._bury(stored, now, str(failure))
        except Exception as error:  # a bug must not lose the event: back off, then dead-letter
            log.exception("unexpected error", extra={"event_id": stored.id, "ticket": stored.ticket_key})
            self._retry_or_bury(stored, now, TemporaryFailure(f"{type(error).__name__}: {error}"))
        else:
            if self.inbox.finish(stored.id, self.owner, status, now, outcome):
                log.info("event %s", status.value, extra={"event_id": stored.id, "ticket": stored.ticket_key, **_log_fields(outcome)})
            else:
                log.warning("lease lost before the event was settled; another worker has it", extra={"event_id": stored.id, "ticket": stored.ticket_key})
        return stored

    def process(self, stored: StoredEvent, now: datetime) -> tuple[EventStatus, dict[str, Any]]:
        adapter = self.adapters.get(stored.platform)
        if adapter is None:
            raise EventRejected(f"no adapter configured for {stored.platform}")
        try:
            payload = json.loads(stored.payload)
            event = internal_events.parse(payload, stored.delivery_id) if internal_events.is_internal(payload) else adapter.normalize(payload, stored.headers)
        except (ValueError, KeyError) as error:
            raise EventRejected(f"not a ticket event: {error}") from None
        reason = adapter.own_actor_reason(event)
        if reason:
            return EventStatus.SKIPPED, {"skipped": reason}
        ruleset = self.rules()
        for _ in range(CONFLICT_RETRIES):
            plan = with_references(engine.plan(adapter.refresh(event), ruleset, now), stored.delivery_id)
            plan, already = self._unapplied(stored, adapter, plan)
            try:
                written = adapter.apply(plan, []) if plan.effects.writes_ticket() else {"writes": 0}
            except Conflict:
                log.info("ticket changed while planning; re-reading", extra={"event_id": stored.id, "ticket": stored.ticket_key})
                continue
            timers = self._record(stored, plan, ruleset, now)
            outcome = outcome_of(plan, written, timers)
            if already:
                outcome["already_applied"] = already
            outcome["warnings"] += written.pop("warnings", [])
            if plan.effects.feedback:
                # Feedback links need the feedback page, which this version does not serve yet:
                # say so on the event rather than drop the request silently.
                unsent = [request.template for request in plan.effects.feedback]
                outcome["warnings"].append(f"feedback request not sent (no feedback page yet): {', '.join(unsent)}")
                log.warning("feedback request not sent", extra={"event_id": stored.id, "ticket": stored.ticket_key, "templates": unsent})
            return EventStatus.DONE, outcome
        raise TemporaryFailure(f"the ticket kept changing ({CONFLICT_RETRIES} conflicts in a row)")

    def _unapplied(self, stored: StoredEvent, adapter: Adapter, plan: Plan) -> tuple[Plan, list[str]]:
        """Drop notes this event already wrote: recorded in the action log, or, when the
        event may have been cut short before (a retry or a replay), found on the ticket."""
        if not plan.effects.notes:
            return plan, []
        with self.inbox.engine.connect() as connection:
            logged = logged_keys(connection, stored.id)
        on_ticket = adapter.references_on_ticket(plan.event) if stored.attempts > 1 else set()
        return without_applied(plan, stored.delivery_id, on_ticket, logged)

    def _record(self, stored: StoredEvent, plan: Plan, ruleset: RuleSet, now: datetime) -> dict[str, list[str]]:
        """The action log and the deadlines, in one transaction, right after the write: the
        event first meets, pauses or resumes running deadlines, then starts its own."""
        with writing(self.inbox.engine) as connection:
            log_applied(connection, stored.id, stored.ticket_key, [note.key for note in plan.effects.notes], now)
            observed = deadlines.observe(connection, stored.ticket_key, plan.event, ruleset, now)
            return {**observed, **deadlines.record(connection, stored.ticket_key, plan, now)}

    def _retry_or_bury(self, stored: StoredEvent, now: datetime, failure: AdapterFailure) -> None:
        if stored.attempts >= self.policy.max_attempts:
            self._bury(stored, now, f"{failure} (after {stored.attempts} attempts)")
            return
        delay = self.policy.delay(stored.attempts, failure.retry_after, self.rng)
        self.inbox.retry(stored.id, self.owner, now + timedelta(seconds=delay), str(failure))
        log.warning("event will be retried", extra={"event_id": stored.id, "ticket": stored.ticket_key, "error": str(failure), "retry_in": round(delay, 2)})

    def _bury(self, stored: StoredEvent, now: datetime, error: str) -> None:
        self.inbox.finish(stored.id, self.owner, EventStatus.DEAD, now, error=error)
        log.error("event dead-lettered", extra={"event_id": stored.id, "ticket": stored.ticket_key, "error": error})

    def run(self, stop: threading.Event, idle_seconds: float = 0.25) -> None:
        """The loop: the only place that reads the clock."""
        lease_check_seconds = min(10.0, self.inbox.lease.total_seconds() / 2)
        last_lease_check = 0.0
        while not stop.is_set():
            now = datetime.now(UTC)
            if now.timestamp() - last_lease_check >= lease_check_seconds:
                released = self.inbox.release_expired(now)
                if released:
                    log.warning("expired leases released", extra={"count": released})
                last_lease_check = now.timestamp()
            try:
                worked = self.step(now)
            except Exception:  # the database may be away for a moment; keep the loop alive
                log.exception("worker step failed")
                worked = None
            if worked is None:
                stop.wait(idle_seconds)


def outcome_of(plan: Plan, written: dict[str, Any], timers: dict[str, list[str]]) -> dict[str, Any]:
    return {
        **plan.summary(),
        "written": written,
        "deadlines_recorded": timers,
        "explanation": [
            {
                "rule": trace.rule_id,
                "matched": trace.matched,
                "failed": [f"{c.field} {c.operator} {c.expected!r} (saw {c.actual!r})" for c in trace.conditions if not c.held],
                "did": list(trace.actions),
            }
            for trace in plan.traces
            if trace.listened
        ],
    }


def _log_fields(outcome: dict[str, Any]) -> dict[str, Any]:
    return {key: outcome[key] for key in ("matched_rules", "skipped") if key in outcome}
