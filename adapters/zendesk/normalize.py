"""Zendesk webhooks -> `TicketEvent`: pure translation, no I/O.

Two kinds of webhook reach `POST /webhooks/zendesk`:

- event subscriptions (`type: zen:event-type:ticket.*`, `zendesk_event_version: 2022-11-06`):
  a schema Zendesk fixes; ids are strings, status and priority upper case, `detail` is the
  ticket after the change and `event` describes the change;
- trigger/automation webhooks: a JSON body the admin pastes into the trigger's "Notify active
  webhook" action (`TRIGGER_BODY_TEMPLATE`); every placeholder renders as a string, and one
  that does not apply renders empty.

`refresh()` (in `adapters.zendesk.refresh`, re-exported here) merges a fresh
`GET /api/v2/tickets/{id}.json?include=users,organizations` into an event; the worker runs it
before planning, so webhook bodies only need to be good enough to route and dedupe. How single
field values are read and mapped onto RULES.md's vocabulary lives in `adapters.zendesk.values`
(`normalize_status`, `language_code`, ...; also re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.zendesk.refresh import refresh
from adapters.zendesk.values import (
    _fields,
    _flag,
    _id,
    _key,
    _mapping,
    _tags,
    _text,
    _time,
    _url,
    ambiguous_keys,
    is_placeholder,
    language_code,
    normalize_channel,
    normalize_priority,
    normalize_status,
)
from integration.core.events import Comment, EventKind, Requester, TicketEvent

__all__ = [
    "EVENT_TYPE_PREFIX",
    "INVOCATION_HEADER",
    "KIND_TOKEN",
    "PLATFORM",
    "TICKET_EVENT_PREFIX",
    "TRIGGER_BODY_TEMPLATE",
    "TRIGGER_KINDS",
    "TRIGGER_PREFIX",
    "Envelope",
    "NotATicketEvent",
    "NotActedOn",
    "identify",
    "language_code",
    "normalize",
    "normalize_channel",
    "normalize_priority",
    "normalize_status",
    "refresh",
    "trigger_body_template",
]

PLATFORM = "zendesk"
EVENT_TYPE_PREFIX = "zen:event-type:"
TICKET_EVENT_PREFIX = "zen:event-type:ticket."
TRIGGER_PREFIX = "trigger:"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
TRIGGER_KINDS = ("created", "comment_added", "solved", "updated")
KIND_TOKEN = "<created|comment_added|solved|updated>"

# One trigger per kind; `trigger_body_template(kind)` fills in the literal `event`.
# Only placeholders from Zendesk's placeholder reference; all are quoted because they render
# as text. ticket.url_with_protocol (not ticket.url) so the link is usable as is.
TRIGGER_BODY_TEMPLATE = """\
{
  "dispute_desk": "1",
  "event": "<created|comment_added|solved|updated>",
  "ticket_id": "{{ticket.id}}",
  "status": "{{ticket.status}}",
  "priority": "{{ticket.priority}}",
  "tags": "{{ticket.tags}}",
  "via": "{{ticket.via}}",
  "subject": "{{ticket.title}}",
  "description": "{{ticket.description}}",
  "comment": "{{ticket.latest_comment.value}}",
  "comment_public": "{{ticket.latest_comment.is_public}}",
  "actor_id": "{{current_user.id}}",
  "actor_role": "{{current_user.role}}",
  "requester_id": "{{ticket.requester.id}}",
  "requester_name": "{{ticket.requester.name}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_organization": "{{ticket.organization.name}}",
  "requester_locale": "{{ticket.requester.locale}}",
  "requester_language": "{{ticket.requester.language}}",
  "group_id": "{{ticket.group.id}}",
  "group_name": "{{ticket.group.name}}",
  "assignee_id": "{{ticket.assignee.id}}",
  "updated_at": "{{ticket.updated_at_with_timestamp}}",
  "url": "{{ticket.url_with_protocol}}"
}
"""

# What a 400 shows the admin who pointed a trigger with another body at us (one line).
_COMPACT_TEMPLATE = json.dumps(json.loads(TRIGGER_BODY_TEMPLATE), ensure_ascii=False)
_MISSING_TICKET_ID = "ticket id missing (expected detail.id or ticketId)"
_MISSING_DELIVERY_ID = (
    f"delivery id missing (expected the envelope id or an {INVOCATION_HEADER} header)"
)

_UPDATE = frozenset({EventKind.UPDATED})
_EVENT_KINDS: dict[str, frozenset[EventKind]] = {
    "created": frozenset({EventKind.CREATED}),
    "comment_added": frozenset({EventKind.COMMENT_ADDED}) | _UPDATE,
    "status_changed": frozenset({EventKind.STATUS_CHANGED}) | _UPDATE,
    "priority_changed": frozenset({EventKind.PRIORITY_CHANGED}) | _UPDATE,
    "tags_changed": frozenset({EventKind.TAGS_CHANGED}) | _UPDATE,
    "group_assignment_changed": frozenset({EventKind.ASSIGNEE_CHANGED}) | _UPDATE,
    "agent_assignment_changed": frozenset({EventKind.ASSIGNEE_CHANGED}) | _UPDATE,
}
_TRIGGER_EVENT_KINDS: dict[str, frozenset[EventKind]] = {
    "created": _EVENT_KINDS["created"],
    "comment_added": _EVENT_KINDS["comment_added"],
    # The trigger condition is "status changed to solved", so it is a status change too.
    "solved": frozenset({EventKind.SOLVED, EventKind.STATUS_CHANGED}) | _UPDATE,
    "updated": _UPDATE,
}
# Event subscriptions saying the ticket is gone: its deadlines end (`EventKind.DELETED`).
# `merged` is sent for the ticket merged away (closed into its target).
_GONE_ACTIONS = frozenset({"soft_deleted", "permanently_deleted", "merged", "marked_as_spam"})
_GONE = frozenset({EventKind.DELETED})
# Admin-defined bodies seen in the wild (zendesk-go's fixture) name the event in `type`.
_FOREIGN_TRIGGER_TYPES = {"end user comment": "comment_added"}

_OPEN_STATUSES = frozenset({"new", "open", "pending", "on_hold"})
_DONE_STATUSES = frozenset({"solved", "closed"})

_CUSTOMER_ROLES = frozenset({"enduser", "customer"})


class NotATicketEvent(ValueError):
    """The body is not a Zendesk ticket event; the message is returned in the 400 body."""


class NotActedOn(NotATicketEvent):
    """A genuine Zendesk event the service does not act on (a user or messaging event): the
    webhook answers 200 with this reason, since a failing webhook is paused by Zendesk."""


@dataclass(frozen=True)
class Envelope:
    delivery_id: str
    ticket_id: str
    source_type: str


# --- request path -------------------------------------------------------------------------


def identify(payload: Any, headers: Mapping[str, str]) -> Envelope:
    """Cheap check on the request path: which delivery, which ticket, or NotATicketEvent."""
    if not isinstance(payload, Mapping):
        raise NotATicketEvent("body is not a JSON object")
    event_type = payload.get("type")
    if isinstance(event_type, str) and event_type.startswith(EVENT_TYPE_PREFIX):
        return _identify_subscription(payload, event_type, headers)
    clash = ambiguous_keys(payload)
    if clash:
        raise NotATicketEvent(f"keys {clash[0]!r} and {clash[1]!r} are the same field spelled two ways")
    if "ticketid" in _fields(payload):
        return _identify_trigger(payload, headers)
    raise NotATicketEvent(
        "not a Zendesk ticket webhook (expected type zen:event-type:ticket.* "
        f"or a trigger body with ticket_id); the trigger body is: {_COMPACT_TEMPLATE}"
    )


def _identify_subscription(
    payload: Mapping[str, Any], event_type: str, headers: Mapping[str, str]
) -> Envelope:
    if not event_type.startswith(TICKET_EVENT_PREFIX):
        raise NotActedOn(f"{event_type} is not a ticket event")
    ticket_id = _id(_mapping(payload.get("detail")).get("id")) or _subject_ticket_id(payload)
    if ticket_id is None:
        raise NotATicketEvent(_MISSING_TICKET_ID)
    return Envelope(_delivery_id(payload.get("id"), headers), _number(ticket_id), event_type)


def _number(ticket_id: str) -> str:
    # The id goes into API paths (/api/v2/tickets/{id}): digits only, nothing else.
    if not (ticket_id.isascii() and ticket_id.isdigit()):
        raise NotATicketEvent(f"ticket id {ticket_id!r} is not a number")
    return ticket_id


def _subject_ticket_id(payload: Mapping[str, Any]) -> str | None:
    subject = _text(payload.get("subject")) or ""
    prefix = "zen:ticket:"
    return _id(subject[len(prefix):]) if subject.startswith(prefix) else None


def _identify_trigger(payload: Mapping[str, Any], headers: Mapping[str, str]) -> Envelope:
    fields = _fields(payload)
    raw = fields["ticketid"]
    if isinstance(raw, str) and is_placeholder(raw):
        raise NotATicketEvent(
            f"ticket id is an unrendered placeholder ({raw}): "
            "this is a trigger body template, not a rendered delivery"
        )
    ticket_id = _id(raw)
    if ticket_id is None:
        raise NotATicketEvent(_MISSING_TICKET_ID)
    label = _trigger_label(fields)
    return Envelope(_delivery_id(None, headers), _number(ticket_id), TRIGGER_PREFIX + label)


def _trigger_label(fields: Mapping[str, Any]) -> str:
    """The trigger's own name for the event: our `event` literal, else a foreign `type`."""
    if "disputedesk" not in fields:
        return _text(fields.get("type")) or "updated"
    kind = _text(fields.get("event"))
    if kind not in TRIGGER_KINDS:
        shown = fields.get("event")
        raise NotATicketEvent(
            f"event {shown!r} is not one of {', '.join(TRIGGER_KINDS)} (set it per trigger)"
        )
    return kind


def _delivery_id(envelope_id: Any, headers: Mapping[str, str]) -> str:
    # The envelope id is per event; the invocation id is shared by retries of one invocation.
    delivery_id = _text(envelope_id) or _text(_header(headers, INVOCATION_HEADER))
    if delivery_id is None:
        raise NotATicketEvent(_MISSING_DELIVERY_ID)
    return delivery_id


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def trigger_body_template(kind: str) -> str:
    """The JSON body for the trigger that reports `kind` (what the README tells admins)."""
    if kind not in TRIGGER_KINDS:
        raise ValueError(f"unknown trigger kind {kind!r} (expected one of {TRIGGER_KINDS})")
    return TRIGGER_BODY_TEMPLATE.replace(KIND_TOKEN, kind)


# --- normalize ----------------------------------------------------------------------------


def normalize(payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent:
    """Translate either kind of Zendesk ticket webhook into a `TicketEvent`."""
    envelope = identify(payload, headers)
    if envelope.source_type.startswith(TICKET_EVENT_PREFIX):
        return _from_subscription(payload, envelope)
    return _from_trigger(_fields(payload), envelope)


def _from_subscription(payload: Mapping[str, Any], envelope: Envelope) -> TicketEvent:
    detail = _mapping(payload.get("detail"))
    change = _mapping(payload.get("event"))
    action = envelope.source_type[len(TICKET_EVENT_PREFIX):]
    kinds = _EVENT_KINDS.get(action, _UPDATE)
    if _gone(action, detail, change, envelope.ticket_id):
        kinds = _GONE
    status = normalize_status(detail.get("status"))
    previous = None
    if action == "status_changed":
        previous = normalize_status(change.get("previous"))
        kinds |= _transition_kinds(previous, normalize_status(change.get("current")) or status)
    comment = _subscription_comment(change) if action == "comment_added" else None
    return TicketEvent(
        platform=PLATFORM,
        ticket_id=envelope.ticket_id,
        kinds=kinds,
        delivery_id=envelope.delivery_id,
        occurred_at=_time(payload.get("time")) or _time(detail.get("updated_at")),
        source_type=envelope.source_type,
        actor_id=_id(detail.get("actor_id")) or (comment.author_id if comment else None),
        status=status,
        previous_status=previous,
        priority=normalize_priority(detail.get("priority")),
        tags=_tags(detail.get("tags")),
        channel=normalize_channel(_mapping(detail.get("via")).get("channel")),
        subject=_text(detail.get("subject")) or "",
        description=_text(detail.get("description")) or "",
        comment=comment,
        requester=_subscription_requester(detail, change),
        group_id=_id(detail.get("group_id")),
        assignee_id=_id(detail.get("assignee_id")),
        version=_text(detail.get("updated_at")),
    )


def _gone(action: str, detail: Mapping[str, Any], change: Mapping[str, Any], ticket_id: str) -> bool:
    """Deleted, merged away or spam: by the event type, or a detail whose status says so."""
    if action == "merged" and _id(change.get("target_ticket_id")) == ticket_id:
        return False  # the ticket others were merged into lives on
    return action in _GONE_ACTIONS or is_deleted_status(detail.get("status"))


def is_deleted_status(value: Any) -> bool:
    """Zendesk shows a deleted ticket's status as `deleted` (`DELETED` in event payloads)."""
    return isinstance(value, str) and _key(value) == "deleted"


def _transition_kinds(previous: str | None, current: str | None) -> frozenset[EventKind]:
    kinds: set[EventKind] = set()
    # Closing straight from an open status (e.g. by API) is a resolution too.
    if current == "solved" or (current == "closed" and previous not in _DONE_STATUSES):
        kinds.add(EventKind.SOLVED)
    if previous in _DONE_STATUSES and current in _OPEN_STATUSES:
        kinds.add(EventKind.REOPENED)
    return frozenset(kinds)


def _subscription_comment(change: Mapping[str, Any]) -> Comment:
    comment = _mapping(change.get("comment"))
    author = _mapping(comment.get("author"))
    return Comment(
        id=_id(comment.get("id")),
        body=_text(comment.get("body")) or "",
        public=comment.get("is_public") is True,
        by="agent" if author.get("is_staff") is True else "customer",
        author_id=_id(author.get("id")),
    )


def _subscription_requester(detail: Mapping[str, Any], change: Mapping[str, Any]) -> Requester:
    requester_id = _id(detail.get("requester_id"))
    author = _mapping(_mapping(change.get("comment")).get("author"))
    # The payload names no requester; when the requester wrote the comment, its author does.
    named = requester_id is not None and _id(author.get("id")) == requester_id
    return Requester(id=requester_id, name=_text(author.get("name")) if named else None)


def _from_trigger(fields: Mapping[str, Any], envelope: Envelope) -> TicketEvent:
    label = envelope.source_type[len(TRIGGER_PREFIX):]
    kind = _FOREIGN_TRIGGER_TYPES.get(label.lower(), label)
    actor_id = _id(fields.get("actorid"))
    return TicketEvent(
        platform=PLATFORM,
        ticket_id=envelope.ticket_id,
        kinds=_GONE if is_deleted_status(fields.get("status")) else _TRIGGER_EVENT_KINDS.get(kind, _UPDATE),
        delivery_id=envelope.delivery_id,
        occurred_at=_time(fields.get("updatedat")),
        source_type=envelope.source_type,
        actor_id=actor_id,
        status=normalize_status(fields.get("status")),
        priority=normalize_priority(fields.get("priority")),
        tags=_tags(fields.get("tags")),
        channel=normalize_channel(fields.get("via")),
        subject=_text(fields.get("subject")) or "",
        description=_text(fields.get("description")) or "",
        comment=_trigger_comment(fields, label, actor_id) if kind == "comment_added" else None,
        requester=_trigger_requester(fields),
        group_id=_id(fields.get("groupid")),
        group_name=_text(fields.get("groupname")),
        assignee_id=_id(fields.get("assigneeid")),
        url=_url(fields.get("url")),
        # {{ticket.updated_at_with_timestamp}} has minutes only: useless as safe_update's
        # updated_stamp. refresh() supplies the real one.
        version=None,
    )


def _trigger_comment(fields: Mapping[str, Any], label: str, actor_id: str | None) -> Comment:
    if label.lower() in _FOREIGN_TRIGGER_TYPES:
        # "End User Comment": written by the customer, and end users' comments are public.
        return Comment(id=None, body="", public=True, by="customer")
    role = _text(fields.get("actorrole"))
    return Comment(
        id=None,
        body=_text(fields.get("comment")) or "",
        public=_flag(fields.get("commentpublic")),
        # Unknown role: assume the customer, so an agent deadline is never met by mistake.
        by="agent" if role and _key(role) not in _CUSTOMER_ROLES else "customer",
        author_id=actor_id,
    )


def _trigger_requester(fields: Mapping[str, Any]) -> Requester:
    return Requester(
        id=_id(fields.get("requesterid")),
        name=_text(fields.get("requestername")),
        email=_text(fields.get("requesteremail")),
        organization=_text(fields.get("requesterorganization")),
        locale=_text(fields.get("requesterlocale"))
        or language_code(fields.get("requesterlanguage")),
    )
