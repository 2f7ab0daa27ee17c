"""What a plan says about a message: flagged as a dispute or not, which department, and the
cues (rules and the words or conditions that made them match) that decided it."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.actions.routing import Escalate, Route
from integration.core.plan import ConditionResult, Plan
from integration.core.ruleset import RuleSet

DISPUTE_TAG = "dispute"
FLAGGED_MEANS = f"the plan adds the `{DISPUTE_TAG}` tag or routes the ticket to a department"


def is_flagged(plan: Plan) -> bool:
    """The one definition of "the rules took this message for a dispute" (`FLAGGED_MEANS`)."""
    return DISPUTE_TAG in plan.effects.add_tags or plan.effects.department is not None


@dataclass(frozen=True)
class RuleCue:
    rule_id: str
    cues: tuple[str, ...]  # e.g. "text words …reclamação…"

    def describe(self) -> str:
        return f"{self.rule_id}: {'; '.join(self.cues) or 'matched (no condition)'}"


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    department: str | None
    language: str  # the language the rules detected
    matched: tuple[RuleCue, ...]  # every rule that matched, in rule order
    routed_by: RuleCue | None  # the rule whose route or escalation decided the department


def verdict_of(plan: Plan, ruleset: RuleSet) -> Verdict:
    matched = tuple(RuleCue(t.rule_id, tuple(_cue(c) for c in t.conditions if _is_cue(c))) for t in plan.traces if t.matched)
    router = _router(plan, ruleset)
    routed_by = next((cue for cue in matched if cue.rule_id == router), None)
    return Verdict(is_flagged(plan), plan.effects.department, plan.language, matched, routed_by)


def _is_cue(result: ConditionResult) -> bool:
    """A condition that held in the positive: a word found, a tag present, a value compared.
    Negated ones (`none:`, `not_in`) held because something was absent: they say nothing of why."""
    return result.held and not result.operator.startswith("not")


def _cue(result: ConditionResult) -> str:
    if result.operator in ("words", "matches") and isinstance(result.actual, str) and result.actual.startswith("…"):
        return f"{result.field} {result.operator} {result.actual}"
    return f"{result.field} {result.operator} {_expected(result.expected)} (saw {result.actual!r})"


LISTED_AT_MOST = 4


def _expected(expected: object) -> str:
    """A word list is named by its size: the cue is what was seen, not the 60 phrases it was among."""
    if isinstance(expected, list) and len(expected) > LISTED_AT_MOST:
        return f"[{len(expected)} phrases]"
    return repr(expected)


def _router(plan: Plan, ruleset: RuleSet) -> str | None:
    """As the draft merges routes: the last matched escalation to the department wins, else
    the first matched route to it."""
    department = plan.effects.department
    if department is None:
        return None
    rules = {rule.id: rule for rule in ruleset.rules}
    escalations, routes = [], []
    for rule_id in plan.matched_rules:
        for action in rules[rule_id].actions:
            if isinstance(action, Escalate) and action.to == department:
                escalations.append(rule_id)
            elif isinstance(action, Route) and action.department == department:
                routes.append(rule_id)
    return escalations[-1] if escalations else (routes[0] if routes else None)
