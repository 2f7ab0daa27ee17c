"""Jira sites as they are: localized names, custom statuses and priorities, old Server
payloads, and comments whose authors nobody vouches for.

The site's statuses and priorities are read once through the jira client (against the fake
Jira, serving a Russian-localized Data Center site) and kept; real payloads of a Russian
Jira Server are in tests/payloads/jira/server/ (see tests/payloads/SOURCES.md)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.jira import identify, normalize
from adapters.jira.catalog import NO_CATALOG, catalog_from, priority_of
from adapters.jira.writer import JiraAdapter, make_client
from integration.core import engine
from integration.core.events import EventKind, Requester, TicketEvent
from integration.runtime.rulefiles import load_ruleset
from tests.conftest import PAYLOADS, RULES, load_json
from tests.fakes.jira import FakeJira
from tests.fakes.jira_fixtures import JIRA_PAT

SERVER = PAYLOADS / "jira" / "server"
K = EventKind
NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

# A Russian-localized Data Center site: Jira's default ids under Russian names, a custom
# "done" status, and one priority of the site's own.
RU_STATUSES = [
    ("10257", "К выполнению", "new"),
    ("3", "В работе", "indeterminate"),
    ("10001", "Решена", "done"),
    ("10002", "Возврат оформлен", "done"),  # a custom done status
    ("4", "ПЕРЕОТКРЫТА", "indeterminate"),
]
RU_PRIORITIES = [("1", "Наивысший"), ("2", "Высокий"), ("3", "Обычный"), ("4", "Низкий"), ("5", "Самый низкий"), ("10000", "VIP-клиент")]


def server(name: str) -> dict[str, Any]:
    return load_json(SERVER / name)


@pytest.fixture
def russian_site(fake_jira_server: FakeJira) -> FakeJira:
    fake = fake_jira_server
    fake.set_workflow([], [])
    for status_id, name, category in RU_STATUSES:
        fake.add_status(name, category, id=status_id)
    fake.add_transition("11", "Переоткрыть", None, "ПЕРЕОТКРЫТА")
    fake.set_priorities(RU_PRIORITIES)
    return fake


def adapter_for(fake: FakeJira, **settings: Any) -> JiraAdapter:
    ruleset = load_ruleset(RULES)
    ruleset = replace(ruleset, settings=replace(ruleset.settings, **settings))
    client = make_client(fake.url, None, None, JIRA_PAT)
    return JiraAdapter(client, lambda: ruleset, cloud=False)


def lookups(fake: FakeJira) -> list[str]:
    return [request.path for request in fake.requests if request.path.endswith(("/status", "/priority"))]


# --- 18: localized and custom names ----------------------------------------------------------


def test_a_reopen_on_a_russian_site_is_a_reopen(russian_site):
    adapter = adapter_for(russian_site)
    payload = server("ru_issue_updated_reopened.json")

    event = adapter.normalize(payload, {})

    assert {K.REOPENED, K.STATUS_CHANGED} <= event.kinds
    assert (event.previous_status, event.status, event.priority) == ("solved", "open", "normal")


@pytest.mark.parametrize(("from_id", "from_name"), [("10001", "Решена"), ("10002", "Возврат оформлен")], ids=["resolved", "custom-done"])
def test_leaving_any_done_status_reopens(russian_site, from_id, from_name):
    payload = server("ru_issue_updated_reopened.json")
    payload["changelog"]["items"] = [{"field": "status", "fieldtype": "jira", "from": from_id, "fromString": from_name, "to": "4", "toString": "ПЕРЕОТКРЫТА"}]

    assert K.REOPENED in adapter_for(russian_site).normalize(payload, {}).kinds


def test_a_cleared_resolution_is_a_reopen_even_without_the_catalog():
    payload = server("ru_issue_updated_reopened.json")
    payload["changelog"]["items"] = [item for item in payload["changelog"]["items"] if item["fieldId"] == "resolution"]

    assert K.REOPENED in normalize(payload, {}).kinds


def test_statuses_and_priorities_are_looked_up_once(russian_site):
    adapter = adapter_for(russian_site)
    for _ in range(3):
        adapter.normalize(server("ru_issue_updated_reopened.json"), {})

    assert lookups(russian_site) == ["/rest/api/2/status", "/rest/api/2/priority"]


PRIORITIES = [
    # (fields.priority, expected (priority, unknown name))
    ({"id": "3", "name": "Обычный"}, ("normal", None)),  # Jira's default id, a localized name
    ({"id": "10003", "name": "Normal"}, ("normal", None)),  # a plain "Normal" scheme
    ({"id": "1", "name": "Наивысший"}, ("urgent", None)),
    ({"id": "10000", "name": "VIP-клиент"}, (None, "VIP-клиент")),  # nobody can rank it
    (None, (None, None)),
]


@pytest.mark.parametrize(("field", "expected"), PRIORITIES)
def test_priorities_by_name_then_id(field, expected):
    assert priority_of(field, None, NO_CATALOG) == expected


def test_an_unknown_priority_gets_no_floor_and_a_warning():
    ruleset = load_ruleset(RULES)
    payload = json.loads((PAYLOADS / "jira" / "issue_created_es_delivery.json").read_text(encoding="utf-8"))
    payload["issue"]["fields"]["priority"] = {"id": "10000", "name": "VIP-клиент"}
    event = normalize(payload, {})
    assert (event.priority, event.unknown_priority) == (None, "VIP-клиент")

    plan = engine.plan(event, ruleset, NOW)

    assert plan.effects.department == "logistics"  # the rules still route it
    assert plan.effects.priority is None  # "at least normal" would have replaced VIP-клиент
    assert any(warning.startswith("priority at least normal not applied: the ticket's priority 'VIP-клиент'") for warning in plan.warnings)


def test_a_priority_is_written_by_id_on_a_localized_site(russian_site):
    catalog = catalog_from([], [{"id": i, "name": n} for i, n in RU_PRIORITIES])
    assert catalog.priority_ids == {"urgent": "1", "high": "2", "normal": "3", "low": "4"}
    russian_site.add_project("DD", "Споры")
    issue = russian_site.add_issue(key="DD-1", priority="Обычный", status="К выполнению")
    adapter = adapter_for(russian_site)
    event = adapter.refresh(TicketEvent("jira", issue["id"], frozenset({K.UPDATED}), "d-1"))
    plan = engine.plan(event, load_ruleset(RULES), NOW)
    plan = replace(plan, effects=replace(plan.effects, priority="urgent", notes=[]))

    adapter.apply(plan, [])

    assert russian_site.issue("DD-1")["fields"]["priority"]["name"] == "Наивысший"


# --- 19: old Server payloads ----------------------------------------------------------------


def test_an_edited_comment_without_an_event_type_is_an_edit():
    payload = server("issue_updated_comment_edited_no_type_name.json")

    [envelope] = identify(payload, {})
    event = normalize(payload, {})

    assert envelope.delivery_id == "comment:31023:updated:2017-11-29T19:44:02.117+0300"
    assert event.kinds == frozenset({K.UPDATED})


def test_a_new_comment_without_an_event_type_is_still_new():
    payload = server("issue_commented_reopened.json")
    payload.pop("issue_event_type_name")

    assert K.COMMENT_ADDED in normalize(payload, {}).kinds


# --- 15: who is an agent --------------------------------------------------------------------

REPORTER = {"name": "lucia", "key": "lucia", "displayName": "Lucía"}


def commented(author: dict[str, Any], **comment: Any) -> dict[str, Any]:
    payload = copy.deepcopy(server("issue_commented_reopened.json"))
    payload["issue"]["fields"]["reporter"] = REPORTER
    payload["comment"]["author"] = author
    payload["comment"].update(comment)
    return payload


AUTHORS = [
    # (case, author, comment fields, expected)
    ("another customer, Data Center (no accountType)", {"name": "pavel", "key": "pavel"}, {}, "customer"),
    ("the reporter", REPORTER, {}, "customer"),
    ("a portal customer", {"accountId": "qm:1", "accountType": "customer"}, {}, "customer"),
    ("an atlassian account, nothing more", {"accountId": "5b10", "accountType": "atlassian"}, {}, "customer"),
    ("an internal note (role-restricted)", {"name": "olga"}, {"visibility": {"type": "role", "value": "Service Desk Team"}}, "agent"),
    ("a JSM internal comment", {"accountId": "5b10", "accountType": "atlassian"}, {"jsdPublic": False}, "agent"),
    ("JSM's agent view", {"name": "olga"}, {"properties": [{"key": "sd.public.comment", "value": {"internal": False}}]}, "agent"),
]


@pytest.mark.parametrize(("author", "fields", "expected"), [case[1:] for case in AUTHORS], ids=[case[0] for case in AUTHORS])
def test_agents_are_named_positively(author, fields, expected):
    comment = normalize(commented(author, **fields), {}).comment
    assert comment is not None and comment.by == expected


def test_members_of_the_agent_groups_are_agents(russian_site):
    russian_site.add_project("DD", "Споры")
    reporter = russian_site.add_user("Лючия", name="lucia")
    agent = russian_site.add_user("Ольга", name="olga")
    other = russian_site.add_user("Павел", name="pavel")
    russian_site.add_to_group(agent, "jira-servicedesk-users")
    russian_site.add_to_group(other, "jira-users")
    issue = russian_site.add_issue(key="DD-1", reporter="lucia", status="К выполнению", priority="Обычный")
    adapter = adapter_for(russian_site, jira_agent_groups=("jira-servicedesk-users",))

    def reply_by(author: str) -> str:
        payload = commented({"name": author, "key": author})
        payload["issue"]["id"] = issue["id"]
        event = adapter.refresh(normalize(payload, {}))
        assert event.requester == Requester(id="lucia", name="Лючия", email=reporter["emailAddress"])
        assert event.comment is not None
        return event.comment.by

    assert [reply_by("olga"), reply_by("pavel"), reply_by("olga")] == ["agent", "customer", "agent"]
    user_reads = [request for request in russian_site.requests if request.path.endswith("/user")]
    assert len(user_reads) == 2  # each person's groups read once


def test_agent_groups_are_a_rules_setting(tmp_path: Path):
    for rule_file in RULES.glob("*.yaml"):
        (tmp_path / rule_file.name).write_text(rule_file.read_text(encoding="utf-8"), encoding="utf-8")
    settings = tmp_path / "00-settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("settings:\n", "settings:\n  jira:\n    agent_groups: [jira-servicedesk-users, Support]\n", 1), encoding="utf-8")

    assert load_ruleset(tmp_path).settings.jira_agent_groups == ("jira-servicedesk-users", "Support")
