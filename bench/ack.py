"""Webhook acknowledgements per second: dispute-desk vs a bare Flask app, both under gunicorn.

    python bench/ack.py [--quick] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Serves the real app (create_app with a Config pointing at a fresh SQLite file in a temp dir,
or a fresh PostgreSQL database, rules_path = <repo>/rules, a webhook secret set) and a bare
Flask app with a single `POST /webhooks/zendesk` that answers 202, the same way:

    gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:PORT 'bench.apps:<app>()'

Both are driven by the same Python load generator: N threads, one keep-alive
requests.Session each, posting distinct signed deliveries (a fresh envelope `id` per request,
signed as tests/conftest.py signs them) for a fixed time after a warm-up. Prints requests,
errors, acks/s, p50/p99 latency, CPU used by client and server, the dispute-desk/bare ratio,
and checks that the stored event count equals the number of 202s.

Figures only: nothing here asserts a timing. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / "tests" / "payloads" / "zendesk"
REAL = ROOT.parent / "shared" / "fixtures" / "real"
WEBHOOK_SECRET = "whsec-bench-0123456789"
PATH = "/webhooks/zendesk"


# ---- signing, exactly as tests/conftest.py does it -----------------------------------------


def zendesk_timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_signature(body: bytes, timestamp: str, secret: str = WEBHOOK_SECRET) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def zendesk_headers(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp or zendesk_timestamp()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zendesk Webhook",
        "X-Zendesk-Webhook-Signature": zendesk_signature(body, stamp, secret),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Id": "01HAN96XNH1J7DY8D7RZ22QMT9",
    }


# ---- deliveries ------------------------------------------------------------------------------


def delivery_templates() -> list[dict[str, Any]]:
    """Event-subscription ticket payloads (they carry an envelope `id` we can make unique)."""
    files = sorted(PAYLOADS.glob("*.json")) + sorted(REAL.glob("zendesk_event_ticket_*.json"))
    templates = []
    for path in files:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        kind = payload.get("type") if isinstance(payload, dict) else None
        if isinstance(kind, str) and kind.startswith("zen:event-type:ticket.") and isinstance(payload.get("detail"), dict):
            templates.append(payload)
    if not templates:
        raise SystemExit(f"no zen:event-type:ticket.* payloads found under {PAYLOADS}")
    return templates


class Deliveries:
    """Distinct signed deliveries: a fresh envelope id each, spread over 5,000 tickets."""

    def __init__(self, templates: list[dict[str, Any]]) -> None:
        self.templates = templates
        self.counter = itertools.count()  # next() on it is atomic under the GIL
        self.run = uuid.uuid4().hex[:8]

    def next(self) -> tuple[bytes, dict[str, str]]:
        n = next(self.counter)
        template = self.templates[n % len(self.templates)]
        ticket = str(100000 + n % 5000)
        payload = dict(template)
        payload["id"] = f"bench-{self.run}-{n}"
        payload["detail"] = {**template["detail"], "id": ticket}
        payload["subject"] = f"zen:ticket:{ticket}"
        body = json.dumps(payload).encode("utf-8")
        return body, zendesk_headers(body)


# ---- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, from /proc; None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by a process and each descendant alive now."""
    if not Path("/proc").is_dir():
        return {}
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat:
                parents[int(entry)], cpu[int(entry)] = stat
    found: dict[int, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        found[pid] = cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


def backend_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving `database` (by their process title)."""
    if not database or not Path("/proc").is_dir():
        return {}
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            stat = _stat(int(entry))
            if stat:
                found[int(entry)] = stat[1]
    return found


@dataclass
class Server:
    name: str
    app_spec: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_gunicorn(name: str, app_spec: str, workers: int, threads: int, env: dict[str, str], tmp: Path) -> Server:
    port = free_port()
    log_path = tmp / f"gunicorn-{name}.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "-w", str(workers), "-k", "gthread", "--threads", str(threads),
        "-b", f"127.0.0.1:{port}",
        "--chdir", str(ROOT),
        "-c", str(ROOT / "bench" / "gunicorn_conf.py"),
        "--graceful-timeout", "5",
        "--log-level", "warning",
        app_spec,
    ]
    ready_dir = tmp / f"ready-{name.replace(' ', '-')}"
    ready_dir.mkdir()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env={**env, "DD_BENCH_READY_DIR": str(ready_dir)}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(name, app_spec, port, process, log_path)
    try:
        wait_ready(server, ready_dir, workers)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_ready(server: Server, ready_dir: Path, workers: int, timeout: float = 30.0) -> None:
    """Every worker has loaded its app (bench/gunicorn_conf.py) and /healthz answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn ({server.name}) exited with {server.process.returncode}:\n{server.log_path.read_text(errors='replace')[-3000:]}")
        if len(list(ready_dir.iterdir())) >= workers:
            try:
                if requests.get(server.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn ({server.name}) not ready after {timeout:.0f} s:\n{server.log_path.read_text(errors='replace')[-3000:]}")


def stop_server(server: Server) -> None:
    """SIGTERM the master we started (it stops its workers); SIGKILL its group if it hangs."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the session we created for it
            except ProcessLookupError:
                pass
            process.wait(timeout=5)


# ---- load generator --------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    window: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)  # measured window
    failures: Counter[str] = field(default_factory=Counter)  # exceptions in the measured window
    latencies: list[float] = field(default_factory=list)
    accepted_total: int = 0  # 202s including warm-up (what the inbox must hold)
    sent_total: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    worker_cpu: list[float] = field(default_factory=list)  # per gunicorn worker, busiest first
    db_cpu: float | None = None  # PostgreSQL backends of the benchmark database

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def errors(self) -> int:
        return self.requests - self.statuses.get(202, 0)

    @property
    def acks_per_second(self) -> float:
        return self.statuses.get(202, 0) / self.window if self.window else 0.0

    @property
    def cpu_ms_per_ack(self) -> float:
        """Server CPU per acknowledgement: the cost figure that a client-bound run cannot hide."""
        return self.server_cpu * 1000.0 / self.acks_per_second if self.acks_per_second else float("nan")

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0


MakeFactory = Callable[[], Callable[[], tuple[bytes, dict[str, str]]]]


def _client_process(url: str, factory: MakeFactory, clients: int, measure_from: float, end: float, out: Any) -> None:
    """`clients` threads with one keep-alive Session each, until `end` (time.monotonic)."""
    make = factory()  # per process: its own run id, so deliveries stay distinct across processes
    part = Result("")
    lock = threading.Lock()
    last_ends: list[float] = []

    def client() -> None:
        session = requests.Session()
        statuses: Counter[int] = Counter()
        failures: Counter[str] = Counter()
        latencies: list[float] = []
        accepted = sent = 0
        last_end = 0.0
        try:
            while True:
                body, headers = make()
                started = time.monotonic()
                if started >= end:
                    break
                sent += 1
                t0 = time.perf_counter()
                try:
                    response = session.post(url, data=body, headers=headers, timeout=(5, 30))
                    status: int | None = response.status_code
                except requests.RequestException as error:
                    status, failure = None, type(error).__name__
                elapsed = time.perf_counter() - t0
                if status == 202:
                    accepted += 1
                if started >= measure_from:
                    last_end = max(last_end, started + elapsed)
                    if status is None:
                        failures[failure] += 1
                    else:
                        statuses[status] += 1
                        latencies.append(elapsed)
        finally:
            session.close()
            with lock:
                part.statuses.update(statuses)
                part.failures.update(failures)
                part.latencies.extend(latencies)
                part.accepted_total += accepted
                part.sent_total += sent
                last_ends.append(last_end)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu0 = time.process_time()
    time.sleep(max(0.0, end - time.monotonic()))
    cpu1 = time.process_time()
    for thread in threads:
        thread.join(timeout=60)
    part.client_cpu = cpu1 - cpu0
    part.window = max(last_ends, default=0.0)  # the last measured completion (monotonic)
    out.put(part)


def drive(server: Server, factory: MakeFactory, clients: int, procs: int, warmup: float, duration: float, database: str | None = None) -> Result:
    """Load from `procs` client processes (1: threads in this process) with `clients` threads in all."""
    import multiprocessing
    import queue as queue_module

    url = server.url + PATH
    start = time.monotonic() + 0.3  # let every process get going first
    measure_from, end = start + warmup, start + warmup + duration
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    shares = [share for share in shares if share]
    if len(shares) == 1:
        out: Any = queue_module.Queue()
        children: list[Any] = []
        runner = threading.Thread(target=_client_process, args=(url, factory, shares[0], measure_from, end, out), daemon=True)
        runner.start()
    else:
        context = multiprocessing.get_context("fork")  # the parent holds no threads or connections here
        out = context.Queue()
        children = [context.Process(target=_client_process, args=(url, factory, share, measure_from, end, out), daemon=True) for share in shares]
        for child in children:
            child.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    server0, db0 = tree_cpu(server.process.pid), backend_cpu(database)
    time.sleep(max(0.0, end - time.monotonic()))
    server1, db1 = tree_cpu(server.process.pid), backend_cpu(database)
    result = Result(server.name)
    last_end = end
    try:
        for _ in shares:
            part = out.get(timeout=90)
            result.statuses.update(part.statuses)
            result.failures.update(part.failures)
            result.latencies.extend(part.latencies)
            result.accepted_total += part.accepted_total
            result.sent_total += part.sent_total
            result.client_cpu += part.client_cpu / duration
            last_end = max(last_end, part.window)
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
    result.window = last_end - measure_from
    used = {pid: (server1[pid] - server0.get(pid, 0.0)) / duration for pid in server1}
    result.server_cpu = sum(used.values())
    result.db_cpu = sum(db1[pid] - db0.get(pid, 0.0) for pid in db1) / duration if database else None
    result.worker_cpu = sorted((cpu for pid, cpu in used.items() if pid != server.process.pid), reverse=True)
    return result


# ---- databases -------------------------------------------------------------------------------


class Database:
    """A fresh SQLite file in the temp dir, or a fresh PostgreSQL database (dropped after)."""

    def __init__(self, url: str | None, tmp: Path) -> None:
        from sqlalchemy.engine import make_url

        self.admin_url: str | None = None
        self.name: str | None = None
        if url is None:
            self.url = f"sqlite:///{tmp / 'dispute-desk.sqlite3'}"
            self.label = f"SQLite (WAL) at {tmp / 'dispute-desk.sqlite3'}"
            return
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise SystemExit("--database-url must be a postgresql+psycopg:// URL (SQLite is the default)")
        host = parsed.host or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("--database-url must point at 127.0.0.1 (traffic stays local)")
        self.name = f"dd_bench_{uuid.uuid4().hex[:10]}"
        self.admin_url = parsed.set(database="postgres").render_as_string(hide_password=False)
        self.url = parsed.set(database=self.name).render_as_string(hide_password=False)
        self.label = f"PostgreSQL, fresh database {self.name} on {host}:{parsed.port or 5432}"

    def create(self) -> None:
        from sqlalchemy import text

        from integration.runtime.store import connect, create_schema

        if self.admin_url:
            admin = self._admin()
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
        # The schema is created once, here, before gunicorn starts: its workers then only
        # find it (create_all checks first) instead of all creating it at the same moment.
        engine = connect(self.url)
        create_schema(engine)
        engine.dispose()

    def stored_events(self) -> int:
        from sqlalchemy import func, select

        from integration.runtime.store import connect, inbox

        engine = connect(self.url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(select(func.count()).select_from(inbox).where(inbox.c.platform == "zendesk")).scalar_one())
        finally:
            engine.dispose()

    def drop(self) -> None:
        if not self.admin_url:
            return
        from sqlalchemy import text

        admin = self._admin()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def _admin(self):  # type: ignore[no-untyped-def]
        from sqlalchemy import create_engine

        return create_engine(self.admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


# ---- main ------------------------------------------------------------------------------------


def run_one(name: str, app_spec: str, args: argparse.Namespace, env: dict[str, str], tmp: Path, factory: MakeFactory) -> Result:
    server = start_gunicorn(name, app_spec, args.workers, args.threads, env, tmp)
    try:
        database = args.database_name if app_spec.startswith("bench.apps:dispute_desk") else None
        return drive(server, factory, args.clients, args.procs, args.warmup, args.duration, database)
    finally:
        stop_server(server)


def report(results: list[Result]) -> None:
    print(f"{'':14} {'requests':>9} {'errors':>7} {'acks/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'client CPU':>11} {'server CPU':>11} {'server CPU ms/ack':>18}")
    for r in results:
        print(
            f"{r.name:14} {r.requests:9d} {r.errors:7d} {r.acks_per_second:9.0f} {r.percentile(0.50):8.2f} {r.percentile(0.99):8.2f}"
            f" {r.client_cpu * 100:10.0f}% {r.server_cpu * 100:10.0f}% {r.cpu_ms_per_ack:18.3f}"
        )
        if r.db_cpu is not None:
            print(f"{'':14} PostgreSQL backends of the bench database: {r.db_cpu * 100:.0f}% CPU, "
                  f"{r.db_cpu * 1000.0 / r.acks_per_second if r.acks_per_second else float('nan'):.3f} ms per ack")
        if len(r.worker_cpu) > 1:
            print(f"{'':14} CPU per gunicorn worker: {' / '.join(f'{cpu * 100:.0f}%' for cpu in r.worker_cpu)}")
        odd = {str(k): v for k, v in r.statuses.items() if k != 202}
        odd.update(r.failures)
        if odd:
            print(f"{'':14} non-202 outcomes: {dict(odd)}")



def app_environment(database_url: str) -> dict[str, str]:
    """The environment of the benchmarked gunicorn: this one without platform credentials,
    pointed at the run's database (bench/apps.py reads the DD_BENCH_* variables)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "DATABASE_URL", "RULES_PATH"))},
        "PYTHONPATH": str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
        "DD_BENCH_DATABASE_URL": database_url,
        "DD_BENCH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DD_BENCH_RULES_PATH": str(ROOT / "rules"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run: 3 s per app after a 1 s warm-up")
    parser.add_argument("--duration", type=float, help="measured seconds per app (default 10, --quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per app (default 2, --quick 1)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--procs", type=int, default=2, help="client processes the --clients threads are spread over (default 2; 1 = all threads in this process, where the GIL caps the client near one core)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--database-url", help="postgresql+psycopg://USER@127.0.0.1:5432/ANY: a fresh dd_bench_<random> database is created there and dropped after")
    parser.add_argument("--only", choices=("dispute-desk", "bare"), help="run one app only")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    if min(args.duration, args.clients, args.procs, args.workers, args.threads) <= 0 or args.warmup < 0:
        parser.error("durations, clients, workers and threads must be positive")
    if args.duration > 120 or args.clients > 256:
        parser.error("keep it bounded: --duration at most 120 s, --clients at most 256")

    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-ack-"))
    database = Database(args.database_url, tmp)
    args.database_name = database.name
    created = False
    try:
        database.create()
        created = True
        env = app_environment(database.url)
        templates = delivery_templates()
        print(f"ack benchmark: gunicorn -w {args.workers} -k gthread --threads {args.threads}; {args.clients} client threads "
              f"(requests.Session, keep-alive); {args.duration:g} s measured after {args.warmup:g} s warm-up per app; "
              f"{os.cpu_count()} CPUs")
        print(f"database: {database.label}")
        sizes = [len(json.dumps(t)) for t in templates]
        print(f"deliveries: distinct signed zen:event-type:ticket.* bodies cycling over {len(templates)} payload files "
              f"({min(sizes)}-{max(sizes)} bytes), a fresh envelope id each, 5,000 tickets")
        sys.stdout.flush()

        results: list[Result] = []
        dd: Result | None = None
        if args.only in (None, "dispute-desk"):
            dd = run_one("dispute-desk", "bench.apps:dispute_desk_app()", args, env, tmp, lambda: Deliveries(templates).next)
            results.append(dd)
        if args.only in (None, "bare"):
            results.append(run_one("bare flask", "bench.apps:bare_app()", args, env, tmp, lambda: Deliveries(templates).next))
        print()
        report(results)
        if len(results) == 2 and results[1].acks_per_second:
            dd_, bare = results
            print(f"ratio dispute-desk/bare: {dd_.acks_per_second / bare.acks_per_second:.2f} (acks/s); "
                  f"server CPU per ack {dd_.cpu_ms_per_ack / bare.cpu_ms_per_ack:.2f}x the bare app's")
        busy = max(r.client_cpu + r.server_cpu + (r.db_cpu or 0.0) for r in results)
        cpus = os.cpu_count() or 0
        if cpus and busy > 0.85 * cpus:
            print(f"note: client + server used up to {busy:.1f} of {cpus} CPUs: this machine, not the app alone, "
                  "is the limit; compare the CPU ms/ack column")
        print("(CPU = cores used over the measured window: 100% = one core; server = gunicorn master + workers"
              + (", not the PostgreSQL backends)" if database.admin_url else ")"))
        if dd is not None:
            stored = database.stored_events()
            verdict = "OK" if stored == dd.accepted_total else "MISMATCH"
            print(f"stored events in inbox: {stored}; 202 responses (warm-up included): {dd.accepted_total} -> {verdict}")
        return 0
    finally:
        try:
            if created or database.admin_url:
                database.drop()
        except Exception as error:  # noqa: BLE001 - report, and still clean the temp dir
            print(f"warning: could not drop database {database.name}: {error}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
