"""Zendesk webhook translation, around real recorded deliveries and tables of cases.

Real recordings: ../shared/fixtures/real/ (see SOURCES.md there). Our own payloads, shaped like
the production capture (string ids, upper-case enums): tests/payloads/zendesk/. They tell one
story: ticket 35436, a Portuguese customer charged twice who wants a refund.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.zendesk import (
    TRIGGER_BODY_TEMPLATE,
    Envelope,
    NotATicketEvent,
    identify,
    normalize,
    refresh,
    trigger_body_template,
)
from adapters.zendesk.normalize import (
    language_code,
    normalize_channel,
    normalize_priority,
    normalize_status,
)
from integration.core.events import Comment, EventKind, Requester, TicketEvent
from tests.conftest import SHARED

REAL = SHARED / "fixtures" / "real"
OURS = Path(__file__).resolve().parent / "payloads" / "zendesk"

K = EventKind
RECORDED_HEADERS = "zendesk_event_user_deleted_real_delivery_headers.json"
INVOCATION_ID = "01HANA2B5D5W9XSJS3NE5SQA1J"  # the X-Zendesk-Webhook-Invocation-Id recorded there
REQUESTER = "24690135792468"
AGENT = "13579246801357"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def real(name: str) -> Any:
    return load(REAL / name)


def ours(name: str) -> Any:
    return load(OURS / name)


def headers() -> dict[str, str]:
    """The header set of a real delivery (Zendesk sends the same set with every webhook)."""
    return real(RECORDED_HEADERS)


# --- identify(): every recorded zendesk_* body ----------------------------------------------

ACCEPTED = {
    # envelope id wins over the invocation header: it identifies the event itself
    "zendesk_event_ticket_comment_added_production.json": Envelope(
        "d8551ba3-4243-433c-8629-aa79dc3e7182", "71447", "zen:event-type:ticket.comment_added"
    ),
    # admin-defined trigger body: no envelope, so the invocation header is the delivery id
    "zendesk_trigger_webhook_custom_body_ticket_update.json": Envelope(
        INVOCATION_ID, "12345", "trigger:End User Comment"
    ),
}
REFUSED = {
    "zendesk_event_user_active_changed_docs.json":
        "zen:event-type:user.active_changed is not a ticket event",
    "zendesk_event_user_deleted_real_delivery.json":
        "zen:event-type:user.deleted is not a ticket event",
    "zendesk_event_user_group_membership_created_docs_derived.json":
        "zen:event-type:user.group_membership_created is not a ticket event",
    "zendesk_trigger_webhook_body_template_placeholders.json":
        "ticket id is an unrendered placeholder ({{ticket.id}}): "
        "this is a trigger body template, not a rendered delivery",
    RECORDED_HEADERS:
        "not a Zendesk ticket webhook (expected type zen:event-type:ticket.* "
        "or a trigger body with ticket_id); the trigger body is: "
        + json.dumps(json.loads(TRIGGER_BODY_TEMPLATE), ensure_ascii=False),
}


def test_every_recorded_zendesk_body_has_an_expectation() -> None:
    recorded = {path.name for path in REAL.glob("zendesk_*.json")}
    assert recorded == set(ACCEPTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_identify_accepts_recorded_ticket_events(name: str) -> None:
    assert identify(real(name), headers()) == ACCEPTED[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_identify_refuses_recorded_non_ticket_bodies(name: str) -> None:
    with pytest.raises(NotATicketEvent) as refused:
        identify(real(name), headers())
    assert str(refused.value) == REFUSED[name]


def test_identify_reads_the_raw_recorded_bytes_like_the_parsed_body() -> None:
    raw = (REAL / "zendesk_event_user_deleted_real_delivery_raw_body.txt").read_bytes()
    with pytest.raises(NotATicketEvent, match=r"^zen:event-type:user.deleted is not"):
        identify(json.loads(raw), headers())


@pytest.mark.parametrize("name", sorted(path.name for path in OURS.glob("ticket_*.json")))
def test_identify_accepts_our_event_payloads(name: str) -> None:
    body = ours(name)
    assert identify(body, {}) == Envelope(body["id"], "35436", body["type"])


MISSING_TICKET = "ticket id missing (expected detail.id or ticketId)"
MISSING_DELIVERY = (
    "delivery id missing (expected the envelope id or an X-Zendesk-Webhook-Invocation-Id header)"
)
BAD_KIND = "is not one of created, comment_added, solved, updated (set it per trigger)"
INVOKED = {"X-Zendesk-Webhook-Invocation-Id": "i1"}
IDENTIFY_REFUSALS = [
    ([], {}, "body is not a JSON object"),
    ("zen:event-type:ticket.created", {}, "body is not a JSON object"),
    ({"type": "zen:event-type:ticket.created", "id": "e1", "detail": {}}, {}, MISSING_TICKET),
    ({"type": "zen:event-type:ticket.created", "detail": {"id": "7"}}, {}, MISSING_DELIVERY),
    ({"ticket_id": "7"}, {}, MISSING_DELIVERY),
    ({"ticket_id": ""}, INVOKED, MISSING_TICKET),
    ({"ticket_id": "#7"}, INVOKED, "ticket id '#7' is not a number"),
    # the template pasted without choosing the kind
    (json.loads(TRIGGER_BODY_TEMPLATE.replace("{{ticket.id}}", "7")), INVOKED,
     f"event '<created|comment_added|solved|updated>' {BAD_KIND}"),
    ({"dispute_desk": "1", "event": "deleted", "ticket_id": "7"}, INVOKED,
     f"event 'deleted' {BAD_KIND}"),
]


@pytest.mark.parametrize(("payload", "given_headers", "reason"), IDENTIFY_REFUSALS)
def test_identify_refusals(payload: Any, given_headers: dict[str, str], reason: str) -> None:
    with pytest.raises(NotATicketEvent) as refused:
        identify(payload, given_headers)
    assert str(refused.value) == reason


@pytest.mark.parametrize("name", [
    "X-Zendesk-Webhook-Invocation-Id", "x-zendesk-webhook-invocation-id",
    "X-ZENDESK-WEBHOOK-INVOCATION-ID",
])
def test_invocation_header_is_case_insensitive(name: str) -> None:
    envelope = identify({"ticketID": "12345"}, {name: "inv-1"})
    assert envelope == Envelope("inv-1", "12345", "trigger:updated")


def test_ticket_id_falls_back_to_the_envelope_subject() -> None:
    body = {"type": "zen:event-type:ticket.created", "id": "e1", "subject": "zen:ticket:9",
            "detail": {}}
    assert identify(body, {}).ticket_id == "9"


# --- normalize(): the production capture, whole ---------------------------------------------


def test_production_comment_added_normalizes_exactly() -> None:
    event = normalize(real("zendesk_event_ticket_comment_added_production.json"), headers())
    assert event == TicketEvent(
        platform="zendesk",
        ticket_id="71447",
        kinds=frozenset({K.COMMENT_ADDED, K.UPDATED}),
        delivery_id="d8551ba3-4243-433c-8629-aa79dc3e7182",
        occurred_at=datetime(2026, 6, 9, 8, 36, 44, 304701, tzinfo=UTC),
        source_type="zen:event-type:ticket.comment_added",
        actor_id="58789189659033",
        status="open",
        previous_status=None,
        priority=None,
        tags=("bot_chat", "not_a_reopen"),
        channel="chat",
        subject="Conversation with Khushi Singh",
        description="Conversation with Web User",
        comment=Comment(
            id="58789194475545",
            body="Conversation with Web User 6a27d07ec70c5f1aa576a17b",
            public=False,
            by="customer",
            author_id="58789189659033",
        ),
        # the commenter is the requester, so the comment names the requester
        requester=Requester(id="58789189659033", name="Khushi Singh"),
        group_id="44897999201817",
        group_name=None,
        components=(),
        assignee_id=None,
        custom_fields={},
        deadline=None,
        deadline_due_at=None,
        rating=None,
        feedback_comment=None,
        url=None,
        version="2026-06-09T08:36:44Z",
    )


# --- normalize(): our payloads, one per event type ------------------------------------------

OUR_EVENTS: dict[str, dict[str, Any]] = {
    "ticket_created_pt_billing.json": {
        "kinds": frozenset({K.CREATED}),
        "status": "new",
        "previous_status": None,
        "priority": None,
        "channel": "web",
        "comment": None,
        "actor_id": REQUESTER,
        "group_id": "360002222",
        "tags": (),
        "subject": "Cobrança em duplicidade na fatura de março",
        "requester": Requester(id=REQUESTER),
    },
    "ticket_comment_added_agent_public.json": {
        "kinds": frozenset({K.COMMENT_ADDED, K.UPDATED}),
        "status": "pending",
        "actor_id": AGENT,
        "comment": Comment(
            id="24680135791357",
            body="Olá Ana, confirmamos a cobrança em duplicidade e já solicitamos o estorno. "
                 "O valor volta para o seu cartão em até 5 dias úteis.",
            public=True,
            by="agent",
            author_id=AGENT,
        ),
        # an agent wrote it: it says nothing about the requester's name
        "requester": Requester(id=REQUESTER),
    },
    "ticket_status_changed_solved.json": {
        "kinds": frozenset({K.STATUS_CHANGED, K.SOLVED, K.UPDATED}),
        "status": "solved",
        "previous_status": "pending",
        "comment": None,
    },
    "ticket_status_changed_reopened.json": {
        "kinds": frozenset({K.STATUS_CHANGED, K.REOPENED, K.UPDATED}),
        "status": "open",
        "previous_status": "solved",
        "actor_id": REQUESTER,  # the customer answered after the solve
    },
    "ticket_priority_changed.json": {
        "kinds": frozenset({K.PRIORITY_CHANGED, K.UPDATED}),
        "priority": "high",
        "previous_status": None,
        "actor_id": "-1",  # a Zendesk trigger made the change
    },
    "ticket_tags_changed.json": {
        "kinds": frozenset({K.TAGS_CHANGED, K.UPDATED}),
        "tags": ("dispute", "dispute-finance"),
    },
    "ticket_group_assignment_changed.json": {
        "kinds": frozenset({K.ASSIGNEE_CHANGED, K.UPDATED}),
        "group_id": "360001111",
        "assignee_id": None,
    },
    "ticket_agent_assignment_changed.json": {
        "kinds": frozenset({K.ASSIGNEE_CHANGED, K.UPDATED}),
        "group_id": "360001111",
        "assignee_id": AGENT,
        "priority": "high",
    },
    # The ticket is gone: its deadlines end (tests/test_deletions.py).
    "ticket_soft_deleted.json": {"kinds": frozenset({K.DELETED}), "status": None, "comment": None},
    "ticket_permanently_deleted.json": {"kinds": frozenset({K.DELETED}), "status": None},
    "ticket_merged.json": {"kinds": frozenset({K.DELETED}), "status": "closed"},
    "ticket_marked_as_spam.json": {"kinds": frozenset({K.DELETED}), "status": None},
}


def test_every_payload_of_ours_has_an_expectation() -> None:
    assert {path.name for path in OURS.glob("ticket_*.json")} == set(OUR_EVENTS)


@pytest.mark.parametrize("name", sorted(OUR_EVENTS))
def test_our_event_payloads_normalize(name: str) -> None:
    body = ours(name)
    event = normalize(body, {})
    expected = OUR_EVENTS[name]
    assert {field: getattr(event, field) for field in expected} == expected
    # common to every event payload
    assert (event.platform, event.ticket_id, event.delivery_id) == ("zendesk", "35436", body["id"])
    assert event.source_type == body["type"]
    assert event.version == body["detail"]["updated_at"]
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None


def test_created_payload_carries_the_customer_text() -> None:
    event = normalize(ours("ticket_created_pt_billing.json"), {})
    assert "reembolso (estorno)" in event.text and "Cobrança em duplicidade" in event.text


def test_other_ticket_events_are_updates() -> None:
    body = ours("ticket_tags_changed.json")
    body["type"] = "zen:event-type:ticket.subject_changed"
    body["event"] = {"current": "Cobrança duplicada", "previous": "Cobrança em duplicidade"}
    event = normalize(body, {})
    assert event.kinds == frozenset({K.UPDATED})
    assert event.source_type == "zen:event-type:ticket.subject_changed"


STATUS_TRANSITIONS = [
    ("OPEN", "SOLVED", {K.SOLVED}),
    ("PENDING", "CLOSED", {K.SOLVED}),  # closed without passing through solved
    (None, "CLOSED", {K.SOLVED}),
    ("SOLVED", "CLOSED", set()),  # closing a solved ticket is no new resolution
    ("SOLVED", "OPEN", {K.REOPENED}),
    ("CLOSED", "PENDING", {K.REOPENED}),
    ("SOLVED", "HOLD", {K.REOPENED}),
    ("OPEN", "HOLD", set()),
    ("NEW", "OPEN", set()),
]


@pytest.mark.parametrize(("previous", "current", "extra"), STATUS_TRANSITIONS)
def test_status_transitions(previous: str | None, current: str, extra: set[EventKind]) -> None:
    body = ours("ticket_status_changed_solved.json")
    body["event"].update(previous=previous, current=current)
    body["detail"]["status"] = current
    event = normalize(body, {})
    assert event.kinds == frozenset({K.STATUS_CHANGED, K.UPDATED} | extra)
    assert event.previous_status == normalize_status(previous)


# --- normalize(): trigger bodies ------------------------------------------------------------


def test_rendered_trigger_body_normalizes_exactly() -> None:
    event = normalize(ours("trigger_created_es.json"), {"x-zendesk-webhook-invocation-id": "inv-9"})
    assert event == TicketEvent(
        platform="zendesk",
        ticket_id="35501",
        kinds=frozenset({K.CREATED}),
        delivery_id="inv-9",
        occurred_at=datetime(2025, 3, 5, 9, 14, tzinfo=UTC),
        source_type="trigger:created",
        actor_id="24690135799999",
        status="new",
        priority=None,  # "-"
        tags=("factura", "reembolso"),
        channel="web",  # "Web Form"
        subject="Cobro duplicado en mi factura",
        description="Hola, me cobraron dos veces la factura de febrero. "
                    "Solicito el reembolso del cargo duplicado.",
        comment=None,  # on creation the latest comment is the description
        requester=Requester(
            id="24690135799999",
            name="Lucía Fernández",
            email="lucia.fernandez@example.com",
            organization=None,  # rendered empty
            locale="es-419",
        ),
        group_id=None,
        group_name=None,
        assignee_id=None,
        url="https://acme.zendesk.com/agent/tickets/35501",
        version=None,
    )


def test_recorded_admin_defined_trigger_body_is_a_customer_comment() -> None:
    event = normalize(real("zendesk_trigger_webhook_custom_body_ticket_update.json"), headers())
    assert event == TicketEvent(
        platform="zendesk",
        ticket_id="12345",
        kinds=frozenset({K.COMMENT_ADDED, K.UPDATED}),
        delivery_id=INVOCATION_ID,
        source_type="trigger:End User Comment",
        priority="normal",
        tags=("new",),
        comment=Comment(id=None, body="", public=True, by="customer"),
        group_id="9000",
        assignee_id="9001",
    )


def trigger_body(kind: str, **rendered: str) -> dict[str, Any]:
    """Our template for `kind` as Zendesk would send it: given values, the rest empty."""
    body = json.loads(trigger_body_template(kind))
    return {key: (rendered.get(key, "") if "{{" in value else value) for key, value in body.items()}


UNRENDERED_ROLE = "{{current_user.role}}"
TRIGGER_CASES = [
    (
        "comment_added",
        {"comment": "¿Y mi reembolso?", "comment_public": "true", "actor_role": "End-user",
         "actor_id": "77"},
        {"kinds": frozenset({K.COMMENT_ADDED, K.UPDATED}),
         "comment": Comment(None, "¿Y mi reembolso?", True, "customer", "77")},
    ),
    (
        "comment_added",
        {"comment": "Estorno feito.", "comment_public": "false", "actor_role": "Agent",
         "actor_id": "88"},
        {"comment": Comment(None, "Estorno feito.", False, "agent", "88")},
    ),
    (
        "comment_added",
        {"comment": "ok", "actor_role": "Admin"},
        {"comment": Comment(None, "ok", False, "agent", None)},
    ),
    # role not rendered: assume the customer, so no agent deadline is met by mistake
    (
        "comment_added",
        {"comment": "ok", "comment_public": "true", "actor_role": UNRENDERED_ROLE},
        {"comment": Comment(None, "ok", True, "customer", None)},
    ),
    (
        "solved",
        {"status": "Solved", "priority": "Urgent"},
        {"kinds": frozenset({K.SOLVED, K.STATUS_CHANGED, K.UPDATED}), "status": "solved",
         "priority": "urgent", "previous_status": None, "comment": None},
    ),
    (
        "updated",
        {"status": "On-hold", "priority": "", "tags": "", "via": "{{ticket.via}}"},
        {"kinds": frozenset({K.UPDATED}), "status": "on_hold", "priority": None, "tags": (),
         "channel": None},
    ),
    (
        "updated",
        {"requester_language": "Português (Brasil)", "requester_organization": "Acme"},
        {"requester": Requester(organization="Acme", locale="pt")},
    ),
    (
        "updated",
        {"requester_locale": "{{ticket.requester.locale}}", "requester_language": "English"},
        {"requester": Requester(locale="en")},
    ),
    (
        "updated",
        {"group_id": "360001111", "group_name": "Finance", "assignee_id": "55",
         "url": "acme.zendesk.com/agent/tickets/7"},
        {"group_id": "360001111", "group_name": "Finance", "assignee_id": "55",
         "url": "https://acme.zendesk.com/agent/tickets/7"},
    ),
]


@pytest.mark.parametrize(("kind", "rendered", "expected"), TRIGGER_CASES)
def test_trigger_bodies(kind: str, rendered: dict[str, str], expected: dict[str, Any]) -> None:
    body = trigger_body(kind, ticket_id="7", **rendered)
    event = normalize(body, {"X-Zendesk-Webhook-Invocation-Id": "inv-1"})
    assert {field: getattr(event, field) for field in expected} == expected
    assert event.source_type == f"trigger:{kind}"
    assert (event.ticket_id, event.delivery_id) == ("7", "inv-1")


def test_template_is_json_with_only_zendesk_placeholders() -> None:
    known = {
        "ticket.id", "ticket.status", "ticket.priority", "ticket.tags", "ticket.via",
        "ticket.title", "ticket.description", "ticket.latest_comment.value",
        "ticket.latest_comment.is_public", "current_user.id", "current_user.role",
        "ticket.requester.id", "ticket.requester.name", "ticket.requester.email",
        "ticket.organization.name", "ticket.requester.locale", "ticket.requester.language",
        "ticket.group.id", "ticket.group.name", "ticket.assignee.id",
        "ticket.updated_at_with_timestamp", "ticket.url_with_protocol",
    }
    for kind in ("created", "comment_added", "solved", "updated"):
        body = json.loads(trigger_body_template(kind))
        assert body.pop("dispute_desk") == "1" and body.pop("event") == kind
        # every other value is exactly one placeholder, and each is a known one
        assert all(re.fullmatch(r"\{\{[a-z_.]+\}\}", value) for value in body.values())
        assert {value.strip("{}") for value in body.values()} == known


def test_trigger_body_template_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown trigger kind 'deleted'"):
        trigger_body_template("deleted")


# --- refresh(): the recorded API ticket -----------------------------------------------------

ORG_ID = 6130869157658


def api_user(locale: str = "pt-BR") -> dict[str, Any]:
    user = real("api/zendesk_users_me_response.json")["user"]
    return {**user, "locale": locale}


def event_for_ticket_4016() -> TicketEvent:
    """The production capture, moved to the ticket of the recorded PUT response."""
    body = copy.deepcopy(real("zendesk_event_ticket_comment_added_production.json"))
    body["detail"]["id"], body["subject"] = "4016", "zen:ticket:4016"
    return normalize(body, {})


def test_refresh_merges_the_recorded_ticket() -> None:
    event = event_for_ticket_4016()
    ticket = real("api/zendesk_ticket_update_put_response.json")["ticket"]
    organizations = [{"id": ORG_ID, "name": "Z3N Automations"}, {"id": 1, "name": "Other"}]
    fresh = refresh(event, ticket, users=[api_user()], organizations=organizations)
    assert fresh == TicketEvent(
        # what happened: kept
        platform="zendesk",
        ticket_id="4016",
        kinds=event.kinds,
        delivery_id="d8551ba3-4243-433c-8629-aa79dc3e7182",
        occurred_at=event.occurred_at,
        source_type="zen:event-type:ticket.comment_added",
        actor_id="58789189659033",
        comment=event.comment,
        previous_status=None,
        # the ticket now: from the API
        status="new",
        priority=None,
        tags=(),
        channel="api",
        subject="testa94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        description="test",
        requester=Requester(
            id="6130907993114",
            name="09cace",
            email="automationsqa@z3nmail.com",
            organization="Z3N Automations",
            locale="pt-BR",
        ),
        group_id=None,
        group_name=None,
        assignee_id=None,
        custom_fields={},
        url=None,
        version="2023-09-18T23:26:01Z",
    )


def test_refresh_maps_custom_fields_and_keeps_a_still_true_group_name() -> None:
    event = event_for_ticket_4016().with_state(group_id="360001111", group_name="Finance")
    ticket = {
        **real("api/zendesk_ticket_update_put_response.json")["ticket"],
        "group_id": 360001111, "status": "hold", "priority": "urgent", "tags": ["vip"],
        "custom_fields": [{"id": 360012345, "value": "refund"}, {"id": 360067890, "value": None}],
    }
    fresh = refresh(event, ticket)
    assert (fresh.group_id, fresh.group_name) == ("360001111", "Finance")
    assert (fresh.status, fresh.priority, fresh.tags) == ("on_hold", "urgent", ("vip",))
    assert fresh.custom_fields == {"360012345": "refund", "360067890": None}
    # no users sideload: only the id is known, the organization comes from nowhere
    assert fresh.requester == Requester(id="6130907993114")


def test_refresh_takes_the_organization_from_the_ticket_when_the_user_has_none() -> None:
    user = {**api_user("es"), "organization_id": None}
    ticket = real("api/zendesk_ticket_update_put_response.json")["ticket"]
    fresh = refresh(event_for_ticket_4016(), ticket, [user], [{"id": ORG_ID, "name": "Z3N"}])
    assert (fresh.requester.organization, fresh.requester.locale) == ("Z3N", "es")


def test_refresh_refuses_another_ticket() -> None:
    ticket = real("api/zendesk_ticket_update_put_response.json")["ticket"]
    production = normalize(real("zendesk_event_ticket_comment_added_production.json"), {})
    with pytest.raises(ValueError, match="ticket 4016 is not the event's ticket 71447"):
        refresh(production, ticket)


# --- value tables ---------------------------------------------------------------------------

STATUSES = [
    ("NEW", "new"), ("OPEN", "open"), ("PENDING", "pending"), ("HOLD", "on_hold"),
    ("SOLVED", "solved"), ("CLOSED", "closed"),
    ("hold", "on_hold"), ("on-hold", "on_hold"), ("On-hold", "on_hold"), ("on hold", "on_hold"),
    ("New", "new"), ("Open", "open"), ("Pending", "pending"), ("Solved", "solved"),
    ("Closed", "closed"), ("DELETED", None), ("ARCHIVED", None), ("", None), (None, None),
    ("{{ticket.status}}", None),
]


@pytest.mark.parametrize(("given", "expected"), STATUSES)
def test_status_mapping(given: str | None, expected: str | None) -> None:
    assert normalize_status(given) == expected


PRIORITIES = [
    ("LOW", "low"), ("NORMAL", "normal"), ("HIGH", "high"), ("URGENT", "urgent"),
    ("Low", "low"), ("Normal", "normal"), ("High", "high"), ("Urgent", "urgent"),
    ("urgent", "urgent"), ("-", None), ("", None), (None, None), ("critical", None),
    ("{{ticket.priority}}", None),
]


@pytest.mark.parametrize(("given", "expected"), PRIORITIES)
def test_priority_mapping(given: str | None, expected: str | None) -> None:
    assert normalize_priority(given) == expected


CHANNELS = [
    ("email", "email"), ("mail", "email"), ("Mail", "email"),
    ("web", "web"), ("web_form", "web"), ("Web Form", "web"), ("help_center", "web"),
    ("Help Center", "web"), ("web_widget", "web"),
    ("native_messaging", "chat"), ("chat", "chat"), ("messaging", "chat"),
    ("whatsapp", "chat"), ("WhatsApp", "chat"), ("sms", "chat"), ("line", "chat"),
    ("voice", "phone"), ("Phone call (inbound)", "phone"), ("voicemail", "phone"),
    ("api", "api"), ("web_service", "api"), ("Web service", "api"),
    ("twitter", "social"), ("facebook", "social"), ("facebook_post", "social"),
    ("instagram_dm", "social"),
    ("any_channel", "other"), ("closed_ticket", "other"), ("rule", "other"),
    ("", None), (None, None), ("{{ticket.via}}", None),
]


@pytest.mark.parametrize(("given", "expected"), CHANNELS)
def test_channel_mapping(given: str | None, expected: str | None) -> None:
    assert normalize_channel(given) == expected


LANGUAGE_NAMES = [
    ("English", "en"), ("English (United States)", "en"), ("Inglés", "en"),
    ("Português (Brasil)", "pt"), ("Português", "pt"), ("Portuguese", "pt"),
    ("Español", "es"), ("Español (Latinoamérica)", "es"), ("Spanish", "es"),
    ("pt-BR", "pt"), ("pt_br", "pt"), ("es-419", "es"), ("en-US", "en"), ("es", "es"),
    ("fr-FR", None), ("Français", None), ("", None), (None, None),
    ("{{ticket.requester.language}}", None),
]


@pytest.mark.parametrize(("given", "expected"), LANGUAGE_NAMES)
def test_language_mapping(given: str | None, expected: str | None) -> None:
    assert language_code(given) == expected
