"""Slow clients cannot take the webhooks down: with many connections trickling their headers
a byte at a time, a normal webhook is still answered within seconds, by the server as
`dispute-desk serve` runs it and as the Procfile's `web` runs it; and a connection that goes
silent is closed by the server instead of being held forever.

Everything listens on and connects to the loopback interface only; the slow connections are
bounded in number and closed when the test ends.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import PAYLOADS, ROOT, RULES
from tests.test_serve import CONSOLE_SCRIPT, free_port, wait_for

SLOW_CLIENTS = 24  # twice what took gunicorn's 2 x 4 threads down
ANSWER_WITHIN_SECONDS = 5.0  # a requests timeout: a hang guard, not a measurement
PT_BILLING = PAYLOADS / "zendesk" / "ticket_created_pt_billing.json"


@contextmanager
def slow_header_clients(port: int, count: int = SLOW_CLIENTS, every: float = 0.5) -> Iterator[list[socket.socket]]:
    """`count` connections that send a request line, then one header byte every `every` s;
    yields once every connection has trickled a few bytes (the server has taken them all up)."""
    clients = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(b"POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        clients.append(client)
    stop, settled = threading.Event(), threading.Event()

    def trickle() -> None:
        rounds = 0
        while not stop.wait(every):
            for client in clients:
                try:
                    client.sendall(b"X")
                except OSError:
                    pass  # the server closed it: that is its right
            rounds += 1
            if rounds == 4:
                settled.set()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        assert settled.wait(30)
        yield clients
    finally:
        stop.set()
        thread.join(5)
        for client in clients:
            client.close()


def environment(tmp_path: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZENDESK_", "JIRA_", "ZENPY_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'dispute-desk.sqlite3'}",
        RULES_PATH=str(RULES),
        SECRET_KEY="slow-clients",
        PORT=str(port),
        DEV_ALLOW_UNSIGNED_WEBHOOKS="1",  # no helpdesk connected: the webhook below is unsigned, from loopback
    )
    return env


def procfile_web(bind: str) -> list[str]:
    """The Procfile's `web` command, bound to `bind` instead of every interface."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = line.removeprefix("web:").strip().replace("0.0.0.0:${PORT:-8000}", bind)
    return shlex.split(command)


@pytest.fixture(params=["serve", "procfile-web"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    # gunicorn takes a socket bound here (`fd://`), so no other process can take its port between
    # choosing it and binding it; `serve` binds the port it is given.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    if request.param == "serve":
        listener.close()
        command, fds = [str(CONSOLE_SCRIPT), "serve", "--port", str(port)], ()
    else:
        command, fds = procfile_web(f"fd://{listener.fileno()}"), (listener.fileno(),)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment(tmp_path, port), stdout=log, stderr=subprocess.STDOUT, pass_fds=fds)
    listener.close()  # gunicorn holds its own copy
    try:
        def up() -> bool:
            assert process.poll() is None, f"{command} exited with {process.returncode}:\n{log_path.read_text()}"
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200

        wait_for(f"{request.param} to answer", up, seconds=30)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_webhook_gets_through_while_many_clients_trickle_their_headers(server: int):
    with slow_header_clients(server):
        response = requests.post(
            f"http://127.0.0.1:{server}/webhooks/zendesk",
            data=PT_BILLING.read_bytes(),
            headers={"Content-Type": "application/json"},
            timeout=ANSWER_WITHIN_SECONDS,
        )
    assert response.status_code == 202, response.text


def test_serve_closes_a_connection_that_went_silent(tmp_path: Path):
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--port", str(port)], cwd=tmp_path, env=environment(tmp_path, port), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for("serve to answer", lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200, seconds=30)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as stalled:  # a hang guard past the server's 10 s
            stalled.sendall(b"POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            try:
                closed = stalled.recv(1024) == b""
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
        assert closed, "the server held a silent connection open for 30 s"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
