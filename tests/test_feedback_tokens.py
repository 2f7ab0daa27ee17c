"""Signed feedback links: a round trip, and every way a token is refused (pure; time is an
argument, so expiry is tested with fixed instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer

from integration.core.feedback import tokens
from integration.core.feedback.tokens import FeedbackLink, TokenExpired, TokenForged, TokenRefused

KEY = "feedback-key-0123456789"
T = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def issue(**overrides) -> str:
    arguments = {
        "secret_key": KEY,
        "platform": "zendesk",
        "ticket_id": "35436",
        "resolution": "01HQ-solved-1",
        "language": "pt",
        "department": "finance",
        "now": T,
    }
    arguments.update(overrides)
    return tokens.issue(**arguments)


def test_a_token_reads_back_as_the_link_it_was_issued_for():
    assert tokens.read(KEY, issue(), T + timedelta(days=29)) == FeedbackLink(
        platform="zendesk",
        ticket_id="35436",
        resolution="01HQ-solved-1",
        language="pt",
        department="finance",
        expires_at=T + timedelta(days=30),
        reference="35436",
    )


def test_a_jira_issue_key_travels_in_the_token_for_the_page_to_show():
    link = tokens.read(KEY, issue(platform="jira", ticket_id="10010", reference="DD-7"), T)
    assert (link.ticket_id, link.reference) == ("10010", "DD-7")


def test_a_ticket_without_department_and_a_jira_issue_round_trip_too():
    link = tokens.read(KEY, issue(platform="jira", ticket_id="DISP-12", department=None, language="es"), T)
    assert (link.platform, link.ticket_id, link.department, link.language, link.ticket_key) == ("jira", "DISP-12", None, "es", "jira:DISP-12")


def test_tokens_are_url_safe_and_short_enough_for_a_message():
    token = issue(resolution="x" * 40)
    assert tokens.url("https://desk.example.com/", token) == f"https://desk.example.com/feedback/{token}"
    assert all(char.isalnum() or char in "-_." for char in token)
    assert len(token) < 200


def _flip(token: str, index: int) -> str:
    char = token[index]
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]


def _foreign_payload() -> str:
    """Signed with our key and salt, but not a feedback link's payload."""
    return URLSafeSerializer(KEY, salt=tokens.SALT).dumps({"p": "zendesk", "t": 1})


def _other_salt() -> str:
    """Our key, signing something else: the salt keeps it from passing as a feedback link."""
    return URLSafeSerializer(KEY, salt="something-else").dumps({"p": "zendesk", "t": "1", "r": "r", "l": "en", "d": None, "exp": 2**40})


REFUSED = [
    ("altered payload", lambda: _flip(issue(), 5), TokenForged, "the feedback link's signature does not match"),
    ("altered signature", lambda: _flip(issue(), -3), TokenForged, "the feedback link's signature does not match"),
    ("signed with another key", lambda: issue(secret_key="another-key"), TokenForged, "the feedback link's signature does not match"),
    ("signed for another purpose", _other_salt, TokenForged, "the feedback link's signature does not match"),
    ("truncated", lambda: issue()[:-10], TokenForged, "the feedback link's signature does not match"),
    ("not a token", lambda: "hello", TokenForged, "the feedback link's signature does not match"),
    ("empty", lambda: "", TokenForged, "the feedback link's signature does not match"),
    ("signed but malformed", _foreign_payload, TokenForged, "the feedback link is malformed"),
    ("expired", lambda: issue(now=T - timedelta(days=30)), TokenExpired, "the feedback link expired at 2026-03-02T13:00:00+00:00"),
    ("expired (short validity)", lambda: issue(now=T - timedelta(hours=2), valid_for=timedelta(hours=1)), TokenExpired, "the feedback link expired at 2026-03-02T12:00:00+00:00"),
]


@pytest.mark.parametrize("make, refusal, message", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_refused_tokens_say_why(make, refusal, message):
    with pytest.raises(refusal) as raised:
        tokens.read(KEY, make(), T)
    assert str(raised.value) == message
    assert isinstance(raised.value, TokenRefused)


def test_an_expired_token_still_tells_its_language_for_the_refusal_page():
    with pytest.raises(TokenExpired) as raised:
        tokens.read(KEY, issue(language="es", now=T - timedelta(days=31)), T)
    assert raised.value.link.language == "es"


def test_a_token_is_good_until_its_expiry_and_not_at_it():
    token = issue()
    assert tokens.read(KEY, token, T + timedelta(days=30) - timedelta(seconds=1)).ticket_id == "35436"
    with pytest.raises(TokenExpired):
        tokens.read(KEY, token, T + timedelta(days=30))


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"platform": "freshdesk"}, ValueError, "platform must be one of zendesk, jira (got 'freshdesk')"),
        ({"language": "fr"}, ValueError, "language must be one of en, pt, es (got 'fr')"),
        ({"valid_for": timedelta(0)}, ValueError, "valid_for must be positive (got 0:00:00)"),
        ({"secret_key": ""}, ValueError, "a secret key is needed to sign or read feedback links (SECRET_KEY)"),
        ({"now": datetime(2026, 3, 2, 13, 0)}, TypeError, "now must be an aware datetime (UTC)"),
    ],
)
def test_issuing_refuses_what_could_never_be_read(overrides, error, message):
    with pytest.raises(error) as raised:
        issue(**overrides)
    assert str(raised.value) == message


def test_while_rotating_the_first_key_signs_and_links_signed_with_the_others_still_work():
    old_link = issue()  # signed with KEY alone, before the rotation
    rotating = f"new-key, {KEY}"
    assert tokens.read(rotating, old_link, T).ticket_id == "35436"
    new_link = issue(secret_key=rotating)
    assert tokens.read("new-key", new_link, T).ticket_id == "35436"  # after the rotation ends
    with pytest.raises(TokenForged):
        tokens.read(KEY, new_link, T)  # the old key alone cannot read what the new one signed
