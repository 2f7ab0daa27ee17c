"""The deadline clock's cost per tick with a million open deadlines, on SQLite and PostgreSQL.

    python bench/clock.py [--quick] [--rows N] [--due N] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each database: a fresh one (a SQLite file in a temp dir; with --database-url also a fresh
PostgreSQL database `dd_bench_<random>`, dropped afterwards), the schema as
`dispute-desk db upgrade` makes it, then N open deadlines (default 1,000,000; --quick 100,000)
bulk-loaded (SQLite: one executemany in one transaction; PostgreSQL: COPY), then ANALYZE.
95% are running with a due time from 1 minute to 30 days ahead, 5% paused (no due time), and
`--due` (default 1,000) per round are running and already due, spread over the hour before
that round's `now`. There are three rounds, an hour apart, so each round's tick finds
exactly `--due` deadlines due among the million open ones.

Printed: the load time; the plan of the clock's due-deadlines query (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN ANALYZE on PostgreSQL, rolled back), to show it reads ix_deadlines_due;
for each round, `clock.tick(engine, inbox, now)` (fires the due deadlines in batches of 500,
one inbox event per breach) in ms per tick and per breach; then a tick with nothing due
(repeated, median and max), and a correctness line (breach events stored = deadlines fired).

Figures only: nothing here asserts a timing. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `bench.ack` when run as a script

from sqlalchemy import func, select

from bench.ack import Database
from integration.runtime import clock
from integration.runtime.inbox import Inbox
from integration.runtime.store import connect, deadlines, inbox, is_postgres, to_db

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 12:00 in São Paulo
ROUNDS = 3
COLUMNS = ("ticket_key", "name", "status", "due_at", "started_at", "within", "calendar", "met_by", "pause_while", "rule_id", "updated_at", "remaining_seconds")


def stamp(moment: datetime) -> str:
    """Naive UTC with microseconds: the text SQLAlchemy stores on SQLite (compared as text)."""
    return to_db(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(rows: int, due: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """Tuples in COLUMNS order: `due` due deadlines per round, the rest not due (5% paused)."""
    rng = random.Random(seed)
    started = stamp(NOW - timedelta(days=1))
    common = ("4h business", "default", "agent_reply,solved", "pending,on_hold", "finance-dispute", started)
    fired = set(rng.sample(range(rows), due * ROUNDS))
    rounds = iter(range(due * ROUNDS))
    for n in range(rows):
        key = f"zendesk:{1_000_000 + n}"
        if n in fired:
            k = next(rounds)
            when = NOW + timedelta(hours=k // due) - timedelta(seconds=rng.randrange(1, 3600))
            yield (key, "first-response", "running", stamp(when), started, *common[:5], common[5], None)
        elif rng.random() < 0.05:
            yield (key, "first-response", "paused", None, started, *common[:5], common[5], float(rng.randrange(60, 14400)))
        else:
            when = NOW + timedelta(hours=ROUNDS) + timedelta(seconds=rng.randrange(60, 30 * 86400))
            yield (key, "first-response", "running", stamp(when), started, *common[:5], common[5], None)


def load(engine, rows: int, due: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if is_postgres(engine):
            with cursor.copy(f"COPY deadlines ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for n, row in enumerate(generate(rows, due), 1):
                    buffer.write("\t".join(r"\N" if value is None else str(value) for value in row))
                    buffer.write("\n")
                    if n % 50_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        else:
            cursor.execute("BEGIN")
            placeholders = ", ".join("?" for _ in COLUMNS)
            cursor.executemany(f"INSERT INTO deadlines ({', '.join(COLUMNS)}) VALUES ({placeholders})", generate(rows, due))
        raw.commit()
        cursor.execute("ANALYZE deadlines")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def due_query(now: datetime, engine):  # type: ignore[no-untyped-def]
    """The clock's query, exactly as integration/runtime/clock.py `_fire_batch` builds it."""
    query = (
        select(deadlines)
        .where(deadlines.c.status == "running", deadlines.c.due_at <= to_db(now))
        .order_by(deadlines.c.due_at)
        .limit(clock.BATCH)
    )
    return query.with_for_update(skip_locked=True) if is_postgres(engine) else query


def query_plan(engine, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    compiled = due_query(now, engine).compile(dialect=engine.dialect)
    with engine.connect() as connection:
        if is_postgres(engine):
            sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + compiled.string
            rows = connection.exec_driver_sql(sql, compiled.params).all()
            connection.rollback()  # FOR UPDATE took row locks: nothing else happened
            return [row[0] for row in rows]
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        params = tuple(stamp(p.replace(tzinfo=UTC)) if isinstance(p, datetime) else p for p in params)
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params).all()
        return [row[-1] for row in rows]


def run(label: str, url: str | None, args: argparse.Namespace, tmp: Path) -> None:
    database = Database(url, tmp)
    print(f"\n--- {label}: {database.label}")
    database.create()
    engine = connect(database.url)
    try:
        seconds = load(engine, args.rows, args.due)
        with engine.connect() as connection:
            open_count = connection.execute(select(func.count()).select_from(deadlines).where(deadlines.c.status.in_(("running", "paused")))).scalar_one()
        print(f"loaded {open_count:,} open deadlines in {seconds:.1f} s ({open_count / seconds:,.0f} rows/s)")

        print(f"plan of the due-deadlines query (now = round 1, {args.due:,} due):")
        plan = query_plan(engine, NOW)
        for line in plan:
            print(f"    {line}")
        uses_index = any("ix_deadlines_due" in line for line in plan)
        print(f"    -> {'uses ix_deadlines_due' if uses_index else 'DOES NOT use ix_deadlines_due'}")

        box = Inbox(engine)
        print(f"{'tick':<28} {'fired':>6} {'ms/tick':>9} {'ms/breach':>10}")
        fired_total = 0
        for k in range(ROUNDS):
            now = NOW + timedelta(hours=k)
            started = time.perf_counter()
            fired = clock.tick(engine, box, now)
            elapsed = (time.perf_counter() - started) * 1000
            fired_total += fired
            print(f"{'round ' + str(k + 1) + f' ({args.due:,} due)':<28} {fired:>6} {elapsed:>9.1f} {elapsed / max(fired, 1):>10.3f}")

        now = NOW + timedelta(hours=ROUNDS - 1)
        empty = []
        for _ in range(args.empty_ticks):
            started = time.perf_counter()
            fired = clock.tick(engine, box, now)
            empty.append((time.perf_counter() - started) * 1000)
            fired_total += fired
        print(
            f"{'nothing due (x' + str(args.empty_ticks) + ')':<28} {0:>6} {statistics.median(empty):>9.2f} {'':>10}"
            f"  (max {max(empty):.2f} ms)"
        )

        with engine.connect() as connection:
            events = connection.execute(select(func.count()).select_from(inbox).where(inbox.c.source_type == "dispute-desk:deadline_breached")).scalar_one()
            breached = connection.execute(select(func.count()).select_from(deadlines).where(deadlines.c.status == "breached")).scalar_one()
        expected = args.due * ROUNDS
        ok = events == breached == fired_total == expected
        print(f"breach events stored {events:,}, deadlines breached {breached:,}, fired {fired_total:,}, expected {expected:,}: {'OK' if ok else 'MISMATCH'}")
    finally:
        engine.dispose()
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 open deadlines")
    parser.add_argument("--rows", type=int, help="open deadlines (default 1,000,000; --quick 100,000)")
    parser.add_argument("--due", type=int, default=1000, help="deadlines due per round (default 1,000)")
    parser.add_argument("--empty-ticks", type=int, default=20, help="ticks with nothing due to time (default 20)")
    parser.add_argument("--database-url", help="also run on PostgreSQL: postgresql+psycopg://USER@127.0.0.1:5432/ANY (a fresh database is made)")
    args = parser.parse_args()
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    if args.rows < args.due * ROUNDS:
        raise SystemExit(f"--rows must be at least {args.due * ROUNDS}")
    print(f"clock.tick with {args.rows:,} open deadlines, {args.due:,} due per round, batches of {clock.BATCH}")
    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-clock-"))
    try:
        run("SQLite", None, args, tmp)
        if args.database_url:
            run("PostgreSQL", args.database_url, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
