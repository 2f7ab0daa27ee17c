"""Feedback links are bearer tokens (issue 11, item 17): the token part of /feedback/<token>
is redacted from every log line (access logs, the dry run's log) and from stored outcomes,
and kept only in the comment written to the ticket.

Runs on SQLite and on PostgreSQL (the `make_app` fixture).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from integration.core.feedback import tokens
from integration.logs import JsonFormatter
from integration.runtime import platforms
from tests.conftest import PAYLOADS, load_json
from tests.test_deadlines import TICKET_ID, assert_done, quick_rules, zendesk  # noqa: F401 - fixtures
from tests.test_feedback_e2e import LINK, desk, feedback_links, solved  # noqa: F401 - fixtures

KEY = "redaction-key-0123456789"
TOKEN = tokens.issue(KEY, "zendesk", "35436", "solve-1", "pt", "finance", datetime(2026, 3, 2, tzinfo=UTC))
TOKEN_PART = re.compile(r"/feedback/(?!\[token\])[A-Za-z0-9_.-]+")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service's JSON log handler writes, for the duration of the test."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield written
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(
    "logger, message, args, extra",
    [
        ("werkzeug", '%s - - [%s] "%s" %s -', ("127.0.0.1", "02/Mar/2026 10:00:00", f"POST /feedback/{TOKEN} HTTP/1.1", "200"), {}),
        ("gunicorn.access", '%(h)s "%(r)s" %(s)s', None, {"r": f"GET /feedback/{TOKEN}?x=1 HTTP/1.1"}),
        ("dispute_desk.dryrun", "dry run: would write to %s", ("zendesk:35436",), {"plan": {"comments": [{"body": f"Leva um minuto: https://desk.example.com/feedback/{TOKEN}"}]}}),
    ],
    ids=["werkzeug access log", "an extra field", "dry run plan"],
)
def test_no_log_line_carries_a_feedback_token(json_log, logger, message, args, extra):
    logging.getLogger(logger).info(message, *(args or ()), extra=extra)

    line = json_log.getvalue()
    assert TOKEN not in line and not TOKEN_PART.search(line)
    assert "/feedback/[token]" in line


def test_outcomes_and_logs_keep_no_token_while_the_written_comment_does(solved, json_log):  # noqa: F811 - the fixture imported above
    """On the fake Zendesk: the public comment carries the working link; the solved event's
    outcome (which records the request bodies it sent) and the log do not."""
    [path] = feedback_links(solved)
    token = path.removeprefix("/feedback/")
    solved.deliver(solved.status_change("open"))
    solved.work(2)

    outcomes = json.dumps([event.outcome for event in solved.services.inbox.list(limit=100)])
    assert "/feedback/[token]" in outcomes  # the request is on record, without its credential
    assert token not in outcomes and not TOKEN_PART.search(outcomes)
    assert token not in json_log.getvalue()
    assert solved.client.get(path).status_code == 200  # the link itself still works


@pytest.fixture
def dry_run(make_app):
    app = make_app(secret_key=KEY, public_url="https://desk.example.com")  # no credentials: a dry run
    services = app.extensions["dispute_desk"]
    adapters = platforms.build_adapters(services)
    return services, adapters, platforms.make_worker(services, adapters)


def test_a_dry_run_logs_and_stores_the_feedback_request_without_its_token(dry_run, json_log):
    services, adapters, worker = dry_run
    payload = load_json(PAYLOADS / "zendesk" / "ticket_status_changed_solved.json")
    now = datetime.now(UTC)
    services.inbox.add("zendesk", payload["id"], str(TICKET_ID), payload["type"], json.dumps(payload), {}, now)

    assert_done([services.inbox.get(worker.step(now).id)])

    [record] = adapters["zendesk"].recorded  # what would have been written: the working link
    assert any(LINK.search(comment["body"]) for comment in record["would_write"]["comments"])
    [event] = services.inbox.list()
    stored, logged = json.dumps(event.outcome), json_log.getvalue()
    assert "/feedback/[token]" in stored and "/feedback/[token]" in logged
    assert not TOKEN_PART.search(stored) and not TOKEN_PART.search(logged)
