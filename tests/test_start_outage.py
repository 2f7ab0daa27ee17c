"""Starting during a helpdesk outage: `serve` and `worker` come up, take webhooks and say
what is not connected yet (/readyz, logs), connect in the background with backoff, and start
their workers once connected. A failed group listing is a warning; routing lists the groups
again before it writes.

The faults are the fakes' (503, 429, 500, 401, a connection refused); the connector runs the
real adapters against them, and the commands run as the installed console script.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select

from integration.runtime import platforms
from integration.runtime.connections import Connections, connect_all
from integration.runtime.inbox import EventStatus, RetryPolicy
from integration.runtime.store import inbox
from tests.conftest import PAYLOADS, ROOT, RULES, WEBHOOK_SECRET, load_json, zendesk_headers
from tests.fakes.jira import FakeJira
from tests.fakes.jira_fixtures import JIRA_API_TOKEN
from tests.fakes.zendesk import FakeZendesk
from tests.test_serve import CONSOLE_SCRIPT, free_port, wait_for

QUICK = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)  # the real one waits 1 s to 60 s
PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
TICKET_ID = 35436


class Watched(threading.Event):
    """A stop event that notes what /readyz would have said at each wait between attempts."""

    def __init__(self, connections: Connections, between_attempts: Any = None) -> None:
        super().__init__()
        self.connections, self.between_attempts, self.seen = connections, between_attempts, []

    def wait(self, timeout: float | None = None) -> bool:
        self.seen.append(self.connections.report())
        if self.between_attempts:
            self.between_attempts()
        return super().wait(min(timeout or 0, 0.05))


def seed_zendesk(fake: FakeZendesk, rules: Any) -> None:
    for index, department in enumerate(rules.departments.values()):
        if department.zendesk.get("group"):
            fake.add_group(id=360000100 + index, name=department.zendesk["group"])
    detail = load_json(PT_BILLING)["detail"]
    requester = fake.add_user(id=int(detail["requester_id"]), name="Ana Souza", email="ana@example.com.br", locale="pt-BR")
    fake.add_ticket(id=TICKET_ID, subject=detail["subject"], description=detail["description"], status="new", tags=[], requester_id=requester["id"])


ZENDESK_SETTINGS = {"zendesk_subdomain": "example", "zendesk_email": "bot@example.com", "zendesk_api_token": "token", "zendesk_webhook_secrets": (WEBHOOK_SECRET,)}

ZENDESK_FAULTS = [
    # (status, path, what /readyz says meanwhile)
    (503, "/users/me", "not connected yet: Zendesk answered 503 (attempt 1)"),
    (429, "/users/me", "not connected yet: Zendesk rate limit (429) (attempt 1)"),
    (500, "/users/me", "not connected yet: Zendesk answered 500 (attempt 1)"),
    (401, "/users/me", "not connected yet: Zendesk answered 401 (attempt 1)"),
]


@pytest.mark.parametrize("status, path, meanwhile", ZENDESK_FAULTS, ids=[f"{s}-users-me" for s, _, _ in ZENDESK_FAULTS])
def test_zendesk_answering_an_error_at_start_is_waited_out(make_app, fake_zendesk, monkeypatch, status, path, meanwhile):
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake_zendesk.netloc)
    services = make_app(**ZENDESK_SETTINGS).extensions["dispute_desk"]
    fake_zendesk.fail_next(status, times=2, path_contains=path)
    adapters = platforms.make_adapters(services)
    stop = Watched(services.connections)

    assert connect_all(adapters, services.connections, stop, QUICK)

    assert stop.seen[0] == {"zendesk": meanwhile, "jira": "dry run (no credentials)"}
    assert stop.seen[1]["zendesk"] == meanwhile.replace("attempt 1", "attempt 2")
    assert services.connections.report() == {"zendesk": "connected", "jira": "dry run (no credentials)"}
    assert adapters["zendesk"].own_user_id == str(fake_zendesk.me["id"])


def test_zendesk_unreachable_at_start_is_waited_out(make_app, fake_zendesk, monkeypatch):
    closed = free_port()  # nothing listens there: connection refused
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{closed}")
    services = make_app(**ZENDESK_SETTINGS).extensions["dispute_desk"]
    adapters = platforms.make_adapters(services)
    stop = Watched(services.connections, between_attempts=lambda: monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake_zendesk.netloc))

    assert connect_all(adapters, services.connections, stop, QUICK)

    assert stop.seen[0]["zendesk"] == "not connected yet: Zendesk unreachable (attempt 1)"
    assert services.connections.report()["zendesk"] == "connected"


JIRA_FAULTS = [503, 429, 500, 401]


@pytest.mark.parametrize("status", JIRA_FAULTS)
def test_jira_answering_an_error_at_start_is_waited_out(make_app, status):
    with FakeJira() as fake:
        fake.add_user("dispute-desk", email="bot@example.com", account_id="5b10ac8d82e05b22cc7d4ef5", name="dispute-desk", me=True)
        services = make_app(jira_url=fake.url, jira_email="bot@example.com", jira_api_token=JIRA_API_TOKEN, jira_webhook_secrets=(WEBHOOK_SECRET,)).extensions["dispute_desk"]
        fake.fail_next(status, times=2, path_contains="/myself")
        adapters = platforms.make_adapters(services)
        stop = Watched(services.connections)

        assert connect_all(adapters, services.connections, stop, QUICK)

    assert stop.seen[0] == {"zendesk": "dry run (no credentials)", "jira": f"not connected yet: Jira answered {status} (attempt 1)"}
    assert services.connections.report()["jira"] == "connected"
    assert adapters["jira"].own_account == "5b10ac8d82e05b22cc7d4ef5"


def test_a_stop_during_an_outage_ends_the_attempts(make_app, fake_zendesk, monkeypatch):
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake_zendesk.netloc)
    services = make_app(**ZENDESK_SETTINGS).extensions["dispute_desk"]
    fake_zendesk.fail_next(503, times=1000, path_contains="/users/me")
    stop = Watched(services.connections)
    stop.set()
    assert connect_all(platforms.make_adapters(services), services.connections, stop, QUICK) is False


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_failed_group_listing_is_a_warning_and_routing_lists_them_again(make_app, fake_zendesk, monkeypatch, caplog, status):
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake_zendesk.netloc)
    app = make_app(**ZENDESK_SETTINGS)
    services = app.extensions["dispute_desk"]
    seed_zendesk(fake_zendesk, services.rules.current)
    fake_zendesk.fail_next(status, path_contains="/groups")
    adapters = platforms.make_adapters(services)

    assert connect_all(adapters, services.connections, Watched(services.connections), QUICK)

    assert services.connections.report()["zendesk"] == "connected"
    [warning] = [r for r in caplog.records if r.name == "dispute_desk.connections" and r.levelname == "WARNING"]
    assert "could not list the Zendesk groups" in warning.getMessage()
    body = PT_BILLING.read_bytes()
    assert app.test_client().post("/webhooks/zendesk", data=body, headers=zendesk_headers(body)).status_code == 202
    worker = platforms.make_worker(services, adapters)
    stored = worker.step(datetime.now(UTC))
    assert services.inbox.get(stored.id).status == EventStatus.DONE
    finance = next(g for g in fake_zendesk.groups.values() if g["name"] == "Finance")
    assert fake_zendesk.writes()[-1].json["ticket"]["group_id"] == finance["id"]  # routed all the same


# ---- the commands, as an operator starts them during an outage --------------------------------


def command_env(tmp_path: Path, fake_netloc: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "JIRA_", "ZENPY_"))}
    environment.update(
        PYTHONPATH=str(ROOT),  # this checkout's code, whatever the console script was installed from
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'dispute-desk.sqlite3'}",
        RULES_PATH=str(RULES),
        SECRET_KEY="outage-secret",
        PUBLIC_URL="https://desk.example.com",
        ZENDESK_SUBDOMAIN="example",
        ZENDESK_EMAIL="bot@example.com",
        ZENDESK_API_TOKEN="token",
        ZENDESK_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ZENPY_FORCE_SCHEME="http",
        ZENPY_FORCE_NETLOC=fake_netloc,
        PYTHONUNBUFFERED="1",
    )
    return environment


def event_statuses(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [row.status for row in connection.execute(select(inbox.c.status))]
    finally:
        engine.dispose()


def stop_process(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def test_serve_comes_up_during_a_zendesk_outage_takes_webhooks_and_connects_later(tmp_path):
    with FakeZendesk() as fake:
        from integration.runtime.rulefiles import load_ruleset

        seed_zendesk(fake, load_ruleset(RULES))
        fake.fail_next(503, times=10_000, path_contains="/users/me")  # down until cleared
        env = command_env(tmp_path, fake.netloc)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            def up() -> bool:
                assert process.poll() is None, f"serve exited with {process.returncode}:\n{log_path.read_text()}"
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200

            wait_for("/healthz while Zendesk is down", up)
            # The first attempt may still be on its way: wait until /readyz can say why.
            ready = wait_for("/readyz to name the outage", lambda: (r := requests.get(f"{base}/readyz", timeout=5)).json()["platforms"]["zendesk"] != "not connected yet" and r)
            assert ready.status_code == 200  # webhooks are stored: the load balancer may send them
            assert ready.json()["platforms"]["zendesk"].startswith("not connected yet: Zendesk answered 503 (attempt ")

            body = PT_BILLING.read_bytes()
            accepted = requests.post(f"{base}/webhooks/zendesk", data=body, headers=zendesk_headers(body), timeout=5)
            assert accepted.status_code == 202, accepted.text
            assert event_statuses(env["DATABASE_URL"]) == ["pending"]  # held until connected

            fake.clear_faults()  # Zendesk is back
            wait_for("the event to be done once connected", lambda: event_statuses(env["DATABASE_URL"]) == ["done"])
            assert requests.get(f"{base}/readyz", timeout=5).json()["platforms"] == {"zendesk": "connected", "jira": "dry run (no credentials)"}
            assert any(r.method == "PUT" and r.path == f"/api/v2/tickets/{TICKET_ID}.json" for r in fake.requests)
        finally:
            code = stop_process(process)
    output = log_path.read_text(errors="replace")
    assert code == 0, output
    assert "zendesk unreachable; trying again in" in output


def test_worker_keeps_trying_through_a_refused_token_and_starts_when_accepted(tmp_path):
    with FakeZendesk() as fake:
        from integration.runtime.rulefiles import load_ruleset

        seed_zendesk(fake, load_ruleset(RULES))
        fake.fail_next(401, times=10_000, path_contains="/users/me")  # a token being rotated
        env = command_env(tmp_path, fake.netloc)
        log_path = tmp_path / "worker.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([str(CONSOLE_SCRIPT), "worker"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            def refused_twice() -> bool:
                assert process.poll() is None, f"worker exited with {process.returncode}:\n{log_path.read_text()}"
                return sum(1 for r in fake.requests if r.path == "/api/v2/users/me.json") >= 2

            wait_for("two refused attempts", refused_twice)
            from integration import create_app
            from integration.config import Config

            app = create_app(Config(database_url=env["DATABASE_URL"], rules_path=str(RULES), **ZENDESK_SETTINGS))
            body = PT_BILLING.read_bytes()
            assert app.test_client().post("/webhooks/zendesk", data=body, headers=zendesk_headers(body)).status_code == 202
            app.extensions["dispute_desk"].engine.dispose()

            fake.clear_faults()
            wait_for("the event to be done once connected", lambda: event_statuses(env["DATABASE_URL"]) == ["done"])
        finally:
            code = stop_process(process)
    output = log_path.read_text(errors="replace")
    assert code == 0, output
    assert "zendesk refused the connection; check its credentials" in output
    assert json.dumps("Zendesk answered 401")[1:-1] in output
