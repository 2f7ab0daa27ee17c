"""A Jira site's own statuses and priorities, by id: pure, no I/O.

Names are the site's, in its language and its admins' words ("ПЕРЕОТКРЫТА", "Обычный",
"Awaiting refund"); ids and status categories are not. The adapter reads `GET /status` and
`GET /priority` once through its client (`adapters.jira.site`) and builds a `Catalog` from
them, so a changelog's `from`/`to` status ids and an issue's priority id mean something
whatever the names say, and a priority is written by id, which every site understands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.jira.values import (
    DEFAULT_PRIORITY_IDS,
    _fold,
    _id,
    _mapping,
    _text,
    priority_table,
    status_of,
)


@dataclass(frozen=True)
class Catalog:
    statuses: Mapping[str, str] = field(default_factory=dict)  # status id -> RULES.md status
    priorities: Mapping[str, str] = field(default_factory=dict)  # priority id -> RULES.md priority
    # RULES.md priority -> the id to write: the site's first (highest) priority meaning it.
    priority_ids: Mapping[str, str] = field(default_factory=dict)

    def status(self, status_id: Any) -> str | None:
        return self.statuses.get(_id(status_id) or "")

    def priority(self, priority_id: Any) -> str | None:
        return self.priorities.get(_id(priority_id) or "")


NO_CATALOG = Catalog()


def catalog_from(
    statuses: Iterable[Any],
    priorities: Iterable[Any],
    status_names: Mapping[str, str] | None = None,
    priority_names: Mapping[str, str] | None = None,
) -> Catalog:
    """`GET /status` and `GET /priority` (lists of objects) -> a Catalog. A status is mapped
    by name when the name table knows it, else by its category; a priority by name, else by
    Jira's default ids (1 Highest .. 5 Lowest); a priority neither knows is left out."""
    by_status: dict[str, str] = {}
    for status in map(_mapping, statuses):
        status_id, value = _id(status.get("id")), status_of(status, status_names)
        if status_id and value:
            by_status[status_id] = value
    names = priority_table(priority_names)
    by_priority: dict[str, str] = {}
    ids: dict[str, str] = {}
    for priority in map(_mapping, priorities):  # Jira lists them highest first
        priority_id = _id(priority.get("id"))
        if priority_id is None:
            continue
        value = names.get(_fold(priority.get("name"))) or DEFAULT_PRIORITY_IDS.get(priority_id)
        if value:
            by_priority[priority_id] = value
            ids.setdefault(value, priority_id)
    return Catalog(by_status, by_priority, ids)


def priority_of(
    priority: Any, priority_names: Mapping[str, str] | None = None, catalog: Catalog = NO_CATALOG
) -> tuple[str | None, str | None]:
    """`fields.priority` -> (RULES.md priority, None), or (None, the site's name) when neither
    its name, the site's catalog nor Jira's default ids place it; (None, None) when unset."""
    priority = _mapping(priority)
    value = priority_table(priority_names).get(_fold(priority.get("name")))
    value = value or catalog.priority(priority.get("id")) or DEFAULT_PRIORITY_IDS.get(_id(priority.get("id")) or "")
    if value or not priority:
        return value, None
    return None, _text(priority.get("name")) or _id(priority.get("id"))
