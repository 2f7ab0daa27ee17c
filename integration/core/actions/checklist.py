"""`checklist`: the dispute-resolution steps, as one internal note (or Jira sub-tasks),
in the ticket's language, once per ticket: a marker tag records that it was added."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.draft import CHECKLIST_MARKER, Draft
from integration.core.plan import NoteEffect, Subtasks
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node

FORMS = ("note", "subtasks")


@register
@dataclass(frozen=True)
class AddChecklist(Action):
    name = "checklist"
    checklist: str
    form: str = "note"

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> AddChecklist | None:
        if node.is_mapping:
            if not ctx.mapping(node, required=("id",), optional=("as",), what="a checklist id or {id, as}"):
                return None
            ident = ctx.identifier(node.value["id"])
            form = ctx.choice(node.value["as"], FORMS) if "as" in node.value else "note"
            id_node = node.value["id"]
        else:
            ident, form, id_node = ctx.identifier(node), "note", node
        if ident is None or form is None:
            return None
        ctx.require("checklist", ident, id_node)
        return cls(ident, form)

    def contribute(self, draft: Draft) -> str:
        marker = CHECKLIST_MARKER + self.checklist
        if draft.has_tag(marker):
            return f"checklist {self.checklist} already on the ticket"
        title, items = draft.ruleset.checklists[self.checklist].localized(
            draft.language, draft.ruleset.settings.default_language
        )
        key = f"checklist:{self.checklist}"
        form = self.form if draft.event.platform == "jira" else "note"  # only Jira has sub-tasks
        if form == "subtasks":
            draft.effects.subtasks.append(Subtasks(key, title, items))
        else:
            body = "\n".join([title, "", *(f"☐ {item}" for item in items)])
            draft.effects.notes.append(NoteEffect(key=key, body=body, public=False))
        draft.effects.tag(marker)
        return f"checklist {self.checklist} ({draft.language}, as {form})"
