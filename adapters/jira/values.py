"""Single values from Jira payloads -> the values a `TicketEvent` holds: pure, no I/O.

Jira has no fixed statuses or priorities: every site names its own, so the mapping onto
RULES.md's vocabulary is a pair of tables the rule set may extend (`status_names`,
`priorities` arguments; keys are matched case-insensitively). A status is mapped by its
name when the table knows the name, else by its status category (`new`, `indeterminate`,
`done`), which every Jira status has.

Texts come as wiki-markup strings (REST v2 and webhooks) or as Atlassian Document Format
objects (REST v3, some Cloud webhooks); `plain_text` reads both. Users are named by
`accountId` on Cloud and by `name` (else `key`) on Server/Data Center (`user_id`).

The underscore readers (`_text`, `_id`, ...) read one raw field tolerantly and are shared only
within `adapters.jira`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from integration.core.events import PRIORITIES, STATUSES

# Status category key -> status. Every Jira status belongs to one of these three categories.
DEFAULT_STATUS_CATEGORIES: dict[str, str] = {
    "new": "new",
    "indeterminate": "open",
    "done": "solved",
}

# Status name (case-insensitive) -> status; wins over the category. Names whose category
# already says the right thing ("To Do", "In Progress") are listed too, so that a changelog's
# `fromString`, which comes without a category, still gives a previous status.
DEFAULT_STATUS_NAMES: dict[str, str] = {
    # new
    "to do": "new",
    "backlog": "new",
    # open
    "in progress": "open",
    "reopened": "open",
    "escalated": "open",
    "work in progress": "open",
    # pending: the ball is in the customer's court
    "waiting for customer": "pending",
    "waiting for reporter": "pending",
    "pending": "pending",
    # on_hold: waiting for someone else
    "on hold": "on_hold",
    "blocked": "on_hold",
    "waiting for third party": "on_hold",
    "waiting for vendor": "on_hold",
    # solved / closed
    "resolved": "solved",
    "done": "solved",
    "closed": "closed",
    "cancelled": "closed",
    "canceled": "closed",
    "won't do": "closed",
    "declined": "closed",
}

# Priority name (case-insensitive) -> priority: Cloud's default scheme (Highest..Lowest) and
# Server's older one (Blocker, Critical, Major, Minor, Trivial).
DEFAULT_PRIORITIES: dict[str, str] = {
    "highest": "urgent",
    "blocker": "urgent",
    "critical": "urgent",
    "high": "high",
    "major": "high",
    "medium": "normal",
    "normal": "normal",
    "low": "low",
    "lowest": "low",
    "minor": "low",
    "trivial": "low",
}

# Priority id -> priority, for names no table knows ("Обычный"): Jira's default scheme has
# the same ids on Cloud and Data Center (Highest/Blocker 1 .. Lowest/Trivial 5).
DEFAULT_PRIORITY_IDS: dict[str, str] = {"1": "urgent", "2": "high", "3": "normal", "4": "low", "5": "low"}

# The name used when WRITING a priority that no override names: Cloud's default scheme.
DEFAULT_PRIORITY_NAMES: dict[str, str] = {
    "urgent": "Highest", "high": "High", "normal": "Medium", "low": "Low",
}

DONE_STATUSES = frozenset({"solved", "closed"})
OPEN_STATUSES = frozenset({"new", "open", "pending", "on_hold"})


# --- Jira's vocabulary -> RULES.md's ------------------------------------------------------


def status_table(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default status names with `overrides` on top (keys folded, values checked)."""
    return _table(DEFAULT_STATUS_NAMES, overrides, STATUSES, "status")


def priority_table(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default priority names with `overrides` on top (keys folded, values checked)."""
    return _table(DEFAULT_PRIORITIES, overrides, PRIORITIES, "priority")


def normalize_status(
    name: Any, category: Any = None, status_names: Mapping[str, str] | None = None
) -> str | None:
    """A status name (and its category key, when known) -> a RULES.md status, or None."""
    by_name = status_table(status_names).get(_fold(name))
    if by_name is not None:
        return by_name
    return DEFAULT_STATUS_CATEGORIES.get(_fold(category))


def status_of(
    status: Any, status_names: Mapping[str, str] | None = None
) -> str | None:
    """`fields.status` (name + statusCategory) -> a RULES.md status, or None."""
    status = _mapping(status)
    category = _mapping(status.get("statusCategory")).get("key")
    return normalize_status(status.get("name"), category, status_names)


def normalize_priority(name: Any, priorities: Mapping[str, str] | None = None) -> str | None:
    """`Highest`, `Blocker`, `Medium`, ... -> a RULES.md priority; unknown names -> None."""
    return priority_table(priorities).get(_fold(name))


def normalize_transition_target(
    target: Any, status_names: Mapping[str, str] | None = None
) -> str | None:
    """A workflow transition's `to` status (name + statusCategory) -> a RULES.md status."""
    return status_of(target, status_names)


def jira_priority_name(priority: str, priorities: Mapping[str, str] | None = None) -> str:
    """The Jira priority name to write for a RULES.md priority: the first override naming
    it (as the admin spelled it), else Cloud's default name."""
    for name, value in (priorities or {}).items():
        if value == priority:
            return name
    if priority not in DEFAULT_PRIORITY_NAMES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} (got {priority!r})")
    return DEFAULT_PRIORITY_NAMES[priority]


def _table(
    defaults: Mapping[str, str],
    overrides: Mapping[str, str] | None,
    allowed: tuple[str, ...],
    what: str,
) -> dict[str, str]:
    table = dict(defaults)
    for name, value in (overrides or {}).items():
        if value not in allowed:
            raise ValueError(
                f"{what} for {name!r} must be one of {', '.join(allowed)} (got {value!r})"
            )
        table[_fold(name)] = value
    return table


# --- texts --------------------------------------------------------------------------------

# ADF nodes whose children are blocks: one line (or more) per child.
_BLOCK_CONTAINERS = frozenset({
    "doc", "bulletList", "orderedList", "listItem", "blockquote", "panel", "table",
    "tableCell", "tableHeader", "expand", "nestedExpand", "layoutSection", "layoutColumn",
    "taskList", "decisionList", "bodiedExtension",
})
# Inline atoms that stand for a piece of text.
_ATOM_TEXT = {"mention": "text", "emoji": "text", "status": "text", "inlineCard": "url"}


def plain_text(value: Any) -> str | None:
    """A wiki-markup string as is, an ADF document as plain text; None when empty."""
    if isinstance(value, Mapping):
        return _text(adf_to_text(value))
    return _text(value)


def adf_to_text(node: Any) -> str:
    """Atlassian Document Format -> plain text: text nodes concatenated, blocks on new lines."""
    if isinstance(node, list):
        return "\n".join(text for text in (adf_to_text(child) for child in node) if text)
    if not isinstance(node, Mapping):
        return ""
    kind = node.get("type")
    attrs = _mapping(node.get("attrs"))
    if kind == "text":
        return str(node.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    if kind in _ATOM_TEXT:
        return str(attrs.get(_ATOM_TEXT[kind]) or attrs.get("shortName") or "")
    children = [adf_to_text(child) for child in _list(node.get("content"))]
    if kind == "tableRow":
        return " | ".join(child for child in children if child)
    if kind in _BLOCK_CONTAINERS:
        return "\n".join(child for child in children if child)
    return "".join(children)  # paragraph, heading, codeBlock, taskItem, marks' holders


# --- users, times, urls, custom fields ----------------------------------------------------


def user_id(user: Any) -> str | None:
    """Cloud: accountId. Server/Data Center: name (what its REST API assigns by), else key."""
    user = _mapping(user)
    return _id(user.get("accountId")) or _id(user.get("name")) or _id(user.get("key"))


def site_url(self_url: Any) -> str | None:
    """`https://x.atlassian.net/rest/api/2/issue/10040` -> `https://x.atlassian.net`."""
    text = _text(self_url)
    if text is None or "/rest/" not in text:
        return None
    return text.split("/rest/", 1)[0]


def browse_url(issue: Mapping[str, Any]) -> str | None:
    base, key = site_url(issue.get("self")), _text(issue.get("key"))
    return f"{base}/browse/{key}" if base and key else None


def issue_id_from_comment_url(self_url: Any) -> str | None:
    """Server's comment events name their issue only in `comment.self`."""
    match = re.search(r"/rest/api/[^/]+/issue/([^/]+)/comment/", _text(self_url) or "")
    return match.group(1) if match else None


def custom_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every `customfield_*` by field id, plus `duedate`; option and user objects simplified."""
    values = {
        str(name): custom_value(value)
        for name, value in fields.items()
        if str(name).startswith("customfield_")
    }
    if "duedate" in fields:
        values["duedate"] = _text(fields.get("duedate"))
    return values


def custom_value(value: Any) -> Any:
    """Select options -> their value, users -> their id, ADF -> text, lists item by item;
    anything else (numbers, dates, text, unknown objects) as sent."""
    if isinstance(value, list):
        return [custom_value(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    if value.get("type") == "doc":
        return plain_text(value)
    if "value" in value:
        return value.get("value")
    if "accountId" in value or ("key" in value and "displayName" in value):
        return user_id(value)
    if "name" in value and "id" in value:
        return value.get("name")  # versions, groups, JSM organizations
    return dict(value)


def jira_time(value: Any) -> datetime | None:
    """`2017-11-29T19:37:19.584+0300` (Jira's REST and webhook times) -> an aware datetime."""
    try:
        return datetime.strptime(_text(value) or "", "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def is_edited(comment: Mapping[str, Any]) -> bool:
    """Whether a comment was changed after it was written: a new comment's `updated` is its
    `created`; an edit's is when it was edited (a second or more later)."""
    created, updated = jira_time(comment.get("created")), jira_time(comment.get("updated"))
    return created is not None and updated is not None and (updated - created).total_seconds() >= 1


def epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


# --- field readers ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (Mapping, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _id(value: Any) -> str | None:
    return _text(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _fold(value: Any) -> str:
    """Case-, space- and apostrophe-insensitive key for a status or priority name."""
    text = (_text(value) or "").replace("\u2019", "'")
    return " ".join(text.casefold().split())


def _names(value: Any) -> tuple[str, ...]:
    """Labels (strings) or components (objects with a name) -> a tuple of names."""
    names = []
    for item in _list(value):
        name = _text(item.get("name")) if isinstance(item, Mapping) else _text(item)
        if name is not None:
            names.append(name)
    return tuple(names)
