"""Localized message texts: Jinja in a sandbox, strict about undefined variables.

Templates are compiled and test-rendered against sample contexts when the rules load, so a
typo in a variable name is a load error with a position, never a failed write later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

# Customer-written text travels through a note between private-use characters (never in a
# message of ours: `customer` drops them from what it wraps), so that each platform's writer
# can escape it by its own rules: Jira wiki markup, Zendesk Markdown, nothing in ADF.
INLINE = ("\ue000", "\ue001")  # a value inside a sentence
BLOCK = ("\ue002", "\ue003")  # a quoted block of its own
_SPANS = re.compile("\ue000(.*?)\ue001|\ue002(.*?)\ue003", re.DOTALL)
_MARKERS = re.compile("[\ue000-\ue003]")


class CustomerText(str):
    """A value the customer wrote (subject, description, name, feedback comment): a
    template shows it quoted, never rendered as the platform's markup."""


def customer(text: str, block: bool = False) -> str:
    """The text marked as written by the customer (an empty text stays empty)."""
    text = _MARKERS.sub("", text)
    if not text:
        return text
    start, end = BLOCK if block else INLINE
    return f"{start}{text}{end}"


def render_customer(body: str, inline: Callable[[str], str], block: Callable[[str], str]) -> str:
    """The body with each customer span escaped by the platform's rules."""
    return _SPANS.sub(lambda match: inline(match[1]) if match[1] is not None else block(match[2]), body)


def plain(body: str) -> str:
    """The body as text, customer spans as they were written (ADF, logs, explain)."""
    return _MARKERS.sub("", body)


def _finalize(value: Any) -> Any:
    # A filter applied to a customer value (`| upper`) returns a plain str and loses the mark:
    # templates should print customer values as they are.
    return customer(value) if isinstance(value, CustomerText) else value


ENVIRONMENT = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain-text comments; customer values are marked and escaped per platform
    keep_trailing_newline=False,
    finalize=_finalize,
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
