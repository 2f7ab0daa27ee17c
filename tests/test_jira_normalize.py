"""Jira webhook translation, around real recorded deliveries and tables of cases.

Real recordings: ../shared/fixtures/real/jira_*.json (see SOURCES.md there): Cloud 2019 and
2024 captures and Server captures. Our own payloads, shaped like the 2024 Cloud capture:
tests/payloads/jira/. They tell one story: DD-7 (issue 10107) in a Jira Service Management
project, a Spanish customer whose order never arrived.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.jira import (
    DEFAULT_PRIORITIES,
    DEFAULT_STATUS_NAMES,
    PART_HEADER,
    PARTS,
    Envelope,
    NotATicketEvent,
    adf_to_text,
    identify,
    jira_priority_name,
    normalize,
    normalize_priority,
    normalize_status,
    normalize_transition_target,
    refresh,
)
from adapters.jira.values import custom_value, plain_text
from integration.core.events import PRIORITIES, STATUSES, Comment, EventKind, Requester, TicketEvent
from tests.conftest import SHARED

REAL = SHARED / "fixtures" / "real"
OURS = Path(__file__).resolve().parent / "payloads" / "jira"

K = EventKind
HOOK = "X-Atlassian-Webhook-Identifier"

# Cloud 2019 captures: one site, one user, one issue (TES-41).
CLOUD_SITE = "https://some-instance-test.atlassian.net"
CLOUD_ADMIN = "5c5f880629be9642ba529340"
CLOUD_ADMIN_REQUESTER = Requester(
    id=CLOUD_ADMIN, name="Test User", email="some-instance-test@gmail.com"
)
PARENT_LINK = {
    "hasEpicLinkFieldDependency": False,
    "showField": False,
    "nonEditableReason": {
        "reason": "PLUGIN_LICENSE_ERROR",
        "message": "Portfolio for Jira must be licensed for the Parent Link to be available.",
    },
}
SERVER_SITE = "http://some-instance-test.centralus.cloudapp.azure.com:8080"

# Our story.
CUSTOMER = "qm:6c2b7f0e-3d1a-4b8e-9a51-7f2d0c4e8b19:5f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
AGENT = "712020:0b8e4c2a-5d6f-4a1b-9c3e-7d8f2a1b4c6e"
LUCIA = Requester(id=CUSTOMER, name="Lucía Fernández")
COMPLAINT = (
    "Mi pedido no ha llegado, el seguimiento no se actualiza desde hace diez días "
    "y quiero una solución"
)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def real(name: str) -> Any:
    return load(REAL / name)


def ours(name: str) -> Any:
    return load(OURS / name)


def nulls(*ids: int) -> dict[str, None]:
    return {f"customfield_{field_id}": None for field_id in ids}


def tes41_custom_fields(rank: str) -> dict[str, Any]:
    """The custom fields of TES-41 in every Cloud 2019 capture that carries the whole issue."""
    return {
        **nulls(10030, 10027, 10020, 10021, 10023, 10025, 10026, 10016, 10017, 10019, 10010,
                10014, 10015, 10005, 10006, 10007, 10008, 10009, 10001, 10002, 10003, 10004),
        "customfield_10022": rank,
        "customfield_10024": [],
        "customfield_10018": PARENT_LINK,
        "customfield_10000": "{}",
        "duedate": None,
    }


# --- identify(): every recorded jira_* body -------------------------------------------------

RECORDED = {
    "jira_comment_created_cloud.json": [
        Envelope("comment:10019:created", "10040", "comment_created", "comment"),
    ],
    # Server: no `issue`; the issue id comes from comment.self
    "jira_comment_created_server.json": [
        Envelope("comment:10082:created", "10013", "comment_created", "comment"),
    ],
    # issue_created carries a changelog of the initial values: no changelog part
    "jira_issue_created_cloud.json": [
        Envelope("issue_created:10040:1550286113023", "10040",
                 "jira:issue_created/issue_created", "created"),
    ],
    "jira_issue_created_cloud_2024.json": [
        Envelope("issue_created:10021:1735441883659", "10021",
                 "jira:issue_created/issue_created", "created"),
    ],
    "jira_issue_created_cloud_custom_fields.json": [
        Envelope("issue_created:10509:1566935004475", "10509",
                 "jira:issue_created/issue_created", "created"),
    ],
    "jira_issue_updated_cloud_2024_description_changelog.json": [
        Envelope("changelog:10026", "10021", "jira:issue_updated/issue_updated", "changelog"),
    ],
    "jira_issue_updated_cloud_assigned.json": [
        Envelope("changelog:10230", "10040", "jira:issue_updated/issue_assigned", "changelog"),
    ],
    "jira_issue_updated_cloud_labels_changelog.json": [
        Envelope("changelog:10233", "10040", "jira:issue_updated/issue_updated", "changelog"),
    ],
    "jira_issue_updated_cloud_priority_changelog.json": [
        Envelope("changelog:10235", "10040", "jira:issue_updated/issue_updated", "changelog"),
    ],
    "jira_issue_updated_server_in_progress_transition.json": [
        Envelope("changelog:10508", "10300", "jira:issue_updated/issue_work_started",
                 "changelog"),
    ],
    # the second delivery of comment 10118: same key as its comment_created would have
    "jira_issue_updated_server_issue_commented.json": [
        Envelope("comment:10118:created", "10231", "jira:issue_updated/issue_commented",
                 "comment"),
    ],
    "jira_issue_updated_server_resolved_transition.json": [
        Envelope("changelog:10414", "10300", "jira:issue_updated/issue_resolved", "changelog"),
    ],
}


def test_every_recorded_jira_body_has_an_expectation() -> None:
    assert {path.name for path in REAL.glob("jira_*.json")} == set(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_identify_recorded_deliveries(name: str) -> None:
    assert identify(real(name), {}) == RECORDED[name]


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_the_webhook_identifier_only_replaces_keys_without_an_id_of_their_own(name: str) -> None:
    envelopes = identify(real(name), {HOOK: "6e2b0a4c-hook"})
    for envelope, without in zip(envelopes, RECORDED[name], strict=True):
        if envelope.part == "created":
            assert envelope.delivery_id == "6e2b0a4c-hook"
        else:  # comment and changelog ids name the change itself
            assert envelope == without


@pytest.mark.parametrize("name", [HOOK, HOOK.lower(), HOOK.upper()])
def test_webhook_identifier_header_is_case_insensitive(name: str) -> None:
    [envelope] = identify(real("jira_issue_created_cloud_2024.json"), {name: "h-1"})
    assert envelope.delivery_id == "h-1"


OUR_ENVELOPES = {
    "issue_created_es_delivery.json": [
        Envelope("issue_created:10107:1741167283412", "10107",
                 "jira:issue_created/issue_created", "created"),
    ],
    "comment_created_cloud_es.json": [
        Envelope("comment:10245:created", "10107", "comment_created", "comment"),
    ],
    "issue_updated_reopened.json": [
        Envelope("changelog:10388", "10107", "jira:issue_updated/issue_generic", "changelog"),
    ],
    # An issue is deleted once: its id is the key, whatever the header says.
    "issue_deleted.json": [
        Envelope("issue_deleted:10107", "10107", "jira:issue_deleted/issue_deleted", "deleted"),
    ],
}


def test_every_payload_of_ours_has_an_expectation() -> None:
    assert {path.name for path in OURS.glob("*.json")} == set(OUR_ENVELOPES)


@pytest.mark.parametrize("name", sorted(OUR_ENVELOPES))
def test_identify_our_payloads(name: str) -> None:
    assert identify(ours(name), {}) == OUR_ENVELOPES[name]


# --- one comment, two deliveries --------------------------------------------------------------


def issue_commented(comment_delivery: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
    """The jira:issue_updated Jira sends beside `comment_delivery` (issue + comment events)."""
    return {
        "timestamp": comment_delivery["timestamp"] + 3,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_commented",
        "user": comment_delivery["comment"]["author"],
        "issue": issue,
        "comment": comment_delivery["comment"],
    }


def test_both_deliveries_of_a_cloud_comment_have_one_key_and_one_comment() -> None:
    comment_created = ours("comment_created_cloud_es.json")
    issue_updated = issue_commented(
        comment_created, ours("issue_created_es_delivery.json")["issue"]
    )
    first, second = identify(comment_created, {HOOK: "a"}), identify(issue_updated, {HOOK: "b"})
    assert [envelope.delivery_id for envelope in first] == ["comment:10245:created"]
    assert [envelope.delivery_id for envelope in second] == ["comment:10245:created"]
    one, other = normalize(comment_created, {}), normalize(issue_updated, {})
    assert one.comment == other.comment
    assert one.kinds == other.kinds == frozenset({K.COMMENT_ADDED, K.UPDATED})


def test_both_deliveries_of_a_server_comment_have_one_key() -> None:
    issue_updated = real("jira_issue_updated_server_issue_commented.json")
    # the comment_created Server sends beside it: no issue, no user (see the Server capture)
    comment_created = {
        "timestamp": issue_updated["timestamp"],
        "webhookEvent": "comment_created",
        "comment": issue_updated["comment"],
    }
    assert identify(comment_created, {}) == [
        Envelope("comment:10118:created", "10231", "comment_created", "comment")
    ]
    assert normalize(comment_created, {}).comment == normalize(issue_updated, {}).comment


def edited(updated: str) -> dict[str, Any]:
    body = copy.deepcopy(ours("comment_created_cloud_es.json"))
    body["webhookEvent"] = "comment_updated"
    body["comment"]["updated"] = updated
    return body


def test_an_edited_comment_has_its_own_key_in_both_deliveries() -> None:
    comment_updated = edited("2025-03-06T10:52:07.311+0100")
    issue_updated = {
        **issue_commented(comment_updated, ours("issue_created_es_delivery.json")["issue"]),
        "issue_event_type_name": "issue_comment_edited",
    }
    key = "comment:10245:updated:2025-03-06T10:52:07.311+0100"
    for body in (comment_updated, issue_updated):
        [envelope] = identify(body, {})
        assert (envelope.part, envelope.delivery_id) == ("comment", key)
        event = normalize(body, {})
        # an edit is an update that shows the comment, not a new comment
        assert event.kinds == frozenset({K.UPDATED})
        assert event.comment is not None and event.comment.id == "10245"


def test_each_edit_of_a_comment_is_a_delivery_of_its_own() -> None:
    first, second = edited("2025-03-06T10:52:07.311+0100"), edited("2025-03-06T11:03:40.020+0100")
    assert identify(first, {})[0].delivery_id != identify(second, {})[0].delivery_id
    del first["comment"]["updated"]
    assert identify(first, {})[0].delivery_id == "comment:10245:updated"


def test_a_deleted_comment_in_an_issue_update_is_a_plain_update() -> None:
    body = {
        **issue_commented(ours("comment_created_cloud_es.json"),
                          ours("issue_created_es_delivery.json")["issue"]),
        "issue_event_type_name": "issue_comment_deleted",
    }
    assert identify(body, {}) == [Envelope(
        "jira:issue_updated:10107:1741254512910", "10107",
        "jira:issue_updated/issue_comment_deleted", "updated",
    )]
    event = normalize(body, {})
    assert (event.kinds, event.comment) == (frozenset({K.UPDATED}), None)


# --- parts of one delivery --------------------------------------------------------------------


def resolved_with_comment() -> dict[str, Any]:
    """A Server transition made with a comment: changelog and comment in one delivery."""
    body = copy.deepcopy(real("jira_issue_updated_server_resolved_transition.json"))
    comment = copy.deepcopy(real("jira_issue_updated_server_issue_commented.json")["comment"])
    comment.update(id="10200", body="Fixed in 1.2.", self=comment["self"].replace(
        "issue/10231/comment/10118", "issue/10300/comment/10200"))
    body["comment"] = comment
    return body


def test_a_transition_with_a_comment_is_two_parts() -> None:
    body = resolved_with_comment()
    assert identify(body, {}) == [
        Envelope("changelog:10414", "10300", "jira:issue_updated/issue_resolved", "changelog"),
        Envelope("comment:10200:created", "10300", "jira:issue_updated/issue_resolved",
                 "comment"),
    ]
    changelog, comment = normalize(body, {}, "changelog"), normalize(body, {}, "comment")
    assert changelog.kinds == frozenset({K.STATUS_CHANGED, K.SOLVED, K.UPDATED})
    assert (changelog.comment, changelog.delivery_id) == (None, "changelog:10414")
    assert comment.kinds == frozenset({K.COMMENT_ADDED, K.UPDATED})
    assert comment.previous_status is None and comment.delivery_id == "comment:10200:created"
    # Nothing says TestUser is an agent (Server sends no account type): a customer.
    assert comment.comment == Comment("10200", "Fixed in 1.2.", True, "customer", "TestUser")
    # no part: everything the delivery says
    both = normalize(body, {})
    assert both.kinds == changelog.kinds | comment.kinds
    assert both.delivery_id == "changelog:10414+comment:10200:created"
    assert (both.comment, both.previous_status) == (comment.comment, "open")


def test_an_update_without_changelog_or_comment_is_an_updated_part() -> None:
    body = copy.deepcopy(real("jira_issue_updated_cloud_labels_changelog.json"))
    body["changelog"] = {"id": "10234", "items": []}
    assert identify(body, {}) == [Envelope(
        "jira:issue_updated:10040:1550351530065", "10040", "jira:issue_updated/issue_updated",
        "updated",
    )]
    assert identify(body, {HOOK: "h-2"})[0].delivery_id == "h-2"
    assert normalize(body, {}).kinds == frozenset({K.UPDATED})


def test_a_changelog_without_id_is_keyed_by_the_delivery() -> None:
    body = copy.deepcopy(real("jira_issue_updated_cloud_priority_changelog.json"))
    del body["changelog"]["id"]
    assert identify(body, {HOOK: "h-3"})[0] == Envelope(
        "h-3", "10040", "jira:issue_updated/issue_updated", "changelog"
    )
    assert identify(body, {})[0].delivery_id == "jira:issue_updated:10040:1550351716080"


def test_normalize_refuses_a_part_the_delivery_does_not_have() -> None:
    with pytest.raises(NotATicketEvent) as refused:
        normalize(real("jira_comment_created_cloud.json"), {}, "changelog")
    assert str(refused.value) == "this delivery has no changelog part (it has: comment)"


def test_parts_are_the_documented_ones() -> None:
    assert PARTS == ("created", "changelog", "comment", "updated", "deleted")


def test_the_stored_part_header_picks_the_part() -> None:
    # the webhook stores each part with PART_HEADER; the worker calls normalize(payload, headers)
    body = resolved_with_comment()
    for envelope in identify(body, {}):
        stored = {HOOK: "h-4", PART_HEADER.lower(): envelope.part}
        event = normalize(body, stored)
        assert event == normalize(body, {}, envelope.part)
        assert event.delivery_id == envelope.delivery_id
    # the argument wins over the header
    assert normalize(body, {PART_HEADER: "comment"}, "changelog").comment is None


# --- refusals, word for word ----------------------------------------------------------------

MISSING_ISSUE = "issue id missing (expected issue.id, or an issue URL in comment.self)"
REFUSALS: list[tuple[Any, dict[str, str], str]] = [
    ([], {}, "body is not a JSON object"),
    ("jira:issue_created", {}, "body is not a JSON object"),
    ({"timestamp": 1}, {}, "not a Jira webhook (expected webhookEvent)"),
    ({"webhookEvent": "project_created", "project": {"id": 10000}}, {},
     "project_created: dispute-desk does not act on this event"),
    ({"webhookEvent": "user_created", "user": {"accountId": "x"}}, {},
     "user_created: dispute-desk does not act on this event"),
    ({"webhookEvent": "jira:worklog_updated", "issue": {"id": "10040"}}, {},
     "jira:worklog_updated: dispute-desk does not act on this event"),
    ({"webhookEvent": "issuelink_created", "issueLink": {"id": 10001}}, {},
     "issuelink_created: dispute-desk does not act on this event"),
    ({"webhookEvent": "comment_deleted", "comment": {"id": "1"}}, {},
     "comment_deleted: dispute-desk does not act on this event"),
    ({"webhookEvent": "jira:issue_deleted"}, {}, MISSING_ISSUE),
    ({"webhookEvent": "jira:issue_created", "timestamp": 1, "issue": {"key": "TES-41"}}, {},
     MISSING_ISSUE),
    ({"webhookEvent": "comment_created", "comment": {"id": "1", "self": "http://x/c/1"}}, {},
     MISSING_ISSUE),
    ({"webhookEvent": "comment_created", "issue": {"id": "10040"}, "comment": {"body": "x"}},
     {}, "comment id missing (expected comment.id)"),
    ({"webhookEvent": "jira:issue_created", "issue": {"id": "10040"}}, {},
     "delivery id missing (expected an X-Atlassian-Webhook-Identifier header or a timestamp)"),
]


@pytest.mark.parametrize(("payload", "headers", "reason"), REFUSALS)
def test_refusals(payload: Any, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(NotATicketEvent) as refused:
        identify(payload, headers)
    assert str(refused.value) == reason
    with pytest.raises(NotATicketEvent):
        normalize(payload, headers)


# --- normalize(): whole events from the captures ------------------------------------------------


def test_cloud_issue_created_normalizes_exactly() -> None:
    assert normalize(real("jira_issue_created_cloud.json"), {}) == TicketEvent(
        platform="jira",
        ticket_id="10040",
        kinds=frozenset({K.CREATED}),
        delivery_id="issue_created:10040:1550286113023",
        occurred_at=datetime(2019, 2, 16, 3, 1, 53, 23000, tzinfo=UTC),
        source_type="jira:issue_created/issue_created",
        actor_id=CLOUD_ADMIN,
        status="new",  # "To Do", category new
        previous_status=None,
        priority="high",
        tags=("test-label",),
        channel="web",
        subject="Unit test summary",
        description="Unit test description, not that long",
        comment=None,
        requester=CLOUD_ADMIN_REQUESTER,
        group_id=None,
        group_name=None,
        components=("COMP-1",),
        assignee_id=None,
        custom_fields=tes41_custom_fields("0|i00067:"),
        deadline=None,
        deadline_due_at=None,
        rating=None,
        feedback_comment=None,
        url=f"{CLOUD_SITE}/browse/TES-41",
        display_id="TES-41",
        version="2019-02-15T19:01:52.971-0800",
    )


def test_cloud_comment_created_normalizes_exactly() -> None:
    assert normalize(real("jira_comment_created_cloud.json"), {}) == TicketEvent(
        platform="jira",
        ticket_id="10040",
        kinds=frozenset({K.COMMENT_ADDED, K.UPDATED}),
        delivery_id="comment:10019:created",
        occurred_at=datetime(2019, 2, 16, 3, 11, 18, 321000, tzinfo=UTC),
        source_type="comment_created",
        actor_id=CLOUD_ADMIN,  # no `user`: the comment's author acted
        status="new",
        priority="high",
        # the issue comes with four fields only: the rest is refresh()'s job
        tags=(),
        channel="web",
        subject="Unit test summary 1",
        description="",
        comment=Comment(
            id="10019",
            body="Added a comment",
            public=True,  # jsdPublic
            by="customer",  # nothing says its author is an agent (public, no JSM property)
            author_id=CLOUD_ADMIN,
        ),
        requester=Requester(),
        components=(),
        assignee_id=None,
        custom_fields={},
        url=f"{CLOUD_SITE}/browse/TES-41",
        display_id="TES-41",
        version=None,
    )


def test_server_comment_created_normalizes_exactly() -> None:
    assert normalize(real("jira_comment_created_server.json"), {}) == TicketEvent(
        platform="jira",
        ticket_id="10013",  # from comment.self
        kinds=frozenset({K.COMMENT_ADDED, K.UPDATED}),
        delivery_id="comment:10082:created",
        occurred_at=datetime(2019, 6, 4, 0, 15, 17, 234000, tzinfo=UTC),
        source_type="comment_created",
        actor_id="levbrouk",  # Server users by name
        status=None,
        priority=None,
        tags=(),
        channel=None,  # no issue at all: nothing known about the ticket
        subject="",
        description="",
        comment=Comment(id="10082", body="unik", public=True, by="customer", author_id="levbrouk"),
        requester=Requester(),
        custom_fields={},
        url=None,  # no issue key to browse to
        version=None,
    )


def test_server_resolved_transition_normalizes_exactly() -> None:
    body = real("jira_issue_updated_server_resolved_transition.json")
    assert normalize(body, {}) == TicketEvent(
        platform="jira",
        ticket_id="10300",
        kinds=frozenset({K.STATUS_CHANGED, K.SOLVED, K.UPDATED}),
        delivery_id="changelog:10414",
        occurred_at=datetime(2019, 8, 12, 23, 23, 2, 25000, tzinfo=UTC),
        source_type="jira:issue_updated/issue_resolved",
        actor_id="admin",
        status="solved",  # "Resolved", category done
        previous_status="open",  # "In Progress"
        priority="normal",
        tags=(),
        channel="web",
        subject="Unit test summary 1",
        description="",  # null
        comment=None,
        requester=Requester(id="admin", name="admin", email="admin@admin.com"),
        components=(),
        assignee_id=None,
        custom_fields={
            "customfield_10105": "0|i0001b:",
            # the dev-status summary Server renders as text, passed through as sent
            "customfield_10000": body["issue"]["fields"]["customfield_10000"],
            **nulls(10100, 10101),
            "duedate": None,
        },
        url=f"{SERVER_SITE}/browse/TES-4",
        display_id="TES-4",
        version="2019-08-13T07:23:01.993+0800",
    )


def tes41_update(**changes: Any) -> TicketEvent:
    """TES-41 as the Cloud 2019 priority and labels captures show it."""
    base = TicketEvent(
        platform="jira",
        ticket_id="10040",
        kinds=frozenset({K.UPDATED}),
        delivery_id="",
        source_type="jira:issue_updated/issue_updated",
        actor_id=CLOUD_ADMIN,
        status="new",
        previous_status=None,
        priority="high",
        tags=("sad", "test-label"),
        channel="web",
        subject="Unit test summary 1",
        description="Unit test description, not that long, a little longer now",
        comment=None,
        requester=CLOUD_ADMIN_REQUESTER,
        components=("COMP-1",),
        assignee_id=None,
        custom_fields=tes41_custom_fields("0|i0000r:r"),
        url=f"{CLOUD_SITE}/browse/TES-41",
        display_id="TES-41",
    )
    return base.with_state(**changes)


def test_cloud_priority_changelog_normalizes_exactly() -> None:
    event = normalize(real("jira_issue_updated_cloud_priority_changelog.json"), {})
    assert event == tes41_update(
        kinds=frozenset({K.PRIORITY_CHANGED, K.UPDATED}),  # Low -> High
        delivery_id="changelog:10235",
        occurred_at=datetime(2019, 2, 16, 21, 15, 16, 80000, tzinfo=UTC),
        priority="high",
        version="2019-02-16T13:15:16.037-0800",
    )


def test_cloud_labels_changelog_normalizes_exactly() -> None:
    event = normalize(real("jira_issue_updated_cloud_labels_changelog.json"), {})
    assert event == tes41_update(
        kinds=frozenset({K.TAGS_CHANGED, K.UPDATED}),  # "bad test-label" -> "sad test-label"
        delivery_id="changelog:10233",
        occurred_at=datetime(2019, 2, 16, 21, 12, 10, 65000, tzinfo=UTC),
        tags=("sad", "test-label"),
        version="2019-02-16T13:12:10.037-0800",
    )


# --- normalize(): key fields of every capture -------------------------------------------------

KEY_FIELDS: dict[str, dict[str, Any]] = {
    "jira_comment_created_cloud.json": {
        "kinds": frozenset({K.COMMENT_ADDED, K.UPDATED}), "status": "new",
    },
    "jira_comment_created_server.json": {
        "kinds": frozenset({K.COMMENT_ADDED, K.UPDATED}), "status": None,
    },
    "jira_issue_created_cloud.json": {
        "kinds": frozenset({K.CREATED}), "priority": "high", "components": ("COMP-1",),
    },
    "jira_issue_created_cloud_2024.json": {
        "kinds": frozenset({K.CREATED}),
        "status": "new",
        "priority": "normal",  # Medium
        "actor_id": "712020:f1ad7cfd-7f82-4dc0-85e4-8bc47bcc08e4",
        "assignee_id": "712020:f1ad7cfd-7f82-4dc0-85e4-8bc47bcc08e4",
        # current Cloud: no name, key or e-mail address
        "requester": Requester(id="712020:f1ad7cfd-7f82-4dc0-85e4-8bc47bcc08e4",
                               name="Sirajudheen MK"),
        # the 2024 capture's issue self has no /issue/ in it; the site is still found
        "url": "https://helloworld-test.atlassian.net/browse/KAN-22",
        "subject": "Add back button to pages",
        "version": "2024-12-29T08:41:23.303+0530",
    },
    "jira_issue_created_cloud_custom_fields.json": {
        "kinds": frozenset({K.CREATED}),
        "tags": ("Label1", "Label2"),
        "assignee_id": "5cedcb4355a88a0fc86388ba",
        "requester": Requester(id="5cedcb4355a88a0fc86388ba", name="Sample User",
                               email="user@example.com"),
    },
    "jira_issue_updated_cloud_2024_description_changelog.json": {
        "kinds": frozenset({K.UPDATED}),  # description: any other field is an update
        "description": "Add back button navigation to all list pages. Now its making little "
                       "complex or making UX low.\n\nUpdaing the description because we need "
                       "back button on the create pages as well.",
    },
    "jira_issue_updated_cloud_assigned.json": {
        "kinds": frozenset({K.ASSIGNEE_CHANGED, K.UPDATED}),
        "assignee_id": CLOUD_ADMIN,
    },
    "jira_issue_updated_cloud_labels_changelog.json": {
        "kinds": frozenset({K.TAGS_CHANGED, K.UPDATED}),
    },
    "jira_issue_updated_cloud_priority_changelog.json": {
        "kinds": frozenset({K.PRIORITY_CHANGED, K.UPDATED}),
    },
    "jira_issue_updated_server_in_progress_transition.json": {
        # Reopened -> In Progress: both open, so no reopened/solved
        "kinds": frozenset({K.STATUS_CHANGED, K.UPDATED}),
        "status": "open",
        "previous_status": "open",
        "actor_id": "admin",
        "assignee_id": "admin",
    },
    "jira_issue_updated_server_issue_commented.json": {
        "kinds": frozenset({K.COMMENT_ADDED, K.UPDATED}),
        "actor_id": "TestUser",  # Server: the name, not the key ("testUser")
        "comment": Comment(
            id="10118",
            body="This is a test comment. We should act on it right away.",
            public=True,  # no jsdPublic, no visibility restriction
            by="customer",  # not the reporter, but nothing says TestUser is an agent
            author_id="TestUser",
        ),
        "requester": Requester(id="creator.user", name="Creator User",
                               email="creator.user@mattermost.com"),
        # wiki markup is kept as sent
        "description": "test\n\n_Issue created from a [message in Mattermost|"
                       "https://chrisp.ngrok.io/testteam/pl/449w553cajrbfewz581uoxmb8o]_.",
        "url": "http://test-server.azure.com:8080/browse/PRJA-42",
    },
    "jira_issue_updated_server_resolved_transition.json": {
        "kinds": frozenset({K.STATUS_CHANGED, K.SOLVED, K.UPDATED}),
        "status": "solved",
        "previous_status": "open",
    },
}


def test_every_recorded_jira_body_has_normalize_expectations() -> None:
    assert set(KEY_FIELDS) == set(RECORDED)


@pytest.mark.parametrize("name", sorted(KEY_FIELDS))
def test_recorded_deliveries_normalize(name: str) -> None:
    body = real(name)
    [envelope] = identify(body, {})
    event = normalize(body, {}, envelope.part)
    expected = KEY_FIELDS[name]
    assert {field: getattr(event, field) for field in expected} == expected
    assert normalize(body, {}) == event  # one part: the same event with or without it
    assert (event.platform, event.ticket_id) == ("jira", envelope.ticket_id)
    assert (event.delivery_id, event.source_type) == (envelope.delivery_id, envelope.source_type)
    assert event.occurred_at == datetime.fromtimestamp(body["timestamp"] / 1000, tz=UTC)


def test_custom_field_values_are_simplified() -> None:
    event = normalize(real("jira_issue_created_cloud_custom_fields.json"), {})
    fields = event.custom_fields
    assert fields["customfield_10073"] == "1"  # radio button option -> its value
    assert fields["customfield_10075"] == ["1", "2"]  # checkboxes
    assert fields["customfield_10080"] == "5cedcb4355a88a0fc86388ba"  # user picker -> id
    assert fields["customfield_10072"] == 23
    assert fields["customfield_10070"] == "2019-08-29T12:40:00.000-0700"
    assert fields["customfield_10071"] == ["value1", "value2"]
    assert fields["customfield_10060"] is None
    assert fields["duedate"] is None
    assert len(fields) == 75  # 74 custom fields and duedate


# --- normalize(): our payloads ----------------------------------------------------------------


def test_spanish_delivery_dispute_is_created_by_a_jsm_customer() -> None:
    event = normalize(ours("issue_created_es_delivery.json"), {})
    expected = {
        "ticket_id": "10107",
        "kinds": frozenset({K.CREATED}),
        "delivery_id": "issue_created:10107:1741167283412",
        "occurred_at": datetime(2025, 3, 5, 9, 34, 43, 412000, tzinfo=UTC),
        "actor_id": CUSTOMER,
        "status": "new",  # "Waiting for support", category new
        "priority": "normal",
        "tags": (),
        "channel": "web",
        "subject": "Mi pedido no ha llegado",
        "description": COMPLAINT,
        "comment": None,
        "requester": LUCIA,
        "components": ("Envíos",),
        "assignee_id": None,
        "url": "https://tiendasol.atlassian.net/browse/DD-7",
        "version": "2025-03-05T10:34:43.104+0100",
    }
    assert {field: getattr(event, field) for field in expected} == expected
    # JSM's organizations field -> names; the request-language option -> its value
    assert event.custom_fields["customfield_10002"] == ["Clientes particulares"]
    assert event.custom_fields["customfield_10024"] == "Español"
    assert "el seguimiento no se actualiza" in event.text


def test_spanish_customer_comment() -> None:
    event = normalize(ours("comment_created_cloud_es.json"), {})
    assert event.comment == Comment(
        id="10245",
        body="Ya pasaron dos semanas y sigo sin noticias del envío. "
             "Si no llega esta semana quiero el reembolso.",
        public=True,
        by="customer",  # accountType "customer": a JSM portal customer
        author_id=CUSTOMER,
    )
    assert (event.actor_id, event.status, event.requester) == (CUSTOMER, "new", Requester())


def test_done_to_in_progress_is_a_reopening() -> None:
    event = normalize(ours("issue_updated_reopened.json"), {})
    assert event.kinds == frozenset({K.STATUS_CHANGED, K.REOPENED, K.UPDATED})
    assert (event.status, event.previous_status) == ("open", "solved")
    assert (event.actor_id, event.assignee_id) == (AGENT, AGENT)
    assert (event.priority, event.tags) == ("high", ("disputa", "envio-perdido"))
    assert event.requester == LUCIA


STATUS_TRANSITIONS = [
    # (fromString, toString, to category, extra kinds)
    ("In Progress", "Done", "done", {K.SOLVED}),
    ("In Progress", "Resolved", "done", {K.SOLVED}),
    ("Waiting for customer", "Closed", "done", {K.SOLVED}),  # closed straight away
    ("In Progress", "Won't do", "done", {K.SOLVED}),
    ("In Progress", "Shipped", "done", {K.SOLVED}),  # unknown name: the category says done
    ("Resolved", "Closed", "done", set()),  # closing a solved issue is no new resolution
    ("Done", "In Progress", "indeterminate", {K.REOPENED}),
    ("Closed", "Reopened", "indeterminate", {K.REOPENED}),
    ("Resolved", "Waiting for customer", "indeterminate", {K.REOPENED}),
    ("Done", "To Do", "new", {K.REOPENED}),
    ("Shipped", "In Progress", "indeterminate", set()),  # unknown previous: cannot tell
    ("To Do", "In Progress", "indeterminate", set()),
    ("In Progress", "On hold", "indeterminate", set()),
]


@pytest.mark.parametrize(("before", "after", "category", "extra"), STATUS_TRANSITIONS)
def test_status_transitions(before: str, after: str, category: str, extra: set[K]) -> None:
    body = ours("issue_updated_reopened.json")
    item = body["changelog"]["items"][1]
    item.update(fromString=before, toString=after)
    body["changelog"]["items"] = [item]  # the status alone (a cleared resolution reopens too)
    status = body["issue"]["fields"]["status"]
    status.update(name=after)
    status["statusCategory"]["key"] = category
    event = normalize(body, {})
    assert event.kinds == frozenset({K.STATUS_CHANGED, K.UPDATED} | extra)
    assert event.previous_status == normalize_status(before)
    assert event.status == normalize_status(after, category)


def test_status_overrides_reach_the_transition() -> None:
    body = ours("issue_updated_reopened.json")
    body["changelog"]["items"][1].update(fromString="Entregado")
    del body["changelog"]["items"][0]  # the status alone (a cleared resolution reopens too)
    plain = normalize(body, {})
    assert (plain.previous_status, K.REOPENED in plain.kinds) == (None, False)
    tuned = normalize(body, {}, status_names={"Entregado": "solved", "In Progress": "on_hold"})
    assert (tuned.previous_status, tuned.status) == ("solved", "on_hold")
    assert K.REOPENED in tuned.kinds


def test_priority_overrides_reach_the_event() -> None:
    body = ours("issue_updated_reopened.json")
    assert normalize(body, {}, priorities={"high": "urgent"}).priority == "urgent"


def test_status_from_the_issue_when_the_item_names_another_status() -> None:
    # Jira sends the issue as it is now; a changelog item may name the status by id only
    body = ours("issue_updated_reopened.json")
    body["changelog"]["items"][1].update(toString="En curso")
    assert normalize(body, {}).kinds == frozenset({K.STATUS_CHANGED, K.REOPENED, K.UPDATED})


# --- comments: public, by, ADF ----------------------------------------------------------------


def comment_with(**changes: Any) -> Comment | None:
    body = ours("comment_created_cloud_es.json")
    body["comment"].update(changes)
    return normalize(body, {}).comment


def test_jsd_internal_comment_is_not_public() -> None:
    comment = comment_with(jsdPublic=False)
    assert comment is not None and comment.public is False


def test_restricted_comment_is_not_public() -> None:
    body = real("jira_issue_updated_server_issue_commented.json")
    body["comment"]["visibility"] = {"type": "role", "value": "Developers"}
    comment = normalize(body, {}).comment
    assert comment is not None and comment.public is False


def test_reporter_comment_is_the_customers_whatever_the_account_type() -> None:
    body = real("jira_issue_updated_server_issue_commented.json")
    body["comment"]["author"] = body["issue"]["fields"]["reporter"]
    comment = normalize(body, {}).comment
    assert comment is not None and (comment.by, comment.author_id) == ("customer", "creator.user")


def test_agent_comment_on_a_jsm_request() -> None:
    # Written in JSM's agent view: it carries the sd.public.comment property.
    comment = comment_with(author={"accountId": AGENT, "accountType": "atlassian"},
                           properties=[{"key": "sd.public.comment", "value": {"internal": False}}])
    assert comment is not None and (comment.by, comment.author_id) == ("agent", AGENT)


ADF_COMMENT = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Hola "},
            {"type": "mention", "attrs": {"id": AGENT, "text": "@Mateo Ruiz"}},
            {"type": "text", "text": ", ¿me ", "marks": [{"type": "strong"}]},
            {"type": "text", "text": "ayudan?"},
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "pedido 4471"}]},
            ]},
            {"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "pagado"}]},
            ]},
        ]},
    ],
}


def test_adf_comment_and_description_become_plain_text() -> None:
    comment = comment_with(body=ADF_COMMENT)
    assert comment is not None
    assert comment.body == "Hola @Mateo Ruiz, ¿me ayudan?\npedido 4471\npagado"
    body = ours("issue_created_es_delivery.json")
    body["issue"]["fields"]["description"] = ADF_COMMENT
    assert normalize(body, {}).description == comment.body


ADF_CASES = [
    ({"type": "doc", "version": 1, "content": []}, ""),
    ({"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "una"}, {"type": "hardBreak"}, {"type": "text", "text": "dos"},
    ]}]}, "una\ndos"),
    ({"type": "doc", "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "T"}]},
        {"type": "paragraph"},  # empty paragraphs leave no blank line
        {"type": "paragraph", "content": [{"type": "text", "text": "p"}]},
    ]}, "T\np"),
    ({"type": "doc", "content": [{"type": "orderedList", "content": [
        {"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "a.1"}]},
            ]}]},
        ]},
        {"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "b"}]},
        ]},
    ]}]}, "a\na.1\nb"),
    ({"type": "doc", "content": [
        {"type": "codeBlock", "attrs": {"language": "json"},
         "content": [{"type": "text", "text": "{\"a\": 1}"}]},
        {"type": "blockquote", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "citado"}]},
        ]},
        {"type": "rule"},
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "nota"}]},
        ]},
    ]}, "{\"a\": 1}\ncitado\nnota"),
    ({"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
        {"type": "text", "text": " "},
        {"type": "emoji", "attrs": {"shortName": ":custom:"}},
        {"type": "text", "text": " "},
        {"type": "inlineCard", "attrs": {"url": "https://example.com/track/4471"}},
        {"type": "text", "text": " "},
        {"type": "status", "attrs": {"text": "EN CAMINO", "color": "blue"}},
    ]}]}, "😄 :custom: https://example.com/track/4471 EN CAMINO"),
    ({"type": "doc", "content": [{"type": "table", "content": [
        {"type": "tableRow", "content": [
            {"type": "tableHeader", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "pedido"}]}]},
            {"type": "tableHeader", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "estado"}]}]},
        ]},
        {"type": "tableRow", "content": [
            {"type": "tableCell", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "4471"}]}]},
            {"type": "tableCell", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "perdido"}]}]},
        ]},
    ]}]}, "pedido | estado\n4471 | perdido"),
    ({"type": "doc", "content": [{"type": "mediaSingle", "content": [
        {"type": "media", "attrs": {"id": "abc", "type": "file", "collection": "x"}},
    ]}]}, ""),
    ({"type": "doc", "content": [{"type": "unknownFutureNode", "content": [
        {"type": "text", "text": "still read"},
    ]}]}, "still read"),
    ("not adf", ""),
    (None, ""),
]


@pytest.mark.parametrize(("document", "expected"), ADF_CASES)
def test_adf_to_text(document: Any, expected: str) -> None:
    assert adf_to_text(document) == expected


PLAIN_TEXT = [
    ("*negrita* y _cursiva_", "*negrita* y _cursiva_"),  # wiki markup is kept
    ("  ", None),
    (None, None),
    ({"type": "doc", "content": []}, None),
    ({"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": " x "}]}]}, "x"),
]


@pytest.mark.parametrize(("value", "expected"), PLAIN_TEXT)
def test_plain_text(value: Any, expected: str | None) -> None:
    assert plain_text(value) == expected


# --- refresh(): a fresh issue merged in -------------------------------------------------------
# No recorded Jira REST responses exist (SOURCES.md); a webhook's `issue` is the same
# representation as GET /rest/api/2/issue/{id}, so the captures stand in for it.


def test_refresh_fills_a_cloud_comment_event_from_the_issue() -> None:
    event = normalize(real("jira_comment_created_cloud.json"), {})
    issue = real("jira_issue_updated_cloud_priority_changelog.json")["issue"]
    fresh = refresh(event, issue)
    assert fresh == TicketEvent(
        # what happened: kept
        platform="jira",
        ticket_id="10040",
        kinds=frozenset({K.COMMENT_ADDED, K.UPDATED}),
        delivery_id="comment:10019:created",
        occurred_at=event.occurred_at,
        source_type="comment_created",
        actor_id=CLOUD_ADMIN,
        previous_status=None,
        # the admin is the reporter too: now known to be the customer's comment
        comment=Comment("10019", "Added a comment", True, "customer", CLOUD_ADMIN),
        # the issue now
        status="new",
        priority="high",
        tags=("sad", "test-label"),
        channel="web",
        subject="Unit test summary 1",
        description="Unit test description, not that long, a little longer now",
        requester=CLOUD_ADMIN_REQUESTER,
        components=("COMP-1",),
        assignee_id=None,
        custom_fields=tes41_custom_fields("0|i0000r:r"),
        url=f"{CLOUD_SITE}/browse/TES-41",
        display_id="TES-41",
        version="2019-02-16T13:15:16.037-0800",
    )


def test_refresh_fills_a_server_comment_event_and_keeps_an_agent_an_agent() -> None:
    issue_updated = real("jira_issue_updated_server_issue_commented.json")
    comment_created = {
        "timestamp": issue_updated["timestamp"],
        "webhookEvent": "comment_created",
        "comment": issue_updated["comment"],
    }
    fresh = refresh(normalize(comment_created, {}), issue_updated["issue"])
    merged = normalize(issue_updated, {})
    for field in ("status", "priority", "tags", "subject", "description", "requester",
                  "assignee_id", "custom_fields", "url", "version", "channel", "comment"):
        assert getattr(fresh, field) == getattr(merged, field), field
    assert fresh.comment is not None and fresh.comment.by == "customer"  # not known as an agent


def test_refresh_reads_api_v3_and_due_dates() -> None:
    event = normalize(ours("comment_created_cloud_es.json"), {})
    issue = copy.deepcopy(ours("issue_created_es_delivery.json")["issue"])
    issue["self"] = "https://tiendasol.atlassian.net/rest/api/3/issue/10107"
    fields = issue["fields"]
    fields["description"] = ADF_COMMENT
    fields["duedate"] = "2025-03-12"
    fields["customfield_10050"] = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "ref 4471"}]}]}
    fields["priority"] = {"name": "Highest", "id": "1"}
    fields["status"]["name"] = "Waiting for customer"
    fields["status"]["statusCategory"]["key"] = "indeterminate"
    fresh = refresh(event, issue)
    assert fresh.description == "Hola @Mateo Ruiz, ¿me ayudan?\npedido 4471\npagado"
    assert fresh.custom_fields["duedate"] == "2025-03-12"
    assert fresh.custom_fields["customfield_10050"] == "ref 4471"
    assert (fresh.status, fresh.priority) == ("pending", "urgent")
    assert (fresh.requester, fresh.components) == (LUCIA, ("Envíos",))
    assert fresh.url == "https://tiendasol.atlassian.net/browse/DD-7"
    assert fresh.comment == event.comment  # the customer's already


def test_refresh_takes_table_overrides() -> None:
    event = normalize(ours("issue_updated_reopened.json"), {})
    issue = ours("issue_updated_reopened.json")["issue"]
    fresh = refresh(event, issue, status_names={"in progress": "on_hold"},
                    priorities={"High": "urgent"})
    assert (fresh.status, fresh.priority) == ("on_hold", "urgent")
    assert fresh.previous_status == "solved"  # what happened is kept


def test_refresh_refuses_another_issue() -> None:
    event = normalize(real("jira_comment_created_server.json"), {})
    issue = real("jira_issue_updated_server_resolved_transition.json")["issue"]
    with pytest.raises(ValueError, match="issue '10300' is not the event's issue 10013"):
        refresh(event, issue)


# --- value tables -----------------------------------------------------------------------------

STATUSES_BY_NAME = [
    # (name, category key, expected)
    ("To Do", "new", "new"),
    ("Open", "new", "new"),  # unknown name: the category decides
    ("Backlog", "new", "new"),
    ("In Progress", "indeterminate", "open"),
    ("In Review", "indeterminate", "open"),
    ("Reopened", "indeterminate", "open"),
    ("Waiting for support", "new", "new"),
    ("Waiting for customer", "indeterminate", "pending"),
    ("WAITING FOR CUSTOMER", None, "pending"),
    ("Waiting for reporter", "indeterminate", "pending"),
    ("Pending", "indeterminate", "pending"),
    ("On hold", "indeterminate", "on_hold"),
    ("On  Hold", None, "on_hold"),
    ("Blocked", "indeterminate", "on_hold"),
    ("Waiting for third party", "indeterminate", "on_hold"),
    ("Resolved", "done", "solved"),
    ("Done", "done", "solved"),
    ("Shipped", "done", "solved"),
    ("Closed", "done", "closed"),
    ("Cancelled", "done", "closed"),
    ("Canceled", "done", "closed"),
    ("Won't do", "done", "closed"),
    ("Won’t Do", "done", "closed"),  # typographic apostrophe
    ("Declined", "done", "closed"),
    ("Shipped", None, None),  # no category, unknown name
    ("", None, None),
    (None, None, None),
    (None, "done", "solved"),
    ("Whatever", "undefined", None),
]


@pytest.mark.parametrize(("name", "category", "expected"), STATUSES_BY_NAME)
def test_status_mapping(name: str | None, category: str | None, expected: str | None) -> None:
    assert normalize_status(name, category) == expected


STATUS_OVERRIDES = [
    ({"Shipped": "closed"}, "Shipped", "done", "closed"),
    ({"done": "closed"}, "Done", "done", "closed"),
    ({"WAITING FOR SUPPORT": "open"}, "Waiting for support", "new", "open"),
    ({}, "Done", "done", "solved"),
    (None, "Done", "done", "solved"),
]


@pytest.mark.parametrize(("overrides", "name", "category", "expected"), STATUS_OVERRIDES)
def test_status_overrides(
    overrides: dict[str, str] | None, name: str, category: str, expected: str
) -> None:
    assert normalize_status(name, category, overrides) == expected


def test_overrides_do_not_change_the_defaults() -> None:
    normalize_status("Done", "done", {"done": "closed"})
    assert DEFAULT_STATUS_NAMES["done"] == "solved"


def test_default_tables_hold_only_rules_vocabulary() -> None:
    assert set(DEFAULT_STATUS_NAMES.values()) <= set(STATUSES)
    assert set(DEFAULT_PRIORITIES.values()) <= set(PRIORITIES)
    for table in (DEFAULT_STATUS_NAMES, DEFAULT_PRIORITIES):
        assert all(name == " ".join(name.casefold().split()) for name in table)


PRIORITY_NAMES = [
    ("Highest", "urgent"), ("Blocker", "urgent"), ("Critical", "urgent"),
    ("High", "high"), ("Major", "high"),
    ("Medium", "normal"),
    ("Low", "low"), ("Lowest", "low"), ("Minor", "low"), ("Trivial", "low"),
    ("HIGHEST", "urgent"), ("medium", "normal"),
    ("P1", None), ("", None), (None, None),
]


@pytest.mark.parametrize(("name", "expected"), PRIORITY_NAMES)
def test_priority_mapping(name: str | None, expected: str | None) -> None:
    assert normalize_priority(name) == expected


def test_priority_overrides() -> None:
    assert normalize_priority("P1", {"P1": "urgent"}) == "urgent"
    assert normalize_priority("Major", {"major": "normal"}) == "normal"


def test_priority_overrides_are_checked() -> None:
    with pytest.raises(ValueError) as refused:
        normalize_priority("P1", {"P1": "critical"})
    assert str(refused.value) == (
        "priority for 'P1' must be one of low, normal, high, urgent (got 'critical')"
    )


def test_status_overrides_are_checked() -> None:
    with pytest.raises(ValueError) as refused:
        normalize_status("Shipped", "done", {"Shipped": "resolved"})
    assert str(refused.value) == (
        "status for 'Shipped' must be one of new, open, pending, on_hold, solved, closed "
        "(got 'resolved')"
    )


CUSTOM_VALUES = [
    ("texto", "texto"),
    (3.5, 3.5),
    (None, None),
    ({"self": "s", "value": "Reembolso", "id": "10040"}, "Reembolso"),
    ({"value": "Envío", "id": "1", "child": {"value": "Perdido", "id": "2"}}, "Envío"),
    ([{"value": "a", "id": "1"}, {"value": "b", "id": "2"}], ["a", "b"]),
    ({"accountId": AGENT, "displayName": "Mateo Ruiz"}, AGENT),
    ({"name": "jdoe", "key": "JIRAUSER10100", "displayName": "J. Doe"}, "jdoe"),
    ([{"id": "4", "name": "Clientes particulares"}], ["Clientes particulares"]),
    ({"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "t"}]}]}, "t"),
    ({"hasEpicLinkFieldDependency": False}, {"hasEpicLinkFieldDependency": False}),
]


@pytest.mark.parametrize(("value", "expected"), CUSTOM_VALUES)
def test_custom_values(value: Any, expected: Any) -> None:
    assert custom_value(value) == expected


# --- the writer's side of the tables ----------------------------------------------------------

PRIORITY_NAMES_TO_WRITE = [
    ("urgent", None, "Highest"),
    ("high", None, "High"),
    ("normal", None, "Medium"),
    ("low", None, "Low"),
    ("urgent", {"Blocker": "urgent", "Critical": "urgent"}, "Blocker"),  # first named wins
    ("high", {"Blocker": "urgent"}, "High"),
]


@pytest.mark.parametrize(("priority", "overrides", "expected"), PRIORITY_NAMES_TO_WRITE)
def test_jira_priority_name(
    priority: str, overrides: dict[str, str] | None, expected: str
) -> None:
    assert jira_priority_name(priority, overrides) == expected
    assert normalize_priority(expected, overrides) == priority  # reads back the same


def test_jira_priority_name_refuses_unknown_priorities() -> None:
    with pytest.raises(ValueError) as refused:
        jira_priority_name("critical")
    assert str(refused.value) == "priority must be one of low, normal, high, urgent (got 'critical')"


def test_transition_targets_map_like_issue_statuses() -> None:
    target = ours("issue_updated_reopened.json")["issue"]["fields"]["status"]
    assert normalize_transition_target(target) == "open"
    assert normalize_transition_target(target, {"In Progress": "on_hold"}) == "on_hold"
    assert normalize_transition_target({}) is None
