"""Webhook acknowledgement latency at a fixed request rate (open loop), on SQLite and PostgreSQL.

    python bench/ack_latency.py [--quick] [--rate 200] [--duration 10] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Serves the real app exactly as bench/ack.py does (gunicorn -w 2 -k gthread --threads 4 on
`bench.apps:dispute_desk_app()`, a fresh SQLite file, then a fresh PostgreSQL database when
--database-url is given) and sends signed deliveries at a FIXED rate: request i is due at
start + i / rate, whatever happened to the requests before it. Latency is measured from that
due time to the end of the response, so a server stall shows up in every request it delays
(no coordinated omission: a closed-loop client would wait, send fewer requests, and report
only the lucky ones). The sender threads (--connections, one keep-alive session each) bound
the requests in flight; "client lag" (send time minus due time) shows whether the client kept
its schedule.

Printed per database: requests, errors, achieved rate, latency p50/p90/p99/p99.9/max from the
due time, the service time (from the actual send) p50/p99, client lag p99/max, server CPU; and
whether the inbox holds one event per 202.

Figures only: nothing here asserts a timing. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `bench.ack` when run as a script

from bench.ack import (
    PATH,
    Database,
    Deliveries,
    app_environment,
    delivery_templates,
    start_gunicorn,
    stop_server,
    tree_cpu,
)


@dataclass
class Sample:
    due: float
    sent: float
    done: float
    status: int | str
    measured: bool


@dataclass
class Run:
    label: str
    rate: float
    duration: float
    samples: list[Sample] = field(default_factory=list)
    server_cpu: float = 0.0
    stored: int = 0

    @property
    def measured(self) -> list[Sample]:
        return [s for s in self.samples if s.measured]

    def latencies(self) -> list[float]:
        return sorted((s.done - s.due) * 1000 for s in self.measured)

    def service(self) -> list[float]:
        return sorted((s.done - s.sent) * 1000 for s in self.measured)

    def lag(self) -> list[float]:
        return sorted((s.sent - s.due) * 1000 for s in self.measured)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def drive(url: str, bodies: list[tuple[bytes, dict[str, str]]], rate: float, warmup: float, connections: int) -> list[Sample]:
    """Open loop: request i is due at start + i / rate; `connections` threads send them."""
    total = len(bodies)
    counter = itertools.count()  # next() on it is atomic under the GIL
    start = time.monotonic() + 0.5
    measure_from = start + warmup
    samples: list[Sample | None] = [None] * total

    def sender() -> None:
        session = requests.Session()
        try:
            while (i := next(counter)) < total:
                due = start + i / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                body, headers = bodies[i]
                sent = time.monotonic()
                try:
                    status: int | str = session.post(url, data=body, headers=headers, timeout=(5, 30)).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                samples[i] = Sample(due, sent, time.monotonic(), status, due >= measure_from)
        finally:
            session.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=total / rate + 120)
    return [s for s in samples if s is not None]


def run_one(label: str, database_url: str | None, args: argparse.Namespace, tmp: Path) -> Run:
    run_dir = tmp / label.lower()
    run_dir.mkdir()
    database = Database(database_url, run_dir)
    created = False
    try:
        database.create()
        created = True
        env = app_environment(database.url)
        server = start_gunicorn(label, "bench.apps:dispute_desk_app()", args.workers, args.threads, env, run_dir)
        try:
            # Signed now (the signature window is 5 minutes), before the clock starts: the
            # client then only sends, so its own CPU does not push requests off schedule.
            make = Deliveries(delivery_templates()).next
            count = round((args.warmup + args.duration) * args.rate)
            bodies = [make() for _ in range(count)]
            cpu0 = sum(tree_cpu(server.process.pid).values())
            begun = time.monotonic()
            samples = drive(server.url + PATH, bodies, args.rate, args.warmup, args.connections)
            window = time.monotonic() - begun
            cpu1 = sum(tree_cpu(server.process.pid).values())
        finally:
            stop_server(server)
        result = Run(label, args.rate, args.duration, samples, server_cpu=(cpu1 - cpu0) / window if window else 0.0)
        result.stored = database.stored_events()
        return result
    finally:
        if created or database.admin_url:
            try:
                database.drop()
            except Exception as error:  # noqa: BLE001 - report, and still clean the temp dir
                print(f"warning: could not drop database {database.name}: {error}", file=sys.stderr)


def report(runs: list[Run]) -> None:
    print(f"{'':12} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} "
          f"{'max ms':>7} {'svc p50':>7} {'svc p99':>7} {'lag p99':>7} {'lag max':>7} {'server CPU':>10}")
    for r in runs:
        measured = r.measured
        lat, svc, lag = r.latencies(), r.service(), r.lag()
        errors = sum(1 for s in measured if s.status != 202)
        span = (max(s.done for s in measured) - min(s.due for s in measured)) if measured else 0.0
        print(f"{r.label:12} {len(measured):8d} {errors:6d} {len(measured) / span if span else 0:6.0f} {pct(lat, .5):7.1f} {pct(lat, .9):7.1f} "
              f"{pct(lat, .99):7.1f} {pct(lat, .999):8.1f} {max(lat, default=float('nan')):7.1f} {pct(svc, .5):7.1f} {pct(svc, .99):7.1f} "
              f"{pct(lag, .99):7.1f} {max(lag, default=float('nan')):7.1f} {r.server_cpu * 100:9.0f}%")
        odd: dict[str, int] = {}
        for s in measured:
            if s.status != 202:
                odd[str(s.status)] = odd.get(str(s.status), 0) + 1
        if odd:
            print(f"{'':12} non-202 outcomes: {odd}")
        accepted = sum(1 for s in r.samples if s.status == 202)
        print(f"{'':12} stored events in inbox: {r.stored}; 202 responses (warm-up included): {accepted} -> "
              f"{'OK' if r.stored == accepted else 'MISMATCH'}")
    print("(latency = response end minus the request's due time; svc = from the actual send; lag = send minus due time, "
          "the client's own delay; server CPU = gunicorn master + workers, 100% = one core)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s measured after a 1 s warm-up")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, fixed (default 200)")
    parser.add_argument("--duration", type=float, help="measured seconds (default 10, --quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds at the same rate (default 2, --quick 1)")
    parser.add_argument("--connections", type=int, default=32, help="sender threads = most requests in flight (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--database-url", help="also run on PostgreSQL: postgresql+psycopg://USER@127.0.0.1:5432/ANY "
                                               "(a fresh dd_bench_<random> database is created there and dropped after)")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or min(args.connections, args.workers, args.threads) <= 0:
        parser.error("rate, durations, connections, workers and threads must be positive")
    if args.rate > 2000 or args.duration > 120 or args.connections > 256:
        parser.error("keep it bounded: --rate at most 2000, --duration at most 120 s, --connections at most 256")

    engines: list[tuple[str, str | None]] = [("SQLite", None)] + ([("PostgreSQL", args.database_url)] if args.database_url else [])
    print(f"ack latency benchmark: {args.rate:g} requests/s fixed (open loop) for {args.duration:g} s after {args.warmup:g} s "
          f"warm-up; gunicorn -w {args.workers} -k gthread --threads {args.threads}; {args.connections} sender threads; "
          f"{os.cpu_count()} CPUs")
    sys.stdout.flush()
    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-ack-latency-"))
    runs: list[Run] = []
    try:
        for label, url in engines:
            runs.append(run_one(label, url, args, tmp))
            print(f"  {label}: done", flush=True)
        print()
        report(runs)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
