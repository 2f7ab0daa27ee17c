"""The `dispute-desk` command line: rules check, explain, events list and replay.

Commands that need the app run through `app.test_cli_runner()` (a ScriptInfo for the test
app, on SQLite and on PostgreSQL); `rules check` and `explain` need no app and also run
through click's plain CliRunner, as from a shell."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.runtime.inbox import EventStatus
from tests.conftest import PAYLOADS, REAL, RULES

PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
PRIORITY_CHANGED = PAYLOADS / "zendesk" / "ticket_priority_changed.json"
USER_DELETED = REAL / "zendesk_event_user_deleted_real_delivery.json"
NO_PLATFORM = {name: None for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "ZENDESK_WEBHOOK_SECRET")}

BROKEN = {
    "10-bad.yaml": (
        "version: 1\n"
        "rules:\n"
        "  - id: r1\n"
        "    on: [created]\n"
        "    then:\n"
        "      priority: critical\n"
        "  - id: r2\n"
        "    on: [created]\n"
        "    then:\n"
        "      route: financ\n"
    ),
    "20-syntax.yaml": "version: 1\nrules:\n  - id: r3\n    on: [created\n",
}


@pytest.fixture
def broken_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, text in BROKEN.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def broken_problems(folder: Path) -> list[str]:
    return [
        f'{folder / "10-bad.yaml"}:6:17: rules[0].then.priority: must be one of low, normal, high, urgent (got "critical")',
        f'{folder / "10-bad.yaml"}:10:14: rules[1].then.route: unknown department "financ" (defined: none)',
        f"{folder / '20-syntax.yaml'}:5:1: invalid YAML: did not find expected ',' or ']'",
    ]


# ---- rules check ---------------------------------------------------------------------------


SUMMARY = re.compile(r"^(?P<path>.+): (?P<rules>\d+) rules, (?P<departments>\d+) departments, \d+ checklists, \d+ templates, \d+ calendars in (?P<files>\d+) files: OK$")


def test_rules_check_passes_the_default_pack():
    result = CliRunner().invoke(main, ["rules", "check", str(RULES)])
    assert result.exit_code == 0, result.output
    match = SUMMARY.match(result.stdout.strip())
    assert match, result.stdout
    assert match["path"] == str(RULES)
    assert int(match["rules"]) > 0 and int(match["departments"]) == 7
    assert int(match["files"]) == len(list(RULES.glob("*.yaml")))
    assert result.stderr == ""


def test_rules_check_reads_rules_path_when_no_path_is_given(monkeypatch):
    monkeypatch.setenv("RULES_PATH", str(RULES))
    result = CliRunner().invoke(main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{RULES}: ")


def test_rules_check_reports_every_problem_with_its_location(broken_rules):
    result = CliRunner().invoke(main, ["rules", "check", str(broken_rules)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == broken_problems(broken_rules)
    assert result.stderr.strip() == f"3 problems found in {broken_rules}"
    for line in result.stdout.splitlines():
        assert re.match(r"^/.+\.yaml:\d+:\d+: ", line)  # FILE:LINE:COL: first, like a compiler


def test_rules_check_one_problem_is_singular_and_a_missing_path_is_a_problem(tmp_path):
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(main, ["rules", "check", str(missing)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{missing}:1:1: no such file or directory"]
    assert result.stderr.strip() == f"1 problem found in {missing}"


def test_rules_check_through_the_flask_runner_too(make_app, broken_rules):
    runner = make_app().test_cli_runner()
    assert runner.invoke(main, ["rules", "check", str(RULES)]).exit_code == 0
    result = runner.invoke(main, ["rules", "check", str(broken_rules)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == broken_problems(broken_rules)


# ---- explain -------------------------------------------------------------------------------


def explain(*args: str):
    return CliRunner().invoke(main, ["explain", *args, "--rules", str(RULES)])


def test_explain_shows_the_matched_rules_the_failed_conditions_and_the_plan():
    result = explain(str(PT_BILLING), "--now", "2026-03-02T13:00:00Z")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Event: zendesk ticket 35436: created (zen:event-type:ticket.created)"
    assert "  [x] finance-dispute: matched" in lines
    assert "  [x] dispute-core-checklist: matched" in lines
    assert "  [ ] logistics-dispute: no match" in lines
    assert "  [-] dispute-solved: does not listen to this event" in lines
    # the conditions under the rule, each with what it saw; the topic is the one that failed
    block = lines[lines.index("  [ ] logistics-dispute: no match") + 1 :]
    assert block[0].strip() == "ok   status not_in ['solved', 'closed'] (saw 'new')"
    assert "FAIL topic is 'logistics' (saw 'finance')" in [line.strip() for line in block]
    assert "  route to: finance (Financeiro)" in lines
    assert "  priority: high" in lines
    assert "  start deadline first-response: due 2026-03-02 17:00 UTC (4h business)" in lines
    assert "    | Checklist de resolução de disputa" in lines  # the checklist, in the customer's language


def test_explain_reads_the_time_as_utc_when_no_zone_is_given():
    with_zone = explain(str(PT_BILLING), "--now", "2026-03-02T13:00:00Z")
    without = explain(str(PT_BILLING), "--now", "2026-03-02T13:00:00")
    assert without.exit_code == 0
    assert without.stdout == with_zone.stdout


def test_explain_json_is_parseable_and_has_the_matched_rules():
    result = explain(str(PT_BILLING), "--now", "2026-03-02T13:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert {"dispute-core-checklist", "finance-dispute"} <= set(plan["matched_rules"])
    assert plan["department"] == "finance"
    assert plan["deadlines"] == ["first-response"]
    finance = next(rule for rule in plan["rules"] if rule["rule"] == "finance-dispute")
    # it holds; the dispute signals it did not need (alternatives of an `any`) are listed as not held
    assert finance["matched"] is True
    topic = next(c for c in finance["conditions"] if c["field"] == "topic")
    assert (topic["operator"], topic["expected"], topic["saw"], topic["held"]) == ("is", "finance", "finance", True)
    assert plan["topic"]["department"] == "finance"
    assert any(note["key"] == "checklist:dispute-core" and "Checklist de resolução de disputa" in note["body"] for note in plan["notes"])


@pytest.mark.parametrize(
    "args, code, message",
    [
        ([str(USER_DELETED)], 1, f"Error: {USER_DELETED} is not a zendesk ticket event: zen:event-type:user.deleted is not a ticket event"),
        ([str(REAL / "zendesk_event_user_deleted_real_delivery_raw_body.txt")], 1, "zen:event-type:user.deleted is not a ticket event"),
        ([str(REAL / "project_created.json")], 2, "does not exist"),
        ([str(PT_BILLING), "--now", "yesterday"], 2, "Invalid value for --now: expected an ISO time like 2026-03-02T10:00:00Z (got 'yesterday')"),
        ([str(PAYLOADS / "zendesk" / "missing.json")], 2, "does not exist"),
    ],
    ids=["user-deleted", "raw-body-file", "missing-real-file", "bad-now", "missing-file"],
)
def test_explain_refuses_what_it_cannot_explain_with_a_clear_message(args, code, message):
    result = explain(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_explain_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "event.json"
    path.write_text("{not json", encoding="utf-8")
    result = explain(str(path))
    assert result.exit_code == 1
    assert f"Error: {path}: not readable JSON (" in result.stderr


def test_explain_refuses_broken_rules(broken_rules):
    result = CliRunner().invoke(main, ["explain", str(PT_BILLING), "--rules", str(broken_rules)])
    assert result.exit_code == 1
    assert "the rule files have problems:" in result.stderr
    assert broken_problems(broken_rules)[0] in result.stderr


# ---- events --------------------------------------------------------------------------------


@pytest.fixture
def app(make_app):
    return make_app(allow_unsigned_webhooks=True)  # no credentials: dry run, unsigned webhooks from this machine


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def post(app, path: Path) -> int:
    response = app.test_client().post("/webhooks/zendesk", data=path.read_bytes(), headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.get_json()
    return next(e.id for e in app.extensions["dispute_desk"].inbox.list() if e.delivery_id == response.get_json()["delivery_id"])


def bury(app, event_id: int, error: str) -> None:
    """Dead-letter an event as the worker does after a permanent failure."""
    inbox = app.extensions["dispute_desk"].inbox
    now = datetime.now(UTC) + timedelta(seconds=1)
    claimed = inbox.claim("cli-test", now)
    assert claimed is not None and claimed.id == event_id
    assert inbox.finish(event_id, "cli-test", EventStatus.DEAD, now, error=error)


LINE = re.compile(
    r"^\s*(?P<id>\d+)  (?P<status>\S+)\s+(?P<ticket>\S+)\s+(?P<source>\S+)\s+attempts=(?P<attempts>\d+) "
    r"received=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:  (?P<label>(?:earlier )?error): (?P<error>.*))?$"
)


def listed(result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.output
    rows = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        assert match, line
        rows.append(match.groupdict())
    return rows


def test_events_list_is_empty_at_first(runner):
    result = runner.invoke(main, ["events", "list"])
    assert (result.exit_code, result.stdout) == (0, "no events\n")


def test_events_list_shows_stored_webhooks_newest_first(app, runner):
    first = post(app, PT_BILLING)
    second = post(app, PRIORITY_CHANGED)

    rows = listed(runner.invoke(main, ["events", "list"]))

    assert [(int(r["id"]), r["status"], r["ticket"], r["attempts"]) for r in rows] == [
        (second, "pending", "zendesk:35436", "0"),
        (first, "pending", "zendesk:35436", "0"),
    ]
    assert rows[1]["source"] == "zen:event-type:ticket.created"
    assert [int(r["id"]) for r in listed(runner.invoke(main, ["events", "list", "--limit", "1"]))] == [second]


def test_events_list_filters_by_status_and_shows_the_error(app, runner):
    first = post(app, PT_BILLING)
    post(app, PRIORITY_CHANGED)
    assert runner.invoke(main, ["events", "list", "--status", "dead"]).stdout == "no events\n"

    bury(app, first, "Zendesk answered 422: RecordInvalid")

    [row] = listed(runner.invoke(main, ["events", "list", "--status", "dead"]))
    assert (int(row["id"]), row["status"], row["attempts"], row["error"]) == (first, "dead", "1", "Zendesk answered 422: RecordInvalid")
    assert [r["status"] for r in listed(runner.invoke(main, ["events", "list", "--status", "pending"]))] == ["pending"]
    refused = runner.invoke(main, ["events", "list", "--status", "lost"])
    assert refused.exit_code == 2 and "Invalid value for '--status'" in refused.stderr


def test_events_list_shows_the_earlier_error_of_an_event_that_succeeded_on_a_retry(app, runner):
    event_id = post(app, PT_BILLING)
    inbox = app.extensions["dispute_desk"].inbox
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert inbox.claim("cli-test", now).id == event_id
    assert inbox.retry(event_id, "cli-test", now, "Zendesk unreachable: ConnectTimeout")
    assert inbox.claim("cli-test", now).id == event_id
    assert inbox.finish(event_id, "cli-test", EventStatus.DONE, now, {"department": "finance"})

    [row] = listed(runner.invoke(main, ["events", "list"]))

    assert (row["status"], row["attempts"], row["label"], row["error"]) == ("done", "2", "earlier error", "Zendesk unreachable: ConnectTimeout")


def test_events_replay_one_event(app, runner):
    event_id = post(app, PT_BILLING)
    bury(app, event_id, "Zendesk answered 422")

    result = runner.invoke(main, ["events", "replay", str(event_id)])

    assert (result.exit_code, result.stdout) == (0, "replayed 1 event\n")
    event = app.extensions["dispute_desk"].inbox.get(event_id)
    assert (event.status, event.attempts) == (EventStatus.PENDING, 0)


def test_events_replay_refuses_unknown_and_in_flight_events(app, runner):
    event_id = post(app, PT_BILLING)
    inbox = app.extensions["dispute_desk"].inbox
    assert inbox.claim("busy-worker", datetime.now(UTC) + timedelta(seconds=1)).id == event_id

    for wanted in (event_id, event_id + 1000):
        result = runner.invoke(main, ["events", "replay", str(wanted)])
        assert result.exit_code == 1
        assert result.stdout == f"replayed 0 events; not replayable (unknown or in flight): [{wanted}]\n"
    assert inbox.get(event_id).status == EventStatus.LEASED


def test_events_replay_every_dead_event(app, runner):
    first = post(app, PT_BILLING)
    second = post(app, PRIORITY_CHANGED)
    third = post(app, USER_DELETED.parent / "zendesk_event_ticket_comment_added_production.json")
    assert runner.invoke(main, ["events", "replay", "--dead"]).stdout == "replayed 0 events\n"
    bury(app, first, "x")
    bury(app, second, "y")

    result = runner.invoke(main, ["events", "replay", "--dead"])

    assert (result.exit_code, result.stdout) == (0, "replayed 2 events\n")
    inbox = app.extensions["dispute_desk"].inbox
    assert [inbox.get(i).status for i in (first, second, third)] == [EventStatus.PENDING] * 3
    assert inbox.list(EventStatus.DEAD) == []


# (state the event ends in, days ago it ended, pruned by --older-than 30)
PRUNE_CASES = [
    (EventStatus.DONE, 40, True),
    (EventStatus.SKIPPED, 31, True),
    (EventStatus.DONE, 29, False),  # not old enough
    (EventStatus.DEAD, 400, False),  # waits for a replay, however old
    (None, 40, False),  # still pending
]


def test_events_prune_deletes_only_old_finished_events_their_log_and_ended_deadlines(app, runner):
    from sqlalchemy import insert, select

    from integration.runtime.store import action_log, deadlines, to_db

    services = app.extensions["dispute_desk"]
    inbox, now = services.inbox, datetime.now(UTC)
    ids = []
    for index, (status, days, _) in enumerate(PRUNE_CASES):
        when = now - timedelta(days=days)
        assert inbox.add("zendesk", f"prune-{index}", str(5000 + index), "test", "{}", {}, when)
        [event] = [e for e in inbox.list(limit=100) if e.delivery_id == f"prune-{index}"]
        ids.append(event.id)
        if status is not None:
            assert inbox.claim("prune-test", when).id == event.id
            assert inbox.finish(event.id, "prune-test", status, when)
    ended = [("met", 40, True), ("cancelled", 40, True), ("breached", 10, False), ("running", 40, False), ("paused", 90, False)]
    with services.engine.begin() as connection:
        connection.execute(insert(action_log), [{"ticket_key": f"zendesk:{5000 + n}", "event_id": event_id, "action_key": "note:x", "applied_at": to_db(now)} for n, event_id in enumerate(ids)])
        connection.execute(
            insert(deadlines),
            [
                {"ticket_key": f"zendesk:{6000 + n}", "name": "first-response", "status": state, "due_at": None, "started_at": to_db(now - timedelta(days=days + 1)),
                 "within": "4h business", "calendar": "default", "met_by": "agent_reply", "pause_while": "", "rule_id": "r", "updated_at": to_db(now - timedelta(days=days))}
                for n, (state, days, _) in enumerate(ended)
            ],
        )  # fmt: skip

    result = runner.invoke(main, ["events", "prune", "--older-than", "30"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pruned 2 events and 2 ended deadlines from before ")
    kept = {event_id for event_id, (_, _, pruned) in zip(ids, PRUNE_CASES, strict=True) if not pruned}
    assert {e.id for e in inbox.list(limit=100)} == kept
    with services.engine.connect() as connection:
        assert set(connection.execute(select(action_log.c.event_id)).scalars()) == kept
        assert sorted(connection.execute(select(deadlines.c.status)).scalars()) == sorted(state for state, _, pruned in ended if not pruned)


@pytest.mark.parametrize("days", ["0.5", "0", "-3", "soon"])
def test_events_prune_refuses_less_than_a_day(runner, days):
    result = runner.invoke(main, ["events", "prune", "--older-than", days])
    assert result.exit_code == 2 and "--older-than" in result.stderr


@pytest.mark.parametrize("args", [[], ["1", "--dead"]], ids=["neither", "both"])
def test_events_replay_needs_an_id_or_dead_but_not_both(runner, args):
    result = runner.invoke(main, ["events", "replay", *args])
    assert result.exit_code == 2
    assert "Error: give an EVENT_ID or --dead (not both)" in result.stderr
    assert "Usage: " in result.stderr


# ---- commands that build the app from the environment -------------------------------------


def test_a_command_needing_the_app_refuses_broken_rules_with_the_report(broken_rules, sqlite_url):
    env = {**NO_PLATFORM, "DATABASE_URL": sqlite_url, "RULES_PATH": str(broken_rules)}
    result = CliRunner().invoke(main, ["events", "list"], env=env)
    assert result.exit_code == 1
    assert "Error: the rule files have problems; fix them and start again:" in result.stderr
    for problem in broken_problems(broken_rules):
        assert problem in result.stderr
    assert "3 problems found; the rule set was not loaded." in result.stderr


def test_a_command_needing_the_app_refuses_an_unsafe_configuration(sqlite_url):
    env = {**NO_PLATFORM, "DATABASE_URL": sqlite_url, "RULES_PATH": str(RULES), "ZENDESK_SUBDOMAIN": "example", "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "t"}
    result = CliRunner().invoke(main, ["events", "list"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ZENDESK_WEBHOOK_SECRET is not set, but Zendesk credentials are")
    assert "Traceback" not in result.output


def test_events_list_from_the_environment_alone(sqlite_url):
    env = {**NO_PLATFORM, "DATABASE_URL": sqlite_url, "RULES_PATH": str(RULES)}
    result = CliRunner().invoke(main, ["events", "list"], env=env)
    assert (result.exit_code, result.stdout) == (0, "no events\n"), result.output


def test_explain_reads_jira_payloads_with_the_same_rules():
    result = explain(str(PAYLOADS / "jira" / "issue_created_es_delivery.json"), "--now", "2026-03-02T13:00:00Z")
    assert result.exit_code == 0, result.output
    assert "Event: jira ticket 10107: created" in result.output
    assert "[x] logistics-dispute: matched" in result.output
    assert "route to: logistics (Logística y Operaciones)" in result.output
