"""The loaded rule set: validated, cross-referenced and ready for the engine.

Everything here was checked when the files loaded; the engine trusts it and never
validates at fire time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from integration.core.calendars import Calendar
from integration.core.events import EventKind, TicketEvent
from integration.core.matching import language
from integration.core.plan import ConditionResult
from integration.core.templates import Template


# A rule holds its condition and actions by what the engine asks of them: conditions and
# actions are built on top of this module (they read the rule set), so naming their classes
# here would tie the core in a circle.
class RuleCondition(Protocol):
    def evaluate(self, facts: Any, negate: bool, results: list[ConditionResult]) -> bool:
        """Whether the condition holds for these facts; appends a result for every test."""
        ...


class RuleAction(Protocol):
    name: ClassVar[str]

    def contribute(self, draft: Any) -> str:
        """Adds this action's effects to the draft; says in words what it did (or why not)."""
        ...


@dataclass(frozen=True)
class Settings:
    default_language: str = "en"
    custom_fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # name -> platform -> id
    jira_statuses: Mapping[str, str] = field(default_factory=dict)  # Jira name (casefolded) -> status
    jira_priorities: Mapping[str, str] = field(default_factory=dict)  # Jira name (casefolded) -> priority
    jira_agent_groups: tuple[str, ...] = ()  # Jira groups whose members' comments are agents' replies


@dataclass(frozen=True)
class Department:
    id: str
    title: Mapping[str, str]
    zendesk: Mapping[str, Any] = field(default_factory=dict)
    jira: Mapping[str, Any] = field(default_factory=dict)

    def title_in(self, lang: str, default_language: str) -> str:
        return self.title.get(lang) or self.title.get(default_language) or self.id


@dataclass(frozen=True)
class Checklist:
    id: str
    title: Mapping[str, str]
    items: tuple[Mapping[str, str], ...]

    def localized(self, lang: str, default_language: str) -> tuple[str, tuple[str, ...]]:
        def pick(texts: Mapping[str, str]) -> str:
            return texts.get(lang) or texts[default_language]

        return pick(self.title), tuple(pick(item) for item in self.items)


@dataclass(frozen=True)
class Rule:
    id: str
    on: frozenset[EventKind]
    actions: tuple[RuleAction, ...]
    condition: RuleCondition | None = None
    description: str = ""
    stop: bool = False
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()
    settings: Settings = field(default_factory=Settings)
    departments: Mapping[str, Department] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    checklists: Mapping[str, Checklist] = field(default_factory=dict)
    templates: Mapping[str, Template] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def department_of(self, event: TicketEvent) -> str | None:
        """The department the ticket is routed to now, recognized by group or component."""
        for department in self.departments.values():
            if event.platform == "zendesk" and _zendesk_group_matches(department, event):
                return department.id
            if event.platform == "jira" and department.jira.get("component") in event.components:
                return department.id
        return None

    def custom_value(self, event: TicketEvent, name: str) -> Any:
        field_id = self.settings.custom_fields.get(name, {}).get(event.platform)
        return None if field_id is None else event.custom_fields.get(str(field_id))

    def language_for(self, event: TicketEvent) -> str:
        """The requester's locale if known, else detected from the text, else the default."""
        return language.resolve(event.requester.locale, event.text, self.settings.default_language)


def _zendesk_group_matches(department: Department, event: TicketEvent) -> bool:
    group_id = department.zendesk.get("group_id")
    if group_id is not None and event.group_id is not None:
        return str(group_id) == str(event.group_id)
    group_name = department.zendesk.get("group")
    return group_name is not None and group_name == event.group_name
