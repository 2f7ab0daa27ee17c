"""A fresh read of a Jira issue merged into an event: pure translation, no I/O.

Webhook bodies are uneven: Server's `comment_created` carries no issue at all, Cloud's carries
a few fields, and Cloud has stopped sending user names and e-mail addresses. Before planning,
the worker reads the issue (`GET /rest/api/2/issue/{id}` or `/rest/api/3/issue/{id}`; v3 sends
descriptions as Atlassian Document Format, which is read as plain text) and `refresh()` puts
that state into the event. The readers of people and comments shared with `normalize` live
here too (`requester_of`, `comment_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from adapters.jira.values import (
    _id,
    _mapping,
    _names,
    _text,
    browse_url,
    custom_fields,
    normalize_priority,
    plain_text,
    status_of,
    user_id,
)
from integration.core.events import Comment, Requester, TicketEvent


def refresh(
    event: TicketEvent,
    issue: Mapping[str, Any],
    status_names: Mapping[str, str] | None = None,
    priorities: Mapping[str, str] | None = None,
) -> TicketEvent:
    """Merge a fresh `GET /rest/api/{2|3}/issue/{id}` response into `event`.

    What happened (kinds, previous_status, delivery, actor, time) is kept; the issue's state
    is replaced by the fresher one. The comment is kept too, except that it is recognised as
    the customer's once the reporter is known to be its author.
    """
    if _id(issue.get("id")) != event.ticket_id:
        raise ValueError(f"issue {issue.get('id')!r} is not the event's issue {event.ticket_id}")
    fields = _mapping(issue.get("fields"))
    requester = requester_of(fields.get("reporter"))
    return event.with_state(
        status=status_of(fields.get("status"), status_names),
        priority=normalize_priority(_mapping(fields.get("priority")).get("name"), priorities),
        tags=_names(fields.get("labels")),
        components=_names(fields.get("components")),
        channel="web",
        subject=_text(fields.get("summary")) or "",
        description=plain_text(fields.get("description")) or "",
        comment=_by_reporter(event.comment, requester),
        requester=requester,
        assignee_id=user_id(fields.get("assignee")),
        custom_fields=custom_fields(fields),
        url=browse_url(issue) or event.url,
        version=_text(fields.get("updated")),
        display_id=_text(issue.get("key")) or event.display_id,
    )


def requester_of(reporter: Any) -> Requester:
    """The reporter as requester. Jira users have no organization (JSM keeps organizations
    in a custom field whose id differs per site), and webhooks rarely say the locale."""
    user = _mapping(reporter)
    return Requester(
        id=user_id(user),
        name=_text(user.get("displayName")),
        email=_text(user.get("emailAddress")),
        locale=_text(user.get("locale")),
    )


def comment_of(value: Any, requester: Requester) -> Comment:
    """A webhook's `comment`. By the customer when the reporter wrote it or its author is a
    JSM portal customer (accountType "customer"); by an agent otherwise."""
    comment = _mapping(value)
    author = _mapping(comment.get("author"))
    author_id = user_id(author)
    by_requester = author_id is not None and author_id == requester.id
    by_customer = by_requester or _text(author.get("accountType")) == "customer"
    return Comment(
        id=_id(comment.get("id")),
        body=plain_text(comment.get("body")) or "",
        public=_public(comment),
        by="customer" if by_customer else "agent",
        author_id=author_id,
    )


def _public(comment: Mapping[str, Any]) -> bool:
    """JSM says so in `jsdPublic`; elsewhere a comment restricted to a group or role is
    internal, any other is public."""
    flag = comment.get("jsdPublic")
    if isinstance(flag, bool):
        return flag
    return not _mapping(comment.get("visibility"))


def _by_reporter(comment: Comment | None, requester: Requester) -> Comment | None:
    if comment is None or requester.id is None or comment.author_id != requester.id:
        return comment
    return replace(comment, by="customer")
