"""Shared fixtures: databases (SQLite and PostgreSQL), apps built by the real factory, the
fake Zendesk, and webhook signing as Zendesk does it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from integration import create_app
from integration.config import Config
from integration.runtime.migrations import upgrade
from integration.runtime.store import connect, metadata
from tests.fakes.fixtures import fake_zendesk, zenpy_client  # noqa: F401 - fixtures
from tests.fakes.jira_fixtures import fake_jira, fake_jira_server  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
# The design card's shared folder (recorded payloads, the platforms' OpenAPI specs): beside the
# checkout, as in the workspace, else where the workspace keeps it (a checkout elsewhere).
SHARED = next((path for path in (ROOT.parent / "shared", Path("/work/shared")) if path.is_dir()), ROOT.parent / "shared")
REAL = SHARED / "fixtures" / "real"
PAYLOADS = Path(__file__).resolve().parent / "payloads"
RULES = ROOT / "rules"


def run_script(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """One of `scripts/` (the trainers, the corpus split), run as a user runs it, from the root."""
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
ZENDESK_SPEC = SHARED / "specs" / "zendesk-support-oas.yaml"

PG_URL = os.environ.get("DISPUTE_DESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WEBHOOK_SECRET = "whsec-test-0123456789"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# ---- databases ---------------------------------------------------------------------------


def _postgres_reason() -> str | None:
    """None when PostgreSQL is reachable; else why not (CI must have it: it fails there)."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_URL}: {type(error).__name__}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this test session."""
    reason = _postgres_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(f"{reason}; the PostgreSQL variant of this test is skipped")
    name = f"dd_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = connect(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dispute-desk.sqlite3'}"
        return
    url = request.getfixturevalue("postgres_server")
    engine = connect(url)
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)  # PostgreSQL is migrated deliberately (`dispute-desk db upgrade`)
    engine.dispose()
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dispute-desk.sqlite3'}"


# ---- apps --------------------------------------------------------------------------------


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str) -> Iterator[AppFactory]:
    """Build an app with the real factory; keyword arguments override the Config."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {"database_url": database_url, "rules_path": str(RULES)}
        settings.update(overrides)
        app = create_app(Config(**settings))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["dispute_desk"].engine.dispose()


# The suite runs on two workers (pytest-xdist, `--dist loadgroup`). Tests that start processes,
# servers or a browser, or that measure waits, run one after another on one worker, so two of them
# never compete for the machine's two cores; every other test is spread over both.
SERIAL_MODULES = frozenset({
    "test_crash", "test_multiprocess", "test_soak", "test_slow_clients", "test_serve", "test_start_outage",
    "test_db_contention", "test_faults", "test_deadlines", "test_feedback_browser", "test_rule_bombs", "test_poison",
    "test_start_together",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in SERIAL_MODULES:
            item.add_marker(pytest.mark.xdist_group("serial"))


# ---- signing -----------------------------------------------------------------------------


def zendesk_timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_signature(body: bytes, timestamp: str, secret: str = WEBHOOK_SECRET) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def zendesk_headers(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: str | None = None, invocation: str | None = None) -> dict[str, str]:
    stamp = timestamp or zendesk_timestamp()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zendesk Webhook",
        "X-Zendesk-Webhook-Signature": zendesk_signature(body, stamp, secret),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Id": "01HAN96XNH1J7DY8D7RZ22QMT9",
    }
    if invocation:
        headers["X-Zendesk-Webhook-Invocation-Id"] = invocation
    return headers


def jira_headers(body: bytes, secret: str = WEBHOOK_SECRET, identifier: str | None = None) -> dict[str, str]:
    """As Jira signs a webhook with a secret: X-Hub-Signature: sha256=<hex HMAC of the body>."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Hub-Signature": f"sha256={digest}", "User-Agent": "Atlassian Webhook HTTP Client"}
    if identifier:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    return headers


def fresh_jira(payload: Any, now: datetime | None = None) -> Any:
    """A recorded Jira payload as if sent now: Jira's body `timestamp` is checked for freshness.
    Recordings keep their order (each keeps its offset within the hour). A few Server captures
    carry their logger's time instead (`"2018-12-20 15:41:14,281"`): they are sent as of now."""
    if not isinstance(payload, dict) or "timestamp" not in payload:
        return payload
    now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
    recorded = payload["timestamp"]
    offset = recorded % 3_600_000 if isinstance(recorded, int) else 3_600_000
    return {**payload, "timestamp": now_ms - 3_600_000 + offset}


def fresh_jira_body(body: bytes) -> bytes:
    return json.dumps(fresh_jira(json.loads(body))).encode()
