"""The dry-run adapter: the same code path, but the plan is recorded instead of written.

`dispute-desk serve` uses it when no platform credentials are set, so the service works
on its first run and shows what it would do (gitlab-triage's dry run, as an executor).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from adapters.base import Adapter
from integration.core.events import TicketEvent
from integration.core.plan import NoteEffect, Plan
from integration.core.templates import plain

log = logging.getLogger("dispute_desk.dryrun")


class DryRunAdapter:
    def __init__(self, platform: str, normalize: Callable[[Mapping[str, Any], Mapping[str, str]], TicketEvent]) -> None:
        self.platform = platform
        self._normalize = normalize
        self.recorded: deque[dict[str, Any]] = deque(maxlen=100)  # the latest, for tests and debugging

    def normalize(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent:
        return self._normalize(payload, headers)

    def own_actor_reason(self, event: TicketEvent) -> str | None:
        return None  # there is no integration user to recognise in a dry run

    def refresh(self, event: TicketEvent) -> TicketEvent:
        return event  # the webhook's snapshot is all a dry run knows

    def references_on_ticket(self, event: TicketEvent) -> set[str]:
        return set()  # a dry run wrote nothing

    def apply(self, plan: Plan, extra_notes: list[NoteEffect]) -> dict[str, Any]:
        effects = plan.effects
        notes = [*effects.notes, *extra_notes]
        record = {
            "dry_run": True,
            "would_write": {
                **plan.summary(),
                "department_title": plan.department_title,
                "comments": [{"public": note.public, "body": plain(note.body)} for note in notes],
                "subtasks": [{"title": s.title, "items": list(s.items)} for s in effects.subtasks],
            },
        }
        self.recorded.append(record)
        log.info("dry run: would write to %s:%s", plan.event.platform, plan.event.ticket_id, extra={"plan": record["would_write"]})
        return record


def _conforms(adapter: DryRunAdapter) -> Adapter:
    return adapter  # mypy checks that the dry run keeps to the adapter protocol
