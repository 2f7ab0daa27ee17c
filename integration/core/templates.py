"""Localized message texts: Jinja in a sandbox, strict about undefined variables.

Templates are compiled and test-rendered against sample contexts when the rules load, so a
typo in a variable name is a load error with a position, never a failed write later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

ENVIRONMENT = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain-text comments; the platforms escape on display
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class Template:
    id: str
    sources: Mapping[str, str]  # language -> Jinja source
    compiled: Mapping[str, jinja2.Template]

    def render(self, language: str, default_language: str, context: Mapping[str, Any]) -> str:
        chosen = language if language in self.compiled else default_language
        return self.compiled[chosen].render(context).strip()


def compile_text(source: str) -> jinja2.Template:
    """Raises jinja2.TemplateSyntaxError with a line number inside the text."""
    return ENVIRONMENT.from_string(source)


# The variables a template may use; `feedback_url` only in feedback requests.
SAMPLE_CONTEXT: dict[str, Any] = {
    "ticket": {
        "id": "12345",
        "subject": "Charged twice",
        "description": "I was charged twice for order 991.",
        "status": "open",
        "priority": "high",
        "url": "https://example.zendesk.com/agent/tickets/12345",
        "platform": "zendesk",
        "tags": ["dispute"],
    },
    "requester": {"name": "Ana Souza", "email": "ana@example.com", "organization": "Example Ltda"},
    "department": {"id": "finance", "title": "Finance"},
    "deadline": {"name": "first-response", "overdue": "2 hours", "due_at": "2026-01-05 14:00 UTC"},
    "rating": 2,
    "feedback_comment": "Too slow.",
    "rule": {"id": "billing-dispute", "description": "Money disputes go to Finance."},
    "language": "en",
}
FEEDBACK_SAMPLE_CONTEXT: dict[str, Any] = {
    **SAMPLE_CONTEXT,
    "feedback_url": "https://dispute-desk.example.com/feedback/token",
}
TEMPLATE_VARIABLES = tuple(sorted(SAMPLE_CONTEXT))
