"""Prometheus text exposition. Queue and feedback figures come from the database, so every
web and worker process reports the same totals; request counters are per process.

The database figures are aggregates over whole tables: they are computed at most once per
`cache_seconds` and shared by every scrape meanwhile, so scraping often (or an outsider
hammering /metrics) costs the database nothing more."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from integration.runtime.feedback.store import counts as feedback_counts
from integration.runtime.inbox import EventStatus, Inbox


class Metrics:
    def __init__(self, cache_seconds: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._cache_for = timedelta(seconds=cache_seconds)
        self._aggregates: tuple[datetime, list[str]] | None = None
        self._aggregating = threading.Lock()  # one scrape computes; the others wait for it

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        with self._lock:
            self._counters[(name, tuple(sorted(labels.items())))] += amount

    def render(self, inbox: Inbox, now: datetime) -> str:
        lines: list[str] = []
        with self._lock:
            counters = dict(self._counters)
        for name in sorted({name for name, _ in counters}):
            lines.append(f"# TYPE dispute_desk_{name} counter")
            lines.extend(_sample(name, labels, value) for (n, labels), value in sorted(counters.items()) if n == name)
        lines.extend(self._database_figures(inbox, now))
        return "\n".join(lines) + "\n"

    def _database_figures(self, inbox: Inbox, now: datetime) -> list[str]:
        with self._aggregating:
            cached = self._aggregates
            if cached is not None and timedelta(0) <= now - cached[0] < self._cache_for:
                return cached[1]
            figures = _queue(inbox, now) + _feedback(inbox.engine)
            self._aggregates = (now, figures)
            return figures


def _sample(name: str, labels: Iterable[tuple[str, str]], value: float) -> str:
    rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in labels)
    return f"dispute_desk_{name}{{{rendered}}} {value}" if rendered else f"dispute_desk_{name} {value}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _queue(inbox: Inbox, now: datetime) -> list[str]:
    counts = inbox.counts()
    platforms = sorted({platform for platform, _ in counts} | {"zendesk", "jira"})
    lines = ["# HELP dispute_desk_events Stored events by platform and state.", "# TYPE dispute_desk_events gauge"]
    for platform in platforms:
        for status in EventStatus:
            lines.append(_sample("events", [("platform", platform), ("status", status.value)], counts.get((platform, status.value), 0)))
    lines += ["# HELP dispute_desk_events_received_total Events stored since the database was created.", "# TYPE dispute_desk_events_received_total counter"]
    for platform in platforms:
        total = sum(count for (p, _), count in counts.items() if p == platform)
        lines.append(_sample("events_received_total", [("platform", platform)], total))
    lines += _totals(counts, platforms, inbox.retries())
    oldest = inbox.oldest_pending()
    lines += ["# HELP dispute_desk_oldest_pending_seconds Age of the oldest pending event.", "# TYPE dispute_desk_oldest_pending_seconds gauge"]
    for platform in platforms:
        age = (now - oldest[platform]).total_seconds() if platform in oldest else 0.0
        lines.append(_sample("oldest_pending_seconds", [("platform", platform)], round(age, 3)))
    return lines


def _totals(counts: dict[tuple[str, str], int], platforms: list[str], retries: dict[str, int]) -> list[str]:
    """Processed, dead-lettered, retried and queued, per platform (from the shared inbox)."""
    def total(platform: str, *statuses: EventStatus) -> int:
        return sum(counts.get((platform, status.value), 0) for status in statuses)

    families = [
        ("events_processed_total", "counter", "Events done or skipped.", lambda p: total(p, EventStatus.DONE, EventStatus.SKIPPED)),
        ("events_dead_total", "counter", "Events dead-lettered (replayable).", lambda p: total(p, EventStatus.DEAD)),
        ("events_retried_total", "counter", "Attempts beyond each event's first.", lambda p: retries.get(p, 0)),
        ("queue_depth", "gauge", "Events waiting or in flight.", lambda p: total(p, EventStatus.PENDING, EventStatus.LEASED)),
    ]
    lines: list[str] = []
    for name, kind, text, value in families:
        lines += [f"# HELP dispute_desk_{name} {text}", f"# TYPE dispute_desk_{name} {kind}"]
        lines += [_sample(name, [("platform", platform)], value(platform)) for platform in platforms]
    return lines


_RATINGS_HELP = (
    "Answered requests by rating, counting the latest answer of each resolution "
    "(an answer changed from 2 to 4 moves from rating 2 to rating 4)."
)


def _feedback(engine: Engine) -> list[str]:
    """Feedback requests sent, answers received, and ratings, per platform and department
    (department="" when the ticket had none)."""
    with engine.connect() as connection:
        figures = feedback_counts(connection)
    groups = sorted(set(figures.requests) | set(figures.answers), key=lambda g: (g[0], g[1] or ""))
    lines = [
        "# HELP dispute_desk_feedback_requests_total Feedback requests sent (one per resolution).",
        "# TYPE dispute_desk_feedback_requests_total counter",
        *(_sample("feedback_requests_total", _labels(p, d), figures.requests.get((p, d), 0)) for p, d in groups),
        "# HELP dispute_desk_feedback_answers_total Feedback answers received, every submission (changed answers too).",
        "# TYPE dispute_desk_feedback_answers_total counter",
        *(_sample("feedback_answers_total", _labels(p, d), figures.answers.get((p, d), 0)) for p, d in groups),
        f"# HELP dispute_desk_feedback_ratings {_RATINGS_HELP}",
        "# TYPE dispute_desk_feedback_ratings gauge",
    ]
    for platform, department in groups:
        for rating in range(1, 6):
            value = figures.ratings.get((platform, department, rating), 0)
            lines.append(_sample("feedback_ratings", [*_labels(platform, department), ("rating", str(rating))], value))
    return lines


def _labels(platform: str, department: str | None) -> list[tuple[str, str]]:
    return [("platform", platform), ("department", department or "")]
