"""Worker throughput: inbox events processed per second, on SQLite and on PostgreSQL, with 1
and with 3 worker processes, against a FakeZendesk served from this process.

    python bench/worker.py [--quick] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each database and process count: a fresh database (SQLite file in a temp dir, or a fresh
PostgreSQL database dropped afterwards), a fresh FakeZendesk seeded with the tickets, and N
events (default 2,000 over 200 tickets, ten per ticket: the escalating conversation that
tests/test_multiprocess.py uses) put straight into the inbox with `Inbox.add`, not yet
available. Then the worker processes are started, each `dispute-desk worker --threads 1`
(processes, not threads: `--threads` changes that); once every one has connected to the fake
(GET users/me), all events are made available in one UPDATE and the clock starts. It stops
when no event is pending or leased.

Printed per run: events/s, Zendesk calls per event (GET and PUT: the write calls), CPU used
by the worker processes, by this process (the fake) and by the PostgreSQL backends, and the
final inbox states (a correctness line, not a timing assertion).

Figures only: nothing here asserts a timing. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `bench.ack` and the fake in `tests.fakes`, run as a script

from bench.ack import Database, backend_cpu, tree_cpu
from integration.runtime.inbox import Inbox
from integration.runtime.rulefiles import load_ruleset
from integration.runtime.store import connect, inbox, to_db
from tests.fakes.zendesk import FakeZendesk
from tests.test_multiprocess import STEPS, conversation, seed_account

WEBHOOK_SECRET = "whsec-bench-0123456789"
TOKEN = "bench-api-token"
BIN = Path(sys.executable).parent


# ---- one run -------------------------------------------------------------------------------


@dataclass
class Figure:
    label: str
    processes: int
    events: int
    seconds: float
    states: dict[str, int]
    gets: int
    puts: int
    other_calls: int
    worker_cpu: float  # CPU seconds, all worker processes
    fake_cpu: float  # CPU seconds of this process (the fake's server threads, and polling)
    db_cpu: float | None
    timed_out: bool

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


def seed(fake: FakeZendesk, tickets: int, run: str) -> list[dict[str, Any]]:
    """The account and conversation of tests/test_multiprocess.py; the tickets' events
    interleaved, each ticket's in order: step 0 of every ticket, then step 1, ..."""
    account = seed_account(fake, tickets, load_ruleset(str(ROOT / "rules")))
    conversations = [conversation(ticket, account, run) for ticket in account.tickets]
    return [events[step] for step in range(len(STEPS)) for events in conversations]


def preload(url: str, payloads: list[dict[str, Any]], hold_until: datetime) -> None:
    """Straight into the inbox, as the webhook would store them, held until `hold_until`."""
    engine = connect(url)
    box = Inbox(engine)
    try:
        for payload in payloads:
            box.add("zendesk", payload["id"], payload["detail"]["id"], payload["type"], json.dumps(payload), {}, hold_until)
    finally:
        engine.dispose()


def release(url: str) -> None:
    from sqlalchemy import update

    engine = connect(url)
    try:
        with engine.begin() as connection:
            connection.execute(update(inbox).values(available_at=to_db(datetime.now(UTC))))
    finally:
        engine.dispose()


def states(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    with engine.connect() as connection:
        return {status: count for status, count in connection.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status))}


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=5)


def run_one(label: str, database_url: str | None, processes: int, args: argparse.Namespace, tmp: Path) -> Figure:
    run_dir = tmp / f"{label.split()[0].lower()}-{processes}"
    run_dir.mkdir()
    database = Database(database_url, run_dir)
    created = False
    workers: list[subprocess.Popen[bytes]] = []
    try:
        database.create()
        created = True
        with FakeZendesk(token=TOKEN) as fake:
            payloads = seed(fake, args.tickets, os.urandom(3).hex())[: args.events]
            preload(database.url, payloads, hold_until=datetime.now(UTC) + timedelta(days=1))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "JIRA_", "ZENPY_", "DATABASE_URL", "RULES_PATH"))}
            env.update(
                DATABASE_URL=database.url, RULES_PATH=str(ROOT / "rules"), ZENDESK_SUBDOMAIN="example",
                ZENDESK_EMAIL="bot@example.com", ZENDESK_API_TOKEN=TOKEN, ZENDESK_WEBHOOK_SECRET=WEBHOOK_SECRET,
                ZENPY_FORCE_SCHEME="http", ZENPY_FORCE_NETLOC=fake.netloc, PYTHONUNBUFFERED="1",
            )  # fmt: skip
            script = BIN / "dispute-desk"
            command = [str(script)] if script.exists() else [sys.executable, "-c", "from integration.cli import run; run()"]
            for n in range(processes):
                with open(run_dir / f"worker-{n}.log", "wb") as log:
                    workers.append(subprocess.Popen([*command, "worker", "--threads", str(args.threads)], cwd=ROOT, env=env,
                                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            deadline = time.monotonic() + 45
            while sum(r.path == "/api/v2/users/me.json" for r in fake.requests) < processes:
                dead = [w for w in workers if w.poll() is not None]
                if dead or time.monotonic() > deadline:
                    logs = "\n".join((run_dir / f"worker-{n}.log").read_text(errors="replace")[-1500:] for n in range(processes))
                    raise RuntimeError(f"worker processes did not start:\n{logs}")
                time.sleep(0.1)
            fake.reset_log()

            engine = connect(database.url)
            try:
                cpu0 = {w.pid: sum(tree_cpu(w.pid).values()) for w in workers}
                db0, me0 = backend_cpu(database.name), time.process_time()
                release(database.url)
                started = time.monotonic()
                timed_out = False
                while True:
                    counts = states(engine)
                    if counts.get("pending", 0) + counts.get("leased", 0) == 0:
                        break
                    if time.monotonic() - started > args.timeout:
                        timed_out = True
                        break
                    time.sleep(0.05)
                seconds = time.monotonic() - started
                cpu1 = {w.pid: sum(tree_cpu(w.pid).values()) for w in workers}
                db1, me1 = backend_cpu(database.name), time.process_time()
            finally:
                engine.dispose()
            calls = fake.requests
            figure = Figure(
                label, processes, len(payloads), seconds, counts,
                gets=sum(r.method == "GET" for r in calls), puts=sum(r.method == "PUT" for r in calls),
                other_calls=sum(r.method not in ("GET", "PUT") for r in calls),
                worker_cpu=sum(cpu1[pid] - cpu0[pid] for pid in cpu0), fake_cpu=me1 - me0,
                db_cpu=sum(db1[pid] - db0.get(pid, 0.0) for pid in db1) if database.name else None,
                timed_out=timed_out,
            )  # fmt: skip
            for worker in workers:
                stop(worker)
            workers.clear()
            return figure
    finally:
        for worker in workers:
            stop(worker)
        if created or database.admin_url:
            try:
                database.drop()
            except Exception as error:  # noqa: BLE001 - report, keep going
                print(f"warning: could not drop database {database.name}: {error}", file=sys.stderr)


def report(figures: list[Figure], threads: int) -> None:
    print(f"{'':12} {'procs':>5} {'events':>7} {'seconds':>8} {'events/s':>9} {'GET/event':>10} {'PUT/event':>10} "
          f"{'worker CPU':>11} {'fake CPU':>9} {'DB CPU':>7}  final states")
    for f in figures:
        db = f"{f.db_cpu / f.seconds * 100:6.0f}%" if f.db_cpu is not None else f"{'-':>7}"
        states_text = ", ".join(f"{k} {v}" for k, v in sorted(f.states.items()))
        print(f"{f.label:12} {f.processes:5d} {f.events:7d} {f.seconds:8.1f} {f.per_second:9.0f} {f.gets / f.events:10.2f} "
              f"{f.puts / f.events:10.2f} {f.worker_cpu / f.seconds * 100:10.0f}% {f.fake_cpu / f.seconds * 100:8.0f}% {db}  "
              f"{states_text}{'  TIMED OUT' if f.timed_out else ''}")
        if f.other_calls:
            print(f"{'':12} other Zendesk calls: {f.other_calls}")
    print(f"(each worker process: `dispute-desk worker --threads {threads}`; CPU = cores used over the run, 100% = one core; "
          "fake CPU = this process, which serves the FakeZendesk; worker CPU per event = "
          + ", ".join(f"{f.label} x{f.processes}: {f.worker_cpu * 1000 / f.events:.1f} ms" for f in figures) + ")")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 events over 50 tickets")
    parser.add_argument("--events", type=int, help="events per run (default 2000, --quick 500); ten per ticket")
    parser.add_argument("--threads", type=int, default=1, help="--threads of each `dispute-desk worker` (default 1)")
    parser.add_argument("--processes", default="1,3", help="worker process counts to run (default 1,3)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up on one run after this many seconds (default 120)")
    parser.add_argument("--database-url", help="also run on PostgreSQL: postgresql+psycopg://USER@127.0.0.1:5432/ANY "
                                               "(a fresh dd_bench_<random> database is created there and dropped after)")
    args = parser.parse_args()
    args.events = args.events or (500 if args.quick else 2000)
    if not 10 <= args.events <= 20000 or not 1 <= args.threads <= 16 or args.timeout <= 0:
        parser.error("keep it bounded: 10 to 20,000 events, 1 to 16 threads, a positive timeout")
    args.tickets = -(-args.events // len(STEPS))
    counts = [int(part) for part in args.processes.split(",") if part.strip()]
    if not counts or min(counts) < 1 or max(counts) > 8:
        parser.error("--processes: a comma-separated list of 1 to 8")
    engines: list[tuple[str, str | None]] = [("SQLite", None)] + ([("PostgreSQL", args.database_url)] if args.database_url else [])

    print(f"worker benchmark: {args.events} events over {args.tickets} tickets, pre-loaded in the inbox; "
          f"worker processes {', '.join(map(str, counts))} x `dispute-desk worker --threads {args.threads}`; "
          f"FakeZendesk in this process; {os.cpu_count()} CPUs")
    sys.stdout.flush()
    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-worker-"))
    figures: list[Figure] = []
    try:
        for label, url in engines:
            for processes in counts:
                figure = run_one(label, url, processes, args, tmp)
                figures.append(figure)
                print(f"  {label} x{processes}: {figure.per_second:.0f} events/s", flush=True)
        print()
        report(figures, args.threads)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
