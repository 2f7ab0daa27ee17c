"""Feedback after a resolution: the page in three languages, answers stored and raised as
`feedback_received` events, changed answers, refused links (forged, altered, expired,
replayed after expiry), the requests table, /metrics and `dispute-desk feedback report`.

Runs on SQLite and on PostgreSQL (the `database_url` and `make_app` fixtures). Tokens are
issued with explicit `now` values; the page itself reads the clock, as an edge may.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from integration.core import engine as rules_engine
from integration.core.events import EventKind
from integration.core.feedback import tokens
from integration.runtime import internal_events
from integration.runtime.feedback.store import (
    DepartmentReport,
    latest_answer,
    record_request,
    report,
    requested,
)
from integration.runtime.inbox import EventStatus
from integration.runtime.rulefiles import load_ruleset
from integration.runtime.store import feedback_answers, writing
from tests.conftest import RULES
from tests.test_ops import parse_metrics

KEY = "feedback-key-0123456789"
NOW = datetime.now(UTC)
YESTERDAY = NOW - timedelta(days=1)

TEXTS = {
    "en": ("How did we do?", "Your rating", "1 – Very dissatisfied", "5 – Very satisfied", "Anything you would like to tell us? (optional)", "Send my answer"),
    "pt": ("Como foi o nosso atendimento?", "Sua avaliação", "1 – Muito insatisfeito", "5 – Muito satisfeito", "Quer nos contar mais alguma coisa? (opcional)", "Enviar minha resposta"),
    "es": ("¿Cómo lo hicimos?", "Tu valoración", "1 – Muy insatisfecho", "5 – Muy satisfecho", "¿Quieres contarnos algo más? (opcional)", "Enviar mi respuesta"),
}


def token(language: str = "en", *, ticket_id: str = "35436", resolution: str = "solve-1", department: str | None = "finance", now: datetime = NOW, platform: str = "zendesk") -> str:
    return tokens.issue(KEY, platform, ticket_id, resolution, language, department, now)


@pytest.fixture
def app(make_app):
    return make_app(secret_key=KEY, public_url="https://desk.example.com")


@pytest.fixture
def client(app):
    return app.test_client()


class Page(HTMLParser):
    """The elements of a page (tag, attributes) and the text of each element by id/for."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        key = attributes.get("id") or (f"label:{attributes['for']}" if tag == "label" else None) or tag
        self._open.append((tag, key))
        self.texts.setdefault(key, "")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            self.texts[key] += data

    def all(self, tag: str, **attributes: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.elements if t == tag and all(attrs.get(k) == v for k, v in attributes.items())]

    def text(self, key: str) -> str:
        return " ".join(self.texts.get(key, "").split())


def checked(page: Page) -> list[str | None]:
    return [radio["value"] for radio in page.all("input", type="radio") if "checked" in radio]


def answers(app) -> list[tuple[int, str | None, str]]:
    with app.extensions["dispute_desk"].engine.connect() as connection:
        rows = connection.execute(select(feedback_answers).order_by(feedback_answers.c.id))
        return [(row.rating, row.comment, row.resolution) for row in rows]


def feedback_events(app):
    return [event for event in reversed(app.extensions["dispute_desk"].inbox.list()) if event.source_type == "dispute-desk:feedback_received"]


# ---- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "pt", "es"])
def test_the_page_is_in_the_links_language_with_labelled_controls_and_no_script(client, language):
    response = client.get(f"/feedback/{token(language)}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    title, legend, worst, best, comment, submit = TEXTS[language]
    assert page.all("html")[0]["lang"] == language
    assert page.text("title") == title and page.text("h1") == title
    assert page.text("legend") == legend
    radios = page.all("input", type="radio", name="rating")
    assert [radio["value"] for radio in radios] == ["1", "2", "3", "4", "5"]
    assert checked(page) == []  # nothing answered yet
    for radio in radios:  # every control has a label bound to it by id
        assert page.text(f"label:{radio['id']}")
    assert page.text("label:rating-1") == worst and page.text("label:rating-5") == best
    assert page.text("label:comment") == comment
    assert page.all("textarea", id="comment", name="comment", maxlength="2000")
    assert page.text("button") == submit
    assert page.all("form", method="post")
    assert not page.all("script") and not any(name.startswith("on") for _, attrs in page.elements for name in attrs)
    assert len(response.data) < 10 * 1024


def test_the_page_is_never_cached_never_referred_and_runs_no_script(client):
    response = client.get(f"/feedback/{token()}")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "form-action 'self'" in policy and "script-src" not in policy
    assert "Set-Cookie" not in response.headers  # the token authorizes the form: no session


# ---- answering -----------------------------------------------------------------------------


def test_an_answer_is_stored_and_raises_one_feedback_received_event(app, client):
    link = token("pt")
    response = client.post(f"/feedback/{link}", data={"rating": "2", "comment": "  Demorou demais.\r\nNinguém respondeu.  "})

    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.all("html")[0]["lang"] == "pt"
    assert page.text("h1") == "Obrigado!"
    assert page.text("p").startswith("Sua resposta foi registrada. Você pode alterá-la pelo mesmo link até ")
    assert page.all("a", href=f"/feedback/{link}")
    assert answers(app) == [(2, "Demorou demais.\nNinguém respondeu.", "solve-1")]
    [event] = feedback_events(app)
    assert event.platform == "zendesk" and event.ticket_key == "zendesk:35436" and event.status == EventStatus.PENDING
    answer_id = _answer_ids(app)[0]
    assert event.delivery_id == f"feedback:{answer_id}"
    assert json.loads(event.payload) == {
        "dispute_desk_event": "feedback_received",
        "platform": "zendesk",
        "ticket_id": "35436",
        "rating": 2,
        "comment": "Demorou demais.\nNinguém respondeu.",
        "resolution": "solve-1",
        "language": "pt",
        "department": "finance",
        "answer_id": answer_id,
    }


def test_the_event_is_a_ticket_event_the_rules_act_on(app, client):
    client.post(f"/feedback/{token()}", data={"rating": "1", "comment": "Nobody helped."})
    [stored] = feedback_events(app)

    event = internal_events.parse(json.loads(stored.payload), stored.delivery_id)

    assert event.kinds == frozenset({EventKind.FEEDBACK_RECEIVED})
    assert (event.rating, event.feedback_comment, event.source_type) == (1, "Nobody helped.", "dispute-desk:feedback_received")
    plan = rules_engine.plan(event, load_ruleset(RULES), NOW)
    assert "low-rating" in plan.matched_rules and "csat-good" not in plan.matched_rules


def test_an_answer_can_be_changed_with_the_same_link_and_every_submission_is_kept(app, client):
    link = token("es")
    client.post(f"/feedback/{link}", data={"rating": "2", "comment": "Lento."})
    client.post(f"/feedback/{link}", data={"rating": "4", "comment": ""})

    assert answers(app) == [(2, "Lento.", "solve-1"), (4, None, "solve-1")]
    assert [json.loads(e.payload)["rating"] for e in feedback_events(app)] == [2, 4]
    assert [e.delivery_id for e in feedback_events(app)] == [f"feedback:{i}" for i in _answer_ids(app)]
    page = Page(client.get(f"/feedback/{link}").get_data(as_text=True))
    assert checked(page) == ["4"]
    assert page.text("comment") == ""
    assert page.text("p").count("Ya respondiste. Puedes cambiar tu respuesta hasta el ") == 1


def test_the_form_is_prefilled_with_the_latest_answer(app, client):
    link = token("en")
    client.post(f"/feedback/{link}", data={"rating": "3", "comment": "Fine <b>mostly</b>"})
    html = client.get(f"/feedback/{link}").get_data(as_text=True)
    page = Page(html)
    assert checked(page) == ["3"]
    assert page.text("comment") == "Fine <b>mostly</b>"
    assert "&lt;b&gt;mostly&lt;/b&gt;" in html  # the customer's words are text, never markup
    with app.extensions["dispute_desk"].engine.connect() as connection:
        assert latest_answer(connection, tokens.read(KEY, link, NOW)) == (3, "Fine <b>mostly</b>")


def test_a_new_resolution_is_asked_and_answered_apart_from_the_first(app, client):
    """Reopened and solved again: a new link (a new resolution), a separate answer."""
    client.post(f"/feedback/{token(resolution='solve-1')}", data={"rating": "1"})
    second = token(resolution="solve-2")
    assert checked(Page(client.get(f"/feedback/{second}").get_data(as_text=True))) == []
    client.post(f"/feedback/{second}", data={"rating": "5"})
    assert answers(app) == [(1, None, "solve-1"), (5, None, "solve-2")]


@pytest.mark.parametrize(
    "form, field",
    [({}, "rating"), ({"rating": "6"}, "rating"), ({"rating": "0"}, "rating"), ({"rating": "three"}, "rating"), ({"rating": "4", "comment": "x" * 2001}, "comment")],
)
def test_an_invalid_answer_is_shown_again_with_its_error_and_nothing_is_stored(app, client, form, field):
    response = client.post(f"/feedback/{token('en')}", data=form)

    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    if field == "rating":
        assert page.all("fieldset", **{"aria-describedby": "rating-error"})
        assert page.text("rating-error") == "Please choose a rating from 1 to 5."
    else:
        assert page.all("textarea", **{"aria-describedby": "comment-hint comment-error", "aria-invalid": "true"})
        assert page.text("comment-error") == "Please shorten your comment to 2000 characters (it has 2001)."
        assert page.text("comment") == "x" * 2000  # kept to be shortened, never echoed past the limit
        assert checked(page) == ["4"]
    assert answers(app) == [] and feedback_events(app) == []


def test_line_ends_count_once_and_control_characters_are_dropped(app, client):
    comment = "a\r\n" * 999 + "b\x00c"  # 2000 characters as the browser counts them, plus a NUL
    assert client.post(f"/feedback/{token()}", data={"rating": "5", "comment": comment}).status_code == 200
    assert answers(app) == [(5, "a\n" * 999 + "bc", "solve-1")]


# ---- refused links -------------------------------------------------------------------------


def _altered(text: str) -> str:
    index = len(text) - 3
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "make",
    [lambda: _altered(token()), lambda: tokens.issue("another-key", "zendesk", "1", "r", "en", None, NOW), lambda: "not-a-token"],
    ids=["altered", "another key", "garbage"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_or_altered_link_is_a_clear_404_and_stores_nothing(app, client, make, method):
    response = client.open(f"/feedback/{make()}", method=method, data={"rating": "5"})
    assert response.status_code == 404
    page = Page(response.get_data(as_text=True))
    assert page.text("h1") == "This feedback link is not valid"
    assert not page.all("form")
    assert response.headers["Cache-Control"] == "no-store"
    assert answers(app) == [] and feedback_events(app) == []


def test_the_refusal_of_a_forged_link_speaks_the_browsers_language(client):
    response = client.get("/feedback/forged", headers={"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"})
    page = Page(response.get_data(as_text=True))
    assert (response.status_code, page.all("html")[0]["lang"], page.text("h1")) == (404, "pt", "Este link de avaliação não é válido")


@pytest.mark.parametrize(
    "language, title",
    [("en", "This feedback link has expired"), ("pt", "Este link de avaliação expirou"), ("es", "Este enlace de valoración ha caducado")],
)
def test_an_expired_link_is_a_clear_410_in_its_language(app, client, language, title):
    old = token(language, now=NOW - timedelta(days=31))
    for method in ("GET", "POST"):
        response = client.open(f"/feedback/{old}", method=method, data={"rating": "1"})
        page = Page(response.get_data(as_text=True))
        assert (response.status_code, page.all("html")[0]["lang"], page.text("h1")) == (410, language, title)
    assert answers(app) == [] and feedback_events(app) == []


def test_a_link_replayed_after_it_expired_cannot_change_the_answer(app, client):
    """Answered while valid; the very same link, replayed once it has expired, is refused.
    The page reads the real clock, so this link is made to expire within seconds."""
    link = tokens.issue(KEY, "zendesk", "35436", "solve-1", "en", "finance", datetime.now(UTC), valid_for=timedelta(seconds=3))
    assert client.post(f"/feedback/{link}", data={"rating": "4"}).status_code == 200
    expires_at = tokens.read(KEY, link, datetime.now(UTC)).expires_at
    time.sleep(max((expires_at - datetime.now(UTC)).total_seconds(), 0) + 0.05)
    assert client.post(f"/feedback/{link}", data={"rating": "1"}).status_code == 410
    assert client.get(f"/feedback/{link}").status_code == 410
    assert answers(app) == [(4, None, "solve-1")] and len(feedback_events(app)) == 1


def test_without_secret_key_the_page_answers_503_and_says_so(make_app, caplog):
    app = make_app()
    assert "SECRET_KEY is not set: feedback links cannot be signed, and the feedback page answers 503" in caplog.text
    response = app.test_client().get(f"/feedback/{token()}")
    page = Page(response.get_data(as_text=True))
    assert (response.status_code, page.text("h1")) == (503, "Feedback cannot be received right now")


# ---- requests, metrics and the report -------------------------------------------------------


def _answer_ids(app) -> list[int]:
    with app.extensions["dispute_desk"].engine.connect() as connection:
        return list(connection.execute(select(feedback_answers.c.id).order_by(feedback_answers.c.id)).scalars())


def _request(app, ticket_id: str, department: str | None, resolution: str = "solve-1", platform: str = "zendesk", now: datetime = NOW) -> bool:
    with writing(app.extensions["dispute_desk"].engine) as connection:
        return record_request(connection, platform=platform, ticket_id=ticket_id, resolution=resolution, language="en", department=department, now=now)


def test_a_request_is_recorded_once_per_resolution(app):
    assert _request(app, "1", "finance") is True
    assert _request(app, "1", "finance") is False  # the same solve, replayed
    assert _request(app, "1", "finance", resolution="solve-2") is True  # reopened and solved again
    with app.extensions["dispute_desk"].engine.connect() as connection:
        assert requested(connection, "zendesk", "1", "solve-1") and requested(connection, "zendesk", "1", "solve-2")
        assert not requested(connection, "zendesk", "1", "solve-3") and not requested(connection, "jira", "1", "solve-1")


@pytest.fixture
def answered(app, client):
    """Finance: 3 asked, 2 answered (one answer changed from 1 to 5). Legal: 1 asked, 1
    answered (2). No department: 1 asked (Jira), not answered. One old finance request."""
    for ticket in ("1", "2", "3"):
        _request(app, ticket, "finance")
    _request(app, "4", "legal")
    _request(app, "DISP-5", None, platform="jira")
    _request(app, "9", "finance", now=NOW - timedelta(days=400))
    client.post(f"/feedback/{token(ticket_id='1')}", data={"rating": "1"})
    client.post(f"/feedback/{token(ticket_id='1')}", data={"rating": "5"})
    client.post(f"/feedback/{token(ticket_id='2')}", data={"rating": "4"})
    client.post(f"/feedback/{token(ticket_id='4', department='legal')}", data={"rating": "2"})
    return app


def test_the_report_gives_response_rate_and_average_rating_per_department(answered):
    with answered.extensions["dispute_desk"].engine.connect() as connection:
        recent = report(connection, YESTERDAY)
        everything = report(connection, None)
    assert recent == [
        DepartmentReport("finance", requests=3, answered=2, response_rate=2 / 3, average_rating=4.5),
        DepartmentReport("legal", requests=1, answered=1, response_rate=1.0, average_rating=2.0),
        DepartmentReport(None, requests=1, answered=0, response_rate=0.0, average_rating=None),
    ]
    assert everything[0] == DepartmentReport("finance", requests=4, answered=2, response_rate=0.5, average_rating=4.5)


def test_metrics_count_requests_answers_and_latest_ratings(answered):
    metrics = parse_metrics(answered.test_client().get("/metrics").get_data(as_text=True))
    finance = 'platform="zendesk",department="finance"'
    assert metrics[f"dispute_desk_feedback_requests_total{{{finance}}}"] == 4
    assert metrics[f"dispute_desk_feedback_answers_total{{{finance}}}"] == 3  # every submission
    assert [metrics[f'dispute_desk_feedback_ratings{{{finance},rating="{r}"}}'] for r in range(1, 6)] == [0, 0, 0, 1, 1]
    assert metrics['dispute_desk_feedback_ratings{platform="zendesk",department="legal",rating="2"}'] == 1
    assert metrics['dispute_desk_feedback_requests_total{platform="jira",department=""}'] == 1
    assert metrics['dispute_desk_feedback_answers_total{platform="jira",department=""}'] == 0


def test_metrics_without_feedback_declare_the_families(make_app):
    body = make_app().test_client().get("/metrics").get_data(as_text=True)
    for family in ("feedback_requests_total counter", "feedback_answers_total counter", "feedback_ratings gauge"):
        assert f"# TYPE dispute_desk_{family}" in body.splitlines()
    assert not any(key.startswith("dispute_desk_feedback") for key in parse_metrics(body))


def test_feedback_report_prints_a_table_per_department(answered):
    result = answered.test_cli_runner().invoke(args=["feedback", "report", "--since", f"{YESTERDAY:%Y-%m-%d}"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "department               requests answered response rate average rating",
        "finance                         3        2         66.7%           4.50",
        "legal                           1        1        100.0%           2.00",
        "(no department)                 1        0          0.0%              -",
        "total                           5        3         60.0%           3.67",
    ]


def test_feedback_report_as_json_and_for_all_time(answered):
    from integration.cli import main

    result = answered.test_cli_runner().invoke(main, ["feedback", "report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "since": None,
        "departments": [
            {"department": "finance", "requests": 4, "answered": 2, "response_rate": 0.5, "average_rating": 4.5},
            {"department": "legal", "requests": 1, "answered": 1, "response_rate": 1.0, "average_rating": 2.0},
            {"department": None, "requests": 1, "answered": 0, "response_rate": 0.0, "average_rating": None},
        ],
    }


def test_feedback_report_when_nothing_was_asked_and_a_bad_date(make_app):
    runner = make_app().test_cli_runner()
    assert runner.invoke(args=["feedback", "report"]).output == "no feedback requests yet\n"
    assert runner.invoke(args=["feedback", "report", "--since", "2026-02-01"]).output == "no feedback requests since 2026-02-01\n"
    bad = runner.invoke(args=["feedback", "report", "--since", "last week"])
    assert bad.exit_code == 2 and "'last week' does not match the format '%Y-%m-%d'" in bad.output
