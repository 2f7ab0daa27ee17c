"""Feedback requests and answers in the database, and the figures reported from them.

A request is recorded once per resolution; every answer is stored, and the latest one
per resolution is the customer's answer (they may change it until the link expires).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, and_, cast, func, select

from integration.core.feedback.tokens import FeedbackLink
from integration.runtime.store import (
    feedback_answers,
    feedback_requests,
    from_db,
    inbox,
    insert_ignoring_duplicates,
    to_db,
)


@dataclass(frozen=True)
class DepartmentReport:
    department: str | None
    requests: int
    answered: int  # requests with at least one answer
    response_rate: float  # answered / requests, 0.0 to 1.0
    average_rating: float | None  # of the latest answer per answered request


@dataclass(frozen=True)
class FeedbackCounts:
    """For /metrics, keyed by (platform, department) and (platform, department, rating)."""

    requests: dict[tuple[str, str | None], int]
    answers: dict[tuple[str, str | None], int]
    ratings: dict[tuple[str, str | None, int], int]


def record_request(
    connection: Connection,
    *,
    platform: str,
    ticket_id: str,
    resolution: str,
    language: str,
    department: str | None,
    now: datetime,
) -> bool:
    """Note that a resolution's feedback was asked for; False if it was asked before."""
    row = {
        "platform": platform,
        "ticket_id": str(ticket_id),
        "ticket_key": f"{platform}:{ticket_id}",  # as the inbox keys tickets
        "resolution": resolution,
        "department": department,
        "language": language,
        "sent_at": to_db(now),
    }
    # A replayed solve is an ordinary outcome: nothing inserted, nothing raised.
    statement = insert_ignoring_duplicates(connection.engine, feedback_requests, "platform", "ticket_id", "resolution").values(**row).returning(feedback_requests.c.id)
    return connection.execute(statement).scalar() is not None


def requested(connection: Connection, platform: str, ticket_id: str, resolution: str) -> bool:
    query = select(feedback_requests.c.id).where(
        feedback_requests.c.platform == platform,
        feedback_requests.c.ticket_id == str(ticket_id),
        feedback_requests.c.resolution == resolution,
    )
    return connection.execute(query).first() is not None


def record_answer(connection: Connection, link: FeedbackLink, rating: int, comment: str | None, now: datetime) -> int:
    """Store one submission; returns its id."""
    if not 1 <= rating <= 5:
        raise ValueError(f"rating must be 1 to 5 (got {rating})")
    statement = (
        feedback_answers.insert()
        .values(
            platform=link.platform,
            ticket_id=link.ticket_id,
            ticket_key=link.ticket_key,
            resolution=link.resolution,
            rating=rating,
            comment=comment or None,
            language=link.language,
            department=link.department,
            submitted_at=to_db(now),
        )
        .returning(feedback_answers.c.id)
    )
    return int(connection.execute(statement).scalar_one())


def latest_answer(connection: Connection, link: FeedbackLink) -> tuple[int, str | None] | None:
    """The (rating, comment) the customer gave last for this resolution, if any."""
    query = (
        select(feedback_answers.c.rating, feedback_answers.c.comment)
        .where(*_same_resolution(link))
        .order_by(feedback_answers.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return None if row is None else (int(row.rating), row.comment)


def answered_since(connection: Connection, link: FeedbackLink, since: datetime) -> list[datetime]:
    """When this resolution's answers submitted since `since` came, oldest first."""
    query = select(feedback_answers.c.submitted_at).where(*_same_resolution(link), feedback_answers.c.submitted_at >= to_db(since)).order_by(feedback_answers.c.id)
    return [moment for moment in (from_db(row) for row in connection.execute(query).scalars()) if moment is not None]


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    platform: str
    ticket_id: str
    resolution: str
    rating: int
    comment: str | None


def answer(connection: Connection, answer_id: int) -> StoredAnswer | None:
    row = connection.execute(select(feedback_answers).where(feedback_answers.c.id == answer_id)).first()
    return None if row is None else _stored_answer(row)


def later_answer(connection: Connection, given: StoredAnswer) -> int | None:
    """The newest answer of the same resolution submitted after `given`, if any."""
    query = select(func.max(feedback_answers.c.id)).where(*_same_resolution_as(given), feedback_answers.c.id > given.id)
    return connection.execute(query).scalar()


def last_written_answer(connection: Connection, given: StoredAnswer) -> StoredAnswer | None:
    """The newest earlier answer of the same resolution whose event was done (written, or
    a follow-up opened): what the ticket last heard from the customer."""
    done = select(inbox.c.id).where(
        inbox.c.platform == feedback_answers.c.platform,
        inbox.c.delivery_id == "feedback:" + cast(feedback_answers.c.id, String),
        inbox.c.status == "done",
    )
    query = (
        select(feedback_answers)
        .where(*_same_resolution_as(given), feedback_answers.c.id < given.id, done.exists())
        .order_by(feedback_answers.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return None if row is None else _stored_answer(row)


def _stored_answer(row: Any) -> StoredAnswer:
    return StoredAnswer(int(row.id), row.platform, row.ticket_id, row.resolution, int(row.rating), row.comment)


def _same_resolution_as(given: StoredAnswer) -> list[Any]:
    return [
        feedback_answers.c.platform == given.platform,
        feedback_answers.c.ticket_id == given.ticket_id,
        feedback_answers.c.resolution == given.resolution,
    ]


def report(connection: Connection, since: datetime | None) -> list[DepartmentReport]:
    """Per department, the requests sent since `since` (all when None) and their answers."""
    latest = _latest_ratings()
    query = (
        select(
            feedback_requests.c.department,
            func.count().label("requests"),
            func.count(latest.c.rating).label("answered"),
            func.avg(latest.c.rating).label("average"),
        )
        .select_from(
            feedback_requests.outerjoin(
                latest,
                and_(
                    latest.c.platform == feedback_requests.c.platform,
                    latest.c.ticket_id == feedback_requests.c.ticket_id,
                    latest.c.resolution == feedback_requests.c.resolution,
                ),
            )
        )
        .group_by(feedback_requests.c.department)
    )
    if since is not None:
        query = query.where(feedback_requests.c.sent_at >= to_db(since))
    rows = [_department_report(row) for row in connection.execute(query)]
    return sorted(rows, key=lambda r: (r.department is None, r.department or ""))


def counts(connection: Connection) -> FeedbackCounts:
    """Requests and answers (every submission) per platform and department, and the
    distribution of the latest rating per answered resolution."""
    requests = select(feedback_requests.c.platform, feedback_requests.c.department, func.count()).group_by(
        feedback_requests.c.platform, feedback_requests.c.department
    )
    answers = select(feedback_answers.c.platform, feedback_answers.c.department, func.count()).group_by(
        feedback_answers.c.platform, feedback_answers.c.department
    )
    latest = _latest_ratings()
    ratings = select(latest.c.platform, latest.c.department, latest.c.rating, func.count()).group_by(
        latest.c.platform, latest.c.department, latest.c.rating
    )
    return FeedbackCounts(
        requests={(p, d): n for p, d, n in connection.execute(requests)},
        answers={(p, d): n for p, d, n in connection.execute(answers)},
        ratings={(p, d, int(r)): n for p, d, r, n in connection.execute(ratings)},
    )


def _same_resolution(link: FeedbackLink) -> list[Any]:
    return [
        feedback_answers.c.platform == link.platform,
        feedback_answers.c.ticket_id == link.ticket_id,
        feedback_answers.c.resolution == link.resolution,
    ]


def _latest_ratings() -> Any:
    """The latest answer of each resolution (answers only grow, so the highest id)."""
    newest = (
        select(func.max(feedback_answers.c.id))
        .group_by(feedback_answers.c.platform, feedback_answers.c.ticket_id, feedback_answers.c.resolution)
    )
    return (
        select(
            feedback_answers.c.platform,
            feedback_answers.c.ticket_id,
            feedback_answers.c.resolution,
            feedback_answers.c.department,
            feedback_answers.c.rating,
        )
        .where(feedback_answers.c.id.in_(newest))
        .subquery("latest")
    )


def _department_report(row: Any) -> DepartmentReport:
    requests, answered = int(row.requests), int(row.answered)
    return DepartmentReport(
        department=row.department,
        requests=requests,
        answered=answered,
        response_rate=answered / requests if requests else 0.0,
        average_rating=None if row.average is None else float(row.average),
    )
