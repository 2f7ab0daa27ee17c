"""What the adapter reads about the Jira site itself, once, through the client it is given:
its statuses and priorities (`GET /status`, `GET /priority`, made into a `Catalog`), and the
groups of the people who comment (`GET /user?...&expand=groups`), for
`settings.jira.agent_groups`.

A lookup that fails is not fatal: the event goes on with names only (and the lookup is tried
again for the next event), or, for groups, with the comment's author counted as a customer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jira import JIRA

from adapters.base import AdapterFailure
from adapters.jira.catalog import NO_CATALOG, Catalog, catalog_from
from integration.core.ruleset import Settings

log = logging.getLogger("dispute_desk.jira")

Call = Callable[[Callable[[], Any]], Any]  # the adapter's error translation around a request


@dataclass
class Site:
    client: JIRA
    call: Call
    cloud: bool = True
    _lists: tuple[list[Any], list[Any]] | None = None
    _groups: dict[str, frozenset[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def catalog(self, settings: Settings) -> Catalog:
        """The site's statuses and priorities by id, read on first use and kept."""
        lists = self._lists
        if lists is None:
            try:
                statuses = self.call(lambda: [status.raw for status in self.client.statuses()])
                priorities = self.call(lambda: [priority.raw for priority in self.client.priorities()])
            except AdapterFailure as failure:
                log.warning("could not read Jira's statuses and priorities; reading names only", extra={"error": str(failure)})
                return NO_CATALOG
            lists = self._lists = (statuses, priorities)
        return catalog_from(*lists, settings.jira_statuses or None, settings.jira_priorities or None)

    def agents_among(self, user_ids: list[str], agent_groups: tuple[str, ...]) -> frozenset[str]:
        """Which of these users belong to one of `agent_groups` (their groups read once each)."""
        if not agent_groups:
            return frozenset()
        wanted = {group.casefold() for group in agent_groups}
        return frozenset(user for user in user_ids if {g.casefold() for g in self._groups_of(user)} & wanted)

    def _groups_of(self, user_id: str) -> frozenset[str]:
        with self._lock:
            known = self._groups.get(user_id)
        if known is not None:
            return known
        key = "accountId" if self.cloud else "username"
        try:
            user: Mapping[str, Any] = self.call(lambda: self.client._get_json("user", params={key: user_id, "expand": "groups"}))
        except AdapterFailure as failure:
            log.warning("could not read a commenter's groups; counting them as a customer", extra={"user": user_id, "error": str(failure)})
            return frozenset()
        groups = frozenset(str(item.get("name")) for item in user.get("groups", {}).get("items", []) if isinstance(item, Mapping))
        with self._lock:
            self._groups[user_id] = groups
        return groups
