"""Many deadlines missed at once: how long the worker takes to escalate N simultaneous
breaches on Zendesk, and how many API calls it makes, writing them one PUT per ticket
(`batch_size=1`) or with `update_many` (at most 100 tickets a call, job status polled).

    python bench/breaches.py [--breaches 1000] [--quick]

Setup (not timed): a FakeZendesk served from this process with N open, routed dispute tickets
and, in a fresh database, N running `first-response` deadlines already due; one clock tick turns
them into N `deadline_breached` events. Timed: one worker thread stepping until the inbox is
empty. Printed per mode: seconds, escalations/s, and the calls by kind. A correctness line
checks every ticket got exactly one escalation note. Figures only; nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake in `tests.fakes`, run as a script

from sqlalchemy import insert

from integration import create_app
from integration.config import Config
from integration.runtime import clock, platforms
from integration.runtime.store import deadlines, to_db
from tests.fakes.zendesk import FakeZendesk

BOT_ID = 9_000_001


def seed(fake: FakeZendesk, count: int, departments: dict[str, str]) -> list[int]:
    fake.me.update({"id": BOT_ID, "name": "dispute-desk", "role": "agent"})
    fake.users[BOT_ID] = fake.me
    for index, name in enumerate(departments.values()):
        fake.add_group(id=360_000_100 + index, name=name)
    finance = next(gid for gid, group in fake.groups.items() if group["name"] == departments["finance"])
    ids = []
    for index in range(count):
        requester = fake.add_user(id=8_100_000 + index, name=f"Cliente {index}", locale="pt-BR")
        ticket = fake.add_ticket(
            id=60_000 + index, subject="Cobrança em duplicidade", description="Fui cobrado duas vezes.",
            status="open", requester_id=requester["id"], group_id=finance, tags=["dispute", "dispute-finance"],
        )  # fmt: skip
        ids.append(ticket["id"])
    return ids


def run(mode: str, batch_size: int, count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="dd-breaches-"))
    fake = FakeZendesk()
    fake.start()
    os.environ["ZENPY_FORCE_SCHEME"], os.environ["ZENPY_FORCE_NETLOC"] = "http", f"127.0.0.1:{fake.port}"
    try:
        app = create_app(
            Config(
                database_url=f"sqlite:///{folder / 'bench.sqlite3'}",
                rules_path=str(ROOT / "rules"),
                zendesk_subdomain="bench",
                zendesk_email="bot@example.com",
                zendesk_api_token="token",
                zendesk_webhook_secrets=("bench-secret",),
            )
        )
        services = app.extensions["dispute_desk"]
        departments = {ident: d.zendesk["group"] for ident, d in services.rules.current.departments.items() if d.zendesk.get("group")}
        ids = seed(fake, count, departments)
        adapters = platforms.build_adapters(services)
        worker = platforms.make_worker(services, adapters)
        worker.batch_size = batch_size
        now = datetime.now(UTC) + timedelta(minutes=5)
        with services.engine.begin() as connection:
            connection.execute(
                insert(deadlines),
                [
                    {"ticket_key": f"zendesk:{ticket_id}", "name": "first-response", "status": "running",
                     "due_at": to_db(now - timedelta(minutes=1)), "started_at": to_db(now - timedelta(hours=5)),
                     "within": "4h business", "calendar": "default", "met_by": "agent_reply,solved",
                     "pause_while": "pending,on_hold", "rule_id": "finance-dispute", "updated_at": to_db(now)}
                    for ticket_id in ids
                ],
            )  # fmt: skip
        assert clock.tick(services.engine, services.inbox, now) == count
        fake.reset_log()

        started = time.perf_counter()
        while worker.step(now) is not None:
            pass
        seconds = time.perf_counter() - started

        calls = Counter(
            "update_many" if r.path.endswith("update_many.json") else "job status" if "/job_statuses/" in r.path else f"{r.method} ticket"
            for r in fake.requests
        )
        notes = Counter(
            ticket_id for ticket_id in ids for c in fake.comments(ticket_id) if c.get("author_id") == BOT_ID and "ESCALONAMENTO" in c["body"]
        )
        correct = notes == Counter(ids)
        print(
            f"{mode:<22} {count} breaches in {seconds:6.2f} s = {count / seconds:7.1f} escalations/s; "
            f"calls: {dict(sorted(calls.items()))}; one note per ticket: {'yes' if correct else 'NO'}"
        )
        services.engine.dispose()
    finally:
        fake.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--breaches", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="200 breaches")
    args = parser.parse_args()
    count = 200 if args.quick else args.breaches
    print(f"python {sys.version.split()[0]}, SQLite, fake Zendesk on 127.0.0.1 (the API's latency is the fake's)")
    run("one PUT per ticket", 1, count)
    run("update_many (<=100)", 100, count)


if __name__ == "__main__":
    main()
