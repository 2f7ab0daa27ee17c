"""A labelled corpus: one customer message a line, as JSON, and the new ticket each would be.

The format, for an admin exporting tickets from their own helpdesk (UTF-8, one object a line):

    {"text": "Me cobraron dos veces", "dispute": true, "department": "finance"}
    {"text": "Can you resend the invoice?", "lang": "en", "dispute": false}
    {"id": "T-77", "text": "...", "dispute": true, "department": "logistics", "also": ["marketing"]}

`text` and `dispute` are required; `department` is required for a dispute (a department of the
rules) and absent or null for an ordinary message; `also` lists departments a support lead
would accept as well; `lang` (en, pt, es) groups the figures (without it, the language the rules
detect); `id` names the line in the report (default "line N"). Other fields are kept out of the
way (`source`, `written`). Every problem is reported at once, with its line number.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integration.core.events import LANGUAGES, EventKind, Requester, TicketEvent


class CorpusError(ValueError):
    """Lines that cannot be scored, each as "line N: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _LineProblem(Exception):
    """What is wrong with one line (reported with its number)."""


@dataclass(frozen=True)
class LabelledMessage:
    id: str
    text: str
    dispute: bool
    department: str | None = None
    also: tuple[str, ...] = ()
    lang: str | None = None

    @property
    def accepted(self) -> frozenset[str]:
        """The departments a support lead would accept for this dispute."""
        return frozenset(d for d in (self.department, *self.also) if d)


def parse_corpus(text: str, departments: Collection[str]) -> list[LabelledMessage]:
    """The messages of a JSONL corpus, or a CorpusError naming every line that is wrong."""
    messages: list[LabelledMessage] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            messages.append(_message(line, number, departments))
        except _LineProblem as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise CorpusError(problems)
    if not messages:
        raise CorpusError(["no messages: expected one JSON object a line"])
    return messages


def _message(line: str, number: int, departments: Collection[str]) -> LabelledMessage:
    try:
        row = json.loads(line)
    except ValueError as error:
        raise _LineProblem(f"not JSON ({error})") from None
    if not isinstance(row, dict):
        raise _LineProblem(f"expected a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _LineProblem("`text` must be the customer's message (a non-empty string)")
    dispute = row.get("dispute")
    if not isinstance(dispute, bool):
        raise _LineProblem(f"`dispute` must be true or false: every line needs its label (got {dispute!r})")
    department = row.get("department")
    also = row.get("also") or []
    if dispute:
        _check_department(department, departments, "`department` of a dispute")
    elif department is not None or also:
        raise _LineProblem(f"an ordinary message (dispute: false) has no `department` or `also` (got {department!r}, {also!r})")
    if not isinstance(also, list):
        raise _LineProblem(f"`also` must be a list of departments (got {also!r})")
    for other in also:
        _check_department(other, departments, "each of `also`")
    lang = row.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise _LineProblem(f"`lang` must be one of {', '.join(LANGUAGES)} or left out (got {lang!r})")
    return LabelledMessage(str(row.get("id") or f"line {number}"), text, dispute, department, tuple(also), lang)


def _check_department(value: Any, departments: Collection[str], what: str) -> None:
    if value not in departments:
        raise _LineProblem(f"{what} must be a department of the rules ({', '.join(sorted(departments))}) (got {value!r})")


def as_new_ticket(message: LabelledMessage, now: datetime) -> TicketEvent:
    """The message as it would arrive: a new web ticket from a customer whose locale is unknown
    (so the rules detect the language), its whole text the description, no subject, no tags."""
    return TicketEvent(
        platform="zendesk",
        ticket_id=message.id,
        kinds=frozenset({EventKind.CREATED}),
        delivery_id=f"evaluate:{message.id}",
        occurred_at=now,
        source_type="evaluation",
        status="new",
        channel="web",
        description=message.text,
        requester=Requester(id="customer"),
    )
