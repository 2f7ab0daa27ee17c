"""The normalized ticket event: the only thing the rule engine ever sees.

Adapters fill every field they can from a platform's webhook (and, before planning, from
a fresh read of the ticket); the engine never fetches anything. The field list is fixed:
rule conditions are checked against it when rules load (see `integration.core.conditions`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
LANGUAGES = ("en", "pt", "es")
PLATFORMS = ("zendesk", "jira")


class EventKind(str, enum.Enum):
    """What happened to the ticket; RULES.md `on:` names."""

    CREATED = "created"
    UPDATED = "updated"
    COMMENT_ADDED = "comment_added"
    STATUS_CHANGED = "status_changed"
    SOLVED = "solved"
    REOPENED = "reopened"
    PRIORITY_CHANGED = "priority_changed"
    TAGS_CHANGED = "tags_changed"
    ASSIGNEE_CHANGED = "assignee_changed"
    DEADLINE_BREACHED = "deadline_breached"
    FEEDBACK_RECEIVED = "feedback_received"
    # The ticket is gone (deleted, merged away, spam): its deadlines end, nothing is planned.
    DELETED = "deleted"


# What rules may listen to (`on:`). A deleted ticket is never planned: nothing can be written
# to it, so no rule could act on its event.
EVENT_KINDS = tuple(kind.value for kind in EventKind if kind is not EventKind.DELETED)


def priority_rank(priority: str | None) -> int:
    """Order of priorities; an unset priority ranks below `low`."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else -1


@dataclass(frozen=True)
class Requester:
    id: str | None = None
    name: str | None = None
    email: str | None = None
    organization: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Comment:
    """The comment that caused a `comment_added` event."""

    id: str | None
    body: str
    public: bool
    by: str  # "customer" or "agent"
    author_id: str | None = None


@dataclass(frozen=True)
class TicketEvent:
    platform: str
    ticket_id: str
    kinds: frozenset[EventKind]
    delivery_id: str
    occurred_at: datetime | None = None
    source_type: str = ""  # the platform's own name for the event, for logs and `explain`
    actor_id: str | None = None
    status: str | None = None
    previous_status: str | None = None
    priority: str | None = None
    # The platform's own priority when it is set but maps onto none of PRIORITIES: the
    # ticket has a priority nobody can rank, so no floor is applied to it.
    unknown_priority: str | None = None
    tags: tuple[str, ...] = ()
    channel: str | None = None
    subject: str = ""
    description: str = ""
    comment: Comment | None = None
    requester: Requester = field(default_factory=Requester)
    group_id: str | None = None
    group_name: str | None = None
    components: tuple[str, ...] = ()
    assignee_id: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    deadline: str | None = None
    deadline_due_at: datetime | None = None  # on deadline_breached: when it was due
    deadline_calendar: str | None = None  # on deadline_breached: the calendar it counted in, if any
    rating: int | None = None
    feedback_comment: str | None = None
    url: str | None = None
    display_id: str | None = None  # the ticket as people name it, when not its id (a Jira key: DD-7)
    # Opaque platform state the writer needs (e.g. Zendesk's updated_at for safe_update).
    version: str | None = None

    @property
    def text(self) -> str:
        """Subject, description and the new comment together (the `text` field)."""
        parts = [self.subject, self.description, self.comment.body if self.comment else ""]
        return "\n".join(part for part in parts if part)

    def listens(self, kinds: frozenset[EventKind]) -> bool:
        return bool(self.kinds & kinds)

    def with_state(self, **changes: Any) -> TicketEvent:
        """A copy with fresher ticket state."""
        return replace(self, **changes)
