"""What a note can say about the deadline an event is about: its name in the note's language,
how late it is, and when it was due in its calendar's time zone (never bare UTC)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from integration.core.calendars import format_span
from integration.core.draft import Draft

# The default pack's deadlines, for people; an unknown name is shown as written.
DEADLINE_TITLES: dict[str, dict[str, str]] = {
    "first-response": {"en": "first response", "pt": "primeira resposta", "es": "primera respuesta"},
    "follow-up": {"en": "follow-up", "pt": "acompanhamento", "es": "seguimiento"},
    "next-update": {"en": "next update to the customer", "pt": "próxima atualização ao cliente", "es": "próxima actualización al cliente"},
    "chargeback-response": {"en": "chargeback response", "pt": "resposta ao chargeback", "es": "respuesta al contracargo"},
}


def deadline_title(name: str, language: str) -> str:
    titles = DEADLINE_TITLES.get(name, {})
    return titles.get(language) or titles.get("en") or name


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """`2026-03-06 18:00 (America/Sao_Paulo)`: the zone named, so nobody converts by guess."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def deadline_facts(draft: Draft, language: str) -> dict[str, str]:
    """The deadline of a `deadline_breached` event (empty texts on other events)."""
    event = draft.event
    name, due = event.deadline or "", event.deadline_due_at
    calendar = draft.ruleset.calendars.get(event.deadline_calendar or "")
    zone = calendar.tz if calendar else ZoneInfo("UTC")
    return {
        "name": name,
        "title": deadline_title(name, language) if name else "",
        "overdue": format_span((draft.now - due).total_seconds(), language) if due else "",
        "due_at": local_time(due, zone) if due else "",
    }
