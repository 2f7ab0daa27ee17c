"""A plan, explained: which rules listened, which matched, each condition with the value
it saw, and what would be written. Used by `dispute-desk explain` and in logs."""

from __future__ import annotations

from typing import Any

from integration.core.matching import complaint, topic
from integration.core.plan import Plan, RuleTrace
from integration.core.templates import plain


def as_text(plan: Plan) -> str:
    event = plan.event
    kinds = ", ".join(sorted(kind.value for kind in event.kinds))
    lines = [
        f"Event: {event.platform} ticket {event.ticket_id}: {kinds} ({event.source_type or 'unknown type'})",
        f"Status: {event.status or '-'}   Priority: {event.priority or '-'}   Tags: {', '.join(event.tags) or '-'}",
        _complaint_line(plan),
        _topic_line(plan),
        "",
        "Rules:",
    ]
    for trace in plan.traces:
        lines.extend(_trace_lines(trace))
    lines += ["", "Plan:", *_effect_lines(plan)]
    lines += [f"warning: {warning}" for warning in plan.warnings]
    return "\n".join(lines)


TOP_CUES = 5


def _complaint(plan: Plan) -> complaint.Score:
    # The same score the `complaint` condition read: same text, same language.
    return complaint.score(plan.event.text, plan.language)


def _complaint_line(plan: Plan) -> str:
    found = _complaint(plan)
    cues = ", ".join(f"{cue} {weight:+.2f}" for cue, weight in found.top(TOP_CUES)) or "no cue found"
    return f"Complaint: {found.value:.2f} ({plan.language}: {cues})"


def _topic(plan: Plan) -> topic.Topic:
    # The same topic the `topic` condition read.
    return topic.most_confident(plan.event.text, plan.language)


def _topic_line(plan: Plan) -> str:
    found = _topic(plan)
    cues = ", ".join(f"{cue} {weight:+.2f}" for cue, weight in found.top(TOP_CUES)) or "no cue found"
    others = ", ".join(f"{department} {p:.2f}" for department, p in found.probabilities[1:3])
    return f"Topic: {found.department} {found.probability:.2f} ({found.language}: {cues}; next: {others})"


def _trace_lines(trace: RuleTrace) -> list[str]:
    if trace.skipped_because:
        return [f"  [-] {trace.rule_id}: not evaluated ({trace.skipped_because})"]
    if not trace.listened:
        return [f"  [-] {trace.rule_id}: does not listen to this event"]
    mark, verdict = ("[x]", "matched") if trace.matched else ("[ ]", "no match")
    lines = [f"  {mark} {trace.rule_id}: {verdict}{' (stops later rules)' if trace.stopped else ''}"]
    lines += [f"        {result.describe()}" for result in trace.conditions]
    lines += [f"        -> {action}" for action in trace.actions]
    return lines


def _effect_lines(plan: Plan) -> list[str]:
    effects = plan.effects
    lines = []
    if effects.department:
        lines.append(f"  route to: {effects.department} ({plan.department_title})")
    if effects.priority:
        lines.append(f"  priority: {effects.priority}")
    if effects.status:
        lines.append(f"  status: {effects.status}")
    if effects.add_tags:
        lines.append(f"  add tags: {', '.join(effects.add_tags)}")
    if effects.remove_tags:
        lines.append(f"  remove tags: {', '.join(effects.remove_tags)}")
    for note in effects.notes:
        lines.append(f"  {'public reply' if note.public else 'internal note'} ({note.key}):")
        lines += [f"    | {line}" for line in plain(note.body).splitlines()]
    for subtasks in effects.subtasks:
        lines.append(f"  sub-tasks ({subtasks.key}): {subtasks.title}: {len(subtasks.items)} items")
    for deadline in effects.deadlines:
        lines.append(f"  start deadline {deadline.name}: due {deadline.due_at:%Y-%m-%d %H:%M} UTC ({deadline.within})")
    for name in effects.cancel_deadlines:
        lines.append(f"  cancel deadline {name}")
    for request in effects.feedback:
        lines.append(f"  feedback request: {request.template} ({request.language})")
    return lines or ["  nothing to write"]


def as_dict(plan: Plan) -> dict[str, Any]:
    found = _complaint(plan)
    about = _topic(plan)
    return {
        **plan.summary(),
        "complaint": {"score": found.value, "language": plan.language, "cues": [[cue, weight] for cue, weight in found.top(TOP_CUES)]},
        "topic": {
            "department": about.department,
            "probability": about.probability,
            "language": about.language,
            "cues": [[cue, weight] for cue, weight in about.top(TOP_CUES)],
            "probabilities": dict(about.probabilities),
        },
        "rules": [
            {
                "rule": t.rule_id,
                "listened": t.listened,
                "matched": t.matched,
                "skipped_because": t.skipped_because or None,
                "conditions": [
                    {"path": c.path, "field": c.field, "operator": c.operator, "expected": c.expected, "saw": c.actual, "held": c.held}
                    for c in t.conditions
                ],
                "actions": list(t.actions),
            }
            for t in plan.traces
        ],
        "notes": [{"key": n.key, "public": n.public, "body": plain(n.body)} for n in plan.effects.notes],
    }


def outcome_of(plan: Plan, written: dict[str, Any], timers: dict[str, list[str]]) -> dict[str, Any]:
    """What an event's row keeps of its plan: the summary, what was written, the deadlines
    recorded, and each listening rule with the conditions that failed."""
    return {
        **plan.summary(),
        "written": written,
        "deadlines_recorded": timers,
        "explanation": [
            {
                "rule": trace.rule_id,
                "matched": trace.matched,
                "failed": [f"{c.field} {c.operator} {c.expected!r} (saw {c.actual!r})" for c in trace.conditions if not c.held],
                "did": list(trace.actions),
            }
            for trace in plan.traces
            if trace.listened
        ],
    }
