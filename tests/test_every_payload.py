"""Every payload fixture we hold (tests/payloads/** and the shared real webhook bodies),
signed, through the webhook endpoint and through `dispute-desk explain`: never a 5xx, never a
traceback, and each answer the one this table expects. A fixture added without a row here
fails the test that lists them.

Runs on SQLite and on PostgreSQL (the `make_app` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main
from tests.conftest import (
    PAYLOADS,
    REAL,
    RULES,
    WEBHOOK_SECRET,
    fresh_jira_body,
    jira_headers,
    zendesk_headers,
)

IGNORED = "does not act on"  # genuine events answered 200 ignored: a Jira event,
NOT_TICKET = "is not a ticket event"  # and a Zendesk one
NO_DELIVERY = "delivery id missing"  # a trigger body names no delivery; its webhook header does
# (file, webhook status, explain exit code, text explain must show)
EXPECTED: list[tuple[str, int, int, str]] = [
    ("jira/comment_created_cloud_es.json", 202, 0, "comment_added"),
    ("jira/issue_created_es_delivery.json", 202, 0, "route to logistics"),
    ("jira/issue_deleted.json", 202, 0, "the ticket is gone (jira:issue_deleted/issue_deleted)"),
    ("jira/issue_updated_reopened.json", 202, 0, "reopened"),
    ("jira/server/issue_commented_reopened.json", 202, 0, "comment_added"),
    ("jira/server/issue_updated_comment_edited_no_type_name.json", 202, 0, "ticket 26313: updated ("),
    ("jira/server/issue_updated_custom_status_paused.json", 202, 0, "status_changed"),
    ("jira/server/issue_updated_status_in_progress.json", 202, 0, "status_changed"),
    ("jira/server/ru_comment_deleted.json", 200, 1, IGNORED),
    ("jira/server/ru_comment_updated.json", 202, 0, "Status: new"),
    ("jira/server/ru_issue_created_localized_changelog_field.json", 202, 0, "created"),
    ("jira/server/ru_issue_updated_reopened.json", 202, 0, "reopened, status_changed"),
    ("zendesk/ticket_agent_assignment_changed.json", 202, 0, "assignee_changed"),
    ("zendesk/ticket_comment_added_agent_public.json", 202, 0, "comment_added"),
    ("zendesk/ticket_created_pt_billing.json", 202, 0, "route to finance"),
    ("zendesk/ticket_group_assignment_changed.json", 202, 0, "assignee_changed"),
    ("zendesk/ticket_marked_as_spam.json", 202, 0, "the ticket is gone (zen:event-type:ticket.marked_as_spam)"),
    ("zendesk/ticket_merged.json", 202, 0, "the ticket is gone (zen:event-type:ticket.merged)"),
    ("zendesk/ticket_permanently_deleted.json", 202, 0, "the ticket is gone (zen:event-type:ticket.permanently_deleted)"),
    ("zendesk/ticket_priority_changed.json", 202, 0, "priority_changed"),
    ("zendesk/ticket_soft_deleted.json", 202, 0, "the ticket is gone (zen:event-type:ticket.soft_deleted)"),
    ("zendesk/ticket_status_changed_reopened.json", 202, 0, "reopened"),
    ("zendesk/ticket_status_changed_solved.json", 202, 0, "solved"),
    ("zendesk/ticket_tags_changed.json", 202, 0, "tags_changed"),
    ("zendesk/trigger_created_es.json", 202, 1, NO_DELIVERY),
    ("real/jira_comment_created_cloud.json", 202, 0, "comment_added"),
    ("real/jira_comment_created_server.json", 202, 0, "comment_added"),
    ("real/jira_issue_created_cloud.json", 202, 0, "created"),
    ("real/jira_issue_created_cloud_2024.json", 202, 0, "created"),
    ("real/jira_issue_created_cloud_custom_fields.json", 202, 0, "created"),
    ("real/jira_issue_updated_cloud_2024_description_changelog.json", 202, 0, "updated"),
    ("real/jira_issue_updated_cloud_assigned.json", 202, 0, "assignee_changed"),
    ("real/jira_issue_updated_cloud_labels_changelog.json", 202, 0, "tags_changed"),
    ("real/jira_issue_updated_cloud_priority_changelog.json", 202, 0, "priority_changed"),
    ("real/jira_issue_updated_server_in_progress_transition.json", 202, 0, "status_changed"),
    ("real/jira_issue_updated_server_issue_commented.json", 202, 0, "comment_added"),
    ("real/jira_issue_updated_server_resolved_transition.json", 202, 0, "solved"),
    ("real/zendesk_event_ticket_comment_added_production.json", 202, 0, "comment_added"),
    ("real/zendesk_event_user_active_changed_docs.json", 200, 1, NOT_TICKET),
    ("real/zendesk_event_user_deleted_real_delivery.json", 200, 1, NOT_TICKET),
    ("real/zendesk_event_user_group_membership_created_docs_derived.json", 200, 1, NOT_TICKET),
    ("real/zendesk_trigger_webhook_body_template_placeholders.json", 400, 1, "unrendered placeholder"),
    ("real/zendesk_trigger_webhook_custom_body_ticket_update.json", 202, 1, NO_DELIVERY),
]


def fixture_path(name: str) -> Path:
    return REAL / name.removeprefix("real/") if name.startswith("real/") else PAYLOADS / name


def platform_of(name: str) -> str:
    return "jira" if name.startswith(("jira/", "real/jira_")) else "zendesk"


def test_every_webhook_fixture_has_a_row():
    ours = {str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json")}
    real = {f"real/{path.name}" for path in REAL.glob("*.json") if not path.name.endswith("_headers.json")}  # headers are not a body
    assert ours | real == {row[0] for row in EXPECTED}


@pytest.fixture
def client(make_app):
    secrets = (WEBHOOK_SECRET,)
    return make_app(zendesk_webhook_secrets=secrets, jira_webhook_secrets=secrets).test_client()


@pytest.mark.parametrize(("name", "status", "exit_code", "shows"), EXPECTED, ids=[row[0] for row in EXPECTED])
def test_every_payload_through_the_webhook_and_explain(client, name, status, exit_code, shows):
    platform = platform_of(name)
    body = fixture_path(name).read_bytes()
    body = fresh_jira_body(body) if platform == "jira" else body  # Jira's body timestamp must be recent
    headers = jira_headers(body) if platform == "jira" else zendesk_headers(body, invocation=f"inv-{Path(name).stem}")

    answer = client.post(f"/webhooks/{platform}", data=body, headers=headers)
    explained = CliRunner().invoke(main, ["explain", str(fixture_path(name)), "--platform", platform, "--rules", str(RULES), "--now", "2026-03-02T13:00:00Z"])

    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.is_json and "Traceback" not in answer.get_data(as_text=True)
    assert explained.exit_code == exit_code, explained.output
    assert explained.exception is None or isinstance(explained.exception, SystemExit), repr(explained.exception)
    assert "Traceback" not in explained.output
    assert shows in explained.output
