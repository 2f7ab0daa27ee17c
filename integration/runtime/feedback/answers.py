"""Submitting an answer: it is stored and raised as a `feedback_received` event in the same
transaction, so an answer is never stored without the rules hearing of it (nor the reverse).

The event goes through the inbox like a webhook; the worker writes it back onto the ticket
(internal note, csat-N tag) and plans it with the rules (`on: [feedback_received]`).
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from integration.core.feedback.tokens import FeedbackLink
from integration.runtime.clock import INTERNAL_MARK
from integration.runtime.feedback.store import record_answer
from integration.runtime.inbox import Inbox
from integration.runtime.store import writing

SOURCE_TYPE = "dispute-desk:feedback_received"
COMMENT_LIMIT = 2000  # characters


def submit(engine: Engine, inbox: Inbox, link: FeedbackLink, rating: int, comment: str | None, now: datetime) -> int:
    """Store the answer and raise its event; returns the answer's id."""
    with writing(engine) as connection:
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
