"""Actions on the ticket's own fields: tags, priority and status."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.draft import Draft
from integration.core.events import PRIORITIES, STATUSES
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node


@register
@dataclass(frozen=True)
class AddTags(Action):
    name = "add_tags"
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> AddTags | None:
        tags = ctx.string_list(node, "a list of tags", allow_single=True)
        return cls(tuple(tags)) if tags else None

    def contribute(self, draft: Draft) -> str:
        draft.effects.tag(*self.tags)
        return "add tags " + ", ".join(self.tags)


@register
@dataclass(frozen=True)
class RemoveTags(Action):
    name = "remove_tags"
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> RemoveTags | None:
        tags = ctx.string_list(node, "a list of tags", allow_single=True)
        return cls(tuple(tags)) if tags else None

    def contribute(self, draft: Draft) -> str:
        draft.effects.untag(*self.tags)
        return "remove tags " + ", ".join(self.tags)


@register
@dataclass(frozen=True)
class SetPriority(Action):
    """`priority: high` sets it; `priority: {at_least: high}` never lowers it."""

    name = "priority"
    priority: str
    at_least: bool

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> SetPriority | None:
        if node.is_mapping:
            if not ctx.mapping(node, required=("at_least",), what="a priority or {at_least: PRIORITY}"):
                return None
            floor = ctx.choice(node.value["at_least"], PRIORITIES)
            return cls(floor, True) if floor else None
        priority = ctx.choice(node, PRIORITIES)
        return cls(priority, False) if priority else None

    def contribute(self, draft: Draft) -> str:
        if self.at_least:
            draft.priority_floors.append(self.priority)
            return f"priority at least {self.priority}"
        draft.explicit_priority = self.priority
        return f"priority {self.priority}"


@register
@dataclass(frozen=True)
class Transition(Action):
    name = "transition"
    status: str

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Transition | None:
        status = ctx.choice(node, STATUSES)
        return cls(status) if status else None

    def contribute(self, draft: Draft) -> str:
        draft.effects.status = self.status
        return f"status {self.status}"
