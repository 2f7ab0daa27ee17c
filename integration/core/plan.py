"""A plan: what the rules want done to one ticket for one event, and why.

The engine produces it without I/O; an adapter turns its `Effects` into API calls. The
traces say, for every rule, whether it listened to the event, whether it matched, and each
condition's result with the value it saw, so a plan explains itself in logs and `explain`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from integration.core.events import EventKind, TicketEvent, priority_rank


class PlanAbandoned(Exception):
    """Planning this event was stopped: a step took too long or would cost too much. The same
    event and rules would stop again, so the event is dead-lettered with this reason."""


Checkpoint = Callable[[str], None]  # called before each rule with its id; raises PlanAbandoned


def deadline(elapsed: Callable[[], float], seconds: float) -> Checkpoint:
    """A checkpoint that stops planning once `seconds` have passed on the `elapsed` clock
    (read from now on). Every step between two checkpoints is bounded on its own (patterns
    have a time limit, templates a budget), so the check is cooperative and always reached."""
    started = elapsed()

    def check(rule_id: str) -> None:
        spent = elapsed() - started
        if spent > seconds:
            raise PlanAbandoned(
                f"planning took longer than {seconds:g} s (stopped after {spent:.1f} s, before rule {rule_id}); "
                "the rules are too slow for this event"
            )

    return check


@dataclass(frozen=True)
class ConditionResult:
    path: str  # where the condition is written, e.g. "rules[0].if.all[1]"
    field: str
    operator: str
    expected: Any
    actual: Any
    held: bool

    def describe(self) -> str:
        mark = "ok  " if self.held else "FAIL"
        return f"{mark} {self.field} {self.operator} {_brief(self.expected)} (saw {self.actual!r})"


def _brief(value: Any, shown: int = 4) -> str:
    """Long word lists are shown by their first few words: explanations stay readable."""
    if isinstance(value, list) and len(value) > shown:
        head = ", ".join(repr(item) for item in value[:shown])
        return f"[{head}, … {len(value) - shown} more]"
    return repr(value)


@dataclass(frozen=True)
class RuleTrace:
    rule_id: str
    listened: bool  # the event is one of the rule's `on:` kinds
    matched: bool
    conditions: tuple[ConditionResult, ...] = ()
    actions: tuple[str, ...] = ()  # what the rule contributed, in words
    stopped: bool = False  # the rule matched with `stop: true`
    skipped_because: str = ""  # not evaluated, e.g. an earlier rule stopped evaluation


@dataclass(frozen=True)
class NoteEffect:
    """A comment to write. `key` makes it idempotent: a marker records it on the ticket."""

    key: str
    body: str
    public: bool


@dataclass(frozen=True)
class DeadlineStart:
    name: str
    due_at: datetime
    within: str
    calendar: str | None
    met_by: tuple[str, ...]
    pause_while: tuple[str, ...]
    rule_id: str


@dataclass(frozen=True)
class FeedbackRequest:
    """Rendered later, when the signed link exists (the engine holds no secrets): `context`
    is everything the template needs but `feedback_url`."""

    template: str
    language: str
    rule_id: str
    key: str = ""
    department: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Subtasks:
    key: str
    title: str
    items: tuple[str, ...]


@dataclass
class Effects:
    """Everything the matching rules want, merged. Empty means: write nothing."""

    department: str | None = None
    priority: str | None = None
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    notes: list[NoteEffect] = field(default_factory=list)
    status: str | None = None
    deadlines: list[DeadlineStart] = field(default_factory=list)
    cancel_deadlines: list[str] = field(default_factory=list)
    feedback: list[FeedbackRequest] = field(default_factory=list)
    subtasks: list[Subtasks] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(
            (
                self.department,
                self.priority,
                self.add_tags,
                self.remove_tags,
                self.notes,
                self.status,
                self.deadlines,
                self.cancel_deadlines,
                self.feedback,
                self.subtasks,
            )
        )

    def writes_ticket(self) -> bool:
        """Whether anything here must be written to the platform (deadlines are ours)."""
        return not Effects(
            department=self.department,
            priority=self.priority,
            add_tags=self.add_tags,
            remove_tags=self.remove_tags,
            notes=self.notes,
            status=self.status,
            feedback=self.feedback,
            subtasks=self.subtasks,
        ).is_empty()

    def tag(self, *tags: str) -> None:
        for tag in tags:
            if tag in self.remove_tags:
                self.remove_tags.remove(tag)
            if tag not in self.add_tags:
                self.add_tags.append(tag)

    def untag(self, *tags: str) -> None:
        for tag in tags:
            if tag in self.add_tags:
                self.add_tags.remove(tag)
            if tag not in self.remove_tags:
                self.remove_tags.append(tag)

    def raise_priority(self, priority: str) -> None:
        if priority_rank(priority) > priority_rank(self.priority):
            self.priority = priority


@dataclass(frozen=True)
class Plan:
    event: TicketEvent
    now: datetime
    traces: tuple[RuleTrace, ...]
    effects: Effects
    department_title: str | None = None
    warnings: tuple[str, ...] = ()
    language: str = "en"

    @property
    def matched_rules(self) -> tuple[str, ...]:
        return tuple(trace.rule_id for trace in self.traces if trace.matched)

    def writes(self) -> bool:
        """Whether the plan changes the ticket. Its feedback requests count as the comments they
        were made into (`FeedbackLinks.with_links`); one not sent (no SECRET_KEY) writes nothing."""
        return replace(self.effects, feedback=[]).writes_ticket()

    def reopens(self) -> bool:
        """Whether the rules want a customer's answer to reopen the conversation (a low rating
        escalated or set open), as opposed to only recording it (a tag, a note)."""
        effects = self.effects
        return EventKind.FEEDBACK_RECEIVED in self.event.kinds and bool(effects.department or effects.status in ("new", "open"))

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly account of the plan, for logs and the event's outcome."""
        effects = self.effects
        return {
            "ticket": f"{self.event.platform}:{self.event.ticket_id}",
            "kinds": sorted(kind.value for kind in self.event.kinds),
            "language": self.language,
            "matched_rules": list(self.matched_rules),
            "department": effects.department,
            "priority": effects.priority,
            "add_tags": effects.add_tags,
            "remove_tags": effects.remove_tags,
            "notes": [{"key": n.key, "public": n.public} for n in effects.notes],
            "status": effects.status,
            "deadlines": [d.name for d in effects.deadlines],
            "cancel_deadlines": effects.cancel_deadlines,
            "feedback": [f.template for f in effects.feedback],
            "warnings": list(self.warnings),
        }
