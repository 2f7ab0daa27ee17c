"""The inbox is the queue: dedupe on the delivery id, leases, one event per ticket in flight,
oldest first, retries, dead letters and replays, and the retry policy.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture); time is passed in."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from integration.runtime.inbox import EventStatus, Inbox, RetryPolicy
from integration.runtime.store import connect, create_schema

T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
CREATED = "zen:event-type:ticket.created"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def engine(database_url: str):
    engine = connect(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def inbox(engine: Engine) -> Inbox:
    return Inbox(engine, lease_seconds=30)


def add(inbox: Inbox, ticket: str, delivery: str, now: datetime = T0, platform: str = "zendesk") -> bool:
    payload = json.dumps({"id": delivery, "ticket": ticket})
    return inbox.add(platform, delivery, ticket, CREATED, payload, {"X-Zendesk-Webhook-Id": "wh-1"}, now)


def ids_by_delivery(inbox: Inbox) -> dict[str, int]:
    return {event.delivery_id: event.id for event in inbox.list(limit=1000)}


# ---- add -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second, inserted",
    [
        (("zendesk", "d-1", "1"), False),  # a redelivery
        (("zendesk", "d-1", "2"), False),  # the delivery id alone identifies it, whatever it says
        (("jira", "d-1", "1"), True),  # another platform's ids are another namespace
        (("zendesk", "d-2", "1"), True),  # another event of the same ticket
    ],
    ids=["redelivery", "same-id-other-ticket", "other-platform", "other-delivery"],
)
def test_add_dedupes_on_platform_and_delivery_id(inbox, second, inserted):
    assert add(inbox, "1", "d-1") is True
    platform, delivery, ticket = second
    assert add(inbox, ticket, delivery, at(5), platform=platform) is inserted
    assert len(inbox.list()) == (2 if inserted else 1)


def test_add_stores_the_event_pending_and_available_at_once(inbox):
    assert add(inbox, "35436", "d-1")
    [event] = inbox.list()
    assert event.platform == "zendesk"
    assert event.delivery_id == "d-1"
    assert event.ticket_key == "zendesk:35436"
    assert event.source_type == CREATED
    assert json.loads(event.payload) == {"id": "d-1", "ticket": "35436"}
    assert event.headers == {"X-Zendesk-Webhook-Id": "wh-1"}
    assert (event.status, event.attempts, event.last_error, event.outcome) == (EventStatus.PENDING, 0, None, None)
    assert event.received_at == T0 and event.available_at == T0
    assert event.received_at.tzinfo is not None  # handed out aware
    assert inbox.get(event.id) == event
    assert inbox.get(event.id + 1000) is None


def test_times_are_stored_as_utc_whatever_the_zone_they_are_given_in(inbox):
    local = T0.astimezone(ZoneInfo("America/Sao_Paulo"))
    add(inbox, "1", "d-1", local)
    [event] = inbox.list()
    assert event.received_at == T0
    assert event.received_at.utcoffset() == timedelta(0)
    with pytest.raises(TypeError, match="aware datetimes only"):
        add(inbox, "1", "d-2", T0.replace(tzinfo=None))




def test_a_long_delivery_id_is_stored_as_given(inbox, engine, request):
    long_id = "inv-" + "x" * 250
    assert add(inbox, "1", long_id) is True
    assert inbox.list()[0].delivery_id == long_id


# ---- claim ---------------------------------------------------------------------------------


def test_claim_takes_the_oldest_available_event_and_leases_it(inbox):
    add(inbox, "A", "late", at(10))
    add(inbox, "B", "early", at(0))  # inserted second, but available first
    ids = ids_by_delivery(inbox)

    first = inbox.claim("w1", at(20))
    assert first is not None and first.id == ids["early"]
    assert (first.status, first.attempts) == (EventStatus.LEASED, 1)
    second = inbox.claim("w2", at(20))
    assert second is not None and second.id == ids["late"]
    assert inbox.claim("w3", at(20)) is None


def test_claim_keeps_each_ticket_in_order_and_runs_different_tickets_in_parallel(inbox):
    for ticket, delivery, second in [("A", "a1", 0), ("B", "b1", 1), ("A", "a2", 2), ("B", "b2", 3), ("C", "c1", 4)]:
        add(inbox, ticket, delivery, at(second))
    ids = ids_by_delivery(inbox)
    now = at(10)

    a1 = inbox.claim("w1", now)
    b1 = inbox.claim("w2", now)
    c1 = inbox.claim("w3", now)  # a2 and b2 are older than c1, but their tickets are in flight
    assert [e.id for e in (a1, b1, c1)] == [ids["a1"], ids["b1"], ids["c1"]]
    assert inbox.claim("w4", now) is None  # a2 and b2 wait for a1 and b1

    assert inbox.finish(b1.id, "w2", EventStatus.DONE, now, {"ok": True})
    b2 = inbox.claim("w4", now)
    assert b2 is not None and b2.id == ids["b2"]
    assert inbox.claim("w5", now) is None  # a1 still leased

    assert inbox.finish(a1.id, "w1", EventStatus.SKIPPED, now, {"skipped": "own write"})
    a2 = inbox.claim("w5", now)
    assert a2 is not None and a2.id == ids["a2"]


def test_an_older_pending_event_waiting_for_a_retry_blocks_its_ticket(inbox):
    add(inbox, "A", "a1", at(0))
    add(inbox, "A", "a2", at(1))
    add(inbox, "B", "b1", at(2))
    ids = ids_by_delivery(inbox)

    a1 = inbox.claim("w1", at(5))
    assert inbox.retry(a1.id, "w1", at(60), "503")
    # a2 is available, but a1 is still to do: only the other ticket may go meanwhile.
    b1 = inbox.claim("w2", at(10))
    assert b1.id == ids["b1"]
    assert inbox.claim("w3", at(10)) is None
    again = inbox.claim("w3", at(60))
    assert (again.id, again.attempts) == (ids["a1"], 2)


def test_a_dead_event_does_not_block_the_rest_of_its_ticket(inbox):
    add(inbox, "A", "a1", at(0))
    add(inbox, "A", "a2", at(1))
    ids = ids_by_delivery(inbox)
    a1 = inbox.claim("w1", at(5))
    assert inbox.finish(a1.id, "w1", EventStatus.DEAD, at(5), error="Zendesk answered 422")
    assert inbox.claim("w1", at(5)).id == ids["a2"]


def test_an_event_available_later_is_not_claimed_before_its_time(inbox):
    add(inbox, "A", "a1", at(60))  # stored with available_at in the future
    assert inbox.claim("w1", at(59.999)) is None
    claimed = inbox.claim("w1", at(60))
    assert claimed is not None and claimed.delivery_id == "a1"


# ---- leases --------------------------------------------------------------------------------


def test_an_expired_lease_is_released_and_the_old_owner_loses_it(inbox):
    add(inbox, "A", "a1")
    first = inbox.claim("w1", at(0))  # lease of 30 s
    assert inbox.release_expired(at(30)) == 0  # not past its expiry yet
    assert inbox.claim("w2", at(30)) is None

    assert inbox.release_expired(at(31)) == 1
    assert inbox.get(first.id).status == EventStatus.PENDING
    second = inbox.claim("w2", at(31))
    assert (second.id, second.attempts) == (first.id, 2)

    # The worker that died (or stalled) comes back: every settlement it tries is refused.
    assert inbox.finish(first.id, "w1", EventStatus.DONE, at(32), {"late": True}) is False
    assert inbox.retry(first.id, "w1", at(90), "late") is False
    assert inbox.get(first.id).status == EventStatus.LEASED

    assert inbox.finish(second.id, "w2", EventStatus.DONE, at(33), {"department": "finance"}) is True
    done = inbox.get(first.id)
    assert (done.status, done.outcome, done.last_error) == (EventStatus.DONE, {"department": "finance"}, None)
    assert inbox.finish(second.id, "w2", EventStatus.DONE, at(34)) is False  # settled once only


def test_release_expired_leaves_live_leases_and_other_states_alone(inbox):
    for ticket in "ABC":
        add(inbox, ticket, ticket.lower())
    live = inbox.claim("w1", at(0))
    done = inbox.claim("w2", at(0))
    inbox.finish(done.id, "w2", EventStatus.DONE, at(1))
    assert inbox.release_expired(at(29)) == 0
    assert inbox.get(live.id).status == EventStatus.LEASED
    assert inbox.get(done.id).status == EventStatus.DONE


# ---- retry, dead letters and replay --------------------------------------------------------


def test_retry_puts_the_event_back_with_its_available_at_and_error(inbox):
    add(inbox, "A", "a1")
    claimed = inbox.claim("w1", at(0))
    assert inbox.retry(claimed.id, "someone-else", at(90), "503") is False
    assert inbox.retry(claimed.id, "w1", at(90), "Zendesk answered 503") is True

    event = inbox.get(claimed.id)
    assert (event.status, event.attempts, event.last_error) == (EventStatus.PENDING, 1, "Zendesk answered 503")
    assert event.available_at == at(90)
    assert inbox.retry(claimed.id, "w1", at(95), "again") is False  # no longer leased


def test_dead_events_stay_dead_until_replayed(inbox):
    add(inbox, "A", "a1")
    claimed = inbox.claim("w1", at(0))
    assert inbox.finish(claimed.id, "w1", EventStatus.DEAD, at(1), error="Zendesk answered 422: RecordInvalid")

    dead = inbox.get(claimed.id)
    assert (dead.status, dead.last_error) == (EventStatus.DEAD, "Zendesk answered 422: RecordInvalid")
    assert [e.id for e in inbox.list(EventStatus.DEAD)] == [claimed.id]
    assert inbox.claim("w1", at(3600)) is None

    assert inbox.replay(claimed.id, at(100)) is True
    replayed = inbox.get(claimed.id)
    assert (replayed.status, replayed.attempts, replayed.available_at) == (EventStatus.PENDING, 0, at(100))
    assert inbox.claim("w2", at(99)) is None
    again = inbox.claim("w2", at(100))
    assert (again.id, again.attempts) == (claimed.id, 1)


def test_replaying_an_older_event_while_a_newer_one_of_its_ticket_is_in_flight_stalls_nothing_else(inbox):
    add(inbox, "A", "a1", at(0))
    add(inbox, "A", "a2", at(1))
    a1 = inbox.claim("w1", at(5))
    assert inbox.finish(a1.id, "w1", EventStatus.DEAD, at(5), error="Zendesk answered 422")
    a2 = inbox.claim("w1", at(5))  # the ticket goes on (dead events do not block it)
    assert a2.delivery_id == "a2"
    assert inbox.replay(a1.id, at(6))  # an operator replays the dead one meanwhile
    add(inbox, "B", "b1", at(10))  # and another ticket's event arrives

    other = inbox.claim("w2", at(20))

    assert other is not None and other.delivery_id == "b1"


def test_replay_refuses_leased_and_unknown_events(inbox):
    add(inbox, "A", "a1")
    claimed = inbox.claim("w1", at(0))
    assert inbox.replay(claimed.id, at(1)) is False  # in flight: its worker may still finish it
    assert inbox.replay(claimed.id + 1000, at(1)) is False
    assert inbox.finish(claimed.id, "w1", EventStatus.DONE, at(2))
    assert inbox.replay(claimed.id, at(3)) is True  # a finished event may be queued again
    assert inbox.get(claimed.id).status == EventStatus.PENDING


def test_list_filters_by_status_newest_first_with_a_limit(inbox):
    for n in range(5):
        add(inbox, str(n), f"d-{n}", at(n))
    ids = ids_by_delivery(inbox)
    claimed = inbox.claim("w1", at(10))
    inbox.finish(claimed.id, "w1", EventStatus.DEAD, at(10), error="x")
    assert [e.delivery_id for e in inbox.list()] == ["d-4", "d-3", "d-2", "d-1", "d-0"]
    assert [e.delivery_id for e in inbox.list(limit=2)] == ["d-4", "d-3"]
    assert [e.id for e in inbox.list(EventStatus.DEAD)] == [ids["d-0"]]
    assert [e.delivery_id for e in inbox.list(EventStatus.PENDING)] == ["d-4", "d-3", "d-2", "d-1"]


# ---- figures for /metrics ------------------------------------------------------------------


def test_counts_and_oldest_pending(inbox):
    assert inbox.counts() == {}
    assert inbox.oldest_pending() == {}
    add(inbox, "1", "z1", at(0))
    add(inbox, "2", "z2", at(10))
    add(inbox, "3", "z3", at(20))
    add(inbox, "ABC-1", "j1", at(30), platform="jira")
    add(inbox, "ABC-2", "j2", at(40), platform="jira")

    z1 = inbox.claim("w1", at(50))  # claims go by age across platforms: z1, then z2
    z2 = inbox.claim("w2", at(50))
    assert (z1.delivery_id, z2.delivery_id) == ("z1", "z2")
    inbox.finish(z2.id, "w2", EventStatus.DONE, at(51))

    assert inbox.counts() == {
        ("zendesk", "leased"): 1,
        ("zendesk", "done"): 1,
        ("zendesk", "pending"): 1,
        ("jira", "pending"): 2,
    }
    oldest = inbox.oldest_pending()
    assert oldest == {"zendesk": at(20), "jira": at(30)}
    assert all(moment.tzinfo is not None for moment in oldest.values())


# ---- the retry policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_after, expected",
    [(5, 5.0), (0, 0.0), (-3, 0.0), (899.5, 899.5), (900, 900.0), (3600, 900.0), (1e9, 900.0)],
    ids=["5s", "zero", "negative", "just-under-cap", "cap", "an-hour", "absurd"],
)
def test_delay_honours_retry_after_capped(retry_after, expected):
    policy = RetryPolicy()
    for attempts in (1, 3, 7):
        assert policy.delay(attempts, retry_after, random.Random(1)) == expected


def test_delay_grows_exponentially_with_jitter_bounded_by_the_cap():
    policy = RetryPolicy(max_attempts=20, base_seconds=2.0, cap_seconds=60.0)
    rng = random.Random(20260302)
    for attempts in range(1, 20):
        ceiling = min(60.0, 2.0 * 2 ** (attempts - 1))
        samples = [policy.delay(attempts, None, rng) for _ in range(200)]
        assert all(1.0 <= s <= ceiling for s in samples), (attempts, min(samples), max(samples))
        assert max(samples) > 1.0 + 0.8 * (ceiling - 1.0)  # the range is really used: it grows
    # The same seed gives the same delays (tests and reruns are reproducible).
    first = [policy.delay(n, None, random.Random(7)) for n in range(1, 10)]
    again = [policy.delay(n, None, random.Random(7)) for n in range(1, 10)]
    assert first == again
    assert RetryPolicy().delay(0, None, random.Random(1)) <= 2.0  # attempts 0 counts as the first


def test_delay_stays_bounded_for_very_many_attempts():
    policy = RetryPolicy(max_attempts=5000)
    assert policy.delay(1100, None, random.Random(1)) <= policy.cap_seconds


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"max_attempts": -1},
        {"base_seconds": 0},
        {"base_seconds": -2},
        {"base_seconds": 10, "cap_seconds": 5},
        {"cap_seconds": 1},
    ],
    ids=["no-attempts", "negative-attempts", "zero-base", "negative-base", "cap-below-base", "default-base-over-cap"],
)
def test_invalid_retry_policies_are_refused(settings):
    with pytest.raises(ValueError, match="invalid retry policy"):
        RetryPolicy(**settings)


def test_the_smallest_valid_policy_is_accepted():
    policy = RetryPolicy(max_attempts=1, base_seconds=0.5, cap_seconds=0.5)
    assert 0.25 <= policy.delay(5, None, random.Random(3)) <= 0.5


# ---- several workers at once ---------------------------------------------------------------


def test_four_workers_process_every_event_once_and_each_ticket_in_order(inbox):
    tickets = [f"T{n}" for n in range(8)]
    expected: dict[str, list[str]] = {ticket: [] for ticket in tickets}
    for n in range(40):
        ticket = tickets[(n * 3) % 8]  # interleaved, five events per ticket
        delivery = f"{ticket}-e{len(expected[ticket])}"
        add(inbox, ticket, delivery, at(n * 0.001))
        expected[ticket].append(delivery)
    now = at(10)

    lock = threading.Lock()
    processed: list[tuple[str, str, str]] = []  # (ticket key, delivery id, owner), in order
    in_flight: set[str] = set()
    overlaps: list[str] = []
    errors: list[BaseException] = []
    deadline = time.monotonic() + 60

    def work(owner: str) -> None:
        try:
            while time.monotonic() < deadline:
                event = inbox.claim(owner, now)
                if event is None:
                    with lock:
                        if len(processed) == 40:
                            return
                    time.sleep(0.002)
                    continue
                with lock:
                    if event.ticket_key in in_flight:
                        overlaps.append(event.delivery_id)
                    in_flight.add(event.ticket_key)
                    processed.append((event.ticket_key, event.delivery_id, owner))
                time.sleep(0.001)  # some work, while other workers claim
                with lock:
                    in_flight.discard(event.ticket_key)
                assert inbox.finish(event.id, owner, EventStatus.DONE, now, {"by": owner})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    deliveries = [delivery for _, delivery, _ in processed]
    assert sorted(deliveries) == sorted(d for ds in expected.values() for d in ds)  # each exactly once
    assert overlaps == []  # never two events of one ticket at the same time
    for ticket in tickets:
        assert [d for key, d, _ in processed if key == f"zendesk:{ticket}"] == expected[ticket]
    assert inbox.counts() == {("zendesk", "done"): 40}
    assert len({owner for _, _, owner in processed}) > 1  # the work really was shared
