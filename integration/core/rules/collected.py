"""What loading gathers from every rule file before references are resolved across files.

`Collected` is shared by the loader (settings, rules, the cross-file checks) and the
named-definition sections (`integration.core.rules.sections`); it has a module of its own so both
can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integration.core.calendars import Calendar
from integration.core.ruleset import Checklist, Department, Rule
from integration.core.syntax.nodes import Node
from integration.core.templates import Template


@dataclass
class Collected:
    """Definitions gathered from every file, with the node each was defined at."""

    settings: dict[str, Any] = field(default_factory=dict)
    departments: dict[str, tuple[Department, Node]] = field(default_factory=dict)
    calendars: dict[str, tuple[Calendar, Node]] = field(default_factory=dict)
    checklists: dict[str, tuple[Checklist, Node]] = field(default_factory=dict)
    templates: dict[str, tuple[Template, Node]] = field(default_factory=dict)
    localized: list[Node] = field(default_factory=list)  # texts that must have the default language
    rules: list[Rule] = field(default_factory=list)
    rule_nodes: dict[str, Node] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    # Ids written down but invalid: references to them are not reported again (no cascades).
    declared: set[tuple[str, str]] = field(default_factory=set)
