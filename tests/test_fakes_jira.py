"""The Jira fake and the Jira spec validator, exercised through the real jira client.

These tests pin down what the Jira adapter author relies on: which requests pycontribs/jira
3.10.5 really sends, what it raises, how its retry loop sleeps (and how ``max_retries=0``
stops it), how REST v2 and v3 differ, and that its bodies match the official spec. The
findings are written out in the docstrings of tests/fakes/jira.py and tests/openapi.py.
"""

# ruff: noqa: F811  -- pytest injects the imported fixtures by parameter name
from __future__ import annotations

import base64
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from tests.fakes import jira as fake_module
from tests.fakes.jira import FakeJira, RecordedRequest, adf, adf_text
from tests.fakes.jira_fixtures import (  # noqa: F401
    JIRA_API_TOKEN,
    JIRA_EMAIL,
    JIRA_PAT,
    fake_jira,
    fake_jira_server,
    jira_client,
    jira_server_client,
    make_jira_client,
)
from tests.openapi import (
    JIRA_LIBRARY_STRINGIFY,
    JIRA_SPEC_PATH,
    JiraOpenAPISpec,
    load_jira_spec,
    to_v3_path,
)

REAL = Path("/work/shared/fixtures/real")
INTERNAL = [{"key": "sd.public.comment", "value": {"internal": True}}]


@pytest.fixture(scope="module")
def spec() -> JiraOpenAPISpec:
    if not JIRA_SPEC_PATH.exists():
        pytest.skip(f"Jira OpenAPI spec not found at {JIRA_SPEC_PATH}")
    return load_jira_spec()


@pytest.fixture
def desk(fake_jira: FakeJira) -> FakeJira:
    """A Service Management project with two components and one customer's issue DD-1."""
    fake_jira.add_project("DD", "Disputes", components=["Billing", "Payments"], service_desk=True)
    customer = fake_jira.add_user("Maria Silva", email="maria@example.com")
    fake_jira.add_issue(
        "DD-1",
        summary="Charged twice for order 1234",
        description="I was charged twice.",
        reporter=fake_jira.user_id(customer),
        labels=["billing"],
        custom_fields={"customfield_10050": "chargeback"},
    )
    return fake_jira


@pytest.fixture
def desk_server(fake_jira_server: FakeJira) -> FakeJira:
    fake_jira_server.add_project("DD", "Disputes", components=["Billing"])
    fake_jira_server.add_issue("DD-1", summary="Charged twice", description="I was *charged* twice")
    return fake_jira_server


def _only(log: list[RecordedRequest], method: str) -> RecordedRequest:
    matching = [r for r in log if r.method == method]
    assert len(matching) == 1, matching
    return matching[0]


def _calls(fake: FakeJira) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests]


def _response(error: JIRAError) -> requests.Response:
    """The HTTP response a JIRAError carries (always set for status errors)."""
    assert error.response is not None
    return error.response


def _operation_id(spec: JiraOpenAPISpec, method: str, path: str) -> str | None:
    operation = spec.find_operation(method, path)
    assert operation is not None, (method, path)
    return operation.operation_id


# -- shapes stay true to the captures and the spec ---------------------------------------------


def test_every_fake_endpoint_is_an_operation_in_the_spec(spec: JiraOpenAPISpec) -> None:
    for method, rule, _ in fake_module._ROUTES:
        concrete = rule.replace("<version>", "3").replace("<ref>", "DD-1")
        assert spec.operation_exists(method, concrete), (method, rule)


def test_cloud_shapes_match_the_2024_cloud_capture(desk: FakeJira) -> None:
    path = REAL / "jira_issue_created_cloud_2024.json"
    if not path.exists():
        pytest.skip(f"capture {path} not available")
    captured = json.loads(path.read_text())["issue"]["fields"]
    fields = desk.issue("DD-1", version="2")["fields"]

    for name in ("status", "priority", "reporter"):
        assert set(fields[name]) == set(captured[name]), name
    assert set(fields["status"]["statusCategory"]) == set(captured["status"]["statusCategory"])
    assert fields["status"]["statusCategory"] == {
        **captured["status"]["statusCategory"],
        "self": fields["status"]["statusCategory"]["self"],
    }
    assert {"summary", "description", "labels", "components", "duedate", "created"} <= set(fields)


def test_server_comment_shape_matches_the_server_capture(desk_server: FakeJira) -> None:
    path = REAL / "jira_comment_created_server.json"
    if not path.exists():
        pytest.skip(f"capture {path} not available")
    captured = json.loads(path.read_text())["comment"]
    desk_server.add_comment("DD-1", "unik")

    comment = desk_server.comments("DD-1")[0]

    assert set(comment) - {"properties"} == set(captured)
    assert set(comment["author"]) == set(captured["author"])


# -- building the client -----------------------------------------------------------------------


def test_cloud_client_sends_only_server_info_with_basic_auth(fake_jira: FakeJira) -> None:
    client = make_jira_client(fake_jira)

    assert _calls(fake_jira) == [("GET", "/rest/api/3/serverInfo")]
    request = fake_jira.requests[0]
    scheme, _, credentials = request.headers["Authorization"].partition(" ")
    assert (scheme, base64.b64decode(credentials).decode()) == (
        "Basic",
        f"{JIRA_EMAIL}:{JIRA_API_TOKEN}",
    )
    assert request.headers["Accept"] == "application/json,*/*;q=0.9"
    assert request.headers["X-Atlassian-Token"] == "no-check"
    assert (client.deploymentType, client._is_cloud, client._version) == (
        "Cloud",
        True,
        (1001, 0, 0),
    )


def test_server_client_uses_a_bearer_pat_and_rest_v2(fake_jira_server: FakeJira) -> None:
    client = make_jira_client(fake_jira_server)

    assert _calls(fake_jira_server) == [("GET", "/rest/api/2/serverInfo")]
    assert fake_jira_server.requests[0].headers["Authorization"] == f"Bearer {JIRA_PAT}"
    assert (client.deploymentType, client._is_cloud, client._version) == (
        "Server",
        False,
        (9, 12, 2),
    )


def test_without_server_info_a_cloud_client_thinks_it_is_server(fake_jira: FakeJira) -> None:
    client = make_jira_client(fake_jira, get_server_info=False)

    assert fake_jira.requests == []
    assert (client.deploymentType, client._is_cloud) == (None, False)


def test_server_has_no_rest_v3(fake_jira_server: FakeJira) -> None:
    with pytest.raises(JIRAError) as caught:
        make_jira_client(fake_jira_server, options={"rest_api_version": "3"})

    assert caught.value.status_code == 404
    assert "REST API v2" in str(caught.value.text)


def test_missing_or_wrong_credentials_get_401(fake_jira: FakeJira) -> None:
    anonymous = requests.get(f"{fake_jira.url}/rest/api/3/myself", timeout=5)

    with pytest.raises(JIRAError) as caught:
        make_jira_client(fake_jira, basic_auth=(JIRA_EMAIL, "a-wrong-token"))

    assert anonymous.status_code == 401
    assert anonymous.json() == fake_module.UNAUTHORIZED_BODY
    assert caught.value.status_code == 401
    assert str(caught.value.text).startswith("You are not authenticated.")


# -- reading -----------------------------------------------------------------------------------


def test_myself_is_the_integration_user(jira_client: JIRA, fake_jira: FakeJira) -> None:
    me = jira_client.myself()

    assert me["accountId"] == fake_jira.me_id and "name" not in me
    assert (me["displayName"], me["emailAddress"]) == ("Dispute Desk Bot", "bot@example.com")
    assert fake_jira.requests[-1].path == "/rest/api/3/myself"


def test_myself_on_server_has_name_and_key(
    jira_server_client: JIRA, fake_jira_server: FakeJira
) -> None:
    me = jira_server_client.myself()

    assert me["name"] == me["key"] == fake_jira_server.me_id
    assert "accountId" not in me


def test_reads_an_issue_with_fields_and_expand(jira_client: JIRA, desk: FakeJira) -> None:
    partial = jira_client.issue("DD-1", fields="summary,status,labels", expand="names")
    full = jira_client.issue("DD-1")

    request = desk.requests[1]
    assert (request.path, request.query) == (
        "/rest/api/3/issue/DD-1",
        {"fields": "summary,status,labels", "expand": "names"},
    )
    assert set(partial.raw["fields"]) == {"summary", "status", "labels"}
    assert partial.raw["names"]["status"] == "Status"
    assert (full.key, full.id, full.fields.summary) == (
        "DD-1",
        "10010",
        "Charged twice for order 1234",
    )
    assert (full.fields.status.name, full.fields.status.statusCategory.key) == ("To Do", "new")
    assert full.fields.priority.name == "Medium" and full.fields.labels == ["billing"]
    assert full.raw["fields"]["customfield_10050"] == "chargeback"
    assert full.raw["fields"]["description"] == adf("I was charged twice.")  # v3: ADF
    assert full.raw["self"] == "https://dispute-desk.atlassian.net/rest/api/3/issue/10010"


def test_v2_renders_the_same_state_as_strings(desk: FakeJira) -> None:
    client = make_jira_client(desk, options={"rest_api_version": "2"})

    issue = client.issue("DD-1")

    assert issue.fields.description == "I was charged twice."
    assert issue.self.endswith("/rest/api/2/issue/10010")


def test_unknown_issue_is_a_404_jira_error(jira_client: JIRA, desk: FakeJira) -> None:
    with pytest.raises(JIRAError) as caught:
        jira_client.issue("DD-999")

    assert caught.value.status_code == 404
    assert caught.value.text == "Issue does not exist or you do not have permission to see it."


# -- editing: fields + update in ONE PUT -------------------------------------------------------


def _escalation(fake: FakeJira) -> tuple[dict[str, Any], dict[str, Any]]:
    fields = {"priority": {"name": "High"}, "duedate": "2024-02-01"}
    update = {
        "labels": [{"add": "dispute_escalated"}],
        "components": [{"set": [{"name": "Billing"}]}],
        "comment": [{"add": {"body": adf("Escalated to Billing"), "properties": INTERNAL}}],
    }
    return fields, update


def test_edit_applies_fields_and_update_in_one_put(jira_client: JIRA, desk: FakeJira) -> None:
    issue = jira_client.issue("DD-1")
    desk.reset_log()
    fields, update = _escalation(desk)

    issue.update(fields=fields, update=update)

    put = _only(desk.writes(), "PUT")
    assert (put.path, put.query, put.status) == ("/rest/api/3/issue/10010", {}, 204)
    assert put.json == {"fields": fields, "update": update}
    assert _calls(desk) == [("PUT", "/rest/api/3/issue/10010"), ("GET", "/rest/api/3/issue/10010")]
    assert issue.fields.labels == ["billing", "dispute_escalated"]  # the reload GET
    stored = desk.issue("DD-1")["fields"]
    assert [c["name"] for c in stored["components"]] == ["Billing"]
    assert (stored["priority"]["name"], stored["duedate"]) == ("High", "2024-02-01")
    comment = desk.comments("DD-1")[-1]
    assert adf_text(comment["body"]) == "Escalated to Billing"
    assert comment["properties"] == INTERNAL and comment["jsdPublic"] is False
    assert comment["author"]["accountId"] == desk.me_id


def test_edit_bodies_validate_strictly_against_the_spec(
    jira_client: JIRA, desk: FakeJira, spec: JiraOpenAPISpec
) -> None:
    fields, update = _escalation(desk)
    jira_client.issue("DD-1").update(fields=fields, update=update)

    put = _only(desk.writes(), "PUT")

    spec.validate_request(put.method, put.path, put.json, strict=True)
    assert _operation_id(spec, put.method, put.path) == "editIssue"


def test_other_update_operations_and_fields(jira_client: JIRA, desk: FakeJira) -> None:
    issue = jira_client.issue("DD-1")
    agent = desk.user_id(desk.add_user("Ana Agent"))
    issue.update(fields={"components": [{"name": "Billing"}, {"name": "Payments"}]})

    issue.update(
        fields={"assignee": {"accountId": agent}, "customfield_10050": "friendly_fraud"},
        update={
            "labels": [{"remove": "billing"}, {"add": "dispute"}],
            "components": [{"remove": {"name": "Billing"}}],
        },
    )
    issue.update(update={"labels": [{"set": ["a", "b"]}], "priority": [{"set": {"id": "1"}}]})

    fields = desk.issue("DD-1")["fields"]
    assert fields["assignee"]["accountId"] == agent
    assert fields["customfield_10050"] == "friendly_fraud"
    assert [c["name"] for c in fields["components"]] == ["Payments"]
    assert (fields["labels"], fields["priority"]["name"]) == (["a", "b"], "Highest")


def test_notify_false_adds_notify_users_query(jira_client: JIRA, desk: FakeJira) -> None:
    jira_client.issue("DD-1").update(fields={"summary": "Charged twice (order 1234)"}, notify=False)

    assert _only(desk.writes(), "PUT").query == {"notifyUsers": "false"}


def test_server_edit_uses_v2_strings(
    jira_server_client: JIRA, desk_server: FakeJira, spec: JiraOpenAPISpec
) -> None:
    issue = jira_server_client.issue("DD-1")
    update = {"comment": [{"add": {"body": "Escalated to *Billing*"}}], "labels": [{"add": "x"}]}

    issue.update(fields={"assignee": {"name": desk_server.me_id}}, update=update)

    put = _only(desk_server.writes(), "PUT")
    assert put.path == "/rest/api/2/issue/10010"
    assert desk_server.issue("DD-1")["fields"]["assignee"]["name"] == desk_server.me_id
    assert desk_server.comments("DD-1")[-1]["body"] == "Escalated to *Billing*"
    spec.validate_request(put.method, put.path, put.json, strict=True)
    with pytest.raises(AssertionError, match="REST v3 takes an Atlassian Document"):
        spec.validate_request(put.method, to_v3_path(put.path), put.json)


def test_unknown_component_is_a_400_and_nothing_changes(jira_client: JIRA, desk: FakeJira) -> None:
    issue = jira_client.issue("DD-1")
    update = {"labels": [{"add": "dispute"}], "components": [{"add": {"name": "Nope"}}]}

    with pytest.raises(JIRAError) as caught:
        issue.update(fields={}, update=update)

    error = caught.value
    assert (error.status_code, error.text) == (400, "Component name 'Nope' is not valid")
    assert _response(error).json() == {
        "errorMessages": [],
        "errors": {"components": "Component name 'Nope' is not valid"},
    }
    assert str(error.url).endswith("/rest/api/3/issue/10010")
    assert str(error).startswith("JiraError HTTP 400 url: ")
    assert desk.issue("DD-1")["fields"]["labels"] == ["billing"]  # all or nothing


def test_every_field_error_is_reported_at_once(jira_client: JIRA, desk: FakeJira) -> None:
    fields = {"priority": {"name": "Urgent"}, "customfield_99999": "x", "status": {"name": "Done"}}

    with pytest.raises(JIRAError) as caught:
        jira_client.issue("DD-1").update(fields=fields)

    assert _response(caught.value).json()["errors"] == {
        "priority": "Priority name 'Urgent' is not valid",
        "customfield_99999": fake_module.unknown_field("customfield_99999"),
        "status": fake_module.unknown_field("status"),
    }


def test_undeclared_body_key_is_rejected_like_jacksons_beans(desk: FakeJira) -> None:
    response = requests.put(
        f"{desk.url}/rest/api/3/issue/DD-1",
        json={"fields": {}, "updates": {}},
        auth=(JIRA_EMAIL, JIRA_API_TOKEN),
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["errorMessages"][0].startswith('Unrecognized field "updates"')


# -- comments ----------------------------------------------------------------------------------


def test_add_internal_comment_on_cloud_v3(
    jira_client: JIRA, desk: FakeJira, spec: JiraOpenAPISpec
) -> None:
    comment = jira_client.add_comment("DD-1", adf("Internal: refund approved"), is_internal=True)

    post = _only(desk.writes(), "POST")
    assert (post.path, post.status) == ("/rest/api/3/issue/DD-1/comment", 201)
    assert post.json == {"body": adf("Internal: refund approved"), "properties": INTERNAL}
    assert comment.raw["jsdPublic"] is False and "properties" not in comment.raw
    assert [c.id for c in jira_client.comments("DD-1")] == [comment.id]
    spec.validate_request(post.method, post.path, post.json, strict=True)


def test_a_string_comment_body_on_v3_is_rejected(jira_client: JIRA, desk: FakeJira) -> None:
    with pytest.raises(JIRAError) as caught:
        jira_client.add_comment("DD-1", "plain text")

    assert caught.value.status_code == 400
    assert caught.value.text == fake_module.ADF_REQUIRED
    assert desk.comments("DD-1") == []


def test_add_comment_on_server_v2_is_a_string(
    jira_server_client: JIRA, desk_server: FakeJira, spec: JiraOpenAPISpec
) -> None:
    jira_server_client.add_comment("DD-1", "Escalated", is_internal=True)

    post = _only(desk_server.writes(), "POST")
    assert post.json == {"body": "Escalated", "properties": INTERNAL}
    assert "jsdPublic" not in desk_server.comments("DD-1")[0]  # Server comments have no jsdPublic
    spec.validate_request(post.method, post.path, post.json, strict=True)


# -- transitions -------------------------------------------------------------------------------


def test_lists_and_performs_a_transition(
    jira_client: JIRA, desk: FakeJira, spec: JiraOpenAPISpec
) -> None:
    available = jira_client.transitions("DD-1")
    result = jira_client.transition_issue("DD-1", "21")

    assert [(t["id"], t["name"], t["to"]["name"]) for t in available] == [
        ("11", "Start Progress", "In Progress"),
        ("21", "Escalate", "Escalated"),
        ("31", "Done", "Done"),
    ]
    post = _only(desk.writes(), "POST")
    assert (post.path, post.json, post.status) == (
        "/rest/api/3/issue/DD-1/transitions",
        {"transition": {"id": 21}, "fields": {}},  # the id goes out as an integer
        204,
    )
    assert result == {}
    status = desk.issue("DD-1")["fields"]["status"]
    assert (status["name"], status["statusCategory"]["key"]) == ("Escalated", "indeterminate")
    assert [t["id"] for t in jira_client.transitions("DD-1")] == ["31"]
    spec.validate_request(
        post.method, post.path, post.json, strict=True, stringify=JIRA_LIBRARY_STRINGIFY
    )
    with pytest.raises(AssertionError, match=r"transition\.id: 21 is not of type 'string'"):
        spec.validate_request(post.method, post.path, post.json)


def test_transition_by_name_costs_a_lookup_and_can_set_resolution(
    jira_client: JIRA, desk: FakeJira
) -> None:
    jira_client.transition_issue("DD-1", "done", fields={"resolution": {"name": "Done"}})

    assert _calls(desk)[-2:] == [
        ("GET", "/rest/api/3/issue/DD-1/transitions"),
        ("POST", "/rest/api/3/issue/DD-1/transitions"),
    ]
    fields = desk.issue("DD-1")["fields"]
    assert (fields["status"]["name"], fields["resolution"]["name"]) == ("Done", "Done")
    assert fields["resolutiondate"] is not None


def test_unavailable_transition_is_a_400(jira_client: JIRA, desk: FakeJira) -> None:
    with pytest.raises(JIRAError) as caught:
        jira_client.transition_issue("DD-1", "41")  # Reopen: only from Done

    assert caught.value.status_code == 400
    assert _response(caught.value).json() == {
        "errorMessages": ["Transition id '41' is not valid for this issue."],
        "errors": {},
    }
    assert desk.issue("DD-1")["fields"]["status"]["name"] == "To Do"


def test_workflow_is_configurable(fake_jira: FakeJira, jira_client: JIRA) -> None:
    fake_jira.set_workflow(
        [("Open", "new"), ("Waiting for support", "indeterminate"), ("Resolved", "done")],
        [("5", "Resolve", None, "Resolved"), ("7", "Respond", ["Open"], "Waiting for support")],
    )
    fake_jira.add_issue("SD-1", status="Open")

    assert [t["id"] for t in jira_client.transitions("SD-1")] == ["5", "7"]
    jira_client.transition_issue("SD-1", "7")
    assert [t["id"] for t in jira_client.transitions("SD-1")] == ["5"]


# -- bulk create (sub-tasks) -------------------------------------------------------------------


def _subtask(summary: str, parent: str = "DD-1") -> dict[str, Any]:
    return {
        "project": {"key": "DD"},
        "issuetype": {"name": "Sub-task"},
        "parent": {"key": parent},
        "summary": summary,
        "labels": ["checklist"],
    }


def test_bulk_creates_two_subtasks(
    jira_client: JIRA, desk: FakeJira, spec: JiraOpenAPISpec
) -> None:
    results = jira_client.create_issues([_subtask("Check the ledger"), _subtask("Call the bank")])

    assert [(r["status"], r["issue"].key) for r in results] == [
        ("Success", "DD-2"),
        ("Success", "DD-3"),
    ]
    assert results[0]["issue"].fields.parent.key == "DD-1"
    post = _only(desk.writes(), "POST")
    assert (post.path, post.status) == ("/rest/api/3/issue/bulk", 201)
    assert post.json == {
        "issueUpdates": [
            {"fields": _subtask("Check the ledger")},
            {"fields": _subtask("Call the bank")},
        ]
    }
    assert _calls(desk)[-2:] == [
        ("GET", "/rest/api/3/issue/DD-2"),
        ("GET", "/rest/api/3/issue/DD-3"),
    ]
    parent = desk.issue("DD-1")["fields"]
    assert [s["key"] for s in parent["subtasks"]] == ["DD-2", "DD-3"]
    assert desk.issue("DD-2")["fields"]["issuetype"]["subtask"] is True
    spec.validate_request(post.method, post.path, post.json, strict=True)


def test_bulk_failures_are_returned_not_raised(jira_client: JIRA, desk: FakeJira) -> None:
    bad_type = {**_subtask("x"), "issuetype": {"name": "Epic"}}
    orphan = {key: value for key, value in _subtask("y").items() if key != "parent"}

    results = jira_client.create_issues([bad_type, orphan], prefetch=False)

    assert [r["status"] for r in results] == ["Error", "Error"]
    assert results[0]["error"] == {"issuetype": fake_module.INVALID_ISSUE_TYPE}
    assert results[1]["error"] == {"parent": fake_module.SUBTASK_NEEDS_PARENT}
    assert _only(desk.writes(), "POST").status == 400  # nothing created: 400, parsed by jira


# -- project components ------------------------------------------------------------------------


def test_project_components(jira_client: JIRA, desk: FakeJira) -> None:
    components = jira_client.project_components("DD")

    assert [(c.name, c.id) for c in components] == [("Billing", "10050"), ("Payments", "10051")]
    assert desk.requests[-1].path == "/rest/api/3/project/DD/components"


# -- rate limits, retries, timeouts ------------------------------------------------------------


def test_429_raises_at_once_with_max_retries_0(jira_client: JIRA, desk: FakeJira) -> None:
    desk.fail_next(429, path_contains="/issue/")
    started = time.monotonic()

    with pytest.raises(JIRAError) as caught:
        jira_client.issue("DD-1")

    assert time.monotonic() - started < 2.0  # no sleep at all, in practice a few ms
    assert caught.value.status_code == 429
    assert _response(caught.value).headers["Retry-After"] == "1"
    assert [(r.status, r.injected) for r in desk.requests[1:]] == [(429, True)]


def test_default_retries_sleep_twice_the_retry_after(desk: FakeJira) -> None:
    client = make_jira_client(desk, max_retries=1)
    desk.fail_next(429, path_contains="/myself")  # Retry-After: 1 -> sleeps 2*1*uniform(.5, 1)
    started = time.monotonic()

    client.myself()

    assert 1.0 <= time.monotonic() - started < 3.0
    assert [r.status for r in desk.requests[1:]] == [429, 200]


def test_max_retry_delay_0_retries_back_to_back(desk: FakeJira) -> None:
    client = make_jira_client(desk, max_retries=2)
    client._session.max_retry_delay = 0
    desk.fail_next(503, times=2, headers={"Retry-After": "30"})
    started = time.monotonic()

    client.myself()

    assert time.monotonic() - started < 1.0
    assert [r.status for r in desk.requests[1:]] == [503, 503, 200]


def test_503_without_retry_after_is_never_retried(desk: FakeJira) -> None:
    client = make_jira_client(desk, max_retries=3)
    desk.fail_next(503)

    with pytest.raises(JIRAError) as caught:
        client.myself()

    assert caught.value.status_code == 503
    assert [r.status for r in desk.requests[1:]] == [503]


def test_connection_refused_raises_at_once_with_max_retries_0(desk: FakeJira) -> None:
    client = make_jira_client(desk)
    desk.stop()
    started = time.monotonic()

    with pytest.raises(requests.exceptions.ConnectionError):
        client.myself()

    assert time.monotonic() - started < 2.0


def test_read_timeout_is_not_retried_even_with_retries(desk: FakeJira) -> None:
    client = make_jira_client(desk, max_retries=3, timeout=0.2)
    desk.delay_next(2.0, method="PUT")

    with pytest.raises(requests.exceptions.ReadTimeout):
        client.issue("DD-1").update(fields={"summary": "applied, but the client never knew"})

    assert len(desk.writes()) == 1
    assert desk.issue("DD-1")["fields"]["summary"] == "applied, but the client never knew"


# -- the validator on its own ------------------------------------------------------------------


def test_strict_validation_catches_what_the_library_would_send_silently(
    spec: JiraOpenAPISpec,
) -> None:
    body = {
        "fields": {"description": "plain"},
        "update": {"labels": [{"ad": "x"}], "comment": [{"add": {"body": adf("x"), "publc": 1}}]},
        "notify": False,
    }

    spec.validate_request("PUT", "/rest/api/3/issue/DD-1", {"fields": {}, "notify": False})
    with pytest.raises(AssertionError) as caught:
        spec.validate_request("PUT", "/rest/api/3/issue/DD-1", body, strict=True)

    message = str(caught.value)
    assert "update.labels.0: Additional properties are not allowed ('ad' was unexpected)" in message
    assert "notify: not declared in the spec" in message
    assert "update.comment.0.add.publc: not declared in the spec" in message
    assert "fields.description: REST v3 takes an Atlassian Document Format" in message


def test_adf_is_checked_structurally(spec: JiraOpenAPISpec) -> None:
    broken = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text"}]}],
    }

    spec.validate_request("POST", "/rest/api/3/issue/DD-1/comment", {"body": adf("a\n\nb\nc")})
    with pytest.raises(AssertionError, match=r"body\.content\.0\.content\.0: not ADF: 'text'"):
        spec.validate_request("POST", "/rest/api/3/issue/DD-1/comment", {"body": broken})


def test_v2_and_latest_paths_map_to_v3_operations(spec: JiraOpenAPISpec) -> None:
    assert to_v3_path("/rest/api/latest/issue/DD-1") == "/rest/api/3/issue/DD-1"
    assert to_v3_path("http://x:1/rest/api/2/issue/bulk") == "http://x:1/rest/api/3/issue/bulk"
    assert _operation_id(spec, "POST", "/rest/api/2/issue/bulk") == "createIssues"
    assert _operation_id(spec, "GET", "/rest/api/latest/issue/DD-1/transitions") == (
        "getTransitions"
    )
    assert not spec.operation_exists("PATCH", "/rest/api/2/issue/DD-1")
    assert load_jira_spec() is load_jira_spec()


def test_adf_helpers_round_trip() -> None:
    document = adf("Line one\nline two\n\nSecond paragraph")

    assert [p["type"] for p in document["content"]] == ["paragraph", "paragraph"]
    assert adf_text(document) == "Line one\nline two\n\nSecond paragraph"


# -- server lifecycle and unknown endpoints ----------------------------------------------------


def test_unknown_endpoints_are_loud(fake_jira: FakeJira) -> None:
    response = requests.get(
        f"{fake_jira.url}/rest/api/3/search", auth=(JIRA_EMAIL, JIRA_API_TOKEN), timeout=5
    )

    assert response.status_code == 501
    assert response.json()["errorMessages"][0].startswith("FakeJiraUnsupportedEndpoint")


def test_stop_releases_port_and_threads() -> None:
    fake = FakeJira().start()
    port = fake.port
    fake.delay_next(30)
    worker = threading.Thread(
        target=lambda: requests.get(f"{fake.url}/rest/api/3/myself", auth=("a", "b"), timeout=60)
    )
    worker.start()
    _wait_for(lambda: len(fake.requests) == 1)

    started = time.monotonic()
    fake.stop()
    worker.join(5)

    assert time.monotonic() - started < 2.0
    assert not worker.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("FakeJira")]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
