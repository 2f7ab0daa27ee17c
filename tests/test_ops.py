"""Operations: /healthz, /readyz (also with the database really gone), /metrics in the
Prometheus text format, and the service refusing to start when misconfigured.

Runs on SQLite and on PostgreSQL (the `database_url` and `make_app` fixtures)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from integration import create_app
from integration.config import Config, ConfigError
from integration.core.syntax.problems import RuleSetError
from integration.runtime import platforms
from integration.runtime.inbox import EventStatus
from integration.runtime.migrations import upgrade
from integration.runtime.store import connect
from tests.conftest import PAYLOADS, PG_URL, REAL, RULES, _postgres_reason

PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
PRIORITY_CHANGED = PAYLOADS / "zendesk" / "ticket_priority_changed.json"
COMMENT_ADDED = REAL / "zendesk_event_ticket_comment_added_production.json"


def post(client, path: Path):
    # Unsigned, from the test client's 127.0.0.1: the apps that post allow it (development setting).
    return client.post("/webhooks/zendesk", data=path.read_bytes(), headers={"Content-Type": "application/json"})


# ---- health and readiness ------------------------------------------------------------------


def test_healthz_says_the_process_is_up(make_app):
    response = make_app().test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_says_the_database_is_reachable_and_the_rules_loaded(make_app):
    app = make_app()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"]) == ("ready", "ok")
    assert body["rules"] == len(app.extensions["dispute_desk"].rules.current.rules) > 0
    assert body["rule_files"] == [path.name for path in sorted(RULES.glob("*.yaml"))]  # names, not where they live


@pytest.fixture
def doomed_database(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Callable[[object], None]]]:
    """A database of its own for one app, and a way to make it unreachable for real:
    SQLite loses its directory; PostgreSQL loses the database (its sessions terminated)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        folder = tmp_path / "doomed"
        url = f"sqlite:///{folder / 'dispute-desk.sqlite3'}"

        def lose_sqlite(app) -> None:
            app.extensions["dispute_desk"].engine.dispose()  # close the open files first
            shutil.rmtree(folder)

        yield url, lose_sqlite
        return

    reason = _postgres_reason()
    if reason:
        pytest.skip(reason)
    name = f"dd_doomed_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    doomed_url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrated = connect(doomed_url)
    upgrade(migrated)  # PostgreSQL is migrated deliberately, before the app starts
    migrated.dispose()

    def lose_postgres(_app) -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    try:
        yield doomed_url, lose_postgres
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(make_app, doomed_database):
    url, lose = doomed_database
    app = make_app(database_url=url, allow_unsigned_webhooks=True)
    client = app.test_client()
    assert post(client, PT_BILLING).status_code == 202
    assert client.get("/readyz").status_code == 200

    lose(app)

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable: OperationalError"}
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    # A webhook arriving now is not acknowledged: Zendesk is asked to retry soon.
    refused = post(client, PRIORITY_CHANGED)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "30"
    assert refused.get_json() == {"error": "temporarily unable to store the event", "status": 503}


def test_the_feedback_page_says_try_later_when_the_database_is_unreachable(make_app, doomed_database):
    from integration.core.feedback import tokens

    url, lose = doomed_database
    app = make_app(database_url=url, secret_key="ops-secret")
    client = app.test_client()
    path = "/feedback/" + tokens.issue("ops-secret", "zendesk", "35436", "solved-1", "pt", "finance", datetime.now(UTC))
    assert client.get(path).status_code == 200

    lose(app)

    for response in (client.get(path), client.post(path, data={"rating": "2"})):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        page = response.get_data(as_text=True)
        assert 'lang="pt"' in page and "Não é possível receber avaliações agora" in page


# ---- metrics -------------------------------------------------------------------------------


SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|NaN|[-+]Inf))$')
LABEL = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"$')


def parse_metrics(body: str) -> dict[str, float]:
    """Prometheus text format 0.0.4, strictly: every sample's family declared once, before it."""
    samples: dict[str, float] = {}
    declared: dict[str, str] = {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in declared, f"TYPE declared twice: {name}"
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            declared[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        assert match["name"] in declared, f"{match['name']} has no TYPE line before it"
        for label in filter(None, (match["labels"] or "").split(",")):
            assert LABEL.match(label), label
        key = f"{match['name']}{{{match['labels']}}}" if match["labels"] else match["name"]
        assert key not in samples, f"duplicate sample {key}"
        samples[key] = float(match["value"])
    assert body.endswith("\n")
    return samples


def test_metrics_report_the_queue_and_the_webhooks_received(make_app):
    app = make_app(allow_unsigned_webhooks=True)
    client = app.test_client()
    assert post(client, PT_BILLING).status_code == 202
    assert post(client, PRIORITY_CHANGED).status_code == 202
    assert post(client, PT_BILLING).status_code == 200  # a redelivery

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    body = response.get_data(as_text=True)
    assert 'dispute_desk_events{platform="zendesk",status="pending"} 2\n' in body
    metrics = parse_metrics(body)
    assert metrics['dispute_desk_webhooks_received_total{platform="zendesk",result="accepted"}'] == 2
    assert metrics['dispute_desk_webhooks_received_total{platform="zendesk",result="duplicate"}'] == 1
    assert "# TYPE dispute_desk_webhooks_received_total counter" in body.splitlines()
    assert metrics['dispute_desk_events{platform="zendesk",status="done"}'] == 0
    assert metrics['dispute_desk_events{platform="jira",status="pending"}'] == 0
    assert metrics['dispute_desk_events_received_total{platform="zendesk"}'] == 2
    assert 0 <= metrics['dispute_desk_oldest_pending_seconds{platform="zendesk"}'] < 60
    assert metrics['dispute_desk_oldest_pending_seconds{platform="jira"}'] == 0


def test_metrics_follow_the_worker(make_app):
    app = make_app(allow_unsigned_webhooks=True)
    client = app.test_client()
    post(client, PT_BILLING)
    post(client, COMMENT_ADDED)
    services = app.extensions["dispute_desk"]
    worker = platforms.make_worker(services, platforms.build_adapters(services))  # as `serve` builds it
    assert worker.step(datetime.now(UTC)) is not None

    metrics = parse_metrics(client.get("/metrics").get_data(as_text=True))

    assert metrics['dispute_desk_events{platform="zendesk",status="done"}'] == 1
    assert metrics['dispute_desk_events{platform="zendesk",status="pending"}'] == 1
    assert metrics['dispute_desk_events_received_total{platform="zendesk"}'] == 2
    assert metrics['dispute_desk_events_processed_total{platform="zendesk"}'] == 1
    assert metrics['dispute_desk_queue_depth{platform="zendesk"}'] == 1
    assert metrics['dispute_desk_events_dead_total{platform="zendesk"}'] == 0
    assert metrics['dispute_desk_events_retried_total{platform="jira"}'] == 0


def test_metrics_count_retries_and_dead_letters(make_app):
    app = make_app(allow_unsigned_webhooks=True)
    client = app.test_client()
    post(client, PT_BILLING)
    inbox = app.extensions["dispute_desk"].inbox
    now = datetime.now(UTC)
    for _ in range(3):  # claimed three times: two retries, then dead
        event = inbox.claim("w", now)
        inbox.retry(event.id, "w", now, "Zendesk answered 503")
    event = inbox.claim("w", now)
    inbox.finish(event.id, "w", EventStatus.DEAD, now, error="Zendesk answered 422: RecordInvalid")

    metrics = parse_metrics(client.get("/metrics").get_data(as_text=True))

    assert metrics['dispute_desk_events_retried_total{platform="zendesk"}'] == 3
    assert metrics['dispute_desk_events_dead_total{platform="zendesk"}'] == 1
    assert metrics['dispute_desk_queue_depth{platform="zendesk"}'] == 0


def test_metrics_with_an_empty_inbox(make_app):
    metrics = parse_metrics(make_app().test_client().get("/metrics").get_data(as_text=True))
    assert metrics['dispute_desk_events{platform="zendesk",status="pending"}'] == 0
    assert metrics['dispute_desk_oldest_pending_seconds{platform="zendesk"}'] == 0
    assert not any(key.startswith("dispute_desk_webhooks_received_total") for key in metrics)


# ---- refusing to start ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"zendesk_subdomain": "x", "zendesk_email": "a@b.c", "zendesk_api_token": "tok-hush-1"},
            "ZENDESK_WEBHOOK_SECRET is not set, but Zendesk credentials are: unsigned webhooks could write to your tickets.",
        ),
        ({"zendesk_subdomain": "x", "zendesk_oauth_token": "oauth-hush-2"}, "ZENDESK_WEBHOOK_SECRET is not set, but Zendesk credentials are"),
        (
            {"zendesk_subdomain": "x", "zendesk_webhook_secrets": ("whsec-hush-3",)},
            "ZENDESK_SUBDOMAIN is set without ZENDESK_API_TOKEN (with ZENDESK_EMAIL) or ZENDESK_OAUTH_TOKEN.",
        ),
        (
            {"zendesk_subdomain": "x", "zendesk_api_token": "tok-hush-4", "zendesk_webhook_secrets": ("whsec-hush-4",)},
            "ZENDESK_API_TOKEN needs ZENDESK_EMAIL (the agent the token belongs to).",
        ),
    ],
    ids=["no-secret", "oauth-no-secret", "no-token", "token-no-email"],
)
def test_an_unsafe_configuration_is_refused_before_anything_starts(tmp_path, settings, message):
    database = tmp_path / "never" / "dispute-desk.sqlite3"
    with pytest.raises(ConfigError) as refused:
        create_app(Config(database_url=f"sqlite:///{database}", rules_path=str(RULES), **settings))
    assert message in str(refused.value)
    assert "hush" not in str(refused.value)  # no secret is ever echoed
    assert not database.parent.exists()  # refused before the database was touched


def test_the_refusal_names_the_variable_to_set():
    with pytest.raises(ConfigError, match="ZENDESK_WEBHOOK_SECRET"):
        create_app(Config(zendesk_subdomain="x", zendesk_email="a@b.c", zendesk_api_token="t"))


@pytest.mark.parametrize(
    "value, message",
    [("soon", "CLOCK_TICK must be a number of seconds (got 'soon')"), ("0", "CLOCK_TICK must be a positive number of seconds (got '0')"), ("-5", "CLOCK_TICK must be a positive number of seconds (got '-5')"), ("nan", "CLOCK_TICK must be a positive number of seconds (got 'nan')"), ("inf", "CLOCK_TICK must be a positive number of seconds (got 'inf')")],
)
def test_bad_numbers_in_the_environment_are_refused(value, message):
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"CLOCK_TICK": value})
    assert str(refused.value) == message


def test_a_rules_directory_with_an_error_stops_the_service_from_starting(make_app, tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    routing = folder / "30-routing.yaml"
    routing.write_text(routing.read_text(encoding="utf-8").replace("route: finance", "route: financ", 1), encoding="utf-8")

    with pytest.raises(RuleSetError) as refused:
        make_app(rules_path=str(folder))

    report = refused.value.report()
    assert re.search(rf'^{re.escape(str(routing))}:\d+:\d+: rules\[\d+\]\.then\.route: unknown department "financ"; did you mean "finance"\?', report, re.MULTILINE), report
    assert report.endswith("1 problem found; the rule set was not loaded.")


def test_a_rules_error_is_refused_before_the_database_is_touched(tmp_path):
    database = tmp_path / "never" / "dispute-desk.sqlite3"
    with pytest.raises(RuleSetError):
        create_app(Config(database_url=f"sqlite:///{database}", rules_path=str(tmp_path / "no-rules-here")))
    assert not database.parent.exists()


def test_readyz_answers_at_once_while_another_process_writes_to_sqlite(sqlite_url):
    import sqlite3
    import threading
    import time

    app = create_app(Config(database_url=sqlite_url, rules_path=str(RULES)))  # SQLite only
    client = app.test_client()
    path = make_url(sqlite_url).database
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # another process's worker, in the middle of a write transaction
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE inbox SET attempts = attempts WHERE 0")
        holding.set()
        release.wait(3)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        response = client.get("/readyz")
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(10)
        app.extensions["dispute_desk"].engine.dispose()
    assert response.status_code == 200
    assert waited < 1.0, f"/readyz waited {waited:.1f} s for another writer"


def test_postgresql_refuses_an_unmigrated_schema_and_db_upgrade_fixes_it(postgres_server):
    from click.testing import CliRunner

    from integration.cli import main
    from integration.config import ConfigError
    from integration.runtime.migrations import head

    latest = head()  # the newest revision, whichever it is
    name = f"dd_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with pytest.raises(ConfigError, match=rf"the database schema is at nothing and this version needs {latest}: run `dispute-desk db upgrade`"):
            create_app(Config(database_url=url, rules_path=str(RULES)))
        runner = CliRunner()
        first = runner.invoke(main, ["db", "upgrade", "--database-url", url])
        again = runner.invoke(main, ["db", "upgrade", "--database-url", url])
        assert (first.exit_code, first.output.strip()) == (0, f"schema upgraded from nothing to {latest}")
        assert (again.exit_code, again.output.strip()) == (0, f"schema already at {latest}")
        app = create_app(Config(database_url=url, rules_path=str(RULES)))
        assert app.test_client().get("/readyz").status_code == 200
        app.extensions["dispute_desk"].engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migrations_build_exactly_the_schema_the_code_declares(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from integration.runtime.store import metadata

    engine = connect(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()
