"""Localized message texts: Jinja in a sandbox, strict about undefined variables.

Templates are compiled and test-rendered against sample contexts when the rules load, so a
typo in a variable name is a load error with a position, never a failed write later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
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


from integration.core.plan import PlanAbandoned

# The sandbox keeps templates from reaching Python, not from working forever: two nested
# `range(100000)` loops hang the load. So every rendering has a budget of loop rounds and
# range() values, repetition (`*`, `**`) is checked before it runs, and the output is capped.
MAX_STEPS = 10_000  # loop rounds plus range() values in one rendering
MAX_OUTPUT = 64 * 1024  # characters of a rendered text (a Zendesk comment holds 64 KB)
MAX_INTEGER_BITS = 4096  # `*` and `**` on numbers
_COUNTED = "__dispute_desk_counted"  # wraps what every `for` loops over

_steps_left: ContextVar[list[int]] = ContextVar("template_steps_left")


class TemplateTooCostly(PlanAbandoned):
    """A rendering would go past its budget; the message says which bound, for the admin."""


def _spend(count: int) -> None:
    left = _steps_left.get()
    left[0] -= count
    if left[0] < 0:
        raise TemplateTooCostly(f"must render in at most {MAX_STEPS} loop rounds and range() values")


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend(1)
        yield item


def _bounded_range(*args: int) -> range:
    values = range(*args)
    _spend(len(values))
    return values


def _too_big(operator: str, left: Any, right: Any) -> bool:
    if operator == "**":
        return isinstance(right, int) and isinstance(left, int) and abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_INTEGER_BITS
    for sized, times in ((left, right), (right, left)):
        if isinstance(sized, (str, list, tuple)) and isinstance(times, int) and len(sized) * times > MAX_OUTPUT:
            return True
    return isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INTEGER_BITS


class _BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})  # also keeps them from being folded at compile time

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_COUNTED, "load"), [loop.iter], [], None, None, lineno=loop.lineno)
        return tree

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if _too_big(operator, left, right):
            raise TemplateTooCostly(f"must not make values that large (`{operator}` on {type(left).__name__} and {type(right).__name__})")
        return super().call_binop(context, operator, left, right)


ENVIRONMENT = _BoundedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain-text comments; customer values are marked and escaped per platform
    keep_trailing_newline=False,
    finalize=_finalize,
)
ENVIRONMENT.globals.update({"range": _bounded_range, _COUNTED: _counted})


def render_bounded(compiled: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render within the budget; raises TemplateTooCostly past it."""
    token = _steps_left.set([MAX_STEPS])
    try:
        chunks: list[str] = []
        size = 0
        for chunk in compiled.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateTooCostly(f"must render at most {MAX_OUTPUT} characters")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _steps_left.reset(token)


@dataclass(frozen=True)
class Template:
    id: str
    sources: Mapping[str, str]  # language -> Jinja source
    compiled: Mapping[str, jinja2.Template]

    def render(self, language: str, default_language: str, context: Mapping[str, Any]) -> str:
        chosen = language if language in self.compiled else default_language
        return render_bounded(self.compiled[chosen], context).strip()


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
    "deadline": {"name": "first-response", "title": "first response", "overdue": "2 hours", "due_at": "2026-01-05 11:00 (America/Sao_Paulo)"},
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
