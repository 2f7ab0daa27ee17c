"""Only our own comments carry references that count. An event that may have been cut short
looks on the ticket for the references of its notes before writing them again; a customer
who quotes a reference ("dispute-desk ref dd:…") in a comment of theirs must not make it
believe a note is already there. Through the real clients, against the fakes."""

from __future__ import annotations

from typing import Any

from adapters.jira.writer import JiraAdapter
from adapters.jira.writer import make_client as make_jira_client
from adapters.zendesk.writer import ZendeskAdapter
from adapters.zendesk.writer import make_client as make_zendesk_client
from integration.core.events import EventKind, Requester, TicketEvent
from integration.runtime.rulefiles import load_ruleset
from tests.conftest import RULES
from tests.fakes.fixtures import ZENPY_EMAIL, ZENPY_TOKEN, point_zenpy_at
from tests.fakes.jira import FakeJira
from tests.fakes.jira_fixtures import JIRA_PAT
from tests.fakes.zendesk import FakeZendesk

OURS, QUOTED = "dd:0123456789ab", "dd:ba9876543210"


def event(platform: str, ticket_id: str) -> TicketEvent:
    return TicketEvent(platform=platform, ticket_id=ticket_id, kinds=frozenset({EventKind.COMMENT_ADDED}), delivery_id="d-1", requester=Requester(id="1"))


def test_zendesk_counts_only_the_integrations_own_comments(monkeypatch: Any) -> None:
    with FakeZendesk(token=ZENPY_TOKEN) as fake:
        point_zenpy_at(fake, monkeypatch)
        customer = fake.add_user(name="Customer", role="end-user")
        ticket = fake.add_ticket(subject="Cobrança em dobro", requester_id=customer["id"])
        fake.update_ticket(ticket["id"], comment={"body": f"our note\n\n— dispute-desk ref {OURS}", "public": False})
        fake.update_ticket(ticket["id"], comment={"body": f"you said dispute-desk ref {QUOTED}", "author_id": customer["id"]})
        ruleset = load_ruleset(RULES)
        adapter = ZendeskAdapter(make_zendesk_client("example", ZENPY_EMAIL, ZENPY_TOKEN, None), lambda: ruleset)
        adapter.start()

        assert adapter.references_on_ticket(event("zendesk", str(ticket["id"]))) == {OURS}


def test_jira_counts_only_the_integrations_own_comments(fake_jira_server: FakeJira) -> None:
    fake = fake_jira_server
    fake.add_user("A Customer", name="customer")
    issue = fake.add_issue(summary="Pedido não chegou", reporter="customer")
    fake.add_comment(issue["key"], f"our note\n\n— dispute-desk ref {OURS}")
    fake.add_comment(issue["key"], f"you said dispute-desk ref {QUOTED}", author="customer")
    ruleset = load_ruleset(RULES)
    adapter = JiraAdapter(make_jira_client(fake.url, None, None, JIRA_PAT), lambda: ruleset, cloud=False)
    adapter.start()

    assert adapter.references_on_ticket(event("jira", issue["id"])) == {OURS}
