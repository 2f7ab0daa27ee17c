"""Feedback requests made real: the worker turns each `FeedbackRequest` of a plan into a
public comment carrying a signed link, once the plan is made (the engine holds no secret).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from integration.core.feedback import tokens
from integration.core.plan import FeedbackRequest, NoteEffect, Plan
from integration.core.ruleset import RuleSet


@dataclass(frozen=True)
class FeedbackLinks:
    secret_key: str | None
    public_url: str
    valid_for: timedelta = tokens.VALID_FOR

    def with_links(self, plan: Plan, ruleset: RuleSet, resolution: str, now: datetime) -> Plan:
        """The plan with its feedback requests rendered as public comments; without a
        SECRET_KEY nothing is sent, and the plan says why."""
        requests = plan.effects.feedback
        if not requests:
            return plan
        if not self.secret_key:
            unsent = ", ".join(request.template for request in requests)
            return replace(plan, warnings=(*plan.warnings, f"feedback request not sent (SECRET_KEY is not set): {unsent}"))
        notes = [self._comment(self.secret_key, plan, request, ruleset, resolution, now) for request in requests]
        return replace(plan, effects=replace(plan.effects, notes=[*plan.effects.notes, *notes]))

    def _comment(self, secret_key: str, plan: Plan, request: FeedbackRequest, ruleset: RuleSet, resolution: str, now: datetime) -> NoteEffect:
        token = tokens.issue(
            secret_key,
            plan.event.platform,
            plan.event.ticket_id,
            resolution,
            request.language,
            request.department,
            now,
            self.valid_for,
            reference=plan.event.display_id,
        )
        context = {**request.context, "feedback_url": tokens.url(self.public_url, token)}
        body = ruleset.templates[request.template].render(request.language, ruleset.settings.default_language, context)
        return NoteEffect(key=request.key, body=body, public=True)
