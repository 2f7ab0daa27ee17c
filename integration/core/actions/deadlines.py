"""`deadline` and `cancel_deadline`: follow-up promises with a due time."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.base import Action, register
from integration.core.calendars import WALL_CLOCK, Duration, parse_duration
from integration.core.draft import Draft
from integration.core.events import STATUSES
from integration.core.plan import DeadlineStart
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node

MET_BY = ("agent_reply", "customer_reply", "solved")
DEADLINE_KEYS = ("name", "within", "calendar", "met_by", "pause_while")


@register
@dataclass(frozen=True)
class StartDeadline(Action):
    name = "deadline"
    deadline: str
    within: Duration
    calendar: str | None = None
    met_by: tuple[str, ...] = ("agent_reply",)
    pause_while: tuple[str, ...] = ("pending", "on_hold")

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> StartDeadline | None:
        if not ctx.mapping(node, required=("name", "within"), optional=DEADLINE_KEYS[2:], what="a mapping with name and within"):
            return None
        values = node.value
        name = ctx.identifier(values["name"])
        within = _duration(values["within"], ctx)
        calendar = ctx.identifier(values["calendar"]) if "calendar" in values else None
        if calendar:
            ctx.require("calendar", calendar, values["calendar"])
        met_by = ctx.choice_list(values["met_by"], MET_BY) if "met_by" in values else list(cls.met_by)
        pause = ctx.choice_list(values["pause_while"], STATUSES) if "pause_while" in values else list(cls.pause_while)
        if name:
            ctx.deadlines_started.add(name)
        if None in (name, within, met_by, pause) or ("calendar" in values and calendar is None):
            return None
        return cls(name, within, calendar, tuple(met_by), tuple(pause))  # type: ignore[arg-type]

    def contribute(self, draft: Draft) -> str:
        calendar = draft.ruleset.calendars[self.calendar] if self.calendar else WALL_CLOCK
        due_at = calendar.add(draft.now, self.within)
        draft.effects.deadlines.append(
            DeadlineStart(self.deadline, due_at, str(self.within), self.calendar, self.met_by, self.pause_while, draft.rule_id)
        )
        return f"deadline {self.deadline} due {due_at:%Y-%m-%d %H:%M} UTC"


def _duration(node: Node, ctx: ParseContext) -> Duration | None:
    if not isinstance(node.value, str):
        ctx.expected(node, 'a duration like 4h, 30m, 2d or 45s, optionally followed by "business"')
        return None
    try:
        return parse_duration(node.value)
    except ValueError as error:
        ctx.report(node, str(error))
        return None


@register
@dataclass(frozen=True)
class CancelDeadline(Action):
    name = "cancel_deadline"
    deadlines: tuple[str, ...]

    @classmethod
    def parse(cls, node: Node, ctx: ParseContext) -> CancelDeadline | None:
        names = ctx.string_list(node, "a deadline name or a list of them", allow_single=True)
        if not names:
            return None
        for item in node.value if node.is_list else [node]:
            ctx.require("deadline", str(item.value), item)
        return cls(tuple(names))

    def contribute(self, draft: Draft) -> str:
        for name in self.deadlines:
            if name not in draft.effects.cancel_deadlines:
                draft.effects.cancel_deadlines.append(name)
        return "cancel deadline " + ", ".join(self.deadlines)
