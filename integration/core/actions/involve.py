"""`involve`: bring other departments into a dispute without moving it. The ticket keeps one
owner; each department involved gets an internal note addressed to it (in the ticket's
language), its `dept-<id>` tag (a label on Jira) and its `dispute-<id>` checklist if the pack
has one. Once per ticket: a department whose tag is already there is not involved again."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.actions.checklist import AddChecklist
from integration.core.draft import Draft
from integration.core.plan import NoteEffect
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node

TAG_PREFIX = "dept-"  # the tag/label the default pack's departments already use on Jira
CHECKLIST_PREFIX = "dispute-"

NOTES = {
    "en": 'INVOLVED: {title}, your input is needed on this dispute (rule "{rule}"). The ticket stays with its owner{owner}: add what you find here as an internal note and work through your checklist.',
    "pt": 'ENVOLVIDO: {title}, precisamos da sua participação nesta disputa (regra "{rule}"). O ticket continua com o responsável atual{owner}: registre o que encontrar numa nota interna e siga o seu checklist.',
    "es": 'INVOLUCRADO: {title}, necesitamos tu participación en esta disputa (regla "{rule}"). El ticket sigue con su responsable{owner}: deja lo que encuentres en una nota interna y sigue tu lista de verificación.',
}


@register
@dataclass(frozen=True)
class Involve(Action):
    name = "involve"
    departments: tuple[str, ...]

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Involve | None:
        names = ctx.string_list(node, "a department id or a list of them", allow_single=True)
        if not names:
            return None
        for item in node.value if node.is_list else [node]:
            if ctx.identifier(item) is not None:
                ctx.require("department", str(item.value), item)
        return cls(tuple(dict.fromkeys(names)))

    def contribute(self, draft: Draft) -> str:
        done = [self._involve(draft, department) for department in self.departments]
        return "involve: " + ", ".join(done)

    def _involve(self, draft: Draft, department: str) -> str:
        tag = TAG_PREFIX + department
        owner = draft.effects.department or draft.facts.department
        if department == owner:
            return f"{department} already owns the ticket"
        if draft.has_tag(tag):
            return f"{department} already involved"
        draft.effects.tag(tag)
        draft.effects.notes.append(NoteEffect(key=f"involve:{draft.rule_id}:{department}", body=_note(draft, department, owner), public=False))
        checklist = CHECKLIST_PREFIX + department
        if checklist in draft.ruleset.checklists:
            AddChecklist(checklist).contribute(draft)
            return f"{department} (note, tag {tag}, checklist {checklist})"
        return f"{department} (note, tag {tag})"


def _note(draft: Draft, department: str, owner: str | None) -> str:
    default = draft.ruleset.settings.default_language
    language = draft.language if draft.language in NOTES else default if default in NOTES else "en"
    departments = draft.ruleset.departments
    title = departments[department].title_in(language, default)
    owner_title = f" ({departments[owner].title_in(language, default)})" if owner and owner in departments else ""
    return NOTES[language].format(title=title, rule=draft.rule_id, owner=owner_title)
