"""The feedback page under abuse (issue 11, item 14): a body is read to its limit whatever its
encoding, a refused comment is never echoed past the comment limit, a link answers a few
times an hour, only the latest pending answer of a resolution is written, an unchanged
answer is not written again, and a closed ticket gets one follow-up per resolution.

Runs on SQLite and on PostgreSQL (the `make_app` fixture).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.test import EnvironBuilder, run_wsgi_app

from integration.runtime.feedback.answers import ANSWERS_PER_WINDOW
from integration.runtime.inbox import EventStatus
from integration.web.feedback.page import MAX_BODY_BYTES
from tests.test_deadlines import TICKET_ID, assert_done, quick_rules, zendesk  # noqa: F401 - fixtures
from tests.test_feedback import KEY, Page, answers, feedback_events, token
from tests.test_feedback_e2e import close, desk, feedback_links, follow_ups, solved  # noqa: F401 - fixtures

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def app(make_app):
    return make_app(secret_key=KEY, public_url="https://desk.example.com")


@pytest.fixture
def client(app):
    return app.test_client()


class EndlessForm(io.RawIOBase):
    """A form body that goes on and on, counting what the server read of it."""

    def __init__(self, size: int) -> None:
        self.size, self.consumed = size, 0
        self.head = b"rating=1&comment="

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.consumed)
        for index in range(count):
            position = self.consumed + index
            buffer[index] = self.head[position] if position < len(self.head) else ord("x")
        self.consumed += count
        return count


def test_a_chunked_body_is_read_no_further_than_the_limit(app):
    """No Content-Length (chunked): the server marks the input terminated; 32 MiB are offered
    and only the limit + 1 byte may be read (the old page read all of it into memory)."""
    stream = EndlessForm(32 * 1024 * 1024)
    environ = EnvironBuilder(path=f"/feedback/{token()}", method="POST", content_type=FORM).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(stream, buffer_size=8192), "wsgi.input_terminated": True})

    body, status, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)

    assert status.startswith("413")
    assert stream.consumed <= MAX_BODY_BYTES + 1 + 8192  # the limit, plus one read buffer at most
    assert Page(b"".join(body).decode()).text("h1") == "Your answer is too long"
    assert answers(app) == [] and feedback_events(app) == []


@pytest.fixture
def served(app) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("size, expected", [(MAX_BODY_BYTES + 1, 413), (1500, 200)], ids=["over", "under"])
def test_a_real_server_refuses_an_oversized_answer_whatever_the_encoding(app, served, chunked, size, expected):
    head = b"rating=4&comment="
    body = head + b"a" * (size - len(head))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16384):
            yield body[start : start + 16384]

    response = requests.post(f"{served}/feedback/{token()}", data=chunks() if chunked else body, headers={"Content-Type": FORM}, timeout=30)
    assert response.status_code == expected
    assert len(answers(app)) == (1 if expected == 200 else 0)


def test_a_refused_comment_is_echoed_no_longer_than_the_comment_limit(app, client):
    comment = "y" * 60_000  # under the body limit, thirty times the comment limit
    response = client.post(f"/feedback/{token()}", data={"rating": "4", "comment": comment})

    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.text("comment") == "y" * 2000
    assert page.text("comment-error") == "Please shorten your comment to 2000 characters (it has 60000)."
    assert len(response.data) < 10 * 1024
    assert answers(app) == []


@pytest.mark.parametrize(
    "language, title",
    [("en", "Too many answers in a short time"), ("pt", "Muitas respostas em pouco tempo"), ("es", "Demasiadas respuestas en poco tiempo")],
)
def test_a_link_answers_a_few_times_an_hour_then_429_in_its_language(app, client, language, title):
    link = token(language)
    for rating in range(ANSWERS_PER_WINDOW):
        assert client.post(f"/feedback/{link}", data={"rating": str(rating % 5 + 1)}).status_code == 200

    refused = client.post(f"/feedback/{link}", data={"rating": "1"})

    assert refused.status_code == 429
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    page = Page(refused.get_data(as_text=True))
    assert (page.all("html")[0]["lang"], page.text("h1")) == (language, title)
    assert len(answers(app)) == ANSWERS_PER_WINDOW == len(feedback_events(app))
    other = token(language, resolution="solve-2")  # another link is not held back
    assert client.post(f"/feedback/{other}", data={"rating": "1"}).status_code == 200


# ---- what reaches the ticket ----------------------------------------------------------------


def answer_notes(running) -> list[str]:
    return [c["body"].splitlines()[0] for c in running.bot_notes() if c["body"].startswith("Avaliação do cliente")]


def test_only_the_latest_pending_answer_of_a_resolution_is_written(solved):  # noqa: F811 - the fixture imported above
    [path] = feedback_links(solved)
    for rating in ("1", "2", "4"):
        assert solved.client.post(path, data={"rating": rating}).status_code == 200
    solved.fake.reset_log()

    settled = solved.work(2)

    assert [event.status for event in settled] == [EventStatus.SKIPPED, EventStatus.SKIPPED, EventStatus.DONE]
    assert all(event.outcome["skipped"].startswith("superseded by a later answer to the same feedback request") for event in settled[:2])
    assert len(solved.fake.writes()) == 1
    assert answer_notes(solved) == ["Avaliação do cliente: ★★★★☆ 4/5."]
    assert "csat-4" in solved.fake.ticket(TICKET_ID)["tags"]


def test_an_unchanged_answer_is_not_written_again(solved):  # noqa: F811
    [path] = feedback_links(solved)
    solved.client.post(path, data={"rating": "4", "comment": "Bom."})
    assert_done(solved.work(2))
    solved.fake.reset_log()

    solved.client.post(path, data={"rating": "4", "comment": "Bom."})
    [again] = solved.work(3)

    assert again.status == EventStatus.SKIPPED and again.outcome["skipped"].endswith("already on the ticket")
    assert solved.fake.writes() == []
    solved.client.post(path, data={"rating": "4", "comment": "Bom, mas demorou."})  # changed: written
    assert_done(solved.work(4))
    assert answer_notes(solved) == ["Avaliação do cliente: ★★★★☆ 4/5.", "Avaliação do cliente: ★★★★☆ 4/5."]


def test_low_ratings_on_a_closed_ticket_open_one_follow_up_per_resolution(solved):  # noqa: F811
    [path] = feedback_links(solved)
    close(solved)

    for seconds, (rating, comment) in enumerate([("1", "Ninguém me respondeu."), ("2", "Ainda sem resposta."), ("1", "Péssimo.")], start=3):
        solved.client.post(path, data={"rating": rating, "comment": comment})
        [feedback] = solved.work(seconds)
        assert feedback.status == EventStatus.DONE, feedback.last_error

    [follow_up] = follow_ups(solved)
    assert follow_up["external_id"] == f"dispute-desk:follow-up:zendesk:{TICKET_ID}:{_resolution(solved)}"


def _resolution(running) -> str:
    events: list[Any] = running.services.inbox.list(limit=100)
    return next(e.delivery_id for e in events if e.outcome and "dispute-solved" in e.outcome.get("matched_rules", []))
