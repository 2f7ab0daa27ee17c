"""A fresh read of a Zendesk ticket merged into an event: pure translation, no I/O.

Webhook bodies are only good enough to route and dedupe (a trigger's placeholders render
as text, and its timestamp has minutes only). Before planning, the worker reads the ticket
(`GET /api/v2/tickets/{id}.json?include=users,organizations`) and `refresh()` puts that
state into the event. It is kept apart from `normalize` because it reads the API's shape
(int ids, lower-case enums, sideloaded users and organizations), not a webhook's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.zendesk.values import (
    _id,
    _mapping,
    _tags,
    _text,
    normalize_channel,
    normalize_priority,
    normalize_status,
)
from integration.core.events import Requester, TicketEvent


def refresh(
    event: TicketEvent,
    ticket: Mapping[str, Any],
    users: Sequence[Mapping[str, Any]] = (),
    organizations: Sequence[Mapping[str, Any]] = (),
) -> TicketEvent:
    """Merge a fresh read of the ticket (API shape: int ids, lower-case enums) into `event`.

    What happened (kinds, comment, previous_status, delivery, actor, time) is kept; the
    ticket's state is replaced by the fresher one.
    """
    if _id(ticket.get("id")) != event.ticket_id:
        raise ValueError(f"ticket {ticket.get('id')!r} is not the event's ticket {event.ticket_id}")
    group_id = _id(ticket.get("group_id"))
    return event.with_state(
        status=normalize_status(ticket.get("status")),
        priority=normalize_priority(ticket.get("priority")),
        tags=_tags(ticket.get("tags")),
        subject=_text(ticket.get("subject")) or "",
        description=_text(ticket.get("description")) or "",
        group_id=group_id,
        # No groups sideload: the name is only still true if the group did not change.
        group_name=event.group_name if group_id == event.group_id else None,
        assignee_id=_id(ticket.get("assignee_id")),
        custom_fields=_custom_fields(ticket.get("custom_fields")),
        channel=normalize_channel(_mapping(ticket.get("via")).get("channel")),
        version=_text(ticket.get("updated_at")),
        requester=_api_requester(ticket, users, organizations),
    )


def _custom_fields(value: Any) -> dict[str, Any]:
    entries = value if isinstance(value, list) else []
    return {
        str(entry["id"]): entry.get("value")
        for entry in entries
        if isinstance(entry, Mapping) and "id" in entry
    }


def _api_requester(
    ticket: Mapping[str, Any],
    users: Sequence[Mapping[str, Any]],
    organizations: Sequence[Mapping[str, Any]],
) -> Requester:
    requester_id = _id(ticket.get("requester_id"))
    user = _by_id(users, requester_id) or {}
    org_id = _id(user.get("organization_id")) or _id(ticket.get("organization_id"))
    organization = _by_id(organizations, org_id) or {}
    return Requester(
        id=requester_id,
        name=_text(user.get("name")),
        email=_text(user.get("email")),
        organization=_text(organization.get("name")),
        locale=_text(user.get("locale")),
    )


def _by_id(records: Sequence[Mapping[str, Any]], wanted: str | None) -> Mapping[str, Any] | None:
    if wanted is None:
        return None
    return next((record for record in records if _id(record.get("id")) == wanted), None)
