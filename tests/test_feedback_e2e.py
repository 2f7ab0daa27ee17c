"""The feedback loop end to end on the fake Zendesk, through the real zenpy adapter: a solved
dispute gets one public feedback request with a signed link; the page it links to loads; an
altered link is refused; a 1-star answer comes back as an internal note and a `csat-1` tag and
escalates through the default rules; a changed answer moves the tag; a dispute solved again
after a reopen is asked again, and a replayed solve is not.

Time is an argument (`Desk.work(seconds)`), as in tests/test_deadlines.py, whose harness this uses.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from integration.runtime.feedback.store import report
from integration.runtime.inbox import EventStatus
from tests.openapi import ZENPY_ALLOWED, load_spec
from tests.test_deadlines import (  # noqa: F401 - fixtures
    BOT_ID,
    TICKET_ID,
    Desk,
    assert_done,
    build_desk,
    quick_rules,
    zendesk,
)

SECRET_KEY = "feedback-test-secret"
PUBLIC_URL = "https://desk.example.com"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/feedback/[A-Za-z0-9._-]+)")


@pytest.fixture
def desk(make_app, zendesk, quick_rules):  # noqa: F811 - the fixtures imported above
    return build_desk(make_app, zendesk, quick_rules, secret_key=SECRET_KEY, public_url=PUBLIC_URL)


def public_bot_comments(desk: Desk, ticket_id: int = TICKET_ID) -> list[dict[str, Any]]:
    return [c for c in desk.fake.comments(ticket_id) if c.get("author_id") == BOT_ID and c["public"]]


def feedback_links(desk: Desk, ticket_id: int = TICKET_ID) -> list[str]:
    return [path for comment in public_bot_comments(desk, ticket_id) for path in LINK.findall(comment["body"])]


def solve(desk: Desk, seconds: float) -> list[Any]:
    desk.deliver(desk.status_change("solved"))
    settled = desk.work(seconds)
    assert_done(settled)
    return settled


@pytest.fixture
def solved(desk: Desk) -> Desk:
    """A Portuguese billing dispute, routed, then solved by an agent."""
    desk.open_ticket()
    assert_done(desk.work(0))
    solve(desk, 1)
    return desk


def test_a_solved_dispute_gets_one_public_request_with_a_working_link(solved):
    [comment] = [c for c in public_bot_comments(solved) if "/feedback/" in c["body"]]
    assert "Leva menos de um minuto" in comment["body"]  # the ticket's language
    [path] = feedback_links(solved)
    page = solved.client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="pt"' in html and "<script" not in html

    altered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    refused = solved.client.get(altered)
    assert refused.status_code == 404


def test_a_one_star_answer_is_noted_tagged_and_escalated_to_management(solved):
    [path] = feedback_links(solved)
    answer = solved.client.post(path, data={"rating": "1", "comment": "Demoraram três semanas para devolver o dinheiro."})
    assert answer.status_code == 200

    [feedback] = solved.work(2)

    assert feedback.status == EventStatus.DONE, feedback.last_error
    assert "low-rating" in feedback.outcome["matched_rules"]
    ticket = solved.fake.ticket(TICKET_ID)
    assert "csat-1" in ticket["tags"] and "csat-low" in ticket["tags"]
    assert ticket["group_id"] == solved.department_group("management")
    assert (ticket["priority"], ticket["status"]) == ("high", "open")
    notes = [c["body"] for c in solved.bot_notes() if not c["public"]]
    [written_back] = [n for n in notes if n.startswith("Avaliação do cliente: ★☆☆☆☆ 1/5")]
    assert "Comentário escrito pelo cliente:\n> Demoraram três semanas para devolver o dinheiro." in written_back  # quoted
    assert any("AVALIAÇÃO BAIXA" in n for n in notes)  # the rule's own note
    assert len(feedback_links(solved)) == 1  # nothing asked again


def test_a_changed_answer_moves_the_csat_tag(solved):
    [path] = feedback_links(solved)
    solved.client.post(path, data={"rating": "2"})
    assert_done(solved.work(2))
    solved.client.post(path, data={"rating": "5", "comment": "Resolveram no fim, obrigado."})

    assert_done(solved.work(3))

    tags = solved.fake.ticket(TICKET_ID)["tags"]
    assert "csat-5" in tags and "csat-2" not in tags and "csat-good" in tags
    answers = [c["body"] for c in solved.bot_notes() if c["body"].startswith("Avaliação do cliente")]
    assert [a.splitlines()[0] for a in answers] == ["Avaliação do cliente: ★★☆☆☆ 2/5.", "Avaliação do cliente: ★★★★★ 5/5."]


def test_solved_again_after_a_reopen_is_asked_again_and_a_replayed_solve_is_not(solved):
    [first] = feedback_links(solved)
    solved.deliver(solved.status_change("open"))
    assert_done(solved.work(2))
    solve(solved, 3)
    links = feedback_links(solved)
    assert len(links) == 2 and links[0] == first  # a second resolution, a second link

    solve_event = next(e for e in solved.services.inbox.list(limit=100) if e.source_type.endswith("status_changed") and e.outcome and "dispute-solved" in e.outcome["matched_rules"])
    assert solved.services.inbox.replay(solve_event.id, solved.at(4))
    assert_done(solved.work(4))
    assert len(feedback_links(solved)) == 2  # the replay found its request on the ticket


def test_without_secret_key_no_link_is_sent_and_the_event_says_why(desk):
    desk.worker.feedback = type(desk.worker.feedback)(None, PUBLIC_URL)
    desk.open_ticket()
    assert_done(desk.work(0))
    [solved] = solve(desk, 1)
    assert feedback_links(desk) == []
    assert "feedback request not sent (SECRET_KEY is not set): feedback-request" in solved.outcome["warnings"]


def close(desk: Desk) -> None:
    """Zendesk closes solved tickets a few days after they were solved."""
    desk.deliver(desk.status_change("closed"))
    assert_done(desk.work(2))
    desk.fake.reset_log()


def follow_ups(desk: Desk) -> list[dict[str, Any]]:
    return [t for t in desk.fake.tickets.values() if (t.get("via") or {}).get("source", {}).get("rel") == "follow_up"]


def test_a_low_rating_on_a_closed_ticket_opens_one_follow_up_ticket(solved):
    [path] = feedback_links(solved)
    close(solved)

    solved.client.post(path, data={"rating": "1", "comment": "Ninguém me respondeu."})
    [feedback] = solved.work(3)

    assert feedback.status == EventStatus.DONE, feedback.last_error
    [follow_up] = follow_ups(solved)
    assert feedback.outcome["written"]["follow_up"] == follow_up["id"]
    assert follow_up["via"]["source"]["from"] == {"ticket_id": TICKET_ID}
    assert follow_up["requester_id"] == solved.fake.ticket(TICKET_ID)["requester_id"]
    assert (follow_up["group_id"], follow_up["priority"], follow_up["status"]) == (solved.department_group("management"), "high", "open")
    assert {"csat-1", "csat-low", "dispute"} <= set(follow_up["tags"])
    [first] = solved.fake.comments(follow_up["id"])
    assert first["public"] is False and first["author_id"] == BOT_ID
    assert first["body"].startswith("Avaliação do cliente: ★☆☆☆☆ 1/5.") and "AVALIAÇÃO BAIXA" in first["body"]
    [create] = [r for r in solved.fake.requests if r.method == "POST"]
    load_spec().validate_request("POST", create.path, create.json, strict=True, allow=ZENPY_ALLOWED)
    assert solved.fake.ticket(TICKET_ID)["status"] == "closed"  # the closed ticket itself is untouched

    assert solved.services.inbox.replay(feedback.id, solved.at(4))  # an operator replays it
    [again] = solved.work(4)
    assert again.status == EventStatus.DONE and again.outcome["written"] == {"writes": 0, "follow_up": follow_up["id"], "already": True}
    assert len(follow_ups(solved)) == 1


def test_a_good_rating_on_a_closed_ticket_is_kept_and_the_event_says_why_nothing_was_written(solved):
    [path] = feedback_links(solved)
    close(solved)

    solved.client.post(path, data={"rating": "5", "comment": "Tudo certo, obrigado."})
    [feedback] = solved.work(3)

    assert feedback.status == EventStatus.SKIPPED  # not dead: retrying could never help
    assert feedback.outcome["skipped"].startswith("the ticket is closed, and Zendesk does not change closed tickets")
    assert "csat-good" in feedback.outcome["matched_rules"]  # what would have been done is on record
    assert solved.fake.writes() == [] and follow_ups(solved) == []
    with solved.services.engine.connect() as connection:
        [finance] = [row for row in report(connection, None) if row.department == "finance"]
    assert (finance.answered, finance.average_rating) == (1, 5.0)  # the answer still counts
