"""The Zendesk fake and the OpenAPI validator, exercised through the real zenpy client.

These tests pin down what the adapter author relies on: which requests zenpy really
sends, what it raises for each error status, how it behaves on 429/503/timeouts, and
that its bodies match the official spec. See the docstrings of tests/fakes/zendesk.py
and tests/openapi.py for the findings in prose.
"""

# ruff: noqa: F811  -- pytest injects the imported fixtures by parameter name
from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, JobStatus, TicketAudit
from zenpy.lib.exception import (
    APIException,
    RatelimitBudgetExceeded,
    RecordNotFoundException,
    ZenpyException,
)

from tests.fakes import zendesk as fake_module
from tests.fakes.fixtures import (  # noqa: F401
    ZENPY_EMAIL,
    ZENPY_TOKEN,
    fake_zendesk,
    make_zenpy_client,
    point_zenpy_at,
    zenpy_client,
)
from tests.fakes.zendesk import CONFLICT_BODY, FakeZendesk, RecordedRequest, parse_time
from tests.openapi import DEFAULT_SPEC_PATH, ZENPY_ALLOWED, OpenAPISpec, load_spec

REAL_API_FIXTURES = Path("/work/shared/fixtures/real/api")
AUTH = (f"{ZENPY_EMAIL}/token", ZENPY_TOKEN)


@pytest.fixture(scope="module")
def spec() -> OpenAPISpec:
    if not DEFAULT_SPEC_PATH.exists():
        pytest.skip(f"Zendesk OpenAPI spec not found at {DEFAULT_SPEC_PATH}")
    return load_spec()


def _only(requests_: list[RecordedRequest], method: str) -> RecordedRequest:
    matching = [r for r in requests_ if r.method == method]
    assert len(matching) == 1, matching
    return matching[0]


# -- the fake's data stays true to the recordings and the spec ------------------------


@pytest.mark.parametrize(
    ("constant", "filename"),
    [
        ("RECORD_NOT_FOUND_BODY", "zendesk_ticket_update_404_record_not_found.json"),
        ("RECORD_INVALID_CLOSED_BODY", "zendesk_422_record_invalid_closed_ticket.json"),
        ("UNAUTHORIZED_BODY", "zendesk_401_couldnt_authenticate.json"),
        ("TOO_MANY_VALUES_BODY", "zendesk_400_too_many_values_create_many.json"),
        ("RATE_LIMIT_PLAIN_TEXT_BODY", "zendesk_429_rate_limit_plain_text_body.txt"),
    ],
)
def test_embedded_error_bodies_equal_the_recordings(constant: str, filename: str) -> None:
    path = REAL_API_FIXTURES / filename
    if not path.exists():
        pytest.skip(f"recording {path} not available")
    embedded = getattr(fake_module, constant)
    if isinstance(embedded, bytes):
        assert embedded == path.read_bytes()
    else:
        assert embedded == json.loads(path.read_text())


def test_ticket_shape_has_every_field_of_the_recorded_response(fake_zendesk: FakeZendesk) -> None:
    path = REAL_API_FIXTURES / "zendesk_ticket_update_put_response.json"
    if not path.exists():
        pytest.skip(f"recording {path} not available")
    recorded = json.loads(path.read_text())
    ticket = fake_zendesk.add_ticket()
    assert set(recorded["ticket"]) <= set(ticket)
    assert {k: type(v) for k, v in recorded["ticket"]["via"].items()} == {
        k: type(v) for k, v in ticket["via"].items()
    }


def test_user_shape_has_every_field_of_the_recorded_users_me(fake_zendesk: FakeZendesk) -> None:
    path = REAL_API_FIXTURES / "zendesk_users_me_response.json"
    if not path.exists():
        pytest.skip(f"recording {path} not available")
    recorded = json.loads(path.read_text())["user"]

    # authenticity_token is a per-session CSRF token; nothing of ours may depend on it.
    assert set(recorded) - {"authenticity_token"} <= set(fake_zendesk.me)


def test_ticket_field_sets_match_the_spec(spec: OpenAPISpec) -> None:
    properties = spec.document["components"]["schemas"]["TicketObject"]["properties"]
    read_only = {k for k, v in properties.items() if spec.deref(v).get("readOnly")}
    accepted = fake_module.TICKET_WRITABLE_FIELDS | fake_module.TICKET_WRITE_ONLY_FIELDS
    assert accepted == set(properties) - read_only
    assert "id" in read_only and "updated_at" in read_only


def test_every_fake_endpoint_is_an_operation_in_the_spec(spec: OpenAPISpec) -> None:
    for method, rule, _ in fake_module._ROUTES:
        concrete = rule.replace("<int:user_id>", "1").replace("<int:ticket_id>", "1")
        concrete = concrete.replace("<job_id>", "V3-abc")
        assert spec.operation_exists(method, concrete), (method, rule)


# -- reading through zenpy ---------------------------------------------------------


def test_users_me_is_the_integration_user(zenpy_client: Zenpy, fake_zendesk: FakeZendesk) -> None:
    me = zenpy_client.users.me()

    assert (me.id, me.email, me.role) == (fake_zendesk.me["id"], "bot@example.com", "admin")
    request = fake_zendesk.requests[-1]
    assert (request.method, request.path) == ("GET", "/api/v2/users/me.json")
    assert request.headers["Authorization"].startswith("Basic ")


def test_reads_ticket_users_and_groups(zenpy_client: Zenpy, fake_zendesk: FakeZendesk) -> None:
    group = fake_zendesk.add_group(name="Disputes")
    seeded = fake_zendesk.add_ticket(
        subject="Charged twice",
        status="open",
        priority="high",
        tags=["billing"],
        group_id=group["id"],
        custom_fields=[{"id": 360001, "value": "refund"}],
    )

    ticket = zenpy_client.tickets(id=seeded["id"])
    requester = zenpy_client.users(id=seeded["requester_id"])
    many = list(zenpy_client.users(ids=[seeded["requester_id"], fake_zendesk.me["id"]]))
    groups = list(zenpy_client.groups())

    assert (ticket.subject, ticket.status, ticket.priority, ticket.tags) == (
        "Charged twice",
        "open",
        "high",
        ["billing"],
    )
    assert ticket.custom_fields == [{"id": 360001, "value": "refund"}]
    assert ticket.updated_at == seeded["updated_at"]
    assert requester.id == seeded["requester_id"]
    assert {u.id for u in many} == {seeded["requester_id"], fake_zendesk.me["id"]}
    assert [g.name for g in groups] == ["Disputes"]
    paths = [(r.path, r.query) for r in fake_zendesk.requests]
    assert (
        "/api/v2/users/show_many.json",
        {"ids": f"{seeded['requester_id']},{fake_zendesk.me['id']}"},
    ) in paths
    assert ("/api/v2/groups.json", {"page[size]": "100"}) in paths  # zenpy asks for cursor pages


def test_include_users_sideloads_the_requester(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    seeded = fake_zendesk.add_ticket()

    zenpy_client.tickets(id=seeded["id"], include=["users"])
    raw = requests.get(
        f"{fake_zendesk.url}/api/v2/tickets/{seeded['id']}.json",
        params={"include": "users"},
        auth=AUTH,
        timeout=5,
    ).json()

    assert fake_zendesk.requests[0].query == {"include": "users"}  # zenpy's form: comma list
    assert [u["id"] for u in raw["users"]] == [seeded["requester_id"]]


def test_comments_are_listed_oldest_first(zenpy_client: Zenpy, fake_zendesk: FakeZendesk) -> None:
    seeded = fake_zendesk.add_ticket(description="I was charged twice")
    fake_zendesk.update_ticket(seeded["id"], comment={"body": "Looking into it", "public": False})

    comments = list(zenpy_client.tickets.comments(ticket=seeded["id"]))

    assert [(c.body, c.public) for c in comments] == [
        ("I was charged twice", True),
        ("Looking into it", False),
    ]
    assert comments[0].author_id == seeded["requester_id"]


# -- writing through zenpy -------------------------------------------------------------


def test_update_with_comment_tags_group_priority(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    group = fake_zendesk.add_group(name="Disputes")
    seeded = fake_zendesk.add_ticket(status="open", tags=["billing"])
    ticket = zenpy_client.tickets(id=seeded["id"])

    ticket.comment = Comment(body="Escalated to disputes", public=False)
    ticket.tags = ["billing", "dispute_escalated"]
    ticket.group_id = group["id"]
    ticket.priority = "urgent"
    audit = zenpy_client.tickets.update(ticket)

    assert isinstance(audit, TicketAudit)
    assert audit.ticket.priority == "urgent"
    stored = fake_zendesk.ticket(seeded["id"])
    assert (stored["tags"], stored["group_id"], stored["priority"]) == (
        ["billing", "dispute_escalated"],
        group["id"],
        "urgent",
    )
    assert parse_time(stored["updated_at"]) - parse_time(seeded["updated_at"]) >= timedelta(
        seconds=1
    )
    last = fake_zendesk.comments(seeded["id"])[-1]
    assert (last["body"], last["public"], last["author_id"]) == (
        "Escalated to disputes",
        False,
        fake_zendesk.me["id"],
    )
    write = _only(fake_zendesk.writes(), "PUT")
    assert write.path == f"/api/v2/tickets/{seeded['id']}.json"
    assert write.json == {
        "ticket": {
            "id": seeded["id"],
            "group_id": group["id"],
            "priority": "urgent",
            "tags": ["billing", "dispute_escalated"],
            "comment": {"body": "Escalated to disputes", "public": False},
        }
    }


def test_zenpy_update_bodies_validate_strictly_against_the_spec(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk, spec: OpenAPISpec
) -> None:
    seeded = fake_zendesk.add_ticket(status="open")
    other = fake_zendesk.add_ticket(status="open")
    ticket = zenpy_client.tickets(id=seeded["id"])
    ticket.comment = Comment(
        html_body="<p>Escalated</p>", public=False, author_id=fake_zendesk.me["id"]
    )
    ticket.tags, ticket.status, ticket.priority = ["dispute"], "pending", "high"
    ticket.custom_fields = [{"id": 1, "value": "chargeback"}]
    ticket.safe_update, ticket.updated_stamp = True, ticket.updated_at
    zenpy_client.tickets.update(ticket)
    batch = [zenpy_client.tickets(id=seeded["id"]), zenpy_client.tickets(id=other["id"])]
    for item in batch:
        item.status = "solved"
    zenpy_client.tickets.update(batch)

    single, many = fake_zendesk.writes()
    spec.validate_request(single.method, single.path, single.json, strict=True, allow=ZENPY_ALLOWED)
    spec.validate_request(many.method, many.path, many.json, strict=True)
    with pytest.raises(AssertionError, match=r"ticket\.id: readOnly"):
        spec.validate_request(single.method, single.path, single.json, strict=True)


def test_strict_validation_catches_what_zendesk_would_silently_ignore(spec: OpenAPISpec) -> None:
    body = {
        "ticket": {
            "additional_tags": ["x"],
            "comment": {"body": "hi", "publc": False},
            "priority": "Urgent",
        }
    }

    spec.validate_request("PUT", "/api/v2/tickets/1.json", {"ticket": {"additional_tags": ["x"]}})
    with pytest.raises(AssertionError) as caught:
        spec.validate_request("PUT", "/api/v2/tickets/1.json", body, strict=True)

    message = str(caught.value)
    assert "3 violation(s)" in message
    assert "ticket.priority: 'Urgent' is not one of" in message
    assert "ticket.additional_tags: not declared in the spec" in message
    assert "ticket.comment.publc: not declared in the spec" in message
    spec.validate_request(
        "PUT",
        "/api/v2/tickets/update_many.json?ids=1,2",
        {"ticket": {"additional_tags": ["x"], "remove_tags": ["y"]}},
        strict=True,
    )


def test_spec_path_matching(spec: OpenAPISpec) -> None:
    def operation_id(method: str, path: str) -> str | None:
        operation = spec.find_operation(method, path)
        return operation.operation_id if operation else None

    assert operation_id("GET", "/api/v2/users/me.json") == "ShowCurrentUser"
    assert operation_id("GET", "/api/v2/users/7.json") == "ShowUser"
    assert (
        operation_id("PUT", "http://127.0.0.1:1/api/v2/tickets/update_many.json?ids=1")
        == "TicketsUpdateMany"
    )
    assert spec.operation_exists("PUT", "/api/v2/tickets/123.json")
    assert not spec.operation_exists("PATCH", "/api/v2/tickets/123.json")
    assert not spec.operation_exists("GET", "/api/v2/no_such_thing.json")
    assert load_spec() is load_spec()


def test_stale_safe_update_is_a_409_api_exception(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    seeded = fake_zendesk.add_ticket(status="open")
    ticket = zenpy_client.tickets(id=seeded["id"])
    fake_zendesk.update_ticket(seeded["id"], subject="edited by an agent meanwhile")
    ticket.status, ticket.safe_update, ticket.updated_stamp = "pending", True, ticket.updated_at

    with pytest.raises(APIException) as caught:
        zenpy_client.tickets.update(ticket)

    assert type(caught.value) is APIException and not isinstance(caught.value, ZenpyException)
    assert caught.value.response.status_code == 409
    assert json.loads(str(caught.value)) == CONFLICT_BODY
    assert fake_zendesk.ticket(seeded["id"])["status"] == "open"
    fresh = zenpy_client.tickets(id=seeded["id"])
    fresh.status, fresh.safe_update, fresh.updated_stamp = "pending", True, fresh.updated_at
    zenpy_client.tickets.update(fresh)
    assert fake_zendesk.ticket(seeded["id"])["status"] == "pending"


def test_not_found_and_closed_ticket_errors(zenpy_client: Zenpy, fake_zendesk: FakeZendesk) -> None:
    closed = fake_zendesk.add_ticket(status="closed")
    ticket = zenpy_client.tickets(id=closed["id"])
    ticket.subject = "too late"

    with pytest.raises(RecordNotFoundException):
        zenpy_client.tickets(id=424242)
    with pytest.raises(APIException) as caught:
        zenpy_client.tickets.update(ticket)

    assert caught.value.response.status_code == 422
    assert json.loads(str(caught.value))["error"] == "RecordInvalid"


def test_noop_update_keeps_updated_at(fake_zendesk: FakeZendesk) -> None:
    seeded = fake_zendesk.add_ticket(status="open")
    response = requests.put(
        f"{fake_zendesk.url}/api/v2/tickets/{seeded['id']}.json",
        json={"ticket": {"status": "open"}},
        auth=AUTH,
        timeout=5,
    )

    assert response.json()["audit"]["events"] == []
    assert fake_zendesk.ticket(seeded["id"])["updated_at"] == seeded["updated_at"]


def test_single_update_ignores_tag_deltas_and_warns(fake_zendesk: FakeZendesk) -> None:
    seeded = fake_zendesk.add_ticket(tags=["billing"])
    response = requests.put(
        f"{fake_zendesk.url}/api/v2/tickets/{seeded['id']}.json",
        json={"ticket": {"id": seeded["id"], "additional_tags": ["x"]}},
        auth=AUTH,
        timeout=5,
    )

    assert response.status_code == 200
    assert fake_zendesk.ticket(seeded["id"])["tags"] == ["billing"]
    assert '"ticket.additional_tags", "ticket.id"' in response.headers["x-zendesk-api-warn"]


def test_update_many_queues_a_job_completed_on_first_poll(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    first, second = fake_zendesk.add_ticket(tags=["a"]), fake_zendesk.add_ticket(status="closed")
    bulk = requests.put(
        f"{fake_zendesk.url}/api/v2/tickets/update_many.json",
        params={"ids": f"{first['id']},{second['id']}"},
        json={"ticket": {"additional_tags": ["b"], "remove_tags": ["a"]}},
        auth=AUTH,
        timeout=5,
    ).json()["job_status"]

    job = zenpy_client.job_status(id=bulk["id"])

    assert bulk["status"] == "queued" and bulk["results"] is None
    assert isinstance(job, JobStatus) and job.status == "completed"
    assert fake_zendesk.ticket(first["id"])["tags"] == ["b"]
    results = {r.id: r.success for r in job.results}
    assert results == {first["id"]: True, second["id"]: False}


def test_zenpy_batch_update_uses_the_tickets_form(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    tickets = [zenpy_client.tickets(id=fake_zendesk.add_ticket()["id"]) for _ in range(2)]
    for ticket in tickets:
        ticket.priority = "low"

    job = zenpy_client.tickets.update(tickets)

    write = _only(fake_zendesk.writes(), "PUT")
    assert (write.path, write.query) == ("/api/v2/tickets/update_many.json", {})
    assert write.json == {"tickets": [{"id": t.id, "priority": "low"} for t in tickets]}
    assert job.status == "queued"


# -- authentication, faults, timeouts ------------------------------------------------


def test_requests_without_credentials_get_the_recorded_401(fake_zendesk: FakeZendesk) -> None:
    response = requests.get(f"{fake_zendesk.url}/api/v2/users/me.json", timeout=5)
    bearer = requests.get(
        f"{fake_zendesk.url}/api/v2/users/me.json",
        timeout=5,
        headers={"Authorization": "Bearer oauth-token"},
    )

    assert response.status_code == 401
    assert response.json() == fake_module.UNAUTHORIZED_BODY
    assert bearer.status_code == 200


def test_wrong_token_raises_api_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeZendesk(token="the-right-one") as fake:
        point_zenpy_at(fake, monkeypatch)
        with pytest.raises(APIException) as caught:
            make_zenpy_client(token="a-wrong-one").users.me()
    assert caught.value.response.status_code == 401


def test_429_with_retry_after_is_waited_out(zenpy_client: Zenpy, fake_zendesk: FakeZendesk) -> None:
    fake_zendesk.fail_next(429, path_contains="/users/me")
    started = time.monotonic()

    me = zenpy_client.users.me()

    assert me.id == fake_zendesk.me["id"]
    assert time.monotonic() - started >= 1.0
    log = fake_zendesk.requests
    assert [(r.status, r.injected) for r in log] == [(429, True), (200, False)]


def test_429_without_retry_after_raises_http_error(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    fake_zendesk.fail_next(429, headers={})

    with pytest.raises(requests.exceptions.HTTPError) as caught:
        zenpy_client.users.me()

    assert caught.value.response.content == fake_module.RATE_LIMIT_PLAIN_TEXT_BODY


def test_ratelimit_budget_stops_zenpy_from_sleeping(
    fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_zenpy_at(fake_zendesk, monkeypatch)
    client = make_zenpy_client(ratelimit_budget=1)
    fake_zendesk.fail_next(429, headers={"Retry-After": "30"})
    started = time.monotonic()

    with pytest.raises(RatelimitBudgetExceeded):
        client.users.me()

    assert time.monotonic() - started < 1.0
    assert [r.status for r in fake_zendesk.requests] == [429]


def test_503_is_retried_by_zenpys_adapter_then_raises(
    zenpy_client: Zenpy, fake_zendesk: FakeZendesk
) -> None:
    fake_zendesk.fail_next(503, times=2)
    assert zenpy_client.users.me().id == fake_zendesk.me["id"]
    fake_zendesk.fail_next(503, times=4)

    with pytest.raises(requests.exceptions.RetryError):
        zenpy_client.users.me()

    assert [r.status for r in fake_zendesk.requests] == [503, 503, 200, 503, 503, 503, 503]


def test_timed_out_put_is_resent_and_applied_each_time(
    fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_zenpy_at(fake_zendesk, monkeypatch)
    seeded = fake_zendesk.add_ticket()
    client = make_zenpy_client(timeout=0.2)
    ticket = client.tickets(id=seeded["id"])
    ticket.comment = Comment(body="escalated", public=False)
    fake_zendesk.delay_next(2.0, times=4, method="PUT")

    with pytest.raises(requests.exceptions.ConnectionError):
        client.tickets.update(ticket)

    assert len(fake_zendesk.writes()) == 4  # 1 + urllib3's 3 retries, none answered in time
    assert [c["body"] for c in fake_zendesk.comments(seeded["id"])].count("escalated") == 4


def test_without_the_retry_adapter_a_timeout_is_a_read_timeout(
    fake_zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_zenpy_at(fake_zendesk, monkeypatch)
    client = make_zenpy_client(timeout=0.2, mirror_https_retries=False)
    fake_zendesk.delay_next(2.0)

    with pytest.raises(requests.exceptions.ReadTimeout):
        client.users.me()
    assert len(fake_zendesk.requests) == 1


def test_unknown_endpoints_are_loud(fake_zendesk: FakeZendesk) -> None:
    response = requests.get(f"{fake_zendesk.url}/api/v2/macros.json", auth=AUTH, timeout=5)

    assert response.status_code == 501
    assert response.json()["error"] == "FakeZendeskUnsupportedEndpoint"


def test_stop_releases_port_and_threads() -> None:
    fake = FakeZendesk().start()
    port = fake.port
    fake.delay_next(30)
    worker = threading.Thread(
        target=lambda: requests.get(f"{fake.url}/api/v2/users/me.json", auth=AUTH, timeout=60)
    )
    worker.start()
    _wait_for(lambda: len(fake.requests) == 1)

    started = time.monotonic()
    fake.stop()
    worker.join(5)

    assert time.monotonic() - started < 2.0
    assert not worker.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("FakeZendesk")]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- helpers -----------------------------------------------------------------------------


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
