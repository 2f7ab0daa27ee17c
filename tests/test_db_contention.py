"""A database that is busy, full or gone costs the sender a 503 with Retry-After, answered
within seconds (Zendesk gives up on a webhook after about 10 s and never retries a 500):
the connection pool exhausted, SQLite's write lock held by another process, a PostgreSQL
server that accepts the TCP connection and never answers, and the database lost outright.

Each request runs in a thread joined with a time limit, so a request that hangs (the old
30-second pool and busy timeouts, libpq waiting forever) fails the test instead of stalling it.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from integration import create_app
from integration.config import Config
from integration.runtime.store import connect, ping
from tests.conftest import (
    PAYLOADS,
    RULES,
    WEBHOOK_SECRET,
    fresh_jira_body,
    jira_headers,
    zendesk_headers,
)
from tests.test_ops import doomed_database  # noqa: F401 - fixture

T = TypeVar("T")

HANG_LIMIT_SECONDS = 15.0  # past the ~5 s the service waits for its database, well under 30

ZENDESK = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"
JIRA = PAYLOADS / "jira" / "issue_created_es_delivery.json"


def within_time_limit(call: Callable[[], T], seconds: float = HANG_LIMIT_SECONDS) -> T:
    """`call()`'s result; the test fails if it has not returned after `seconds`."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"no answer within {seconds:.0f} s: the request hung on the database")
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


REQUESTS: list[tuple[str, str, Path | None]] = [
    ("POST", "/webhooks/zendesk", ZENDESK),
    ("POST", "/webhooks/jira", JIRA),
    ("GET", "/metrics", None),
    ("GET", "/readyz", None),
]


SECRETS = {"zendesk_webhook_secrets": (WEBHOOK_SECRET,), "jira_webhook_secrets": (WEBHOOK_SECRET,)}


def send(client: Any, method: str, path: str, body: Path | None) -> Any:
    """The request as the platform sends it: signed, a Jira body with a recent timestamp."""
    if body is None:
        return client.open(path, method=method)
    data = body.read_bytes()
    if path.endswith("jira"):
        data = fresh_jira_body(data)
        return client.open(path, method=method, data=data, headers=jira_headers(data, identifier="contention"))
    return client.open(path, method=method, data=data, headers=zendesk_headers(data))


@pytest.fixture
def exhausted_pool(make_app: Callable[..., Any]) -> Iterator[Any]:
    """An app whose every pooled connection is checked out (by a stuck batch, say)."""
    app = make_app(**SECRETS)
    engine = app.extensions["dispute_desk"].engine
    pool = engine.pool
    held = [engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        yield app
    finally:
        for connection in held:
            connection.close()


@pytest.mark.parametrize("method, path, body", REQUESTS, ids=[path for _, path, _ in REQUESTS])
def test_an_exhausted_pool_answers_503_with_retry_after_within_seconds(exhausted_pool, method, path, body):
    client = exhausted_pool.test_client()

    response = within_time_limit(lambda: send(client, method, path, body))

    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("method, path, body", REQUESTS[:2], ids=[path for _, path, _ in REQUESTS[:2]])
def test_sqlite_locked_by_another_process_answers_503_within_seconds(sqlite_url, method, path, body):
    app = create_app(Config(database_url=sqlite_url, rules_path=str(RULES), **SECRETS))
    client = app.test_client()
    holding, release = threading.Event(), threading.Event()

    def other_process_writing() -> None:  # holds SQLite's write lock far past Zendesk's patience
        connection = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(40)
        connection.execute("ROLLBACK")
        connection.close()

    writer = threading.Thread(target=other_process_writing, daemon=True)
    writer.start()
    try:
        assert holding.wait(5)
        response = within_time_limit(lambda: send(client, method, path, body))
    finally:
        release.set()
        writer.join(10)
        app.extensions["dispute_desk"].engine.dispose()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
    assert response.get_json() == {"error": "temporarily unable to store the event", "status": 503}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung PostgreSQL, a
    firewall that drops the handshake's answers)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_a_postgresql_server_that_never_answers_is_given_up_on_within_seconds(silent_server):
    engine = connect(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/dispute_desk")
    try:
        with pytest.raises(OperationalError):
            within_time_limit(lambda: ping(engine))
    finally:
        engine.dispose()


def test_metrics_are_503_with_retry_after_when_the_database_is_gone(make_app, doomed_database):  # noqa: F811
    url, lose = doomed_database
    app = make_app(database_url=url)
    client = app.test_client()
    lose(app)

    response = within_time_limit(lambda: client.get("/metrics"))

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json() == {"error": "the database is unavailable; try again shortly", "status": 503}


def test_a_worker_outlives_sqlite_locked_past_its_wait(sqlite_url):
    """The worker's loop gives up on a locked database after ~5 s as the web does; the loop
    itself must live on and take the event once the lock is gone."""
    from integration.runtime import platforms
    from integration.runtime.inbox import EventStatus

    app = create_app(Config(database_url=sqlite_url, rules_path=str(RULES), **SECRETS))
    services = app.extensions["dispute_desk"]
    worker = platforms.make_worker(services, platforms.build_adapters(services))
    assert send(app.test_client(), "POST", "/webhooks/zendesk", ZENDESK).status_code == 202
    locked = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None)
    locked.execute("BEGIN IMMEDIATE")  # another process writing for longer than the ~5 s wait
    stop, done = threading.Event(), threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        thread.join(8)  # its first lease sweep and claims have given up on the lock by now
        locked.execute("ROLLBACK")

        def finished() -> None:
            while not done.is_set() and services.inbox.list(EventStatus.DONE, 10) == []:
                done.wait(0.1)
            done.set()

        within_time_limit(finished)
        assert thread.is_alive()
        assert [event.status for event in services.inbox.list(None, 10)] == [EventStatus.DONE]
    finally:
        stop.set()
        done.set()
        locked.close()
        thread.join(10)
        services.engine.dispose()
