"""Comments from templates: internal notes, public replies and feedback requests."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.actions.deadline_facts import deadline_facts
from integration.core.draft import Draft
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node


def _template(node: Node, ctx: ParseContext, usage: str) -> str | None:
    ident = ctx.identifier(node)
    if ident is not None:
        ctx.require("template", ident, node, usage)
    return ident


@register
@dataclass(frozen=True)
class Note(Action):
    name = "note"
    template: str

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Note | None:
        template = _template(node, ctx, "text")
        return cls(template) if template else None

    def contribute(self, draft: Draft) -> str:
        facts = deadline_facts(draft, draft.text_language(self.template))  # a note on a breach says which, by how much
        draft.add_text(f"note:{draft.rule_id}:{self.template}", self.template, public=False, deadline=facts)
        return f"internal note {self.template} ({draft.language})"


@register
@dataclass(frozen=True)
class Reply(Action):
    name = "reply"
    template: str

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Reply | None:
        template = _template(node, ctx, "text")
        return cls(template) if template else None

    def contribute(self, draft: Draft) -> str:
        draft.add_text(f"reply:{draft.rule_id}:{self.template}", self.template, public=True)
        return f"public reply {self.template} ({draft.language})"


@register
@dataclass(frozen=True)
class RequestFeedback(Action):
    """Rendered when the signed link is made; the engine holds no secrets."""

    name = "request_feedback"
    template: str

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> RequestFeedback | None:
        template = _template(node, ctx, "feedback")
        return cls(template) if template else None

    def contribute(self, draft: Draft) -> str:
        draft.ask_feedback(self.template)
        return f"feedback request {self.template} ({draft.language})"
