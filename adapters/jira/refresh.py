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

from adapters.jira.catalog import NO_CATALOG, Catalog, priority_of
from adapters.jira.values import (
    _id,
    _list,
    _mapping,
    _names,
    _text,
    browse_url,
    custom_fields,
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
    catalog: Catalog = NO_CATALOG,
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
    priority, unknown_priority = priority_of(fields.get("priority"), priorities, catalog)
    status = _mapping(fields.get("status"))
    return event.with_state(
        status=status_of(status, status_names) or catalog.status(status.get("id")),
        priority=priority,
        unknown_priority=unknown_priority,
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
    """A webhook's `comment`. By an agent only when something says so: an internal comment
    (only agents can restrict one), or one written through Jira Service Management's agent
    view (it carries `sd.public.comment`). Anyone else, the reporter, a portal customer
    (accountType "customer") or an author nothing is known about, is a customer: Data
    Center names no account type, and another customer's comment must not count as the
    agents' reply. `JiraAdapter.refresh` also counts members of `settings.jira.agent_groups`."""
    comment = _mapping(value)
    author = _mapping(comment.get("author"))
    author_id = user_id(author)
    by_customer = (author_id is not None and author_id == requester.id) or _text(author.get("accountType")) == "customer"
    public = _public(comment)
    by_agent = not by_customer and (not public or _written_in_agent_view(comment))
    return Comment(
        id=_id(comment.get("id")),
        body=plain_text(comment.get("body")) or "",
        public=public,
        by="agent" if by_agent else "customer",
        author_id=author_id,
    )


def _written_in_agent_view(comment: Mapping[str, Any]) -> bool:
    properties = _list(comment.get("properties"))
    return any(_mapping(item).get("key") == "sd.public.comment" for item in properties)


def by_agent(event: TicketEvent, agents: frozenset[str]) -> TicketEvent:
    """The event with its comment counted as an agent's when its author is one of `agents`
    (members of the configured agent groups) and not the reporter."""
    comment = event.comment
    if comment is None or comment.author_id not in agents or comment.author_id == event.requester.id:
        return event
    return event.with_state(comment=replace(comment, by="agent"))


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
