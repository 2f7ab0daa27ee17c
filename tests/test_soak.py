"""A soak, as a deployment lives it: `dispute-desk serve` (web, worker and clock in one process,
the installed console script) is started while Zendesk is down, and takes DD_SOAK_SECONDS
(default 120) of mixed traffic from a few bounded senders on loopback: valid conversations,
replays of deliveries already taken, forged signatures, signed malformed bodies, genuine
events the service does not act on, and oversized bodies. Zendesk comes back after
OUTAGE_SECONDS.

What must hold: the web answers from the start (the adapters connect in the background); no
answer is a 5xx and each kind gets its own answer; once the traffic stops, every event taken
is settled (none pending, leased or dead) and nothing was written twice (every note's
reference appears once on its ticket); and the process's memory is
flat (the last third of the run holds no more than the first third, with some slack).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select

from integration.core.references import references_in
from integration.runtime.rulefiles import load_ruleset
from integration.runtime.store import inbox
from tests.conftest import RULES, SHARED, WEBHOOK_SECRET, zendesk_headers
from tests.fakes.fixtures import ZENPY_EMAIL, ZENPY_TOKEN
from tests.fakes.zendesk import FakeZendesk
from tests.test_multiprocess import Account, conversation, seed_account, spawn, wait_until
from tests.test_serve import free_port

SOAK_SECONDS = float(os.environ.get("DD_SOAK_SECONDS", "120"))
OUTAGE_SECONDS = 15.0
TICKETS = 30
SENDERS = 4
PAUSE = 0.05  # between one sender's posts: under 80 requests a second in all, which the worker keeps up with
DRAIN_SECONDS = 180.0
RSS_EVERY = 2.0
RSS_SLACK_BYTES = 24 * 1024 * 1024

# The share of each kind of request (the rest are valid conversation steps).
KINDS = {"replay": 0.10, "forged": 0.08, "malformed": 0.06, "ignored": 0.06, "oversized": 0.02}
EXPECTED = {"valid": {202}, "replay": {200}, "forged": {401}, "malformed": {400}, "ignored": {200}, "oversized": {413}}
IGNORED_BODY = SHARED / "fixtures" / "real" / "zendesk_event_user_active_changed_docs.json"


@dataclass
class Traffic:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: Counter[tuple[str, int | str]] = field(default_factory=Counter)
    taken: list[str] = field(default_factory=list)  # deliveries answered 202
    sent_bodies: list[bytes] = field(default_factory=list)

    def record(self, kind: str, status: int | str) -> None:
        with self.lock:
            self.answers[(kind, status)] += 1

    def unexpected(self) -> dict[tuple[str, int | str], int]:
        return {key: count for key, count in self.answers.items() if key[1] not in EXPECTED[key[0]]}


class Conversations:
    """Every ticket's conversation, step after step, then again under a new run id."""

    def __init__(self, account: Account) -> None:
        self.account, self.lock = account, threading.Lock()
        self.queue: list[dict] = []

    def next(self) -> dict:
        with self.lock:
            if not self.queue:
                run = uuid.uuid4().hex[:6]
                steps = [conversation(ticket, self.account, run) for ticket in self.account.tickets]
                self.queue = [payload for step in zip(*steps, strict=True) for payload in step]
            return self.queue.pop(0)


def request_for(kind: str, traffic: Traffic, conversations: Conversations, rng: random.Random) -> tuple[bytes, dict[str, str], str | None]:
    """(body, headers, delivery id when valid) for one request of this kind."""
    if kind == "replay" and traffic.sent_bodies:
        with traffic.lock:
            body = rng.choice(traffic.sent_bodies)
        return body, zendesk_headers(body), None
    if kind == "forged":
        body = json.dumps(conversations.next()).encode()
        return body, zendesk_headers(body, secret="not-the-secret"), None
    if kind == "malformed":
        body = rng.choice([b"{", b"[]", b'{"type": "zen:event-type:ticket.created"}', b"\xff\xfe", b"null"])
        return body, zendesk_headers(body), None
    if kind == "ignored":
        body = IGNORED_BODY.read_bytes()
        return body, zendesk_headers(body), None
    if kind == "oversized":
        body = b'{"padding": "' + b"x" * (1024 * 1024 + 16) + b'"}'
        return body, zendesk_headers(body), None
    payload = conversations.next()
    body = json.dumps(payload).encode()
    return body, zendesk_headers(body), payload["id"]


def send_until(url: str, deadline: float, traffic: Traffic, conversations: Conversations, seed: int) -> None:
    rng, session = random.Random(seed), requests.Session()
    kinds, weights = [*KINDS, "valid"], [*KINDS.values(), 1 - sum(KINDS.values())]
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        body, headers, delivery = request_for(kind, traffic, conversations, rng)
        kind = "valid" if delivery else ("replay" if kind == "replay" else kind)
        try:
            status: int | str = session.post(f"{url}/webhooks/zendesk", data=body, headers=headers, timeout=(5, 30)).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        traffic.record(kind, status)
        if delivery and status == 202:
            with traffic.lock:
                traffic.taken.append(delivery)
                traffic.sent_bodies.append(body)
        time.sleep(PAUSE)


class MemoryWatch:
    """The process's resident memory every RSS_EVERY seconds, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self.stopped = pid, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(RSS_EVERY):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            self.samples.append(rss_kb * 1024)

    def thirds(self) -> tuple[float, float]:
        third = max(1, len(self.samples) // 3)
        first, last = self.samples[:third], self.samples[-third:]
        return sum(first) / len(first), sum(last) / len(last)


def settled(database_url: str) -> Callable[[], dict[str, int]]:
    engine = create_engine(database_url)

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            rows = connection.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status)).all()
        return {status: count for status, count in rows}

    return counts


def test_two_minutes_of_mixed_traffic_through_an_outage_lose_and_double_nothing(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'soak.sqlite3'}"
    with FakeZendesk(token=ZENPY_TOKEN) as fake:
        account = seed_account(fake, TICKETS, load_ruleset(RULES))
        fake.fail_next(503, times=1_000_000, path_contains="/users/me")  # Zendesk is down at start
        fake.fail_next(503, times=1_000_000, path_contains="/groups")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "ZENPY_", "DATABASE_URL", "RULES_PATH"))}
        env.update(
            DATABASE_URL=database_url, RULES_PATH=str(RULES), ZENDESK_SUBDOMAIN="example", ZENDESK_EMAIL=ZENPY_EMAIL,
            ZENDESK_API_TOKEN=ZENPY_TOKEN, ZENDESK_WEBHOOK_SECRET=WEBHOOK_SECRET, ZENPY_FORCE_SCHEME="http",
            ZENPY_FORCE_NETLOC=fake.netloc, PUBLIC_URL="https://desk.example.com", SECRET_KEY="soak", PYTHONUNBUFFERED="1",
        )  # fmt: skip
        port = free_port()
        script = Path(sys.executable).parent / "dispute-desk"
        serve = spawn("serve", [str(script), "serve", "--port", str(port)], env, tmp_path)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until("the web to answer during the outage", lambda: requests.get(f"{url}/healthz", timeout=2).ok, 30, [serve])
            threading.Timer(OUTAGE_SECONDS, fake.clear_faults).start()
            memory = MemoryWatch(serve.popen.pid)
            memory.thread.start()
            traffic, conversations = Traffic(), Conversations(account)
            deadline = time.monotonic() + SOAK_SECONDS
            senders = [threading.Thread(target=send_until, args=(url, deadline, traffic, conversations, seed)) for seed in range(SENDERS)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join(timeout=SOAK_SECONDS + 60)
            memory.stopped.set()
            counts = settled(database_url)
            wait_until(
                f"every taken event to settle ({len(traffic.taken)} taken)",
                lambda: sum(counts().values()) >= len(traffic.taken) and not {"pending", "leased"} & set(counts()),
                DRAIN_SECONDS,
                [serve],
            )
            final = counts()
        finally:
            serve.stop()
        print(f"\nsoak: {SOAK_SECONDS:.0f} s, answers {dict(traffic.answers)}, inbox {final}, rss samples {len(memory.samples)}")
        assert traffic.unexpected() == {}, f"unexpected answers: {traffic.unexpected()}\n{serve.tail(30)}"
        assert len(traffic.taken) > 200, "too little valid traffic to call it a soak"
        assert final.get("dead", 0) == 0, serve.tail(40)
        assert sum(final.values()) == len(set(traffic.taken))
        for ticket in account.tickets:
            bodies = [comment["body"] for comment in fake.comments(ticket.id)]
            refs = [ref for body in bodies for ref in references_in([body])]
            assert len(refs) == len(set(refs)), f"ticket {ticket.id}: a note written twice"
        first, last = memory.thirds()
        assert last <= first * 1.25 + RSS_SLACK_BYTES, f"memory grew from {first / 2**20:.0f} MiB to {last / 2**20:.0f} MiB"

