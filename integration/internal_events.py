"""Events dispute-desk raises itself (a missed deadline; later, an answered feedback
request): stored in the same inbox as webhooks, turned into `TicketEvent`s here, and
planned by the same rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from integration.clock import INTERNAL_MARK
from integration.events import EventKind, TicketEvent


def is_internal(payload: Any) -> bool:
    return isinstance(payload, Mapping) and INTERNAL_MARK in payload


def parse(payload: Mapping[str, Any], delivery_id: str) -> TicketEvent:
    kind = payload[INTERNAL_MARK]
    if kind == "deadline_breached":
        return TicketEvent(
            platform=payload["platform"],
            ticket_id=str(payload["ticket_id"]),
            kinds=frozenset({EventKind.DEADLINE_BREACHED}),
            delivery_id=delivery_id,
            source_type="dispute-desk:deadline_breached",
            deadline=payload["deadline"],
            deadline_due_at=datetime.fromisoformat(payload["due_at"]),
        )
    raise ValueError(f"unknown internal event {kind!r}")
