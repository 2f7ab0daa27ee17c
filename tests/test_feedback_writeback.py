"""The built-in write-back of a feedback answer, as the engine plans it (pure): an internal
note in the ticket's language and a `csat-N` tag that replaces any other `csat-N`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integration.core import engine
from integration.core.events import EventKind, Requester, TicketEvent
from integration.core.templates import plain
from integration.runtime.rulefiles import load_ruleset
from tests.conftest import RULES

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
RULESET = load_ruleset(RULES)
LOCALES = {"en": "en-US", "pt": "pt-BR", "es": "es-ES"}


def answer(rating: int, comment: str | None, language: str, tags: tuple[str, ...] = ("dispute",)) -> TicketEvent:
    return TicketEvent(
        platform="zendesk",
        ticket_id="35436",
        kinds=frozenset({EventKind.FEEDBACK_RECEIVED}),
        delivery_id="feedback:7",
        source_type="dispute-desk:feedback_received",
        status="solved",
        tags=tags,
        requester=Requester(id="1", name="Ana", locale=LOCALES[language]),
        rating=rating,
        feedback_comment=comment,
    )


@pytest.mark.parametrize(
    "language, rating, comment, expected",
    [
        ("en", 5, "Quick and fair.", "Customer feedback: ★★★★★ 5/5.\nComment written by the customer:\nQuick and fair."),
        ("en", 3, None, "Customer feedback: ★★★☆☆ 3/5.\nNo comment."),
        ("pt", 1, "Demorou demais.", "Avaliação do cliente: ★☆☆☆☆ 1/5.\nComentário escrito pelo cliente:\nDemorou demais."),
        ("pt", 4, "   ", "Avaliação do cliente: ★★★★☆ 4/5.\nSem comentário."),
        ("es", 2, "Nadie me llamó.", "Valoración del cliente: ★★☆☆☆ 2/5.\nComentario escrito por el cliente:\nNadie me llamó."),
        ("es", 5, None, "Valoración del cliente: ★★★★★ 5/5.\nSin comentario."),
    ],
)
def test_the_answer_is_an_internal_note_in_the_tickets_language(language, rating, comment, expected):
    plan = engine.plan(answer(rating, comment, language), RULESET, NOW)

    [note] = [n for n in plan.effects.notes if n.key == "feedback-answer:feedback:7"]
    assert (plain(note.body), note.public) == (expected, False)  # the comment marked as the customer's (tests/test_customer_text.py)
    assert plan.language == language


@pytest.mark.parametrize(
    "tags, rating, added, removed",
    [
        (("dispute",), 4, {"csat-4"}, set()),
        (("dispute", "csat-2"), 4, {"csat-4"}, {"csat-2"}),  # a changed answer moves the tag
        (("dispute", "csat-4"), 4, set(), set()),  # the same answer again changes nothing
        (("dispute", "csat-1", "csat-5"), 3, {"csat-3"}, {"csat-1", "csat-5"}),
    ],
)
def test_the_csat_tag_is_the_latest_answers_only(tags, rating, added, removed):
    plan = engine.plan(answer(rating, None, "en", tags), RULESET, NOW)

    assert {t for t in plan.effects.add_tags if t.startswith("csat-") and t[5:].isdigit()} == added
    assert set(plan.effects.remove_tags) == removed
