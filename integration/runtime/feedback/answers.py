"""Submitting an answer: it is stored and raised as a `feedback_received` event in the same
transaction, so an answer is never stored without the rules hearing of it (nor the reverse).

The event goes through the inbox like a webhook; the worker writes it back onto the ticket
(internal note, csat-N tag) and plans it with the rules (`on: [feedback_received]`).
"""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from integration.core.events import EventKind, TicketEvent
from integration.core.feedback.tokens import FeedbackLink
from integration.runtime.clock import INTERNAL_MARK
from integration.runtime.feedback.store import (
    answer,
    answered_since,
    last_written_answer,
    later_answer,
    record_answer,
)
from integration.runtime.inbox import Inbox, StoredEvent
from integration.runtime.store import writing

SOURCE_TYPE = "dispute-desk:feedback_received"
COMMENT_LIMIT = 2000  # characters
# Per link (one resolution): a customer changing their mind is a few answers; a script is many.
ANSWERS_PER_WINDOW = 5
ANSWER_WINDOW = timedelta(hours=1)


class TooManyAnswers(Exception):
    """The link answered ANSWERS_PER_WINDOW times within ANSWER_WINDOW; nothing was stored."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many answers through one link; retry in {retry_after} s")
        self.retry_after = retry_after


def submit(engine: Engine, inbox: Inbox, link: FeedbackLink, rating: int, comment: str | None, now: datetime) -> int:
    """Store the answer and raise its event; returns the answer's id. Raises TooManyAnswers
    past the link's rate limit (checked in the same transaction: on SQLite it is exact, on
    PostgreSQL two answers racing may both pass the last free place)."""
    with writing(engine) as connection:
        recent = answered_since(connection, link, now - ANSWER_WINDOW)
        if len(recent) >= ANSWERS_PER_WINDOW:
            frees_at = recent[-ANSWERS_PER_WINDOW] + ANSWER_WINDOW
            raise TooManyAnswers(max(1, math.ceil((frees_at - now).total_seconds())))
        answer_id = record_answer(connection, link, rating, comment, now)
        payload = event_payload(link, rating, comment, answer_id)
        inbox.add_in(connection, link.platform, f"feedback:{answer_id}", link.ticket_id, SOURCE_TYPE, json.dumps(payload), {}, now)
    return answer_id


def event_payload(link: FeedbackLink, rating: int, comment: str | None, answer_id: int) -> dict[str, Any]:
    return {
        INTERNAL_MARK: "feedback_received",
        "platform": link.platform,
        "ticket_id": link.ticket_id,
        "rating": rating,
        "comment": comment or None,
        "resolution": link.resolution,
        "language": link.language,
        "department": link.department,
        "answer_id": answer_id,
    }


def clean_comment(text: str | None) -> str | None:
    """The comment as stored: line ends as one character each (as the browser counted them
    against maxlength), control characters dropped (PostgreSQL refuses NUL), trimmed."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")
    return text.strip() or None


def stale_reason(engine: Engine, event: TicketEvent) -> str | None:
    """Why an answer's event need not be written: a later answer of the same resolution will
    be (only the latest pending answer counts), or the ticket already has this very answer.
    Events of a ticket are processed in order, so every earlier answer's event is settled."""
    if EventKind.FEEDBACK_RECEIVED not in event.kinds or not event.delivery_id.startswith("feedback:"):
        return None
    with engine.connect() as connection:
        given = answer(connection, int(event.delivery_id.removeprefix("feedback:")))
        if given is None:
            return None
        later = later_answer(connection, given)
        if later is not None:
            return f"superseded by a later answer to the same feedback request (answer {later})"
        written = last_written_answer(connection, given)
    if written is not None and (written.rating, written.comment) == (given.rating, given.comment):
        return f"the same answer as answer {written.id}, already on the ticket"
    return None


def follow_up_key(stored: StoredEvent) -> str:
    """What names the follow-up ticket of a closed one: the resolution the answer is about,
    so that every answer to one feedback request finds the same follow-up."""
    resolution = json.loads(stored.payload).get("resolution")
    return f"dispute-desk:follow-up:{stored.ticket_key}:{resolution}" if resolution else f"dispute-desk:follow-up:{stored.delivery_id}"
