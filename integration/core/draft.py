"""The plan while it is being drafted: actions of matching rules add to it in rule order,
then `finish` merges them (priority floors, department, texts) into final `Effects`.

Texts are rendered last, so a note can name the department even when the rule that routes
comes after the rule that writes the note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integration.core.conditions import Facts
from integration.core.events import EventKind, TicketEvent, priority_rank
from integration.core.feedback.writeback import add_answer
from integration.core.plan import Effects, FeedbackRequest, NoteEffect
from integration.core.ruleset import Rule, RuleSet
from integration.core.templates import CustomerText

CHECKLIST_MARKER = "dd-checklist-"  # a tag per checklist: added once per ticket, however often events repeat


@dataclass
class PendingText:
    key: str
    template: str
    public: bool
    rule: Rule
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Draft:
    event: TicketEvent
    ruleset: RuleSet
    now: datetime
    facts: Facts
    effects: Effects = field(default_factory=Effects)
    texts: list[PendingText] = field(default_factory=list)
    feedback_texts: list[PendingText] = field(default_factory=list)
    explicit_priority: str | None = None
    priority_floors: list[str] = field(default_factory=list)
    department_rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    rule: Rule | None = None  # the rule whose actions are contributing now

    @classmethod
    def start(cls, event: TicketEvent, ruleset: RuleSet, now: datetime) -> Draft:
        return cls(event, ruleset, now, Facts(event, ruleset))

    @property
    def language(self) -> str:
        return self.facts.language

    @property
    def rule_id(self) -> str:
        return self.rule.id if self.rule else ""

    def text_language(self, template: str) -> str:
        """The language a template will actually be rendered in (its own fallback applied)."""
        texts = self.ruleset.templates[template].sources
        return self.language if self.language in texts else self.ruleset.settings.default_language

    def has_tag(self, tag: str) -> bool:
        return tag in self.event.tags or tag in self.effects.add_tags

    def route(self, department: str, override: bool) -> str:
        """First rule to route wins; an escalation overrides a route."""
        current = self.effects.department
        if current and current != department and not override:
            self.warnings.append(
                f"rule {self.rule_id} routes to {department}, but rule {self.department_rule} already routed to {current}"
            )
            return f"route to {department} ignored: already routed to {current} by {self.department_rule}"
        if self.facts.department == department and current is None:
            return f"already in {department}"
        self.effects.department = department
        self.department_rule = self.rule_id
        return f"route to {department}"

    def add_text(self, key: str, template: str, public: bool, **extra: Any) -> None:
        assert self.rule is not None
        self.texts.append(PendingText(key, template, public, self.rule, extra))

    def ask_feedback(self, template: str) -> None:
        assert self.rule is not None
        self.feedback_texts.append(PendingText(f"feedback:{self.rule.id}:{template}", template, True, self.rule))

    def finish(self) -> Effects:
        effects = self.effects
        if EventKind.FEEDBACK_RECEIVED in self.event.kinds:
            add_answer(effects, self.event, self.language)
        effects.priority = self._final_priority()
        effects.add_tags = [tag for tag in effects.add_tags if tag not in self.event.tags]
        effects.remove_tags = [tag for tag in effects.remove_tags if tag in self.event.tags]
        if effects.status == self.event.status:
            effects.status = None
        effects.notes.extend(self._render(text) for text in self.texts)
        effects.feedback = [self._feedback_request(text) for text in self.feedback_texts]
        return effects

    def _feedback_request(self, text: PendingText) -> FeedbackRequest:
        department = self.effects.department or self.facts.department
        return FeedbackRequest(text.template, self.language, text.rule.id, text.key, department, template_context(self, text))

    def _final_priority(self) -> str | None:
        target = self.explicit_priority or self.event.priority
        floors = self.priority_floors
        if floors and target is None and self.event.unknown_priority:
            # "at least high" could lower a priority we cannot rank ("Highest" in another
            # language): say so instead of guessing.
            self.warnings.append(
                f"priority at least {max(floors, key=priority_rank)} not applied: the ticket's priority "
                f"{self.event.unknown_priority!r} is not one dispute-desk knows (map it in settings.jira.priorities)"
            )
            floors = []
        for floor in floors:
            if priority_rank(floor) > priority_rank(target):
                target = floor
        return target if target != self.event.priority else None

    def _render(self, text: PendingText) -> NoteEffect:
        template = self.ruleset.templates[text.template]
        context = template_context(self, text)
        body = template.render(self.language, self.ruleset.settings.default_language, context)
        return NoteEffect(key=text.key, body=body, public=text.public)


def template_context(draft: Draft, text: PendingText) -> dict[str, Any]:
    event, ruleset = draft.event, draft.ruleset
    department_id = draft.effects.department or draft.facts.department
    department = ruleset.departments.get(department_id) if department_id else None
    default_language = ruleset.settings.default_language
    return {
        "ticket": {
            "id": event.display_id or event.ticket_id,  # what the customer sees: DD-7, not 10010
            "subject": CustomerText(event.subject or ""),
            "description": CustomerText(event.description or ""),
            "status": event.status or "",
            "priority": draft.effects.priority or event.priority or "",
            "url": event.url or "",
            "platform": event.platform,
            "tags": list(event.tags),
        },
        "requester": {
            "name": CustomerText(requester_name(event, draft.language)),
            "email": CustomerText(event.requester.email or ""),
            "organization": CustomerText(event.requester.organization or ""),
        },
        "department": {
            "id": department.id if department else "",
            "title": department.title_in(draft.language, default_language) if department else "",
        },
        "deadline": text.extra.get("deadline") or {"name": event.deadline or "", "title": "", "overdue": "", "due_at": ""},
        "rating": event.rating,
        "feedback_comment": CustomerText(event.feedback_comment or ""),
        "rule": {"id": text.rule.id, "description": text.rule.description},
        "language": draft.language,
        **{key: value for key, value in text.extra.items() if key != "deadline"},
    }


def requester_name(event: TicketEvent, language: str) -> str:
    """Never empty: the name, else the e-mail's local part, else a neutral word."""
    if event.requester.name:
        return event.requester.name
    if event.requester.email:
        return event.requester.email.split("@", 1)[0]
    return {"pt": "cliente", "es": "cliente"}.get(language, "there")
