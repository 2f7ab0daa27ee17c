"""Crash tests: the real `dispute-desk worker` process, SIGKILLed at random moments while it
works through a batch of stored events against a fake Zendesk, then restarted, many times.

What must hold however the kills land (before a write, while the write's answer is held,
between the write and marking the event done, inside a database transaction):
- every event ends done or skipped (none pending, leased or dead);
- every ticket carries each checklist note exactly once, and no note (same `dd:` reference)
  twice; the tickets end exactly as a run without any crash leaves them;
- the action log holds no (event, key) twice.

The fake Zendesk runs in this process; the worker is a subprocess that reaches it through
ZENPY_FORCE_SCHEME/ZENPY_FORCE_NETLOC in its environment. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from integration import create_app
from integration.config import Config
from integration.runtime import platforms
from integration.runtime.inbox import EventStatus
from integration.runtime.store import action_log, deadlines, inbox
from tests.conftest import PAYLOADS, RULES, WEBHOOK_SECRET, load_json, zendesk_headers
from tests.fakes.zendesk import FakeZendesk

ROOT = Path(__file__).resolve().parent.parent
DISPUTE_DESK = ROOT / ".venv" / "bin" / "dispute-desk"
BOT_ID = 7700001
REFERENCE = re.compile(r"dd:[0-9a-f]{12}")
GROUPS = ["Finance", "Legal & Compliance", "Engineering & QA", "Product", "Marketing & PR", "Logistics & Operations", "Senior Management"]
BASE = load_json(PAYLOADS / "zendesk" / "ticket_created_pt_billing.json")

KILLS = 25
LEASE_SECONDS = "1"
FINAL_RUN_SECONDS = 60.0

# (language, kind) -> subject, description, two follow-ups, a legal threat
TEXTS: dict[tuple[str, str], tuple[str, str, tuple[str, str], str]] = {
    ("pt", "billing"): (
        "Cobrança em duplicidade na fatura",
        "Olá, fui cobrado duas vezes pela assinatura no cartão final 4821. Quero o reembolso (estorno) da cobrança em duplicidade, por favor.",
        ("Ainda aguardo o estorno, já se passaram dez dias.", "Continuo sem resposta sobre o estorno."),
        "Se não resolverem esta semana vou processar a empresa no juizado especial.",
    ),
    ("es", "billing"): (
        "Cobro duplicado en mi factura",
        "Hola, me cobraron dos veces la factura de febrero. Solicito el reembolso del cargo duplicado.",
        ("Sigo esperando el reembolso.", "¿Alguna novedad sobre mi reembolso?"),
        "Si no me devuelven el dinero esta semana voy a demandar a la empresa.",
    ),
    ("en", "billing"): (
        "Charged twice for my subscription",
        "Hello, I was charged twice on my credit card this month. I want a refund of the duplicate charge.",
        ("Still waiting for the refund.", "Any update on my refund?"),
        "If this is not fixed this week my lawyer will take it from here.",
    ),
    ("pt", "delivery"): (
        "Meu pedido não chegou",
        "Olá, meu pedido ainda não chegou e o código de rastreio não mostra nada. Isso é um absurdo.",
        ("Continuo esperando a entrega.", "Alguma novidade sobre a entrega?"),
        "Se o pedido não chegar vou processar a empresa e registrar queixa no Procon.",
    ),
    ("es", "delivery"): (
        "Mi pedido no ha llegado",
        "Hola, mi paquete nunca llegó y el número de seguimiento no muestra nada. Es inaceptable.",
        ("Sigo esperando el envío.", "¿Alguna novedad sobre mi paquete?"),
        "Si el paquete no llega esta semana voy a demandar a la empresa.",
    ),
    ("en", "delivery"): (
        "My package never arrived",
        "Hi, my package never arrived and the tracking number shows nothing. This is unacceptable.",
        ("Still waiting for my package.", "Any news about the shipment?"),
        "If the package does not arrive this week my lawyer will take it from here.",
    ),
}
LOCALES = {"pt": "pt-BR", "es": "es-419", "en": "en-US"}
DEPARTMENT_CHECKLIST = {"billing": "dispute-finance", "delivery": "dispute-logistics"}


@dataclass(frozen=True)
class TicketSpec:
    ticket_id: int
    requester_id: int
    language: str
    kind: str
    legal: bool  # the last follow-up threatens legal action: escalated to Legal & Compliance

    @property
    def texts(self) -> tuple[str, str, tuple[str, str], str]:
        return TEXTS[(self.language, self.kind)]

    @property
    def checklists(self) -> set[str]:
        return {"dispute-core", DEPARTMENT_CHECKLIST[self.kind]} | ({"dispute-legal"} if self.legal else set())


def ticket_specs(count: int = 20) -> list[TicketSpec]:
    combos = list(TEXTS)
    return [
        TicketSpec(52001 + n, 24690135700000 + n, combos[n % len(combos)][0], combos[n % len(combos)][1], legal=n % 4 == 3)
        for n in range(count)
    ]


def created_payload(spec: TicketSpec, delivery: str) -> dict[str, Any]:
    subject, description, _follow_ups, _legal = spec.texts
    payload = copy.deepcopy(BASE)
    payload["id"] = delivery
    payload["subject"] = f"zen:ticket:{spec.ticket_id}"
    payload["detail"].update(
        id=str(spec.ticket_id),
        requester_id=str(spec.requester_id),
        submitter_id=str(spec.requester_id),
        actor_id=str(spec.requester_id),
        subject=subject,
        description=description,
        group_id=None,
    )
    return payload


def comment_payload(spec: TicketSpec, delivery: str, body: str, comment_id: int) -> dict[str, Any]:
    payload = created_payload(spec, delivery)
    payload["type"] = "zen:event-type:ticket.comment_added"
    payload["detail"]["status"] = "OPEN"
    payload["event"] = {
        "comment": {"author": {"id": str(spec.requester_id), "is_staff": False, "name": "Customer"}, "body": body, "id": str(comment_id), "is_public": True}
    }
    return payload


def batch(specs: list[TicketSpec]) -> list[dict[str, Any]]:
    """Created events first, then each ticket's two customer follow-ups: 3 per ticket."""
    events = [created_payload(spec, f"crash-{spec.ticket_id}-created") for spec in specs]
    for round_ in (0, 1):
        for spec in specs:
            _subject, _description, follow_ups, legal = spec.texts
            body = legal if (spec.legal and round_ == 1) else follow_ups[round_]
            events.append(comment_payload(spec, f"crash-{spec.ticket_id}-comment-{round_}", body, 880000 + spec.ticket_id * 10 + round_))
    return events


def seed(fake: FakeZendesk, specs: list[TicketSpec]) -> None:
    fake.me.update({"id": BOT_ID, "name": "dispute-desk", "role": "agent"})
    fake.users[BOT_ID] = fake.me
    for index, name in enumerate(GROUPS):
        fake.add_group(id=360000100 + index, name=name)
    for spec in specs:
        subject, description, _follow_ups, _legal = spec.texts
        fake.add_user(id=spec.requester_id, name=f"Customer {spec.ticket_id}", locale=LOCALES[spec.language])
        fake.add_ticket(id=spec.ticket_id, subject=subject, description=description, status="new", priority=None, tags=[], requester_id=spec.requester_id)


def store(app: Any, events: list[dict[str, Any]]) -> None:
    client = app.test_client()
    for payload in events:
        body = json.dumps(payload, ensure_ascii=False).encode()
        response = client.post("/webhooks/zendesk", data=body, headers=zendesk_headers(body))
        assert response.status_code == 202, response.get_data(as_text=True)


def zendesk_settings(database_url: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "rules_path": str(RULES),
        "zendesk_subdomain": "example",
        "zendesk_email": "bot@example.com",
        "zendesk_api_token": "token",
        "zendesk_webhook_secrets": (WEBHOOK_SECRET,),
    }


# ---- what the tickets look like --------------------------------------------------------------


@dataclass
class TicketState:
    bodies: Counter[str]
    tags: frozenset[str]
    group_id: Any
    priority: Any


def ticket_states(fake: FakeZendesk, specs: list[TicketSpec]) -> dict[int, TicketState]:
    states = {}
    for spec in specs:
        ticket = fake.ticket(spec.ticket_id)
        bodies = Counter(str(c["body"]) for c in fake.comments(spec.ticket_id) if c.get("author_id") == BOT_ID)
        states[spec.ticket_id] = TicketState(bodies, frozenset(ticket["tags"]), ticket["group_id"], ticket["priority"])
    return states


def deadline_rows(engine: Any) -> set[tuple[str, str, str]]:
    with engine.connect() as connection:
        return {(r.ticket_key, r.name, r.status) for r in connection.execute(select(deadlines.c.ticket_key, deadlines.c.name, deadlines.c.status))}


def control_run(specs: list[TicketSpec], events: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[int, TicketState], set[tuple[str, str, str]]]:
    """The same batch through an in-process worker, with no crash and no delay: the oracle."""
    with FakeZendesk() as fake, monkeypatch.context() as patch:
        seed(fake, specs)
        patch.setenv("ZENPY_FORCE_SCHEME", "http")
        patch.setenv("ZENPY_FORCE_NETLOC", fake.netloc)
        app = create_app(Config(**zendesk_settings(f"sqlite:///{tmp_path / 'control.sqlite3'}")))
        services = app.extensions["dispute_desk"]
        try:
            store(app, events)
            worker = platforms.make_worker(services, platforms.build_adapters(services))
            now = datetime.now(UTC)
            while worker.step(now) is not None:
                pass
            assert status_counts(services.engine) == {"done": len(events)}
            return ticket_states(fake, specs), deadline_rows(services.engine)
        finally:
            services.engine.dispose()


# ---- the database, seen from the test --------------------------------------------------------


def status_counts(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status)).all())  # type: ignore[arg-type]


def leased(engine: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(inbox.c.id, inbox.c.ticket_key, inbox.c.lease_owner).where(inbox.c.status == EventStatus.LEASED.value)).all())


def settled(engine: Any, total: int) -> bool:
    counts = status_counts(engine)
    return counts.get("done", 0) + counts.get("skipped", 0) + counts.get("dead", 0) == total


# ---- the worker process ----------------------------------------------------------------------


@dataclass
class WorkerProcesses:
    database_url: str
    fake: FakeZendesk
    logs: Path
    started: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "DATABASE_", "ZENPY_", "WORKER_", "API_"))}
        return {
            **keep,
            "DATABASE_URL": self.database_url,
            "RULES_PATH": str(RULES),
            "ZENDESK_SUBDOMAIN": "example",
            "ZENDESK_EMAIL": "bot@example.com",
            "ZENDESK_API_TOKEN": "token",
            "ZENDESK_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": self.fake.netloc,
            "WORKER_LEASE_SECONDS": LEASE_SECONDS,
            "API_TIMEOUT_SECONDS": "2",
        }

    def start(self, environment: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `dispute-desk worker --threads 2`; return once it has connected to Zendesk."""
        mark = len(self.fake.requests)
        self.started += 1
        log = (self.logs / f"worker-{self.started:02d}.log").open("wb")
        process = subprocess.Popen([str(DISPUTE_DESK), "worker", "--threads", "2"], cwd=ROOT, env=environment or self.environment(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        deadline = time.monotonic() + 30
        # build_adapters reads users/me, then the groups: the worker threads start right after.
        while not any(r.path == "/api/v2/groups.json" for r in self.fake.requests[mark:]):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start (exit {process.poll()}):\n{self.tail()}")
            time.sleep(0.01)
        return process

    def tail(self, lines: int = 40) -> str:
        path = self.logs / f"worker-{self.started:02d}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Callable[[FakeZendesk], WorkerProcesses]]:
    made: list[WorkerProcesses] = []

    def make(fake: FakeZendesk) -> WorkerProcesses:
        logs = tmp_path / "worker-logs"
        logs.mkdir(exist_ok=True)
        made.append(WorkerProcesses(database_url, fake, logs))
        return made[-1]

    yield make
    for processes in made:
        processes.stop_all()


def run_to_completion(workers: WorkerProcesses, engine: Any, total: int, timeout: float = FINAL_RUN_SECONDS) -> float:
    started = time.monotonic()
    process = workers.start()
    while not settled(engine, total):
        if process.poll() is not None:
            raise AssertionError(f"the last worker exited ({process.returncode}):\n{workers.tail()}")
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not settled after {timeout:.0f} s: {status_counts(engine)}\n{workers.tail()}")
        time.sleep(0.1)
    workers.stop_all()
    return time.monotonic() - started


# ---- assertions ------------------------------------------------------------------------------


def assert_each_note_once(fake: FakeZendesk, specs: list[TicketSpec], checklists: dict[str, Any]) -> int:
    """Each expected checklist exactly once per ticket, no `dd:` reference and no note twice."""
    notes = 0
    for spec in specs:
        bodies = [str(c["body"]) for c in fake.comments(spec.ticket_id) if c.get("author_id") == BOT_ID]
        references = Counter(ref for body in bodies for ref in REFERENCE.findall(body))
        doubled = {ref: n for ref, n in references.items() if n > 1}
        assert doubled == {}, f"ticket {spec.ticket_id}: notes written twice {doubled}\n" + "\n---\n".join(bodies)
        assert len(bodies) == len(set(bodies)), f"ticket {spec.ticket_id}: a comment written twice"
        for ident, checklist in checklists.items():
            title = checklist.title[spec.language]
            count = sum(body.count(title) for body in bodies)
            wanted = 1 if ident in spec.checklists else 0
            assert count == wanted, f"ticket {spec.ticket_id}: checklist {ident} {count} times (wanted {wanted})"
        notes += len(references)
    return notes


def duplicate_action_log_rows(engine: Any) -> list[Any]:
    query = select(action_log.c.event_id, action_log.c.action_key, func.count()).group_by(action_log.c.event_id, action_log.c.action_key).having(func.count() > 1)
    with engine.connect() as connection:
        return list(connection.execute(query).all())


# ---- the tests -------------------------------------------------------------------------------


@dataclass
class KillRecord:
    after_seconds: float
    in_flight: int  # events leased by the killed worker
    written_not_settled: int  # of those, events whose ticket had received a write from it


def test_random_sigkills_never_lose_or_double_a_note(database_url, make_app, workers, tmp_path, monkeypatch):
    specs = ticket_specs(20)
    events = batch(specs)
    expected_states, expected_deadlines = control_run(specs, events, tmp_path, monkeypatch)

    with FakeZendesk() as fake:
        seed(fake, specs)
        app = make_app(**{k: v for k, v in zendesk_settings(database_url).items() if k != "database_url"})
        engine = app.extensions["dispute_desk"].engine
        store(app, events)
        assert status_counts(engine) == {"pending": len(events)}
        processes = workers(fake)
        rng = random.Random(f"dispute-desk-crash-{database_url.split(':')[0]}")
        kills: list[KillRecord] = []

        for _ in range(KILLS):
            if settled(engine, len(events)):
                break
            fake.clear_faults()
            # Slow the fake down (the request is applied first, then the answer is held), so
            # kills land before writes, while an answer is held, and after it.
            fake.delay_next(rng.uniform(0.1, 0.3), times=rng.choice((2, 4, 8, 16)), method="PUT")
            fake.delay_next(rng.uniform(0.1, 0.3), times=rng.choice((2, 4, 8, 16)), method="GET", path_contains="/tickets/")
            mark = len(fake.requests)
            process = processes.start()
            wait = rng.uniform(0.05, 0.6)
            time.sleep(wait)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            caught = [row for row in leased(engine) if f":{process.pid}:" in (row.lease_owner or "")]  # owner is host:pid:id
            written = {
                r.path.removeprefix("/api/v2/tickets/").removesuffix(".json")
                for r in fake.requests[mark:]
                if r.method == "PUT" and r.status == 200
            }
            kills.append(KillRecord(wait, len(caught), sum(1 for row in caught if row.ticket_key.removeprefix("zendesk:") in written)))

        fake.clear_faults()
        before_final = status_counts(engine)
        final_seconds = run_to_completion(processes, engine, len(events))

        counts = status_counts(engine)
        with engine.connect() as connection:
            retried = connection.execute(select(func.count()).where(inbox.c.attempts > 1)).scalar()
        states = ticket_states(fake, specs)
        missing_deadlines = expected_deadlines - deadline_rows(engine)
        print(
            f"\n[{database_url.split(':')[0]}] {len(kills)} kills (after {min(k.after_seconds for k in kills):.2f}-{max(k.after_seconds for k in kills):.2f} s); "
            f"events in flight at a kill: {sum(k.in_flight for k in kills)} (in {sum(1 for k in kills if k.in_flight)} kills), "
            f"written but not yet settled: {sum(k.written_not_settled for k in kills)}; "
            f"events claimed more than once: {retried}; settled by the killed workers: {before_final.get('done', 0) + before_final.get('skipped', 0)}, "
            f"the last worker settled the rest in {final_seconds:.1f} s; "
            f"statuses: {counts}; deadlines missing compared with a crash-free run: {len(missing_deadlines)}"
        )

        assert counts.get("done", 0) + counts.get("skipped", 0) == len(events), counts
        assert sum(k.in_flight for k in kills) > 0, "no kill caught an event in flight: the test proves nothing"
        notes = assert_each_note_once(fake, specs, app.extensions["dispute_desk"].rules.current.checklists)
        assert notes == sum(sum(len(REFERENCE.findall(b)) * n for b, n in s.bodies.items()) for s in expected_states.values())
        for spec in specs:
            assert states[spec.ticket_id] == expected_states[spec.ticket_id], f"ticket {spec.ticket_id} differs from the crash-free run"
        assert duplicate_action_log_rows(engine) == []


def one_ticket_killed_after_its_write_landed(database_url: str, make_app: Any, workers: Any) -> tuple[Any, FakeZendesk, Any, list[TicketSpec]]:
    """A worker that is SIGKILLed while Zendesk holds the answer to a write it has applied;
    then a new worker runs to completion. Returns (engine, fake, app, specs); the fake is
    stopped by the caller."""
    [spec] = ticket_specs(1)
    fake = FakeZendesk().start()
    seed(fake, [spec])
    app = make_app(**{k: v for k, v in zendesk_settings(database_url).items() if k != "database_url"})
    engine = app.extensions["dispute_desk"].engine
    store(app, [created_payload(spec, "killed-after-write")])
    processes = workers(fake)
    fake.delay_next(30, method="PUT")  # applied at once, answered never (before the kill)
    environment = {**processes.environment(), "API_TIMEOUT_SECONDS": "60", "WORKER_LEASE_SECONDS": "2"}
    process = processes.start(environment)
    deadline = time.monotonic() + 20
    while not any(r.method == "PUT" for r in fake.requests):
        assert time.monotonic() < deadline and process.poll() is None, processes.tail()
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert [row.ticket_key for row in leased(engine)] == [f"zendesk:{spec.ticket_id}"]
    fake.clear_faults()
    run_to_completion(processes, engine, 1, timeout=30)
    return engine, fake, app, [spec]


def test_a_worker_killed_right_after_its_write_landed_leaves_nothing_doubled(database_url, make_app, workers):
    engine, fake, app, specs = one_ticket_killed_after_its_write_landed(database_url, make_app, workers)
    try:
        assert status_counts(engine) == {"done": 1}
        assert assert_each_note_once(fake, specs, app.extensions["dispute_desk"].rules.current.checklists) == 3
        assert len([r for r in fake.requests if r.method == "PUT"]) == 1  # the second worker found it all written
        assert duplicate_action_log_rows(engine) == []
    finally:
        fake.stop()


def test_a_worker_killed_right_after_its_write_landed_still_starts_the_deadline(database_url, make_app, workers):
    engine, fake, _app, specs = one_ticket_killed_after_its_write_landed(database_url, make_app, workers)
    try:
        assert status_counts(engine) == {"done": 1}
        assert (f"zendesk:{specs[0].ticket_id}", "first-response", "running") in deadline_rows(engine)
    finally:
        fake.stop()
