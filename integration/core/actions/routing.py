"""`route` and `escalate`: send the ticket to the department that owns the problem."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.actions.deadline_facts import deadline_facts
from integration.core.draft import Draft
from integration.core.events import PRIORITIES
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node


@register
@dataclass(frozen=True)
class Route(Action):
    name = "route"
    department: str

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Route | None:
        department = ctx.identifier(node)
        if department is None:
            return None
        ctx.require("department", department, node)
        return cls(department)

    def contribute(self, draft: Draft) -> str:
        return draft.route(self.department, override=False)


@register
@dataclass(frozen=True)
class Escalate(Action):
    """Route (overriding earlier routes), raise the priority, explain why in a note."""

    name = "escalate"
    to: str
    priority: str | None = None
    note: str | None = None

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Escalate | None:
        if not ctx.mapping(node, required=("to",), optional=("priority", "note"), what="a mapping with to, priority and note"):
            return None
        to = ctx.identifier(node.value["to"])
        if to is not None:
            ctx.require("department", to, node.value["to"])
        priority = _optional(node, "priority", lambda n: ctx.choice(n, PRIORITIES))
        note = _optional(node, "note", ctx.identifier)
        if note is not None:
            ctx.require("template", note, node.value["note"], "text")
        broken = to is None or (priority is None and "priority" in node.value) or (note is None and "note" in node.value)
        return None if broken else cls(to, priority, note)  # type: ignore[arg-type]

    def contribute(self, draft: Draft) -> str:
        done = [draft.route(self.to, override=True)]
        if self.priority:
            draft.priority_floors.append(self.priority)
            done.append(f"priority at least {self.priority}")
        if self.note:
            facts = deadline_facts(draft, draft.text_language(self.note))
            draft.add_text(f"escalate:{draft.rule_id}:{self.note}", self.note, public=False, deadline=facts)
            done.append(f"note {self.note}")
        return "escalate: " + ", ".join(done)


def _optional(node: Node, key: str, check):  # type: ignore[no-untyped-def]
    child = node.get(key)
    return None if child is None else check(child)

