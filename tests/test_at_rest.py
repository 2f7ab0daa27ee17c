"""Secrets and data at rest, and what the service shows strangers: the SQLite files are
private to their owner, a `var/secret-key` that others could have written is refused,
/readyz names no paths, /metrics aggregates at most once per cache period and can ask for a
token, and live credentials need an https PUBLIC_URL (feedback links carry a bearer token).
"""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integration.config import Config, ConfigError
from integration.runtime import local_secret
from integration.runtime.metrics import Metrics
from integration.runtime.store import connect, create_schema
from tests.conftest import PAYLOADS, ROOT, RULES
from tests.test_serve import CONSOLE_SCRIPT, free_port

PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
PRIORITY_CHANGED = PAYLOADS / "zendesk" / "ticket_priority_changed.json"


# ---- SQLite files -------------------------------------------------------------------------


def test_the_sqlite_database_and_its_wal_files_are_private_to_their_owner(tmp_path: Path):
    path = tmp_path / "var" / "dispute-desk.sqlite3"
    engine = connect(f"sqlite:///{path}")
    try:
        create_schema(engine)  # writes: the -wal and -shm files exist while the engine is open
        files = {file.name: stat.S_IMODE(file.stat().st_mode) for file in path.parent.iterdir()}
    finally:
        engine.dispose()
    assert files == {"dispute-desk.sqlite3": 0o600, "dispute-desk.sqlite3-wal": 0o600, "dispute-desk.sqlite3-shm": 0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # the folder it made, too


# ---- the generated secret key ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, refused",
    [
        (0o600, None),
        (0o400, None),
        (0o666, "can be read or changed by other users (mode 0666)"),
        (0o644, "can be read or changed by other users (mode 0644)"),
        (0o620, "can be read or changed by other users (mode 0620)"),
        (0o640, "can be read or changed by other users (mode 0640)"),
        (0o602, "can be read or changed by other users (mode 0602)"),
    ],
)
def test_a_key_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int, refused: str | None):
    path = tmp_path / "secret-key"
    path.write_text("planted-by-someone\n")
    path.chmod(mode)
    if refused is None:
        assert local_secret.read_or_create(path) == "planted-by-someone"
        return
    with pytest.raises(ConfigError) as error:
        local_secret.read_or_create(path)
    assert str(error.value) == (
        f"{path} {refused}, and anyone who knows the key can sign feedback links: "
        f"run `chmod 600 {path}` (or remove it to have a new key made) and start again."
    )


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_key_file_owned_by_another_user_is_refused(tmp_path: Path):
    path = tmp_path / "secret-key"
    path.write_text("planted-by-someone\n")
    path.chmod(0o600)
    os.chown(path, 4242, -1)
    with pytest.raises(ConfigError, match=r"belongs to another user \(uid 4242\), not to the user running dispute-desk \(uid 0\)"):
        local_secret.read_or_create(path)


def test_a_symlinked_key_file_is_not_followed(tmp_path: Path):
    target = tmp_path / "elsewhere"
    target.write_text("someone-elses\n")
    target.chmod(0o600)
    (tmp_path / "secret-key").symlink_to(target)
    with pytest.raises(OSError):
        local_secret.read_or_create(tmp_path / "secret-key")


def test_serve_refuses_to_start_with_a_world_writable_key(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    key = data / "secret-key"
    key.write_text("planted\n")
    key.chmod(0o666)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "ZENPY_", "SECRET_KEY"))}
    environment.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{data / 'dispute-desk.sqlite3'}", RULES_PATH=str(RULES))

    result = subprocess.run([str(CONSOLE_SCRIPT), "serve", "--port", str(free_port())], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=30, check=False)

    assert result.returncode == 1
    assert f"Error: {key} can be read or changed by other users (mode 0666)" in result.stderr


# ---- /readyz and /metrics ------------------------------------------------------------------


def test_readyz_names_rule_files_without_their_paths(make_app):
    body = make_app().test_client().get("/readyz").get_json()
    assert body["rule_files"] == sorted(path.name for path in RULES.glob("*.yaml"))
    assert str(ROOT) not in str(body)


def test_metrics_aggregates_are_computed_once_per_cache_period(make_app):
    app = make_app(allow_unsigned_webhooks=True)
    services = app.extensions["dispute_desk"]
    metrics = Metrics(cache_seconds=10)
    client = app.test_client()
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert client.post("/webhooks/zendesk", data=PT_BILLING.read_bytes()).status_code == 202
    first = metrics.render(services.inbox, now)

    assert client.post("/webhooks/zendesk", data=PRIORITY_CHANGED.read_bytes()).status_code == 202
    metrics.count("webhooks_received_total", platform="zendesk", result="accepted")

    cached = metrics.render(services.inbox, now + timedelta(seconds=9))
    fresh = metrics.render(services.inbox, now + timedelta(seconds=10))

    pending = 'dispute_desk_events{platform="zendesk",status="pending"}'
    assert f"{pending} 1\n" in first and f"{pending} 1\n" in cached  # the database was not asked again
    assert 'dispute_desk_webhooks_received_total{platform="zendesk",result="accepted"} 1\n' in cached  # counters are live
    assert f"{pending} 2\n" in fresh


@pytest.mark.parametrize(
    "token, authorization, status",
    [
        (None, None, 200),
        ("scrape-token-1", None, 401),
        ("scrape-token-1", "Bearer wrong", 401),
        ("scrape-token-1", "Basic c2NyYXBlLXRva2VuLTE=", 401),
        ("scrape-token-1", "Bearer scrape-token-1", 200),
    ],
    ids=["no-token-set", "missing", "wrong", "basic", "right"],
)
def test_metrics_ask_for_the_token_when_one_is_set(make_app, token, authorization, status):
    client = make_app(metrics_token=token).test_client()
    response = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert response.get_json() == {"error": "/metrics needs Authorization: Bearer <METRICS_TOKEN>", "status": 401}
        assert "scrape-token-1" not in response.get_data(as_text=True)


def test_the_metrics_token_comes_from_the_environment():
    assert Config.from_env({"METRICS_TOKEN": "t0k"}).metrics_token == "t0k"
    assert "t0k" not in repr(Config.from_env({"METRICS_TOKEN": "t0k"}))


# ---- PUBLIC_URL with live credentials -------------------------------------------------------

ZENDESK = {"zendesk_subdomain": "x", "zendesk_email": "a@b.c", "zendesk_api_token": "tok-hush", "zendesk_webhook_secrets": ("whsec",)}
JIRA = {"jira_url": "https://x.atlassian.net", "jira_email": "a@b.c", "jira_api_token": "tok-hush", "jira_webhook_secrets": ("whsec",)}


@pytest.mark.parametrize(
    "credentials, public_url, refused",
    [
        (ZENDESK, "http://desk.example.com", True),
        (JIRA, "http://desk.example.com", True),
        (ZENDESK, "ftp://desk.example.com", True),
        (ZENDESK, "https://desk.example.com", False),
        (JIRA, "https://desk.example.com/dispute-desk", False),
        (ZENDESK, "http://127.0.0.1:8000", False),  # this machine only: a trial, the tests
        (ZENDESK, "http://localhost:8000", False),
        ({}, "http://desk.example.com", False),  # a dry run writes nowhere and sends no link
    ],
)
def test_live_credentials_need_an_https_public_url(credentials, public_url, refused):
    config = Config(public_url=public_url, **credentials)
    if not refused:
        config.check()
        return
    with pytest.raises(ConfigError) as error:
        config.check()
    assert str(error.value).startswith(f"PUBLIC_URL must be an https:// address when Zendesk or Jira credentials are set (got {public_url})")
    assert "hush" not in str(error.value)


@pytest.mark.parametrize(
    ("environment", "refused"),
    [
        ({"SECRET_KEY": "k"}, True),  # links would point at the loopback default
        ({"SECRET_KEY": "k", "PUBLIC_URL": "https://desk.example.com"}, False),
        ({}, False),  # no SECRET_KEY: no feedback link is ever made
    ],
    ids=["secret-key-without-public-url", "both-set", "no-secret-key"],
)
def test_live_credentials_and_a_secret_key_need_public_url_set(environment: dict[str, str], refused: bool) -> None:
    live = {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "bot@acme.com", "ZENDESK_API_TOKEN": "t", "ZENDESK_WEBHOOK_SECRET": "s"}
    config = Config.from_env({**live, **environment})
    if not refused:
        config.check()
        return
    with pytest.raises(ConfigError, match="PUBLIC_URL is not set, but Zendesk or Jira credentials and SECRET_KEY are"):
        config.check()
