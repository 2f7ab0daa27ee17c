"""Events dispute-desk raises itself (a missed deadline, an answered feedback request):
stored in the same inbox as webhooks, turned into `TicketEvent`s here, and planned by the
same rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from integration.core.events import EventKind, TicketEvent
from integration.runtime.clock import INTERNAL_MARK

SOURCE_PREFIX = "dispute-desk:"  # the stored source type of every event we raise ourselves


def is_internal_source(source_type: str) -> bool:
    """Whether a stored event is one of ours: decided by how it was stored (webhooks store
    the platform's event type), never by what its payload says."""
    return source_type.startswith(SOURCE_PREFIX)


def is_internal(payload: Any) -> bool:
    return isinstance(payload, Mapping) and INTERNAL_MARK in payload


def parse(payload: Mapping[str, Any], delivery_id: str, ticket_key: str | None = None) -> TicketEvent:
    """Our own event; with `ticket_key` (the stored row's), about that ticket whatever the
    payload names."""
    kind = payload[INTERNAL_MARK]
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ValueError(f"unknown internal event {kind!r}")
    if ticket_key is not None:
        platform, _, ticket_id = ticket_key.partition(":")
        payload = {**payload, "platform": platform, "ticket_id": ticket_id}
    return parser(payload, delivery_id)


def _deadline_breached(payload: Mapping[str, Any], delivery_id: str) -> TicketEvent:
    return TicketEvent(
        platform=payload["platform"],
        ticket_id=str(payload["ticket_id"]),
        kinds=frozenset({EventKind.DEADLINE_BREACHED}),
        delivery_id=delivery_id,
        source_type="dispute-desk:deadline_breached",
        deadline=payload["deadline"],
        deadline_due_at=datetime.fromisoformat(payload["due_at"]),
        deadline_calendar=payload.get("calendar"),  # absent from breaches queued before it was recorded
    )


def _feedback_received(payload: Mapping[str, Any], delivery_id: str) -> TicketEvent:
    rating = payload["rating"]
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValueError(f"feedback rating must be 1 to 5 (got {rating!r})")
    return TicketEvent(
        platform=payload["platform"],
        ticket_id=str(payload["ticket_id"]),
        kinds=frozenset({EventKind.FEEDBACK_RECEIVED}),
        delivery_id=delivery_id,
        source_type="dispute-desk:feedback_received",
        rating=rating,
        feedback_comment=payload.get("comment") or None,
    )


_PARSERS: Mapping[str, Callable[[Mapping[str, Any], str], TicketEvent]] = {
    "deadline_breached": _deadline_breached,
    "feedback_received": _feedback_received,
}
