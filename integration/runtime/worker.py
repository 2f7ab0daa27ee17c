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
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection

from adapters.base import (
    Adapter,
    AdapterFailure,
    BatchAdapter,
    Conflict,
    PermanentFailure,
    TemporaryFailure,
)
from integration.core import engine, explain
from integration.core.events import EventKind, TicketEvent
from integration.core.feedback.links import FeedbackLinks
from integration.core.feedback.tokens import redacted
from integration.core.plan import Plan, PlanAbandoned, deadline
from integration.core.references import with_references, without_applied
from integration.core.ruleset import RuleSet
from integration.runtime import deadlines, internal_events
from integration.runtime.feedback.answers import follow_up_key, stale_reason
from integration.runtime.feedback.store import record_request
from integration.runtime.idempotency import log_applied, logged_keys
from integration.runtime.inbox import EventStatus, Inbox, RetryPolicy, StoredEvent
from integration.runtime.store import writing

log = logging.getLogger("dispute_desk.worker")

CONFLICT_RETRIES = 3
BREACH_SOURCE = "dispute-desk:deadline_breached"
BULK_LIMIT = 100  # Zendesk's update_many takes at most 100 tickets a call

T = TypeVar("T")


class EventRejected(Exception):
    """The stored payload cannot be made into a ticket event; retrying will not help."""


class LeaseLost(Exception):
    """This worker's lease ran out and another worker may have the event: write nothing."""


def worker_name() -> str:
    """Unique per Worker, even for sibling threads built by one thread: leases tell them apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Settled:
    """How an event ends, and what to record in the same transaction (the action log)."""

    status: EventStatus
    outcome: dict[str, Any]
    record: Callable[[Connection], None] | None = None


@dataclass(frozen=True)
class Batched:
    """A breach planned and waiting for the bulk write."""

    stored: StoredEvent
    plan: Plan
    already: list[str]
    recorded: dict[str, list[str]]


@dataclass
class Worker:
    inbox: Inbox
    adapters: Mapping[str, Adapter]
    rules: Callable[[], RuleSet]  # the current rule set (it may be reloaded while we run)
    owner: str = field(default_factory=worker_name)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=random.Random)
    # Seconds on a monotonic clock, to extend a lease by the time spent since the claim
    # (`now` stays the claim's time: time is an argument, tests drive it).
    elapsed: Callable[[], float] = time.monotonic
    batch_size: int = BULK_LIMIT  # breaches written together, where the platform can
    feedback: FeedbackLinks = field(default_factory=lambda: FeedbackLinks(None, ""))  # no SECRET_KEY: none sent
    plan_seconds: float = 30.0  # planning one event past this dead-letters it (a rule too slow for it)

    def step(self, now: datetime) -> StoredEvent | None:
        """Process at most one event (or one batch of breaches); returns the first, or None
        when nothing was due."""
        stored = self.inbox.claim(self.owner, now)
        if stored is None:
            return None
        adapter = self.adapters.get(stored.platform)
        if stored.source_type == BREACH_SOURCE and isinstance(adapter, BatchAdapter) and self.batch_size > 1:
            self._step_batch(stored, adapter, now)
        else:
            self._process_one(stored, now)
        return stored

    def _process_one(self, stored: StoredEvent, now: datetime) -> None:
        result = self._guarded(stored, now, partial(self.process, stored, now))
        if result is not None:
            self._finish(stored, now, result)

    def _guarded(self, stored: StoredEvent, now: datetime, work: Callable[[], T]) -> T | None:
        """Run one event's work; if it fails, settle the event (retry, dead letter, or leave
        it to the worker that took it over) and return None."""
        try:
            return work()
        except LeaseLost:
            log.warning("lease lost before writing; another worker has the event", extra={"event_id": stored.id, "ticket": stored.ticket_key})
        except (TemporaryFailure, PermanentFailure, EventRejected, PlanAbandoned) as failure:
            self._fail(stored, now, failure)
        except Exception as error:  # a bug must not lose the event: back off, then dead-letter
            log.exception("unexpected error", extra={"event_id": stored.id, "ticket": stored.ticket_key})
            self._retry_or_bury(stored, now, TemporaryFailure(f"{type(error).__name__}: {error}"))
        return None

    def _fail(self, stored: StoredEvent, now: datetime, failure: Exception) -> None:
        if isinstance(failure, Conflict):
            # Only batched writes get here: the event goes round again, alone, re-read.
            self._retry_or_bury(stored, now, TemporaryFailure(str(failure), retry_after=0.0))
        elif isinstance(failure, TemporaryFailure):
            self._retry_or_bury(stored, now, failure)
        else:
            self._bury(stored, now, str(failure))

    def _finish(self, stored: StoredEvent, now: datetime, settled: Settled) -> None:
        status, outcome = settled.status, settled.outcome
        if self.inbox.finish(stored.id, self.owner, status, now, redacted(outcome), also=settled.record):  # links stay on the ticket only
            log.info("event %s", status.value, extra={"event_id": stored.id, "ticket": stored.ticket_key, **_log_fields(outcome)})
        else:
            log.warning("lease lost before the event was settled; another worker has it", extra={"event_id": stored.id, "ticket": stored.ticket_key})

    def _event(self, stored: StoredEvent, adapter: Adapter | None) -> tuple[Adapter, TicketEvent]:
        if adapter is None:
            raise EventRejected(f"no adapter configured for {stored.platform}")
        try:  # what the event is (ours or a webhook) and its ticket are the stored row's
            internal = internal_events.is_internal_source(stored.source_type)
            payload = json.loads(stored.payload)
            event = internal_events.parse(payload, stored.delivery_id, stored.ticket_key) if internal else adapter.normalize(payload, stored.headers)
        except (ValueError, KeyError) as error:
            raise EventRejected(f"not a ticket event: {error}") from None
        if f"{event.platform}:{event.ticket_id}" != stored.ticket_key:
            raise EventRejected(f"the payload names {event.platform}:{event.ticket_id}, stored for {stored.ticket_key}")
        return adapter, event

    def process(self, stored: StoredEvent, now: datetime) -> Settled:
        adapter, event = self._event(stored, self.adapters.get(stored.platform))
        reason = adapter.own_actor_reason(event) or stale_reason(self.inbox.engine, event)
        if reason:
            return Settled(EventStatus.SKIPPED, {"skipped": reason})
        ruleset = self.rules()
        started = self.elapsed()
        recorded: dict[str, list[str]] = {}  # over every round: a re-plan after a conflict repeats nothing
        cut_short = False  # a conflict after part of the plan landed (the first write of two)
        for _ in range(CONFLICT_RETRIES):
            plan, already = self._plan(stored, adapter, event, ruleset, now, cut_short)
            timers = self._before_write(stored, plan, ruleset, now, now + timedelta(seconds=self.elapsed() - started))
            recorded = merge_changes(recorded, timers)
            frozen = unwritable_reason(adapter, plan.event) if plan.writes() else None
            if frozen and plan.reopens() and hasattr(adapter, "open_follow_up"):
                # A low rating on a closed ticket: the conversation goes on in a follow-up.
                written = adapter.open_follow_up(plan, follow_up_key(stored))
                return self._written(stored, plan, written, recorded, already, now)
            if frozen:
                # Say what was planned and why it was not written, rather than fail for ever.
                return Settled(EventStatus.SKIPPED, {**explain.outcome_of(plan, {"writes": 0}, recorded), "skipped": frozen})
            try:
                written = adapter.apply(plan, []) if plan.writes() else {"writes": 0}
            except PermanentFailure:
                self._withdraw_deadlines(stored, timers.get("started", []), now)
                raise
            except Conflict as conflict:
                log.info("ticket changed while planning; re-reading", extra={"event_id": stored.id, "ticket": stored.ticket_key})
                cut_short = cut_short or conflict.partial
                continue
            return self._written(stored, plan, written, recorded, already, now)
        raise TemporaryFailure(f"the ticket kept changing ({CONFLICT_RETRIES} conflicts in a row)")

    def _written(self, stored: StoredEvent, plan: Plan, written: dict[str, Any], recorded: dict[str, list[str]], already: list[str], now: datetime) -> Settled:
        """The event's outcome, and what landed, to be logged as the event is settled."""
        outcome = explain.outcome_of(plan, written, recorded)
        if already:
            outcome["already_applied"] = already
        outcome["warnings"] += written.pop("warnings", [])
        for warning in plan.warnings:
            if warning.startswith("feedback request not sent"):
                log.warning(warning, extra={"event_id": stored.id, "ticket": stored.ticket_key})
        landed = plan.effects.notes or plan.effects.feedback
        return Settled(EventStatus.DONE, outcome, partial(self._log_applied, stored, plan, now) if landed else None)

    # ---- breaches in bulk ----------------------------------------------------------------

    def _step_batch(self, first: StoredEvent, adapter: BatchAdapter, now: datetime) -> None:
        """Many deadlines missed at once: plan each breach, then write every escalation that
        fits a bulk update in one call; the others take the ordinary path, one by one."""
        batch = [first, *self.inbox.claim_batch(self.owner, now, first.platform, BREACH_SOURCE, self.batch_size - 1)]
        if len(batch) == 1:  # one PUT beats a bulk job and its status poll
            self._process_one(first, now)
            return
        started = self.elapsed()
        # Each payload parsed once; one that is not a ticket event is dead-lettered here.
        parsed = [(stored, found[1]) for stored in batch if (found := self._guarded(stored, now, partial(self._event, stored, adapter))) is not None]
        fresh = self._read_many([event for _, event in parsed], adapter)
        waiting: list[Batched] = []
        for stored, event in parsed:
            planned = self._guarded(stored, now, partial(self._plan_batched, stored, adapter, event, fresh.get(event.ticket_id), now, started))
            if isinstance(planned, Batched):
                waiting.append(planned)
            elif planned is not None:
                self._finish(stored, now, planned)
        if waiting:
            self._write_batch(waiting, adapter, now)

    def _read_many(self, events: list[TicketEvent], adapter: BatchAdapter) -> dict[str, TicketEvent]:
        """The batch's tickets in a few reads; if that fails, each is read on its own."""
        try:
            return adapter.refresh_many(events)
        except AdapterFailure as failure:
            log.warning("bulk read failed; reading tickets one by one", extra={"error": str(failure), "count": len(events)})
            return {}

    def _plan_batched(
        self, stored: StoredEvent, adapter: BatchAdapter, event: TicketEvent, read: TicketEvent | None, now: datetime, started: float
    ) -> Batched | Settled:
        ruleset = self.rules()
        plan, already = self._plan(stored, adapter, event, ruleset, now, read=read)
        if plan.writes() and (not adapter.batchable(plan) or unwritable_reason(adapter, plan.event)):
            return self.process(stored, now)  # not in one bulk entry, or not writable: the ordinary path says
        recorded = self._before_write(stored, plan, ruleset, now, now + timedelta(seconds=self.elapsed() - started))
        if not plan.writes():  # the rules no longer escalate it (answered, solved meanwhile)
            return self._written(stored, plan, {"writes": 0}, recorded, already, now)
        return Batched(stored, plan, already, recorded)

    def _write_batch(self, waiting: list[Batched], adapter: BatchAdapter, now: datetime) -> None:
        answers: dict[str, dict[str, Any] | AdapterFailure]
        try:
            if len(waiting) == 1:
                answers = {waiting[0].plan.event.ticket_id: adapter.apply(waiting[0].plan, [])}
            else:
                answers = adapter.apply_many([item.plan for item in waiting])
        except AdapterFailure as failure:  # the call itself failed: every ticket in it
            answers = {item.plan.event.ticket_id: failure for item in waiting}
        for item in waiting:
            answer = answers.get(item.plan.event.ticket_id, TemporaryFailure("the bulk update did not report this ticket"))
            if isinstance(answer, AdapterFailure):
                if isinstance(answer, PermanentFailure):
                    self._withdraw_deadlines(item.stored, item.recorded.get("started", []), now)
                self._fail(item.stored, now, answer)
                continue
            self._finish(item.stored, now, self._written(item.stored, item.plan, answer, item.recorded, item.already, now))

    def _plan(
        self, stored: StoredEvent, adapter: Adapter, event: TicketEvent, ruleset: RuleSet, now: datetime, cut_short: bool = False, read: TicketEvent | None = None
    ) -> tuple[Plan, list[str]]:
        """Plan from the ticket as it is now (`read` if it was just read), feedback links
        made, minus what already landed."""
        # A deleted ticket cannot be read (404): its event is all there is.
        fresh = read or (event if EventKind.DELETED in event.kinds else adapter.refresh(event))
        plan = engine.plan(fresh, ruleset, now, deadline(self.elapsed, self.plan_seconds))
        plan = self.feedback.with_links(plan, ruleset, stored.delivery_id, now)
        return self._unapplied(stored, adapter, with_references(plan, stored.delivery_id), cut_short or stored.may_have_written)

    def _unapplied(self, stored: StoredEvent, adapter: Adapter, plan: Plan, may_have_written: bool) -> tuple[Plan, list[str]]:
        """Drop notes this event already wrote: recorded in the action log, or, when the
        event may have been cut short before (a retry, a replay, a conflict between two
        writes), found on the ticket. A first run has neither to look at."""
        if not plan.effects.notes or not may_have_written:
            return plan, []
        with self.inbox.engine.connect() as connection:
            logged = logged_keys(connection, stored.id)
        return without_applied(plan, stored.delivery_id, adapter.references_on_ticket(plan.event), logged)

    def _before_write(self, stored: StoredEvent, plan: Plan, ruleset: RuleSet, now: datetime, at: datetime) -> dict[str, list[str]]:
        """One transaction before the write. First the lease fences it: only its holder
        writes, and holds it for a whole lease from `at` (the time spent since the claim
        added), far longer than one request may take (API_TIMEOUT_SECONDS). Then deadlines:
        the event meets, pauses or resumes running ones, then starts its own; safe to repeat,
        and stored before the write because a retry re-plans from a ticket already routed,
        where the rule that starts them no longer matches."""
        with writing(self.inbox.engine) as connection:
            if not self.inbox.renew(connection, stored.id, self.owner, at + self.inbox.lease):
                raise LeaseLost()
            observed = deadlines.observe(connection, stored.ticket_key, plan.event, ruleset, now)
            return merge_changes(observed, deadlines.record(connection, stored.ticket_key, plan, now))

    def _withdraw_deadlines(self, stored: StoredEvent, names: list[str], now: datetime) -> None:
        """A write the platform refused for good (a closed ticket, say) routed nothing: the
        deadlines this event started would only escalate a ticket nobody was asked to answer."""
        with writing(self.inbox.engine) as connection:
            deadlines.withdraw(connection, stored.ticket_key, names, now)

    def _log_applied(self, stored: StoredEvent, plan: Plan, now: datetime, connection: Connection) -> None:
        """The action log, and the feedback requests sent (now or by an earlier run), in the
        transaction that settles the event."""
        log_applied(connection, stored.id, stored.ticket_key, [note.key for note in plan.effects.notes], now)
        if self.feedback.secret_key:
            for request in plan.effects.feedback:
                record_request(
                    connection,
                    platform=plan.event.platform,
                    ticket_id=plan.event.ticket_id,
                    resolution=stored.delivery_id,
                    language=request.language,
                    department=request.department,
                    now=now,
                )

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
            try:  # the database may be away or locked for a moment; keep the loop alive
                if now.timestamp() - last_lease_check >= lease_check_seconds:
                    released = self.inbox.release_expired(now)
                    if released:
                        log.warning("expired leases released", extra={"count": released})
                    last_lease_check = now.timestamp()
                worked = self.step(now)
            except Exception:
                log.exception("worker step failed")
                worked = None
            if worked is None:
                stop.wait(idle_seconds)


def unwritable_reason(adapter: Adapter, event: TicketEvent) -> str | None:
    """Why the platform will refuse any change to this ticket (a closed Zendesk ticket), if
    the adapter knows; adapters without the notion let the API answer."""
    reason = getattr(adapter, "unwritable_reason", None)
    return reason(event) if callable(reason) else None


def merge_changes(*changes: dict[str, list[str]]) -> dict[str, list[str]]:
    """{state: [deadline names]} from several steps, keeping every name each step reported."""
    merged: dict[str, list[str]] = {}
    for change in changes:
        for state, names in change.items():
            merged.setdefault(state, []).extend(names)
    return merged


def _log_fields(outcome: dict[str, Any]) -> dict[str, Any]:
    return {key: outcome[key] for key in ("matched_rules", "skipped") if key in outcome}
