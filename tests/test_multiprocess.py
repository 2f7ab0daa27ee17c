"""Several processes on one PostgreSQL database, as the Procfile runs them in production.

Two web processes (gunicorn on `integration:create_app()`, `-w 1 --threads 4`) and three
worker processes (`dispute-desk worker --threads 2`) share a fresh PostgreSQL database and one
FakeZendesk served from this test process (zenpy in the workers is pointed at it with
ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC). Every ticket gets a conversation of ten signed
webhooks, posted in order and alternating between the two web processes, from a bounded thread
pool. About 5% of deliveries are sent again afterwards and must answer 200. About 1% are sent
to both web processes at the same moment: one must answer 202 and the other 200.

The conversation escalates a dispute step by step: a complaint (core checklist), a double
charge (Finance), a threat to go public (Marketing & PR), a lawyer (Legal & Compliance), a
journalist (Senior Management). Each routing rule of the default pack skips tickets already
routed to a department of higher precedence. So all five checklists end up on the ticket, in
that order, only if the events are processed in order; any reordering of them drops one.

Size: DD_MULTIPROCESS_EVENTS (default 3,000 events, ten per ticket). The whole run must drain
within DD_MULTIPROCESS_TIMEOUT seconds (default: 180, or one per 20 events if that is longer;
about 35 s for 3,000 and 130 s for 10,000 on 2 cores). Throughput is printed (-s), never asserted.
bench/worker.py runs the same conversation (`seed_account`, `conversation`).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, literal_column, select, text
from sqlalchemy.engine import Engine, make_url

from integration.core.references import reference, references_in, sent_references
from integration.core.ruleset import RuleSet
from integration.runtime.rulefiles import load_ruleset
from integration.runtime.store import connect, create_schema, inbox
from tests.conftest import PAYLOADS, RULES, WEBHOOK_SECRET, load_json, zendesk_headers
from tests.fakes.fixtures import ZENPY_EMAIL, ZENPY_TOKEN
from tests.fakes.zendesk import FakeZendesk

pytestmark = pytest.mark.postgres

EVENTS = max(10, int(os.environ.get("DD_MULTIPROCESS_EVENTS", "3000")))
DRAIN_TIMEOUT = float(os.environ.get("DD_MULTIPROCESS_TIMEOUT") or max(180.0, EVENTS / 20))  # 20 events/s at worst
WEB_PROCESSES, WORKER_PROCESSES, WORKER_THREADS = 2, 3, 2
POSTING_THREADS = 16
DUPLICATE_SHARE, RACE_SHARE = 0.05, 0.01
START_TIMEOUT = 45.0

# ---- the conversation every ticket gets ----------------------------------------------------

# (who speaks, what about). Agents' and the bot's words route nothing; the bot's comment is
# Zendesk reporting our own note back, which the worker must skip.
STEPS: tuple[tuple[str, str], ...] = (
    ("customer", "created"),
    ("customer", "refund"),
    ("agent", "agent"),
    ("customer", "public"),
    ("customer", "news"),
    ("bot", "bot"),
    ("agent", "agent"),
    ("customer", "lawyer"),
    ("customer", "journalist"),
    ("agent", "agent"),
)
SKIPPED_STEPS = frozenset(i for i, (who, _) in enumerate(STEPS) if who == "bot")
TEXTS = {
    "en": {
        "subject": "About my card",
        # a money dispute from the first message: routed to Finance at once, surely enough that
        # no later message routes it again (rules/30-routing.yaml, `topic-unsure`)
        "created": "I was charged a fee I never agreed to. This is unacceptable.",
        "refund": "I was charged twice and I want a refund.",
        "public": "I will post about this on social media.",
        "news": "Any news?",
        "lawyer": "My lawyer will contact you.",
        "journalist": "A journalist is writing a news story about this.",
        "agent": "We are looking into it and will get back to you.",
        "bot": "(our own note, reported back)",
    },
    "pt": {
        "subject": "Sobre meu cartão",
        "created": "Cobraram uma tarifa que eu não autorizei. Isso é inaceitável.",
        "refund": "Fui cobrado duas vezes e quero o estorno.",
        "public": "Vou expor vocês nas redes sociais.",
        "news": "Alguma novidade?",
        "lawyer": "Meu advogado vai entrar em contato.",
        "journalist": "Uma jornalista está fazendo uma reportagem sobre isso.",
        "agent": "Estamos verificando e retornamos em breve.",
        "bot": "(nossa própria nota, devolvida)",
    },
}
LOCALES = {"en": "en-US", "pt": "pt-BR"}
# What the default rule pack leaves on every ticket when its events run in order.
CHECKLISTS_IN_ORDER = ("dispute-core", "dispute-finance", "dispute-marketing", "dispute-legal", "dispute-management")
FINAL_DEPARTMENT, FINAL_PRIORITY = "management", "urgent"


@dataclass(frozen=True)
class Ticket:
    index: int
    id: int
    language: str  # en, or pt for one ticket in three
    channel: str  # chat for one ticket in four: its first event also posts a public acknowledgement
    requester_id: int

    @property
    def key(self) -> str:
        return f"zendesk:{self.id}"


@dataclass(frozen=True)
class Account:
    tickets: list[Ticket]
    agent_id: int
    bot_id: int
    group_of: dict[str, int]  # department -> Zendesk group id


def seed_account(fake: FakeZendesk, tickets: int, ruleset: RuleSet) -> Account:
    """Department groups named as the rules name them, an agent, one requester per ticket."""
    group_of = {}
    for index, (ident, department) in enumerate(ruleset.departments.items()):
        if department.zendesk.get("group"):
            group_of[ident] = fake.add_group(id=360_000_100 + index, name=department.zendesk["group"])["id"]
    agent = fake.add_user(id=8_000_001, name="Agent Smith", role="agent")
    seeded = []
    for index in range(tickets):
        ticket = Ticket(index, 70_000 + index, "pt" if index % 3 == 2 else "en", "chat" if index % 4 == 3 else "web", 9_100_000 + index)
        fake.add_user(id=ticket.requester_id, name=f"Customer {index}", locale=LOCALES[ticket.language])
        words = TEXTS[ticket.language]
        via = {"channel": ticket.channel, "source": {"from": {}, "to": {}, "rel": None}}
        fake.add_ticket(id=ticket.id, subject=words["subject"], description=words["created"], status="new", requester_id=ticket.requester_id, via=via)
        seeded.append(ticket)
    return Account(seeded, agent["id"], fake.me["id"], group_of)


def delivery_id(run: str, ticket: Ticket, step: int) -> str:
    return f"mp-{run}-{ticket.id}-{step:02d}"


def conversation(ticket: Ticket, account: Account, run: str) -> list[dict[str, Any]]:
    """The ticket's ten webhooks, shaped as Zendesk's event subscription sends them."""
    template = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")
    words = TEXTS[ticket.language]
    payloads = []
    for step, (who, topic) in enumerate(STEPS):
        payload = copy.deepcopy(template)
        payload.update(id=delivery_id(run, ticket, step), subject=f"zen:ticket:{ticket.id}")
        author = {"customer": ticket.requester_id, "agent": account.agent_id, "bot": account.bot_id}[who]
        payload["detail"].update(
            id=str(ticket.id), requester_id=str(ticket.requester_id), submitter_id=str(ticket.requester_id), actor_id=str(author),
            subject=words["subject"], description=words["created"], group_id=None, via={"channel": ticket.channel},
        )  # fmt: skip
        if topic != "created":
            payload["type"] = "zen:event-type:ticket.comment_added"
            comment = {"author": {"id": str(author), "is_staff": who != "customer", "name": "x"}, "body": words[topic]}
            payload["event"] = {"comment": {**comment, "id": f"{ticket.id}{step:02d}", "is_public": who != "bot"}}
        payloads.append(payload)
    return payloads


# ---- processes -----------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (gunicorn stops its worker; `dispute-desk worker` settles its running step),
        then SIGKILL to the process group started for it, children included."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait(timeout=5)


def spawn(name: str, command: list[str], env: dict[str, str], logs: Path, pass_fds: tuple[int, ...] = ()) -> Process:
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(command, cwd=RULES.parent, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=pass_fds, start_new_session=True)
    return Process(name, popen, log_path)


def start_web(name: str, env: dict[str, str], logs: Path) -> Process:
    """gunicorn on a socket bound here to port 0 and handed over (`fd://`): no port race."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        fd = listener.fileno()
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b", f"fd://{fd}", "--graceful-timeout", "5", "--log-level", "warning", "integration:create_app()"]
        process = spawn(name, command, env, logs, pass_fds=(fd,))
        process.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    return process  # gunicorn holds its own copy of the socket


def start_worker(name: str, threads: int, env: dict[str, str], logs: Path) -> Process:
    script = Path(sys.executable).parent / "dispute-desk"
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from integration.cli import run; run()"]
    return spawn(name, [*command, "worker", "--threads", str(threads)], env, logs)


def wait_until(what: str, check: Callable[[], bool], seconds: float, processes: list[Process]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dead = [p for p in processes if not p.alive()]
        if dead:
            pytest.fail(f"{dead[0].name} exited with {dead[0].popen.returncode} while waiting for {what}:\n{dead[0].tail()}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    tails = "\n\n".join(f"--- {p.name}\n{p.tail(10)}" for p in processes)
    pytest.fail(f"gave up after {seconds:.0f} s waiting for {what}\n{tails}")


# ---- the database --------------------------------------------------------------------------


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    """A database of its own on the test server (other tests drop and recreate tables in the
    session's), with the schema made as `dispute-desk db upgrade` makes it."""
    name = f"dd_mp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(postgres_server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = connect(url)
        create_schema(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def inbox_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {status: n for status, n in connection.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status))}


def unsettled(counts: dict[str, int]) -> int:
    return counts.get("pending", 0) + counts.get("leased", 0)


def xid_after(later: int, earlier: int) -> bool:
    """Transaction ids are 32-bit and wrap around: compare them as PostgreSQL does."""
    return 0 < (later - earlier) % 2**32 < 2**31


# ---- posting -------------------------------------------------------------------------------


@dataclass
class Answers:
    lock: threading.Lock = field(default_factory=threading.Lock)
    first: dict[str, int | str] = field(default_factory=dict)  # delivery -> first answer
    duplicates: list[tuple[str, int | str]] = field(default_factory=list)
    races: list[tuple[str, list[int | str]]] = field(default_factory=list)
    transport_retries: int = 0
    latencies: list[float] = field(default_factory=list)


class Sender:
    """Signed POSTs, one keep-alive session per thread. A transport failure is sent again, as
    Zendesk would send it again (the answer may then be 200: the first attempt was stored)."""

    def __init__(self, answers: Answers) -> None:
        self.answers, self.local = answers, threading.local()

    def post(self, url: str, body: bytes) -> int | str:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        for attempt in range(4):
            started = time.perf_counter()
            try:
                response = self.local.session.post(f"{url}/webhooks/zendesk", data=body, headers=zendesk_headers(body), timeout=(5, 30))
            except requests.RequestException as error:
                with self.answers.lock:
                    self.answers.transport_retries += 1
                if attempt == 3:
                    return type(error).__name__
                time.sleep(0.2 * (attempt + 1))
                continue
            with self.answers.lock:
                self.answers.latencies.append(time.perf_counter() - started)
            return response.status_code
        raise AssertionError("unreachable")

    def race(self, here: str, there: str, body: bytes) -> list[int | str]:
        """The same delivery to both web processes at the same moment."""
        answers: list[int | str] = [0, 0]
        barrier = threading.Barrier(2)

        def send(slot: int, url: str) -> None:
            barrier.wait(timeout=10)
            answers[slot] = self.post(url, body)

        other = threading.Thread(target=send, args=(1, there))
        other.start()
        send(0, here)
        other.join(timeout=60)
        return answers


def post_conversations(account: Account, run: str, urls: list[str], deadline: float) -> Answers:
    """Each ticket's webhooks in order (one waits for the answer to the one before), tickets
    in parallel; step k of ticket t goes to web process (t + k) % 2, a duplicate to the other."""
    answers = Answers()
    sender, rng = Sender(answers), random.Random(20250304)
    modes = {(t.id, s): rng.random() for t in account.tickets for s in range(len(STEPS))}

    def converse(ticket: Ticket) -> None:
        for step, payload in enumerate(conversation(ticket, account, run)):
            body = json.dumps(payload).encode()
            here, there = urls[(ticket.index + step) % 2], urls[(ticket.index + step + 1) % 2]
            roll = modes[(ticket.id, step)]
            if roll < RACE_SHARE:
                raced = sender.race(here, there, body)
                with answers.lock:
                    answers.races.append((payload["id"], raced))
                continue
            first = sender.post(here, body)
            again = sender.post(there, body) if roll < RACE_SHARE + DUPLICATE_SHARE else None
            with answers.lock:
                answers.first[payload["id"]] = first
                if again is not None:
                    answers.duplicates.append((payload["id"], again))

    with ThreadPoolExecutor(max_workers=POSTING_THREADS, thread_name_prefix="poster") as pool:
        for future in [pool.submit(converse, ticket) for ticket in account.tickets]:
            future.result(timeout=max(1.0, deadline - time.monotonic()))
    return answers


def wait_drained(engine: Engine, expected: int, deadline: float, processes: list[Process]) -> None:
    while True:
        counts = inbox_counts(engine)
        if sum(counts.values()) >= expected and unsettled(counts) == 0:
            return
        dead = [p for p in processes if not p.alive()]
        if dead or time.monotonic() > deadline:
            why = f"{dead[0].name} exited with {dead[0].popen.returncode}" if dead else f"not drained within {DRAIN_TIMEOUT:.0f} s of the first post"
            tails = "\n\n".join(f"--- {p.name}\n{p.tail(8)}" for p in processes)
            pytest.fail(f"{why}: inbox {counts} ({unsettled(counts)} pending or leased; {expected} events expected)\n{tails}")
        time.sleep(0.25)


# ---- the test ------------------------------------------------------------------------------


def test_two_web_and_three_worker_processes_process_every_event_once_and_in_order(database: str, tmp_path: Path):
    run, ruleset = uuid.uuid4().hex[:6], load_ruleset(str(RULES))
    with FakeZendesk(token=ZENPY_TOKEN) as fake:
        account = seed_account(fake, max(1, EVENTS // len(STEPS)), ruleset)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "ZENPY_", "DATABASE_URL", "RULES_PATH"))}
        env.update(
            DATABASE_URL=database, RULES_PATH=str(RULES), ZENDESK_SUBDOMAIN="example", ZENDESK_EMAIL=ZENPY_EMAIL,
            ZENDESK_API_TOKEN=ZENPY_TOKEN, ZENDESK_WEBHOOK_SECRET=WEBHOOK_SECRET, ZENPY_FORCE_SCHEME="http",
            ZENPY_FORCE_NETLOC=fake.netloc, API_TIMEOUT_SECONDS="15", PYTHONUNBUFFERED="1",
        )  # fmt: skip
        engine = create_engine(database, pool_pre_ping=True)
        processes: list[Process] = []
        try:
            webs = [start_web(f"web-{n}", env, tmp_path) for n in range(WEB_PROCESSES)]
            processes += webs
            processes += [start_worker(f"worker-{n}", WORKER_THREADS, env, tmp_path) for n in range(WORKER_PROCESSES)]
            urls = [str(web.url) for web in webs]
            wait_until("both web processes to be ready (/readyz)", lambda: all(requests.get(f"{u}/readyz", timeout=2).status_code == 200 for u in urls), START_TIMEOUT, processes)
            connected = lambda: sum(r.path == "/api/v2/users/me.json" for r in fake.requests) >= WORKER_PROCESSES
            wait_until("the worker processes to connect to Zendesk", connected, START_TIMEOUT, processes)
            fake.reset_log()

            started = time.monotonic()
            answers = post_conversations(account, run, urls, started + DRAIN_TIMEOUT)
            posted, backlog = time.monotonic(), unsettled(inbox_counts(engine))
            wait_drained(engine, len(account.tickets) * len(STEPS), started + DRAIN_TIMEOUT, processes)
            drained = time.monotonic()
            died = [p.name for p in processes if not p.alive()]
        finally:
            for process in processes:
                process.stop()
        with engine.connect() as connection:
            columns = [inbox.c.id, inbox.c.delivery_id, inbox.c.ticket_key, inbox.c.status, inbox.c.attempts, inbox.c.finished_at, inbox.c.outcome, inbox.c.last_error]
            rows = list(connection.execute(select(*columns, literal_column("xmin::text::bigint").label("xid")).order_by(inbox.c.id)))
        engine.dispose()
        seen = fake.requests
        tickets = {t.id: (fake.ticket(t.id), [c for c in fake.comments(t.id) if c["author_id"] == account.bot_id]) for t in account.tickets}

    by_ticket: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_ticket[row.ticket_key].append(row)
    report(account, answers, rows, by_ticket, seen, started, posted, drained, backlog)
    step_of = {delivery_id(run, t, s): s for t in account.tickets for s in range(len(STEPS))}
    worker_logs = "\n".join(p.log_path.read_text(errors="replace") for p in processes if p.name.startswith("worker"))
    retries = "\n".join(line for line in worker_logs.splitlines() if "will be retried" in line or "lease" in line)
    check_inbox(rows, step_of, retries)
    check_answers(answers)
    check_order(account, by_ticket, step_of)
    check_tickets(account, by_ticket, step_of, tickets, seen, ruleset)
    assert not died, f"processes that died during the run: {died}"
    for marker in ("unexpected error", "event dead-lettered", "worker step failed", "lease lost"):
        assert marker not in worker_logs, f"worker logs say {marker!r}:\n" + "\n".join(line for line in worker_logs.splitlines() if marker in line)[:3000]


def report(account: Account, answers: Answers, rows: list[Any], by_ticket: dict[str, list[Any]], seen: list[Any], started: float, posted: float, drained: float, backlog: int) -> None:
    events, sent = len(rows), len(answers.first) + len(answers.duplicates) + 2 * len(answers.races)
    latencies = sorted(answers.latencies) or [float("nan")]
    puts = sum(r.method == "PUT" for r in seen)
    inversions = sum(1 for group in by_ticket.values() for a, b in itertools.pairwise(group) if a.finished_at and b.finished_at and b.finished_at < a.finished_at)
    after = f", {backlog / (drained - posted):.0f} events/s after the posting ended" if drained > posted + 0.5 else ""
    print(
        f"\nmulti-process: {WEB_PROCESSES} x gunicorn -w 1 --threads 4, {WORKER_PROCESSES} x dispute-desk worker --threads {WORKER_THREADS}, "
        f"PostgreSQL, {os.cpu_count()} CPUs; {len(account.tickets)} tickets, {events} events, {len(answers.duplicates)} duplicates, "
        f"{len(answers.races)} racing pairs\n"
        f"  posted {sent} requests in {posted - started:.1f} s ({sent / (posted - started):.0f}/s; ack p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms); {backlog} events still to process then\n"
        f"  drained {drained - started:.1f} s after the first post: {events / (drained - started):.0f} events/s end to end{after}\n"
        f"  Zendesk: {len(seen) - puts} reads, {puts} writes ({puts / events:.2f} per event); transport retries {answers.transport_retries}; "
        f"finished_at out of id order in {inversions} pairs"
    )


def check_inbox(rows: list[Any], step_of: dict[str, int], retries: str = "") -> None:
    """Every delivery stored exactly once, and settled: done, or skipped when it is our own."""
    stored = Counter(row.delivery_id for row in rows)
    assert not [d for d, n in stored.items() if n > 1], "a delivery was stored twice"
    assert set(stored) == set(step_of), f"lost: {sorted(set(step_of) - set(stored))[:10]}; unexpected: {sorted(set(stored) - set(step_of))[:10]}"
    unsettled_rows = [(row.delivery_id, row.status, row.last_error) for row in rows if row.status not in ("done", "skipped")]
    assert not unsettled_rows, f"{len(unsettled_rows)} events neither done nor skipped, e.g. {unsettled_rows[:5]}"
    wrongly = [row.delivery_id for row in rows if (row.status == "skipped") != (step_of[row.delivery_id] in SKIPPED_STEPS)]
    assert not wrongly, f"only the echoes of our own comments should be skipped: {wrongly[:10]}"
    retried = [(row.delivery_id, row.attempts, row.last_error) for row in rows if row.attempts != 1]
    assert not retried, f"{len(retried)} events needed more than one attempt, e.g. {retried[:5]}; the workers said:\n{retries[:3000]}"


def check_answers(answers: Answers) -> None:
    odd = {d: a for d, a in answers.first.items() if a != 202}
    assert not odd, f"{len(odd)} first deliveries not answered 202: {dict(Counter(odd.values()))}"
    assert answers.duplicates, "no duplicate was sent: the run is too small"
    odd_duplicates = [(d, a) for d, a in answers.duplicates if a != 200]
    assert not odd_duplicates, f"duplicates must answer 200: {odd_duplicates[:10]}"
    odd_races = [(d, a) for d, a in answers.races if sorted(map(str, a)) != ["200", "202"]]
    assert not odd_races, f"a delivery sent to both web processes at once must be accepted once: {odd_races[:10]}"


def check_order(account: Account, by_ticket: dict[str, list[Any]], step_of: dict[str, int]) -> None:
    """Stored in delivery order, and settled in that order: the transaction that wrote each
    event's final state (its xmin) is later than the one of the event before it."""
    for ticket in account.tickets:
        events = by_ticket[ticket.key]
        steps = [step_of[row.delivery_id] for row in events]
        assert steps == list(range(len(STEPS))), f"{ticket.key}: stored out of delivery order: {steps}"
        late = [(a.id, b.id) for a, b in itertools.pairwise(events) if not xid_after(b.xid, a.xid)]
        assert not late, f"{ticket.key}: settled out of order (event pairs {late}; xids {[row.xid for row in events]})"


def check_tickets(account: Account, by_ticket: dict[str, list[Any]], step_of: dict[str, int], tickets: dict[int, Any], seen: list[Any], ruleset: RuleSet) -> None:
    """What Zendesk got: every note once, in delivery order, each checklist once; no 409."""
    conflicts = [r.path for r in seen if r.method == "PUT" and r.status == 409]
    assert not conflicts, f"{len(conflicts)} writes met a 409: two events of one ticket overlapped ({conflicts[:5]})"
    failed = Counter((r.method, r.status) for r in seen if r.status >= 300)
    assert not failed, f"Zendesk answered errors: {failed.most_common(5)}"
    titles = {ident: set(checklist.title.values()) for ident, checklist in ruleset.checklists.items()}
    for ticket in account.tickets:
        recorded = {
            reference("zendesk", row.delivery_id, note["key"]): step_of[row.delivery_id]
            for row in by_ticket[ticket.key]
            for note in json.loads(row.outcome or "{}").get("notes", [])
        }
        state, ours = tickets[ticket.id]
        # Internal notes carry their reference in the text; a public comment, as a dd-sent- tag.
        internal = [comment for comment in ours if not comment["public"]]
        refs = [ref for comment in internal for ref in sorted(references_in([comment["body"]]))] + sorted(sent_references(state["tags"]))
        assert not [ref for ref, n in Counter(refs).items() if n > 1], f"{ticket.key}: a note was written twice: {Counter(refs)}"
        assert set(refs) == set(recorded), f"{ticket.key}: on the ticket {sorted(set(refs))}, recorded by its events {sorted(recorded)}"
        assert not [c for c in ours if c["public"] and references_in([c["body"]])], f"{ticket.key}: a reference shown to the customer"
        steps = [max(recorded[ref] for ref in references_in([comment["body"]])) for comment in internal]
        assert steps == sorted(steps), f"{ticket.key}: written out of delivery order (steps {steps})"
        found = [ident for c in ours for line in c["body"].splitlines() for ident, names in titles.items() if line.strip() in names]
        assert found == list(CHECKLISTS_IN_ORDER), f"{ticket.key}: checklists {found}; expected each of {CHECKLISTS_IN_ORDER} once, in this order"
        public = [c for c in ours if c["public"]]
        assert len(public) == (ticket.channel == "chat"), f"{ticket.key} ({ticket.channel}): {len(public)} public acknowledgements"
        assert (state["group_id"], state["priority"]) == (account.group_of[FINAL_DEPARTMENT], FINAL_PRIORITY), f"{ticket.key}: ends in {state['group_id']}, {state['priority']}"
