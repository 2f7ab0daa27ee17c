"""The database: one schema on SQLite (the embedded default, in WAL mode) and PostgreSQL.

Times are stored as naive UTC on both engines, and handed out aware.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

metadata = MetaData()

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
EventId = BigInteger().with_variant(Integer(), "sqlite")

inbox = Table(
    "inbox",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    # Unbounded: ids are the platforms' to choose, and both engines must accept the same rows.
    Column("delivery_id", String(), nullable=False),
    Column("ticket_key", String(), nullable=False),
    Column("source_type", String(), nullable=False),
    Column("payload", Text, nullable=False),
    Column("headers", Text, nullable=False, default="{}"),
    Column("received_at", DateTime, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    # Replays start attempts afresh; this says an earlier run may have written already.
    Column("replays", Integer, nullable=False, default=0, server_default="0"),
    Column("available_at", DateTime, nullable=False),
    Column("lease_owner", String()),
    Column("lease_expires_at", DateTime),
    Column("last_error", Text),
    Column("outcome", Text),
    Column("finished_at", DateTime),
    UniqueConstraint("platform", "delivery_id", name="uq_inbox_delivery"),
)
Index("ix_inbox_claim", inbox.c.status, inbox.c.available_at, inbox.c.id)
Index("ix_inbox_ticket", inbox.c.ticket_key, inbox.c.id)
# One event per ticket in flight, enforced by the database itself.
Index(
    "uq_inbox_one_lease_per_ticket",
    inbox.c.ticket_key,
    unique=True,
    sqlite_where=inbox.c.status == "leased",
    postgresql_where=inbox.c.status == "leased",
)

# Deliveries `events prune` deleted: their ids stay known, so a late redelivery (or a replay)
# of a pruned event is still a duplicate.
delivery_tombstones = Table(
    "delivery_tombstones",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("delivery_id", String(), primary_key=True),
    Column("received_at", DateTime, nullable=False),
)
Index("ix_delivery_tombstones_received", delivery_tombstones.c.received_at)

# Signed webhook content seen, while it is acceptable (a signature's time window): the same
# content under a new, unsigned delivery id is a replay. A table, so every web process sees it.
webhook_signatures = Table(
    "webhook_signatures",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("expires_at", DateTime, nullable=False),
    UniqueConstraint("platform", "digest", name="uq_webhook_signature"),
)
Index("ix_webhook_signatures_expires", webhook_signatures.c.expires_at)

action_log = Table(
    "action_log",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("ticket_key", String(), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("action_key", String(), nullable=False),
    Column("applied_at", DateTime, nullable=False),
    UniqueConstraint("event_id", "action_key", name="uq_action_log_event_action"),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("ticket_key", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_at", DateTime),
    Column("started_at", DateTime, nullable=False),
    Column("within", String(40), nullable=False),
    Column("calendar", String()),
    Column("met_by", String(), nullable=False),
    Column("pause_while", String(), nullable=False),
    Column("rule_id", String(), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("remaining_seconds", Float),  # while paused: the (business) time left
    Column("breached_at", DateTime),
    UniqueConstraint("ticket_key", "name", name="uq_deadline_ticket_name"),
)
Index("ix_deadlines_due", deadlines.c.status, deadlines.c.due_at)

# Feedback: one request per resolution (a ticket solved, reopened and solved again is asked
# again), and every answer submitted (the latest one per resolution counts).
feedback_requests = Table(
    "feedback_requests",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("ticket_id", String(), nullable=False),
    Column("ticket_key", String(), nullable=False),
    Column("resolution", String(), nullable=False),
    Column("department", String()),
    Column("language", String(8), nullable=False),
    Column("sent_at", DateTime, nullable=False),
    UniqueConstraint("platform", "ticket_id", "resolution", name="uq_feedback_request_resolution"),
)
Index("ix_feedback_requests_sent", feedback_requests.c.sent_at)

feedback_answers = Table(
    "feedback_answers",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("ticket_id", String(), nullable=False),
    Column("ticket_key", String(), nullable=False),
    Column("resolution", String(), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text),
    Column("language", String(8), nullable=False),
    Column("department", String()),
    Column("submitted_at", DateTime, nullable=False),
)
Index("ix_feedback_answers_resolution", feedback_answers.c.platform, feedback_answers.c.ticket_id, feedback_answers.c.resolution, feedback_answers.c.id)


def to_db(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise TypeError("aware datetimes only")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


# How long anything waits for the database (a pooled connection, SQLite's write lock, a
# PostgreSQL server to answer) before giving up: a webhook must be answered, 503 and
# Retry-After if need be, well before Zendesk gives up on it (about 10 s).
WAIT_SECONDS = 5


def connect(url: str) -> Engine:
    """An engine for DATABASE_URL, with SQLite made safe for several threads and processes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_timeout=WAIT_SECONDS, connect_args=_postgres_args(parsed.get_backend_name()), future=True)
    if parsed.database and parsed.database != ":memory:":
        _private_file(Path(parsed.database))
    engine = create_engine(url, pool_timeout=WAIT_SECONDS, connect_args={"timeout": WAIT_SECONDS, "check_same_thread": False}, future=True)
    _sqlite_pragmas(engine)
    return engine


def _postgres_args(backend: str) -> dict[str, Any]:
    # libpq waits forever for a server that accepted the connection and never answers.
    return {"connect_timeout": WAIT_SECONDS} if backend == "postgresql" else {}


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (SQLite would make it 0644, and its
    -wal and -shm files copy the main file's mode): it holds customers' messages."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={WAIT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front (BEGIN IMMEDIATE), so two workers never both
        # read "free" and then race to write: SQLite's stand-in for FOR UPDATE SKIP LOCKED.
        # Readers begin deferred, so WAL lets them read while a writer writes.
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_IMMEDIATE = "dispute_desk_immediate"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start."""
    with engine.connect() as connection:
        connection.execution_options(**{_IMMEDIATE: True})
        with connection.begin():
            yield connection


@contextmanager
def one_migration_at_a_time(engine: Engine) -> Iterator[None]:
    """Processes that start together on one SQLite file (gunicorn's workers) migrate it one
    after another: two at once make one fail with "database is locked", and gunicorn stops
    every worker when one fails to boot. A lock file beside the database, held while migrating."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def create_schema(engine: Engine) -> None:
    """The schema at the latest migration (Alembic), as `dispute-desk db upgrade` makes it."""
    from integration.runtime.migrations import upgrade

    upgrade(engine)


def insert_ignoring_duplicates(engine: Engine, table: Table, *unique: str) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING on either engine: a repeat is an ordinary
    outcome, not an error (no exception, no ERROR line in PostgreSQL's log)."""
    dialect = postgresql if is_postgres(engine) else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(unique))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
