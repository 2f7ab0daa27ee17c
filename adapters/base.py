"""What the worker needs from a platform adapter, and the failures it may report.

Adapters translate only: payload in, `TicketEvent` out; `Plan` in, API calls out. Their
clients are passed in, so tests hand them a client pointed at a local fake server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from integration.core.events import TicketEvent
from integration.core.plan import NoteEffect, Plan


class AdapterFailure(Exception):
    """A write or read failed; `retry_after` is the server's word on when to try again."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TemporaryFailure(AdapterFailure):
    """429, 5xx, timeouts, connection errors: the inbox backs off and tries again."""


class PermanentFailure(AdapterFailure):
    """4xx other than 409/429: retrying cannot help; recorded with the API's message."""


class Conflict(AdapterFailure):
    """The ticket changed since it was read (409 on safe_update): re-read, re-plan, retry.
    `partial`: an earlier write of the same plan had landed (the first of two)."""

    def __init__(self, message: str, retry_after: float | None = None, partial: bool = False) -> None:
        super().__init__(message, retry_after)
        self.partial = partial


class Adapter(Protocol):
    platform: str

    def normalize(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent: ...

    def own_actor_reason(self, event: TicketEvent) -> str | None:
        """Why this event is our own write (so it must be skipped), or None."""

    def refresh(self, event: TicketEvent) -> TicketEvent:
        """The event with the ticket's current state read from the platform."""

    def apply(self, plan: Plan, extra_notes: list[NoteEffect]) -> dict[str, Any]:
        """Write the plan to the ticket; returns a record of what was sent."""

    def references_on_ticket(self, event: TicketEvent) -> set[str]:
        """The dispute-desk references (`dd:...`) in the ticket's recent comments."""


@runtime_checkable
class BatchAdapter(Adapter, Protocol):
    """An adapter that can write many tickets' plans in one bulk call (many breaches at once)."""

    def refresh_many(self, events: Sequence[TicketEvent]) -> dict[str, TicketEvent]:
        """`refresh` for many tickets in few calls, by ticket id; missing ones are left out."""

    def batchable(self, plan: Plan) -> bool:
        """Whether this plan fits one entry of a bulk update."""

    def apply_many(self, plans: list[Plan]) -> dict[str, dict[str, Any] | AdapterFailure]:
        """Write the plans; per ticket id, a record of what was sent, or why it failed."""
