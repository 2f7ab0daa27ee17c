"""End to end on Jira Cloud (and Data Center): a signed webhook in, the worker, the real
jira library writing to a fake Jira over HTTP, request bodies checked against the Jira
Cloud OpenAPI spec. Also: one rule set drives Zendesk and Jira in the same run.

Runs on SQLite and on PostgreSQL (the `make_app` fixture)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from integration.runtime import platforms
from integration.runtime.inbox import EventStatus
from tests.conftest import PAYLOADS, WEBHOOK_SECRET, fresh_jira, jira_headers, load_json
from tests.fakes.jira import FakeJira, adf_text
from tests.fakes.jira_fixtures import JIRA_API_TOKEN, JIRA_PAT
from tests.openapi import JIRA_LIBRARY_STRINGIFY, load_jira_spec

DELIVERY = PAYLOADS / "jira" / "issue_created_es_delivery.json"


def seeded(fake: FakeJira) -> tuple[dict[str, Any], dict[str, Any]]:
    """The integration's own account, a service-desk project with the department
    components, and the Spanish customer's issue; returns (issue, webhook payload)."""
    fake.add_user("dispute-desk", email="bot@example.com", account_id="5b10ac8d82e05b22cc7d4ef5", name="dispute-desk", me=True)
    payload = load_json(DELIVERY)
    reporter = payload["issue"]["fields"]["reporter"]
    customer = fake.add_user(reporter["displayName"], email=reporter.get("emailAddress"), account_id=reporter.get("accountId"), name="lucia")
    fake.add_project("DD", "Disputas de entrega", components=["Logistics & Operations", "Finance", "Web"], service_desk=True)
    issue = fake.add_issue(
        key="DD-7",
        summary=payload["issue"]["fields"]["summary"],
        description=payload["issue"]["fields"]["description"],
        components=["Web"],
        reporter=fake.user_id(customer),
        project="DD",
    )
    return issue, retarget(payload, issue)


def retarget(payload: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
    """The recorded payload, about the fake's issue."""
    payload = copy.deepcopy(payload)
    payload["issue"]["id"], payload["issue"]["key"] = issue["id"], issue["key"]
    return payload


class Desk:
    def __init__(self, app, fake: FakeJira) -> None:
        self.app, self.fake = app, fake
        services = app.extensions["dispute_desk"]
        self.adapters = platforms.build_adapters(services)
        self.worker = platforms.make_worker(services, self.adapters)
        self.client = app.test_client()

    def deliver(self, payload: dict[str, Any], identifier: str, secret: str = WEBHOOK_SECRET):
        body = json.dumps(fresh_jira(payload)).encode()  # Jira's body timestamp must be recent
        return self.client.post("/webhooks/jira", data=body, headers=jira_headers(body, secret=secret, identifier=identifier))

    def work(self) -> list:
        now = datetime.now(UTC)
        done = []
        while (event := self.worker.step(now)) is not None:
            done.append(self.worker.inbox.get(event.id))
        return done


@pytest.fixture
def cloud(make_app, fake_jira):
    issue, payload = seeded(fake_jira)
    app = make_app(jira_url=fake_jira.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,))
    return Desk(app, fake_jira), issue, payload


def our_comments(fake: FakeJira, key: str) -> list[dict[str, Any]]:
    return [c for c in fake.comments(key) if c["author"].get("accountId") == fake.me_id or c["author"].get("name") == fake.me_id]


def test_a_spanish_delivery_dispute_gets_logistics_labels_and_the_spanish_checklist_in_two_writes_at_most(cloud):
    desk, _issue, payload = cloud
    assert desk.deliver(payload, "wh-1").status_code == 202
    desk.fake.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    writes = desk.fake.writes()
    assert 1 <= len(writes) <= 2
    spec = load_jira_spec()
    for write in writes:
        spec.validate_request(write.method, write.path, write.json, strict=True, stringify=JIRA_LIBRARY_STRINGIFY)
    fields = desk.fake.issue("DD-7")["fields"]
    assert {c["name"] for c in fields["components"]} == {"Web", "Logistics & Operations"}  # unrelated components stay
    assert {"dept-logistics", "dispute", "dispute-logistics"} <= set(fields["labels"])
    rules = desk.app.extensions["dispute_desk"].rules.current
    notes = our_comments(desk.fake, "DD-7")
    texts = [adf_text(note["body"]) for note in notes]
    core = rules.checklists["dispute-core"]
    assert any(core.title["es"] in text and core.items[0]["es"] in text for text in texts)
    assert not any(core.items[0]["en"] in text for text in texts)
    internal = [note for note in notes if {"key": "sd.public.comment", "value": {"internal": True}} in note.get("properties", [])]
    assert internal == notes  # notes stay off the customer portal on service-desk projects
    assert event.outcome["department"] == "logistics"


def test_redelivery_and_the_integrations_own_update_change_nothing(cloud):
    desk, _issue, payload = cloud
    desk.deliver(payload, "wh-1")
    desk.work()
    desk.fake.reset_log()

    assert desk.deliver(payload, "wh-1").status_code == 200
    own = {
        "timestamp": payload["timestamp"] + 1000,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_updated",
        "user": {"accountId": desk.fake.me_id, "displayName": "dispute-desk"},
        "issue": payload["issue"],
        "changelog": {"id": "90001", "items": [{"field": "labels", "fieldtype": "jira", "from": None, "fromString": "", "to": None, "toString": "dispute"}]},
    }
    assert desk.deliver(own, "wh-2").status_code == 202
    [event] = desk.work()

    assert event.status == EventStatus.SKIPPED
    assert event.outcome == {"skipped": f"caused by the integration's own account {desk.fake.me_id}"}
    assert desk.fake.requests == []


def test_a_forged_signature_gets_401_and_changes_nothing(cloud):
    desk, _issue, payload = cloud
    assert desk.deliver(payload, "wh-1", secret="forged").status_code == 401
    assert desk.work() == []
    assert desk.fake.writes() == []


def test_a_repeated_comment_adds_no_second_checklist(cloud):
    desk, issue, payload = cloud
    desk.deliver(payload, "wh-1")
    desk.work()
    comment = retarget(load_json(PAYLOADS / "jira" / "comment_created_cloud_es.json"), issue)
    desk.deliver(comment, "wh-3")
    desk.fake.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    assert desk.fake.writes() == []  # already routed and checklisted: nothing to write
    assert len(our_comments(desk.fake, "DD-7")) == len({n["id"] for n in our_comments(desk.fake, "DD-7")})


def test_a_rate_limited_edit_is_retried_after_retry_after_without_sleeping(cloud):
    desk, _issue, payload = cloud
    desk.deliver(payload, "wh-1")
    desk.fake.fail_next(429, headers={"Retry-After": "9"}, method="PUT")
    started = datetime.now(UTC)

    [event] = desk.work()

    assert (datetime.now(UTC) - started).total_seconds() < 5  # the worker never slept inside the client
    assert event.status == EventStatus.PENDING
    assert event.last_error.startswith("Jira answered 429")
    assert (event.available_at - started).total_seconds() == pytest.approx(9, abs=2)


def test_a_transition_is_found_by_the_status_it_leads_to(make_app, fake_jira):
    _issue, payload = seeded(fake_jira)
    rules_dir = make_rules_with({"id": "reopen-low", "on": ["created"], "then": {"transition": "open"}})
    app = make_app(rules_path=str(rules_dir), jira_url=fake_jira.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,))
    desk = Desk(app, fake_jira)
    desk.deliver(payload, "wh-1")
    fake_jira.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    posts = [w for w in fake_jira.writes() if w.path.endswith("/transitions")]
    assert len(posts) == 1 and len(fake_jira.writes()) <= 2
    assert fake_jira.issue("DD-7")["fields"]["status"]["statusCategory"]["key"] == "indeterminate"



def make_rules_with(rule: dict[str, Any]):
    """The default pack plus one extra rule file (rules evaluate in file-name order)."""
    import shutil
    import tempfile
    from pathlib import Path

    import yaml

    from tests.conftest import RULES

    target = Path(tempfile.mkdtemp(prefix="dd-rules-"))
    for path in RULES.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    (target / "99-test.yaml").write_text(yaml.safe_dump({"rules": [rule]}, sort_keys=False).replace("'on'", "on"))
    return target


def test_data_center_gets_wiki_markup_and_token_auth(make_app, fake_jira_server):
    _issue, payload = seeded(fake_jira_server)
    app = make_app(jira_url=fake_jira_server.url, jira_pat=JIRA_PAT, jira_webhook_secrets=(WEBHOOK_SECRET,))
    desk = Desk(app, fake_jira_server)
    desk.deliver(payload, "wh-1")

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    [edit] = [w for w in fake_jira_server.writes() if w.method == "PUT"]
    assert edit.path.startswith("/rest/api/2/issue/")
    assert edit.headers["Authorization"] == f"Bearer {JIRA_PAT}"
    bodies = [op["add"]["body"] for op in edit.json["update"]["comment"]]
    assert all(isinstance(body, str) for body in bodies)
    assert any("* " in body for body in bodies)  # checklist items as a wiki bullet list


def test_one_rule_set_drives_zendesk_and_jira_in_the_same_run(make_app, fake_jira, fake_zendesk, monkeypatch):
    from tests.conftest import zendesk_headers
    from tests.fakes.fixtures import point_zenpy_at

    _issue, jira_payload = seeded(fake_jira)
    point_zenpy_at(fake_zendesk, monkeypatch)
    zd_payload = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
    requester = zd_payload["detail"]["requester_id"]
    fake_zendesk.add_user(id=int(requester), name="Ana", locale="pt-BR")
    fake_zendesk.add_group(id=361, name="Finance")
    fake_zendesk.add_ticket(id=35436, subject=zd_payload["detail"]["subject"], description=zd_payload["detail"]["description"], status="new", tags=[], requester_id=int(requester))
    app = make_app(
        zendesk_subdomain="example", zendesk_email="bot@example.com", zendesk_api_token="t", zendesk_webhook_secrets=(WEBHOOK_SECRET,),
        jira_url=fake_jira.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,),
    )
    desk = Desk(app, fake_jira)
    zd_body = json.dumps(zd_payload).encode()
    assert desk.client.post("/webhooks/zendesk", data=zd_body, headers=zendesk_headers(zd_body)).status_code == 202
    assert desk.deliver(jira_payload, "wh-1").status_code == 202

    events = desk.work()

    assert sorted((e.platform, e.status, e.outcome["department"]) for e in events) == [
        ("jira", EventStatus.DONE, "logistics"),
        ("zendesk", EventStatus.DONE, "finance"),
    ]
    assert fake_zendesk.ticket(35436)["group_id"] == 361
    assert "Logistics & Operations" in {c["name"] for c in fake_jira.issue("DD-7")["fields"]["components"]}


REAL_JIRA = sorted(__import__("tests.conftest", fromlist=["REAL"]).REAL.glob("jira_*.json"))


def about_issue(payload: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
    """A recorded payload retargeted at the fake's issue (ids, key and comment URL)."""
    payload = copy.deepcopy(payload)
    if "issue" in payload:
        payload["issue"]["id"], payload["issue"]["key"] = issue["id"], issue["key"]
    comment = payload.get("comment")
    if comment and "self" in comment:
        base, _, rest = comment["self"].partition("/issue/")
        comment["self"] = f"{base}/issue/{issue['id']}/comment/{rest.rpartition('/')[2]}"
    return payload


@pytest.mark.parametrize("path", REAL_JIRA, ids=lambda p: p.stem)
def test_every_recorded_jira_delivery_is_processed_and_every_write_fits_the_spec(make_app, path, request):
    server = "server" in path.stem
    fake = request.getfixturevalue("fake_jira_server" if server else "fake_jira")
    fake.add_user("dispute-desk", account_id=None if server else "5b10ac8d82e05b22cc7d4ef5", name="dispute-desk", me=True)
    fake.add_project("DD", "Disputes", components=["Logistics & Operations", "Finance"], service_desk=not server)
    issue = fake.add_issue(key="DD-1", summary="Cobro duplicado: me cobraron dos veces y quiero el reembolso", project="DD")
    credentials = {"jira_pat": JIRA_PAT} if server else {"jira_email": "bot@example.com", "jira_api_token": JIRA_API_TOKEN}
    app = make_app(jira_url=fake.url, jira_webhook_secrets=(WEBHOOK_SECRET,), **credentials)
    desk = Desk(app, fake)
    assert desk.deliver(about_issue(load_json(path), issue), f"wh-{path.stem}").status_code == 202

    events = desk.work()

    assert events and all(e.status in (EventStatus.DONE, EventStatus.SKIPPED) for e in events), [(e.status, e.last_error) for e in events]
    spec = load_jira_spec()
    for write in fake.writes():
        spec.validate_request(write.method, write.path, write.json, strict=True, stringify=JIRA_LIBRARY_STRINGIFY)
    assert len(fake.writes()) <= 2 * len(events)
    if "issue_created" in path.stem:  # the issue is about a double charge: routed to Finance
        assert "Finance" in {c["name"] for c in fake.issue("DD-1")["fields"]["components"]}


def test_a_checklist_as_subtasks_is_created_once_in_one_bulk_call(make_app, fake_jira):
    _issue, payload = seeded(fake_jira)
    rules_dir = make_rules_with({"id": "steps", "on": ["created", "comment_added"], "then": {"checklist": {"id": "dispute-product", "as": "subtasks"}}})
    app = make_app(rules_path=str(rules_dir), jira_url=fake_jira.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,))
    desk = Desk(app, fake_jira)
    desk.deliver(payload, "wh-1")
    fake_jira.reset_log()

    [event] = desk.work()

    assert event.status == EventStatus.DONE, event.last_error
    bulk = [w for w in fake_jira.writes() if w.path.endswith("/issue/bulk")]
    assert len(bulk) == 1
    items = app.extensions["dispute_desk"].rules.current.checklists["dispute-product"].items
    subtasks = fake_jira.issue("DD-7")["fields"]["subtasks"]
    assert [s["fields"]["summary"] for s in subtasks] == [item["es"] for item in items]
    assert "dd-checklist-dispute-product" in fake_jira.issue("DD-7")["fields"]["labels"]

    comment = retarget(load_json(PAYLOADS / "jira" / "comment_created_cloud_es.json"), _issue)
    desk.deliver(comment, "wh-2")
    desk.work()
    assert len(fake_jira.issue("DD-7")["fields"]["subtasks"]) == len(items)  # not twice


def test_the_deadline_a_rule_starts_becomes_the_issue_due_date(cloud):
    desk, _issue, payload = cloud
    desk.deliver(payload, "wh-1")

    [event] = desk.work()

    [deadline] = event.outcome["deadlines"]
    assert deadline == "first-response"
    [edit] = [w for w in desk.fake.writes() if w.method == "PUT"]
    due = edit.json["fields"]["duedate"]
    assert desk.fake.issue("DD-7")["fields"]["duedate"] == due
    assert due >= datetime.now(UTC).date().isoformat()
