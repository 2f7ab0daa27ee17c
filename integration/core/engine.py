"""The rule engine: a pure function from (event, rule set, now) to a Plan.

No I/O and no clock: everything it needs is in its arguments, so the same event planned
twice gives the same plan, and tests pass fixed times. It imports no Flask, SQL, HTTP or
platform client (a test walks its imports to keep it so).
"""

from __future__ import annotations

from datetime import datetime

from integration.core.draft import Draft
from integration.core.events import EventKind, TicketEvent
from integration.core.plan import Checkpoint, ConditionResult, Plan, RuleTrace
from integration.core.ruleset import Rule, RuleSet


def plan(event: TicketEvent, ruleset: RuleSet, now: datetime, checkpoint: Checkpoint | None = None) -> Plan:
    """`checkpoint` is called before each rule (the worker's processing deadline)."""
    if now.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    draft = Draft.start(event, ruleset, now)
    if EventKind.DELETED in event.kinds:
        draft.warnings.append(f"the ticket is gone ({event.source_type or 'deleted'}): its running deadlines end, and nothing is written to it")
    traces: list[RuleTrace] = []
    stopped_by: str | None = None
    for rule in ruleset.rules:
        listened = event.listens(rule.on)
        if stopped_by is not None:
            traces.append(RuleTrace(rule.id, listened, False, skipped_because=f"rule {stopped_by} stopped evaluation"))
            continue
        if checkpoint is not None:
            checkpoint(rule.id)
        trace = _evaluate(rule, listened, draft)
        traces.append(trace)
        if trace.stopped:
            stopped_by = rule.id
    effects = draft.finish()
    department = ruleset.departments.get(effects.department or "") if effects.department else None
    title = department.title_in(draft.language, ruleset.settings.default_language) if department else None
    return Plan(event, now, tuple(traces), effects, title, tuple(draft.warnings), draft.language)


def _evaluate(rule: Rule, listened: bool, draft: Draft) -> RuleTrace:
    if not listened:
        return RuleTrace(rule.id, False, False)
    results: list[ConditionResult] = []
    matched = rule.condition.evaluate(draft.facts, False, results) if rule.condition else True
    if not matched:
        return RuleTrace(rule.id, True, False, tuple(results))
    draft.rule = rule
    done = tuple(action.contribute(draft) for action in rule.actions)
    draft.rule = None
    return RuleTrace(rule.id, True, True, tuple(results), done, stopped=rule.stop)

