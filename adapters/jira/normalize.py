"""Jira webhooks -> `TicketEvent`: pure translation, no I/O.

Jira reports a comment twice when a webhook listens to issue and comment events (as
`comment_created` and as `jira:issue_updated` / `issue_commented`), and a transition made with a
comment carries a changelog and the comment. So `identify()` splits a delivery into PARTS, each
with its own delivery key, stored and deduplicated on its own:

- `created` (`jira:issue_created`): the `X-Atlassian-Webhook-Identifier` header, else
  `issue_created:<issue id>:<timestamp>`;
- `changelog` (`jira:issue_updated` with changelog items): `changelog:<changelog id>`, else the
  header, else `jira:issue_updated:<issue id>:<timestamp>`;
- `comment` (`comment_created`, `comment_updated`, `jira:issue_updated` with a `comment`):
  `comment:<comment id>:created`, or `comment:<comment id>:updated:<comment.updated>`, the
  same from both deliveries of one comment;
- `updated` (`jira:issue_updated` with neither): the header, else as for `changelog`;
- `deleted` (`jira:issue_deleted`): `issue_deleted:<issue id>` (an issue is deleted once).

`normalize(payload, headers, part)` builds the event of one part: the `part` argument, else the
part stored with the delivery in the `PART_HEADER` header, else everything the delivery says.
Server's `comment_created` has no `issue`: the issue id comes from `comment.self`, and the
ticket's state is left for `refresh()` (in `adapters.jira.refresh`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.jira.catalog import NO_CATALOG, Catalog, priority_of
from adapters.jira.refresh import comment_of, refresh, requester_of
from adapters.jira.values import (
    DONE_STATUSES,
    OPEN_STATUSES,
    _id,
    _list,
    _mapping,
    _names,
    _text,
    browse_url,
    custom_fields,
    epoch_ms,
    is_edited,
    issue_id_from_comment_url,
    normalize_status,
    plain_text,
    status_of,
    user_id,
)
from integration.core.events import Comment, EventKind, Requester, TicketEvent

__all__ = [
    "PARTS",
    "PART_HEADER",
    "PLATFORM",
    "WEBHOOK_ID_HEADER",
    "Envelope",
    "NotATicketEvent",
    "NotActedOn",
    "identify",
    "normalize",
    "refresh",
]

PLATFORM = "jira"
WEBHOOK_ID_HEADER = "X-Atlassian-Webhook-Identifier"
ISSUE_CREATED = "jira:issue_created"
ISSUE_UPDATED = "jira:issue_updated"
ISSUE_DELETED = "jira:issue_deleted"
COMMENT_EVENTS = {"comment_created": "created", "comment_updated": "updated"}
PARTS = ("created", "changelog", "comment", "updated", "deleted")
# The webhook stores each part with this header beside Jira's, so the worker's
# normalize(payload, headers) builds that part's event only.
PART_HEADER = "X-Dispute-Desk-Part"

_HANDLED = frozenset({ISSUE_CREATED, ISSUE_UPDATED, ISSUE_DELETED, *COMMENT_EVENTS})
# issue_event_type_name of a jira:issue_updated carrying a comment -> what became of it.
_COMMENT_TYPES = {"issue_comment_edited": "updated", "issue_comment_deleted": None}

_MISSING_ISSUE_ID = "issue id missing (expected issue.id, or an issue URL in comment.self)"
_MISSING_COMMENT_ID = "comment id missing (expected comment.id)"
_MISSING_DELIVERY_ID = (
    f"delivery id missing (expected an {WEBHOOK_ID_HEADER} header or a timestamp)"
)

_UPDATE = frozenset({EventKind.UPDATED})
_CHANGELOG_KINDS = {
    "status": EventKind.STATUS_CHANGED,
    "priority": EventKind.PRIORITY_CHANGED,
    "labels": EventKind.TAGS_CHANGED,
    "assignee": EventKind.ASSIGNEE_CHANGED,
}


class NotATicketEvent(ValueError):
    """The body is not a Jira issue event; the message is returned in the 400 body."""


class NotActedOn(NotATicketEvent):
    """A genuine Jira event the service does not act on (worklogs, deleted comments, projects):
    the webhook answers 200 with this reason, so Jira's log does not show it as failed."""


@dataclass(frozen=True)
class Envelope:
    delivery_id: str  # the part's own key: the unique (platform, delivery id) in the inbox
    ticket_id: str
    source_type: str
    part: str  # one of PARTS


# --- request path -------------------------------------------------------------------------


def identify(payload: Any, headers: Mapping[str, str]) -> list[Envelope]:
    """Cheap check on the request path: which parts, which issue, or NotATicketEvent."""
    if not isinstance(payload, Mapping):
        raise NotATicketEvent("body is not a JSON object")
    event = _text(payload.get("webhookEvent"))
    if event is None:
        raise NotATicketEvent("not a Jira webhook (expected webhookEvent)")
    if event not in _HANDLED:
        raise NotActedOn(f"{event}: dispute-desk does not act on this event")
    ticket_id = _issue_id(payload)
    if ticket_id is None:
        raise NotATicketEvent(_MISSING_ISSUE_ID)
    if not (ticket_id.isascii() and ticket_id.isdigit()):
        # The id goes into API paths (/rest/api/N/issue/{id}) with the bot's credentials.
        raise NotATicketEvent(f"issue id {ticket_id!r} is not a number")
    source_type = _source_type(payload, event)
    return [
        Envelope(key, ticket_id, source_type, part)
        for part, key in _parts(payload, event, ticket_id, headers)
    ]


def _issue_id(payload: Mapping[str, Any]) -> str | None:
    issue_id = _id(_mapping(payload.get("issue")).get("id"))
    if issue_id is None and "comment" in payload:
        issue_id = issue_id_from_comment_url(_mapping(payload.get("comment")).get("self"))
    return issue_id


def _source_type(payload: Mapping[str, Any], event: str) -> str:
    type_name = _text(payload.get("issue_event_type_name"))
    return f"{event}/{type_name}" if type_name else event


def _parts(
    payload: Mapping[str, Any], event: str, ticket_id: str, headers: Mapping[str, str]
) -> list[tuple[str, str]]:
    if event == ISSUE_DELETED:
        return [("deleted", f"issue_deleted:{ticket_id}")]
    if event == ISSUE_CREATED:
        # Its changelog lists the initial values: nothing changed, so it makes no part.
        fallback = f"issue_created:{ticket_id}"
        return [("created", _delivery_key(payload, headers, fallback))]
    parts: list[tuple[str, str]] = []
    fallback = f"{event}:{ticket_id}"
    changelog = _mapping(payload.get("changelog"))
    if _list(changelog.get("items")):
        changelog_id = _id(changelog.get("id"))
        key = f"changelog:{changelog_id}" if changelog_id else None
        parts.append(("changelog", key or _delivery_key(payload, headers, fallback)))
    action = _comment_action(payload, event)
    if action is not None:
        comment = _mapping(payload.get("comment"))
        comment_id = _id(comment.get("id"))
        if comment_id is None:
            raise NotATicketEvent(_MISSING_COMMENT_ID)
        key = f"comment:{comment_id}:{action}"
        # A comment is edited more than once: each edit is keyed by its time.
        edited = _text(comment.get("updated")) if action == "updated" else None
        parts.append(("comment", f"{key}:{edited}" if edited else key))
    if not parts:
        parts.append(("updated", _delivery_key(payload, headers, fallback)))
    return parts


def _comment_action(payload: Mapping[str, Any], event: str) -> str | None:
    """`created` or `updated` when the delivery reports a comment; None when it does not."""
    if event in COMMENT_EVENTS:
        return COMMENT_EVENTS[event]
    comment = payload.get("comment")
    if not isinstance(comment, Mapping):
        return None
    type_name = _text(payload.get("issue_event_type_name"))
    if type_name is None and is_edited(comment):
        # Old Server versions name no event type: an edit shows only in its times.
        return "updated"
    return _COMMENT_TYPES.get(type_name or "", "created")


def _delivery_key(payload: Mapping[str, Any], headers: Mapping[str, str], fallback: str) -> str:
    # The header is unique per delivery on the site and kept across retries.
    header = _text(_header(headers, WEBHOOK_ID_HEADER))
    if header is not None:
        return header
    timestamp = _id(payload.get("timestamp"))
    if timestamp is None:
        raise NotATicketEvent(_MISSING_DELIVERY_ID)
    return f"{fallback}:{timestamp}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


# --- normalize ----------------------------------------------------------------------------


def normalize(
    payload: Mapping[str, Any],
    headers: Mapping[str, str],
    part: str | None = None,
    *,
    status_names: Mapping[str, str] | None = None,
    priorities: Mapping[str, str] | None = None,
    catalog: Catalog = NO_CATALOG,
) -> TicketEvent:
    """The event of one part of a Jira delivery (`part`, else the `PART_HEADER` header);
    with neither, of everything it says. `status_names` and `priorities` extend the default
    tables (see `adapters.jira.values`); `catalog` places the site's own statuses and
    priorities by id (`adapters.jira.catalog`).
    """
    envelopes = identify(payload, headers)
    part = part or _text(_header(headers, PART_HEADER))
    chosen = [envelope for envelope in envelopes if part is None or envelope.part == part]
    if not chosen:
        present = ", ".join(envelope.part for envelope in envelopes)
        raise NotATicketEvent(f"this delivery has no {part} part (it has: {present})")
    issue = _mapping(payload.get("issue"))
    fields = _mapping(issue.get("fields"))
    status = _status(fields, status_names, catalog)
    priority, unknown_priority = priority_of(fields.get("priority"), priorities, catalog)
    requester = requester_of(fields.get("reporter")) if "reporter" in fields else Requester()

    kinds: set[EventKind] = set()
    previous: str | None = None
    comment: Comment | None = None
    for envelope in chosen:
        if envelope.part == "deleted":
            kinds.add(EventKind.DELETED)
        elif envelope.part == "created":
            kinds.add(EventKind.CREATED)
        elif envelope.part == "comment":
            comment = comment_of(payload.get("comment"), requester)
            # An edited comment is an update that shows the comment, not a new comment.
            added = _comment_action(payload, str(payload.get("webhookEvent"))) == "created"
            kinds |= {EventKind.COMMENT_ADDED, EventKind.UPDATED} if added else _UPDATE
        elif envelope.part == "changelog":
            changed, previous = _changelog(payload, fields, status, status_names, catalog)
            kinds |= changed
        else:
            kinds |= _UPDATE

    return TicketEvent(
        platform=PLATFORM,
        ticket_id=chosen[0].ticket_id,
        kinds=frozenset(kinds),
        delivery_id="+".join(envelope.delivery_id for envelope in chosen),
        occurred_at=epoch_ms(payload.get("timestamp")),
        source_type=chosen[0].source_type,
        actor_id=user_id(payload.get("user")) or (comment.author_id if comment else None),
        status=status,
        previous_status=previous,
        priority=priority,
        unknown_priority=unknown_priority,
        tags=_names(fields.get("labels")),
        # Jira says nothing about how an issue came in (JSM keeps its request channel out
        # of the webhook): an issue is "web" unless known otherwise; no issue, no channel.
        channel="web" if issue else None,
        subject=_text(fields.get("summary")) or "",
        description=plain_text(fields.get("description")) or "",
        comment=comment,
        requester=requester,
        components=_names(fields.get("components")),
        assignee_id=user_id(fields.get("assignee")),
        custom_fields=custom_fields(fields),
        url=browse_url(issue),
        version=_text(fields.get("updated")),
        display_id=_text(_mapping(issue).get("key")),
    )


def _status(fields: Mapping[str, Any], status_names: Mapping[str, str] | None, catalog: Catalog) -> str | None:
    """`fields.status` by its name or category, else by its id in the site's catalog."""
    if "status" not in fields:
        return None
    return status_of(fields.get("status"), status_names) or catalog.status(_mapping(fields.get("status")).get("id"))


def _changelog(
    payload: Mapping[str, Any],
    fields: Mapping[str, Any],
    status: str | None,
    status_names: Mapping[str, str] | None,
    catalog: Catalog,
) -> tuple[frozenset[EventKind], str | None]:
    """What the changelog items changed, and the status before a status change."""
    kinds = {EventKind.UPDATED}
    previous = None
    for item in _list(_mapping(payload.get("changelog")).get("items")):
        item = _mapping(item)
        # Cloud names the field in fieldId ("status"; field is "Status"); Server only in field,
        # and a localized Server may translate it ("Статус") while fieldId stays "status".
        name = (_text(item.get("fieldId")) or _text(item.get("field")) or "").lower()
        if name in _CHANGELOG_KINDS:
            kinds.add(_CHANGELOG_KINDS[name])
        if name == "status":
            # fromString has no category: the name table places it, else its id in the catalog.
            previous = normalize_status(item.get("fromString"), None, status_names) or catalog.status(item.get("from"))
            current = _new_status(item, fields, status, status_names, catalog)
            kinds |= _transition_kinds(previous, current)
        if name == "resolution" and _resolution_cleared(item) and status not in DONE_STATUSES:
            # Reopening clears the resolution, whatever the statuses are called.
            kinds.add(EventKind.REOPENED)
    return frozenset(kinds), previous


def _resolution_cleared(item: Mapping[str, Any]) -> bool:
    had = _id(item.get("from")) or _text(item.get("fromString"))
    return bool(had) and not (_id(item.get("to")) or _text(item.get("toString")))


def _new_status(
    item: Mapping[str, Any],
    fields: Mapping[str, Any],
    status: str | None,
    status_names: Mapping[str, str] | None,
    catalog: Catalog,
) -> str | None:
    """The status the item moved to: the issue's own (with its category) when it is the
    same status, else what its name or its id in the catalog says."""
    now = _mapping(fields.get("status"))
    same_id = _id(item.get("to")) is not None and _id(item.get("to")) == _id(now.get("id"))
    same_name = (_text(item.get("toString")) or "").lower() == (_text(now.get("name")) or "-").lower()
    if (same_id or same_name) and status is not None:
        return status
    return normalize_status(item.get("toString"), None, status_names) or catalog.status(item.get("to"))


def _transition_kinds(previous: str | None, current: str | None) -> frozenset[EventKind]:
    kinds: set[EventKind] = set()
    # Closing straight from an open status ("Won't do", "Cancelled") is a resolution too.
    if current == "solved" or (current == "closed" and previous not in DONE_STATUSES):
        kinds.add(EventKind.SOLVED)
    if previous in DONE_STATUSES and current in OPEN_STATUSES:
        kinds.add(EventKind.REOPENED)
    return frozenset(kinds)
