"""`dispute-desk serve` as a user runs it: the installed console script in a subprocess, no
platform credentials (dry run), SQLite from DATABASE_URL. A webhook goes in over HTTP, the
worker threads process it, and `dispute-desk events list` (another process) sees it done."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from sqlalchemy import create_engine, select

from integration.core.feedback import tokens
from integration.runtime.store import inbox
from tests.conftest import PAYLOADS, RULES

BIN = Path(sys.executable).parent
CONSOLE_SCRIPT = BIN / "dispute-desk"
PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
WAIT_SECONDS = 20.0

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, check: Callable[[], T | None], seconds: float = WAIT_SECONDS, every: float = 0.2) -> T:
    deadline = time.monotonic() + seconds
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (requests.RequestException, subprocess.SubprocessError) as error:
            last_error = error
        time.sleep(every)
    pytest.fail(f"gave up waiting {seconds:.0f} s for {what} (last error: {last_error!r})")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "JIRA_", "ZENPY_"))}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'dispute-desk.sqlite3'}",
        RULES_PATH=str(RULES),
        PYTHONUNBUFFERED="1",
    )
    return environment


def test_serve_takes_a_webhook_and_the_worker_routes_it(tmp_path: Path, env: dict[str, str]):
    assert CONSOLE_SCRIPT.exists(), f"the console script is not installed at {CONSOLE_SCRIPT}"
    port = free_port()
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"

    def events_list() -> str:
        listing = subprocess.run(
            [str(CONSOLE_SCRIPT), "events", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=WAIT_SECONDS, check=False
        )
        assert listing.returncode == 0, listing.stderr
        return listing.stdout

    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            def healthy() -> bool:
                assert server.poll() is None, f"serve exited with {server.returncode}:\n{log_path.read_text()}"
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200

            wait_for("/healthz", healthy)
            ready = requests.get(f"{base}/readyz", timeout=5)
            assert ready.status_code == 200 and ready.json()["rules"] > 0

            response = requests.post(
                f"{base}/webhooks/zendesk", data=PT_BILLING.read_bytes(), headers={"Content-Type": "application/json"}, timeout=5
            )
            assert response.status_code == 202, response.text  # dry run: unsigned deliveries are accepted
            delivery = response.json()["delivery_id"]

            done_line = wait_for(
                "the event to be done",
                lambda: next((line for line in events_list().splitlines() if re.match(r"^\s*\d+\s+done\s", line)), None),
            )
            assert "zendesk:35436" in done_line and "attempts=1" in done_line

            # No SECRET_KEY in the environment: serve made one beside the database, and the
            # feedback page reads links signed with it.
            key = (tmp_path / "data" / "secret-key").read_text().strip()
            token = tokens.issue(key, "zendesk", "35436", "solved-1", "pt", "finance", datetime.now(UTC))
            page = requests.get(f"{base}/feedback/{token}", timeout=5)
            assert page.status_code == 200 and 'lang="pt"' in page.text
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)  # as Ctrl-C: serve stops its workers and closes
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)

    output = log_path.read_text(errors="replace")
    assert f"SECRET_KEY not set: feedback links are signed with the key kept in {tmp_path / 'data' / 'secret-key'}" in output
    assert f"dispute-desk listening on http://127.0.0.1:{port} (Zendesk: dry run (no credentials); Jira: dry run (no credentials))" in output
    assert server.returncode == 0, output  # Ctrl-C is a clean stop

    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            [row] = connection.execute(select(inbox.c.delivery_id, inbox.c.status, inbox.c.outcome)).all()
    finally:
        engine.dispose()
    assert (row.delivery_id, row.status) == (delivery, "done")
    outcome = json.loads(row.outcome)
    assert outcome["department"] == "finance"
    assert "finance-dispute" in outcome["matched_rules"]
    assert outcome["written"]["dry_run"] is True
    assert outcome["written"]["would_write"]["department_title"] == "Financeiro"
