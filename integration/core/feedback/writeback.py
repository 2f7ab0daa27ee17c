"""What an answered feedback request writes on the ticket, whatever the rules say: an
internal note with the rating and the comment, and a `csat-N` tag (the latest answer's
only: a changed answer moves the tag). Pure; the engine adds it to the plan."""

from __future__ import annotations

from integration.core.events import TicketEvent
from integration.core.plan import Effects, NoteEffect
from integration.core.templates import customer

CSAT_TAGS = tuple(f"csat-{rating}" for rating in range(1, 6))

# The comment is quoted under a label saying who wrote it: on the ticket it sits among our
# notes, and its words are the customer's, shown as written (each platform escapes them).
_NOTE = {
    "en": ("Customer feedback: {stars} {rating}/5.", "Comment written by the customer:", "No comment."),
    "pt": ("Avaliação do cliente: {stars} {rating}/5.", "Comentário escrito pelo cliente:", "Sem comentário."),
    "es": ("Valoración del cliente: {stars} {rating}/5.", "Comentario escrito por el cliente:", "Sin comentario."),
}


def csat_tag(rating: int) -> str:
    return f"csat-{rating}"


def answer_note(event: TicketEvent, language: str) -> NoteEffect:
    heading, with_comment, without_comment = _NOTE.get(language, _NOTE["en"])
    rating = event.rating or 0
    stars = "★" * rating + "☆" * (5 - rating)
    comment = event.feedback_comment.strip() if event.feedback_comment else ""
    body = heading.format(stars=stars, rating=rating) + "\n" + (f"{with_comment}\n{customer(comment, block=True)}" if comment else without_comment)
    # One note per answer: the delivery id (feedback:<answer id>) keeps a changed answer's note apart.
    return NoteEffect(key=f"feedback-answer:{event.delivery_id}", body=body, public=False)


def add_answer(effects: Effects, event: TicketEvent, language: str) -> None:
    """The built-in write-back of a feedback answer, added before the rules' own effects
    are merged, so a rule may still tag or note on top of it."""
    if event.rating is None:
        return
    effects.tag(csat_tag(event.rating))
    effects.remove_tags.extend(tag for tag in CSAT_TAGS if tag != csat_tag(event.rating) and tag not in effects.remove_tags)
    effects.notes.insert(0, answer_note(event, language))
