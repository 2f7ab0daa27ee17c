"""In-process fake of the Zendesk Support API, served over real HTTP for the real zenpy.

Why: mocking zenpy's Python objects tests our assumptions about zenpy, not zenpy.
Here the real ``zenpy.Zenpy`` client (2.0.57) builds real URLs, serialises real
bodies, parses real responses and raises its real exceptions, while the fake records
every request so tests can assert on what would have gone over the wire. Response
shapes follow the recorded Zendesk responses in ``/work/shared/fixtures/real/api/``
(see ``SOURCES.md`` there); the small error bodies are embedded below byte-for-byte and
``tests/test_fakes.py`` checks them against the recordings.

Pointing zenpy at the fake (read from zenpy/lib/api.py)
-------------------------------------------------------
``BaseApi._build_url`` reads ``os.environ["ZENPY_FORCE_SCHEME"]`` and the ``base_url``
property reads ``os.environ["ZENPY_FORCE_NETLOC"]`` **every time a URL is built, i.e.
per request**, not at client construction. So: the variables must stay set for as long
as the client is used (``monkeypatch.setenv`` for the whole test does this), they may be
set before or after ``Zenpy(...)``, and because they are process-global every zenpy
client in the process follows them (two fakes in one test cannot be told apart). The
subdomain is still required (``subdomain=None`` raises) but is ignored for the host.
``GenericZendeskResponseHandler`` also checks ``base_url in response.request.url``, which
holds because the same variable is read for both.

HTTP adapter difference: ``Zenpy._init_session`` mounts an ``HTTPAdapter`` with
``Retry(total=3, status_forcelist=[413, 503], respect_retry_after_header=False)``
**only for https://**. Over http:// the plain requests adapter (no retries) is used, so
with the env vars alone a 503 or a read timeout surfaces at once, unlike production.
``tests/fakes/fixtures.make_zenpy_client`` mounts the same adapter on http:// so tests
see production behaviour (urllib3 re-sends GET/PUT/DELETE on 503 and on read timeouts,
immediately -- backoff factor 0 -- then raises ``requests.exceptions.RetryError`` /
``requests.exceptions.ConnectionError``; POST/PATCH are not retried on 503 or read
timeouts, only on connection failures, like every method).

What zenpy sends and returns (observed against this fake, see tests/test_fakes.py)
----------------------------------------------------------------------------------
``client.tickets(id=N)`` -> ``GET /api/v2/tickets/N.json``; ``include=["users"]`` adds
``?include=users`` (a list is comma-joined). ``client.tickets.update(ticket)`` ->
``PUT /api/v2/tickets/N.json`` with ``{"ticket": {"id": N, <assigned attributes>}}`` and
returns a ``TicketAudit`` (``.ticket``, ``.audit``), not a ``Ticket``; ``tags`` go out as
the whole list (replace semantics). ``client.tickets.update([t1, t2])`` -> ``PUT
/api/v2/tickets/update_many.json`` with ``{"tickets": [...]}`` (no ``?ids=``) and returns a
queued ``JobStatus``; poll with ``client.job_status(id=...)``. Listing calls
(``client.groups()``, ``client.tickets.comments(ticket=N)``) add ``page[size]=100``.
Headers: ``Authorization: Basic base64("<email>/token:<token>")``, ``User-Agent:
Zenpy/2.0.57``.

What zenpy raises (zenpy.lib.exception; ``APIException`` is NOT a ``ZenpyException``)
-------------------------------------------------------------------------------------
``Api._check_response`` parses any non-2xx body as JSON: ``error == "RecordNotFound"`` ->
``RecordNotFoundException``; ``"TooManyValues"`` -> ``TooManyValuesException``;
``"invalid"`` with 422 -> ``SearchResponseLimitExceeded``; any other JSON -> ``APIException``
(``str(exc)`` is the JSON body, ``exc.response`` the requests response). So 409
``UpdateConflict``, 422 ``RecordInvalid`` and 401 all raise plain ``APIException``. A
non-JSON body (the real plain-text 429, an empty 500/503) makes ``response.json()`` fail
and zenpy calls ``raise_for_status()`` -> ``requests.exceptions.HTTPError``.

429 / rate-limit budget / timeout (zenpy/lib/api.py ``_call_api``)
-----------------------------------------------------------------
On 429 zenpy loops ``while int(headers["retry-after"]) > 0``: it sleeps the Retry-After
seconds one second at a time and re-sends the same request, for as long as the server
keeps answering 429 with a positive Retry-After -- **without ``ratelimit_budget`` it can
sleep forever**. (A 429 without Retry-After, or with ``0``, is not retried: plain-text
body -> ``HTTPError``, JSON body -> ``APIException``. A non-integer Retry-After, e.g. an
HTTP date, raises ``ValueError``.) ``Zenpy(ratelimit_budget=N)`` charges one unit before
each one-second sleep and raises ``zenpy.lib.exception.RatelimitBudgetExceeded`` (a
``ZenpyException``) when the remaining budget drops below 1, so at most N-1 seconds are
ever slept; ``ratelimit_budget=0`` or ``1`` means "never sleep, raise on the first 429
that carries a Retry-After". The budget is a running total per API object
(``client.tickets``, ``client.users``, ... each hold a copy) for the client's lifetime;
it is never replenished, so long-lived clients should be rebuilt or the budget reset.
``proactive_ratelimit=R`` (with ``proactive_ratelimit_request_interval=S``, default 10)
makes zenpy sleep -- charged to the same budget -- before a request when the previous
response's ``X-Rate-Limit-Remaining`` was below R and fewer than S seconds have passed;
a missing header counts as 0, which is why this fake always sends the header (see
``rate_limit_remaining``). ``timeout`` is passed to every ``requests`` call (connect and
read, seconds); ``None``/``0`` mean the default 60.0. A read timeout raises
``requests.exceptions.ReadTimeout`` (not wrapped by zenpy) -- or, with the https retry
adapter, ``requests.exceptions.ConnectionError`` after urllib3 re-sent the request 3 more
times, so **a PUT that times out may be applied up to 4 times**.

Fidelity notes (where the fake has to choose)
---------------------------------------------
* Single ``PUT /tickets/{id}``: applies subject, status, priority, type, group_id,
  assignee_id, requester_id, tags (replace; a string is split on whitespace),
  custom_fields/fields (merged by field id, as Zendesk does), comment, and other writable
  TicketObject fields verbatim. Keys the spec marks readOnly or does not declare
  (including ``additional_tags``/``remove_tags``, which the spec declares only for
  update_many) are ignored and listed in an ``x-zendesk-api-warn`` header shaped like
  the recorded one. ``update_many`` honours ``additional_tags``/``remove_tags``.
* ``safe_update`` (any value, per the spec) + ``updated_stamp`` older or newer than the
  ticket's ``updated_at`` -> 409 ``CONFLICT_BODY``. The spec documents neither the 409
  for UpdateTicket nor its body; the body is the one Zendesk is known to send, not a
  recording. Comparison is by instant, so ``Z`` and ``+00:00`` forms are equal.
* ``updated_at`` moves only when an update generates an audit event (the spec: "It is
  updated only if the update generates a ticket event"); a no-op PUT returns 200 with
  empty ``audit.events`` and leaves it alone. Time comes from a counter clock starting
  at ``2024-01-01T00:00:00Z`` and advancing one second per tick, so it is deterministic
  and strictly increasing (also past any ``updated_at`` a test seeded).
* Errors: unknown ticket/user/job -> 404 recorded ``RecordNotFound``; update of a
  ``closed`` ticket -> 422 recorded ``RecordInvalid``; more than 100 ids -> 400 recorded
  ``TooManyValues``; no/invalid credentials -> 401 recorded body. Order: 404, 422, 409.
* ``update_many`` applies the changes immediately and answers the recorded ``queued``
  job status; the first ``GET /job_statuses/{id}`` answers ``completed`` with
  per-ticket results (``UpdateResourceResult`` / ``FailedResult`` shapes from the spec;
  the failure ``error``/``details`` reuse the single-update error codes).
* Endpoints not listed in ``_ROUTES`` answer 501 ``FakeZendeskUnsupportedEndpoint`` --
  a body no real Zendesk sends, so a missing fake endpoint is obvious, never a silent 404.
* Status side effects Zendesk applies (``new`` -> ``open`` on agent update, triggers,
  SLA) are not modelled.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# -- recorded bodies (byte-exact content of /work/shared/fixtures/real/api/*) -----------

RECORD_NOT_FOUND_BODY: dict[str, Any] = {"error": "RecordNotFound", "description": "Not found"}
RECORD_INVALID_CLOSED_BODY: dict[str, Any] = {
    "error": "RecordInvalid",
    "description": "Record validation errors",
    "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
}
UNAUTHORIZED_BODY: dict[str, Any] = {"error": "Couldn't authenticate you"}
TOO_MANY_VALUES_BODY: dict[str, Any] = {
    "error": "TooManyValues",
    "description": "Parameter  cannot specify more than 100 values",
    "max_count": 100,
}
RATE_LIMIT_PLAIN_TEXT_BODY: bytes = b"Number of allowed API requests per minute exceeded"
# Not recorded and not in the spec: the body Zendesk sends for a stale safe_update.
CONFLICT_BODY: dict[str, Any] = {
    "error": "UpdateConflict",
    "description": "Safe Update prevented the update due to outdated ticket data. "
    "Please fetch the latest ticket data and try again.",
}

# Writable, non-write-only TicketObject properties (spec: not readOnly). A test checks
# this against the spec so drift is caught.
TICKET_WRITABLE_FIELDS: frozenset[str] = frozenset(
    {
        "assignee_id",
        "brand_id",
        "collaborator_ids",
        "custom_fields",
        "custom_status_id",
        "description",
        "due_at",
        "external_id",
        "fields",
        "forum_topic_id",
        "group_id",
        "organization_id",
        "priority",
        "problem_id",
        "raw_subject",
        "recipient",
        "requester_id",
        "sharing_agreement_ids",
        "status",
        "subject",
        "submitter_id",
        "support_type",
        "tags",
        "ticket_form_id",
        "type",
    }
)
# writeOnly TicketObject properties: accepted silently (they are instructions, not state).
TICKET_WRITE_ONLY_FIELDS: frozenset[str] = frozenset(
    {
        "additional_collaborators",
        "assignee_email",
        "attribute_value_ids",
        "collaborators",
        "comment",
        "email_ccs",
        "followers",
        "macro_id",
        "macro_ids",
        "metadata",
        "origin_zrn",
        "requester",
        "safe_update",
        "sharing_agreements",
        "suspended_ticket_id",
        "suspension_type_id",
        "system_metadata",
        "tde_workspace",
        "tpe_voice_comment",
        "updated_stamp",
        "via_followup_source_id",
        "via_id",
        "voice_comment",
    }
)
_TAG_DELTA_FIELDS = frozenset({"additional_tags", "remove_tags"})
_MAX_MANY = 100
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


# -- public value types --------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (``status`` is what the fake answered)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any | None
    raw: bytes
    status: int = 0
    injected: bool = False  # True when a fail_next() fault produced the answer


@dataclass
class _Fault:
    status: int
    remaining: int
    headers: dict[str, str]
    body: bytes
    content_type: str
    path_contains: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.path_contains is None or self.path_contains in path) and (
            self.method is None or self.method == method
        )


@dataclass
class _Delay:
    seconds: float
    remaining: int
    path_contains: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.path_contains is None or self.path_contains in path) and (
            self.method is None or self.method == method
        )


@dataclass
class _Reply:
    status: int
    body: Any  # JSON-serialisable, or bytes sent as-is
    headers: dict[str, str] = field(default_factory=dict)


class _Clock:
    """Deterministic time: every tick is one second after the previous one."""

    def __init__(self, start: datetime = _EPOCH) -> None:
        self._now = start

    def tick(self, after: str | None = None) -> str:
        """Advance one second (and past ``after``, if given) and return ISO-8601 UTC."""
        self._now += timedelta(seconds=1)
        if after is not None:
            self._now = max(self._now, parse_time(after) + timedelta(seconds=1))
        return format_time(self._now)


def parse_time(value: str) -> datetime:
    """Parse Zendesk's ``2024-01-01T00:00:00Z`` (and ``+00:00``) timestamps."""
    parsed = datetime.fromisoformat(value)  # 3.11+ accepts "Z"
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the server ------------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    """One request per connection and no access log.

    HTTP/1.0 closes every connection after its response, so no idle keep-alive
    connection (and its server thread) outlives a test; werkzeug would switch a
    threaded server to HTTP/1.1 unless the handler sets the version itself.
    """

    protocol_version = "HTTP/1.0"
    timeout = 10  # seconds a connected-but-silent client may hold a server thread

    def handle(self) -> None:
        fake: FakeZendesk = self.server.fake  # type: ignore[attr-defined]
        fake._connection_opened()
        try:
            super().handle()
        finally:
            fake._connection_closed()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class FakeZendesk:
    """A stateful Zendesk Support API on 127.0.0.1 for the real zenpy client.

    State lives in plain dicts (``tickets``, ``users``, ``groups``) that tests may read;
    mutate through the helpers so ids, timestamps and comments stay consistent. All
    access from the server threads goes through one lock.
    """

    def __init__(
        self,
        *,
        subdomain: str = "example",
        me: Mapping[str, Any] | None = None,
        token: str | None = None,
        require_auth: bool = True,
    ) -> None:
        """``token``: if set, only that API/OAuth token is accepted; ``me``: overrides
        for the integration's own user (``GET /users/me.json``)."""
        self.subdomain = subdomain
        self.token = token
        self.require_auth = require_auth
        self.rate_limit = 700
        self.rate_limit_remaining = 699  # sent as X-Rate-Limit-Remaining (see docstring)
        self.tickets: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._comments: dict[int, list[dict[str, Any]]] = {}
        self._jobs: dict[str, dict[str, Any]] = {}
        self._log: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._lock = threading.RLock()
        self._clock = _Clock()
        self._event_ids = itertools.count(10_000_001)
        self._job_ids = itertools.count(1)
        self._open_connections = 0
        self._connections_idle = threading.Condition(threading.Lock())
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._urls = Map(
            [Rule(path, endpoint=name, methods=[verb]) for verb, path, name in _ROUTES],
            strict_slashes=False,
        )
        self.me = self.add_user(
            **{
                "name": "Dispute Desk Bot",
                "email": "bot@example.com",
                "role": "admin",
                **(me or {}),
            }
        )

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on an OS-chosen port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeZendesk already started")
        self._stopping.clear()
        server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeZendesk:{server.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake held (delayed) responses and wait for open connections."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join(timeout)
        server.server_close()
        self._server = self._thread = None
        if not self._wait_connections_closed(timeout):
            warnings.warn("FakeZendesk.stop(): connections still open after timeout", stacklevel=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeZendesk is not started")
        return int(self._server.port)

    @property
    def netloc(self) -> str:
        """Value for ``ZENPY_FORCE_NETLOC``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    def _connection_opened(self) -> None:
        with self._connections_idle:
            self._open_connections += 1

    def _connection_closed(self) -> None:
        with self._connections_idle:
            self._open_connections -= 1
            self._connections_idle.notify_all()

    def _wait_connections_closed(self, timeout: float) -> bool:
        with self._connections_idle:
            return self._connections_idle.wait_for(lambda: self._open_connections == 0, timeout)

    # -- request log -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def writes(self) -> list[RecordedRequest]:
        """Requests that could change state (everything but GET/HEAD/OPTIONS)."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD", "OPTIONS")]

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | Mapping[str, Any] | list[Any] | None = None,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` without applying them.

        Defaults mirror real Zendesk where a recording exists: 429 sends the recorded
        plain-text body and ``Retry-After: 1`` (pass ``headers={}`` to omit it); 401, 404,
        409 and 422 send the recorded/known JSON bodies; other statuses (500, 503, ...)
        send an empty body, since no real one was recorded. Faults queue in call order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        payload, content_type = _fault_body(status, body)
        fault_headers = dict(
            {"Retry-After": "1"} if status == 429 and headers is None else headers or {}
        )
        fault = _Fault(
            status,
            times,
            fault_headers,
            payload,
            content_type,
            path_contains,
            method.upper() if method else None,
        )
        with self._lock:
            self._faults.append(fault)

    def delay_next(
        self,
        seconds: float,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Hold the response of the next ``times`` matching requests for ``seconds``.

        The request is applied first and the answer is held afterwards, so a client
        timeout leaves the fake in the "server did it, client does not know" state -- the
        case that makes retried writes dangerous. ``stop()`` releases held responses.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._delays.append(
                _Delay(seconds, times, path_contains, method.upper() if method else None)
            )

    def clear_faults(self) -> None:
        """Drop faults and delays that have not fired yet."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def _take(self, queue: list[Any], method: str, path: str) -> Any:
        with self._lock:
            for item in queue:
                if item.matches(method, path):
                    item.remaining -= 1
                    if item.remaining == 0:
                        queue.remove(item)
                    return item
        return None

    # -- seeding and inspection ----------------------------------------------------------

    def add_user(
        self,
        id: int | None = None,
        name: str = "Requester",
        email: str | None = None,
        role: str = "end-user",
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a user shaped like the recorded ``users/me`` response's ``user``."""
        with self._lock:
            user_id = id if id is not None else _next_id(self.users, 9_000_001)
            now = self._clock.tick()
            user = {
                "id": user_id,
                "url": self._api_url(f"users/{user_id}.json"),
                "name": name,
                "email": email or f"user{user_id}@example.com",
                "created_at": now,
                "updated_at": now,
                "time_zone": "America/New_York",
                "iana_time_zone": "America/New_York",
                "phone": None,
                "shared_phone_number": None,
                "photo": None,
                "locale_id": 1,
                "locale": "en-US",
                "organization_id": None,
                "role": role,
                "verified": True,
                "external_id": None,
                "tags": [],
                "alias": None,
                "active": True,
                "shared": False,
                "shared_agent": False,
                "last_login_at": None,
                "two_factor_auth_enabled": None,
                "signature": None,
                "details": None,
                "notes": None,
                "role_type": None,
                "custom_role_id": None,
                "moderator": role == "admin",
                "ticket_restriction": None,
                "only_private_comments": False,
                "restricted_agent": role != "admin",
                "suspended": False,
                "default_group_id": None,
                "report_csv": role == "admin",
                "user_fields": {},
            }
            user.update(fields)
            self.users[user_id] = user
            return copy.deepcopy(user)

    def add_group(
        self, id: int | None = None, name: str = "Support", **fields: Any
    ) -> dict[str, Any]:
        """Create a group shaped like the spec's GroupObject."""
        with self._lock:
            group_id = id if id is not None else _next_id(self.groups, 360_000_001)
            now = self._clock.tick()
            group = {
                "id": group_id,
                "url": self._api_url(f"groups/{group_id}.json"),
                "name": name,
                "description": "",
                "default": False,
                "deleted": False,
                "is_public": True,
                "created_at": now,
                "updated_at": now,
            }
            group.update(fields)
            self.groups[group_id] = group
            return copy.deepcopy(group)

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """Create a ticket shaped like the recorded PUT response's ``ticket``.

        ``description`` also becomes the first (public) comment, authored by the
        requester, as on a real ticket. Unknown ``requester_id``s get a user created.
        """
        with self._lock:
            ticket_id = fields.pop("id", None) or _next_id(self.tickets, 1001)
            requester_id = fields.pop("requester_id", None) or self._default_requester()
            if requester_id not in self.users:
                self.add_user(id=requester_id)
            created = fields.pop("created_at", None) or self._clock.tick()
            ticket = self._ticket_template(ticket_id, requester_id, created)
            ticket.update(fields)
            ticket["raw_subject"] = fields.get("raw_subject", ticket["subject"])
            ticket["fields"] = copy.deepcopy(ticket["custom_fields"])
            self.tickets[ticket_id] = ticket
            self._comments[ticket_id] = []
            if ticket["description"]:
                self._append_comment(
                    ticket_id,
                    {"body": ticket["description"], "public": True},
                    requester_id,
                    ticket["created_at"],
                    audit_id=next(self._event_ids),
                )
            return copy.deepcopy(ticket)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """Current state of a ticket (a copy); KeyError if unknown."""
        with self._lock:
            return copy.deepcopy(self.tickets[ticket_id])

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Comments of a ticket, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(self._comments[ticket_id])

    def update_ticket(self, ticket_id: int, **changes: Any) -> dict[str, Any]:
        """Apply an update server-side, as another agent would (not logged).

        Use it to make a test's earlier ``updated_at`` stale before a safe update.
        """
        reply = self._update_ticket(ticket_id, changes, author_id=self.me["id"], tag_deltas=True)
        if reply.status != 200:
            raise ValueError(f"update_ticket({ticket_id}) failed: {reply.status} {reply.body}")
        return self.ticket(ticket_id)

    def _default_requester(self) -> int:
        others = [u for u in self.users.values() if u["id"] != self.me["id"]]
        return others[0]["id"] if others else self.add_user(name="Customer")["id"]

    def _ticket_template(self, ticket_id: int, requester_id: int, created: str) -> dict[str, Any]:
        return {
            "url": self._api_url(f"tickets/{ticket_id}.json"),
            "id": ticket_id,
            "external_id": None,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": created,
            "updated_at": created,
            "type": None,
            "subject": f"Ticket {ticket_id}",
            "raw_subject": None,
            "description": f"Description of ticket {ticket_id}",
            "priority": None,
            "status": "new",
            "recipient": None,
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": None,
            "organization_id": None,
            "group_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": [],
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": None,
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": None,
            "brand_id": None,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }

    def _api_url(self, path: str) -> str:
        # Object "url" fields name the real host, as Zendesk would; zenpy builds its
        # own URLs from ids, so these are informational only.
        return f"https://{self.subdomain}.zendesk.com/api/v2/{path}"

    # -- WSGI entry ------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        raw = request.get_data(cache=True)
        method, path = request.method.upper(), request.path
        fault = self._take(self._faults, method, path)
        if fault is not None:
            reply = _Reply(
                fault.status, fault.body, {"Content-Type": fault.content_type, **fault.headers}
            )
        else:
            reply = self._dispatch(request, raw)
        self._record(request, raw, reply.status, injected=fault is not None)
        delay = self._take(self._delays, method, path)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        return self._to_response(reply)(environ, start_response)

    def _dispatch(self, request: Request, raw: bytes) -> _Reply:
        if self.require_auth and not self._authorized(request.headers.get("Authorization", "")):
            return _Reply(401, UNAUTHORIZED_BODY)
        adapter = self._urls.bind("127.0.0.1")
        try:
            endpoint, args = adapter.match(request.path, method=request.method)
        except (NotFound, MethodNotAllowed) as exc:
            return _unsupported(request.method, request.path, exc)
        body = _parse_json(raw)
        handler: Callable[..., _Reply] = getattr(self, f"_h_{endpoint}")
        with self._lock:
            return handler(request.args, body, **args)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return bool(credentials) and self.token in (None, credentials)
        if scheme.lower() != "basic":
            return False
        try:
            user, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user.endswith("/token") and bool(secret) and self.token in (None, secret)

    def _record(self, request: Request, raw: bytes, status: int, injected: bool) -> None:
        entry = RecordedRequest(
            method=request.method.upper(),
            path=request.path,
            query=request.args.to_dict(flat=True),
            headers=dict(request.headers.items()),
            json=_parse_json(raw),
            raw=raw,
            status=status,
            injected=injected,
        )
        with self._lock:
            self._log.append(entry)

    def _to_response(self, reply: _Reply) -> Response:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Rate-Limit": str(self.rate_limit),
            "X-Rate-Limit-Remaining": str(self.rate_limit_remaining),
            "X-Zendesk-API-Version": "v2",
            **reply.headers,
        }
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        return Response(data, status=reply.status, headers=headers)

    # -- endpoint handlers (called with the lock held) --------------------------------------

    def _h_users_me(self, query: Mapping[str, str], body: Any) -> _Reply:
        return _Reply(200, {"user": copy.deepcopy(self.users[self.me["id"]])})

    def _h_user(self, query: Mapping[str, str], body: Any, user_id: int) -> _Reply:
        if user_id not in self.users:
            return _Reply(404, RECORD_NOT_FOUND_BODY)
        return _Reply(200, {"user": copy.deepcopy(self.users[user_id])})

    def _h_users_show_many(self, query: Mapping[str, str], body: Any) -> _Reply:
        ids = _id_list(query.get("ids", ""))
        if len(ids) > _MAX_MANY:
            return _Reply(400, TOO_MANY_VALUES_BODY)
        found = [copy.deepcopy(self.users[i]) for i in ids if i in self.users]
        return _Reply(200, _page("users", found, query))

    def _h_groups(self, query: Mapping[str, str], body: Any) -> _Reply:
        groups = [copy.deepcopy(g) for _, g in sorted(self.groups.items())]
        return _Reply(200, _page("groups", groups, query))

    def _h_tickets_show_many(self, query: Mapping[str, str], body: Any) -> _Reply:
        """Up to 100 tickets by id; unknown ids are left out (no 404), sideloads merged."""
        ids = _id_list(query.get("ids", ""))
        if len(ids) > _MAX_MANY:
            return _Reply(400, TOO_MANY_VALUES_BODY)
        tickets = [self.tickets[i] for i in ids if i in self.tickets]
        payload: dict[str, Any] = {"tickets": copy.deepcopy(tickets)}
        for ticket in tickets:
            for name, records in self._sideloads(ticket, query.get("include", "")).items():
                merged = payload.setdefault(name, [])
                merged.extend(r for r in records if r["id"] not in {m["id"] for m in merged})
        return _Reply(200, payload)

    def _h_tickets_list(self, query: Mapping[str, str], body: Any) -> _Reply:
        """List Tickets; only the ``external_id`` filter is modelled."""
        wanted = query.get("external_id")
        tickets = [t for _, t in sorted(self.tickets.items()) if wanted is None or t.get("external_id") == wanted]
        return _Reply(200, _page("tickets", copy.deepcopy(tickets), query))

    def _h_tickets_create(self, query: Mapping[str, str], body: Any) -> _Reply:
        """Create Ticket as an agent: the ``comment`` is the first comment, by us; a
        ``via_followup_source_id`` naming a closed ticket makes it that ticket's follow-up."""
        fields = dict(body.get("ticket") or {}) if isinstance(body, dict) else {}
        comment = fields.pop("comment", None)
        if not isinstance(comment, dict) or not comment.get("body"):
            return _Reply(422, {"error": "RecordInvalid", "description": "Record validation errors", "details": {"description": [{"description": "Description: cannot be blank"}]}})
        source = fields.pop("via_followup_source_id", None)
        fields.pop("safe_update", None)
        ticket = self.add_ticket(**{k: v for k, v in fields.items() if k in TICKET_WRITABLE_FIELDS}, description="")
        with self._lock:
            stored = self.tickets[ticket["id"]]
            stored["description"] = comment["body"]
            if source is not None and self.tickets.get(int(source), {}).get("status") == "closed":
                stored["via"] = {"channel": "api", "source": {"from": {"ticket_id": int(source)}, "to": {}, "rel": "follow_up"}}
            self._append_comment(stored["id"], {"body": comment["body"], "public": comment.get("public", True)}, self.me["id"], stored["created_at"], audit_id=next(self._event_ids))
            return _Reply(201, {"ticket": copy.deepcopy(stored), "audit": self._audit(stored, [], self.me["id"])})

    def _h_ticket_show(self, query: Mapping[str, str], body: Any, ticket_id: int) -> _Reply:
        if ticket_id not in self.tickets:
            return _Reply(404, RECORD_NOT_FOUND_BODY)
        ticket = self.tickets[ticket_id]
        payload: dict[str, Any] = {"ticket": copy.deepcopy(ticket)}
        payload.update(self._sideloads(ticket, query.get("include", "")))
        return _Reply(200, payload)

    def _h_ticket_comments(self, query: Mapping[str, str], body: Any, ticket_id: int) -> _Reply:
        if ticket_id not in self.tickets:
            return _Reply(404, RECORD_NOT_FOUND_BODY)
        return _Reply(200, _page("comments", copy.deepcopy(self._comments[ticket_id]), query))

    def _h_ticket_update(self, query: Mapping[str, str], body: Any, ticket_id: int) -> _Reply:
        changes = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(changes, dict):
            return _Reply(
                400,
                {"error": "FakeZendeskBadRequest", "description": 'body must be {"ticket": {...}}'},
            )
        ignored = sorted(
            k for k in changes if k not in TICKET_WRITABLE_FIELDS | TICKET_WRITE_ONLY_FIELDS
        )
        reply = self._update_ticket(ticket_id, changes, author_id=self.me["id"], tag_deltas=False)
        if ignored:
            reply.headers["x-zendesk-api-warn"] = _api_warning(
                "update", [f"ticket.{k}" for k in ignored]
            )
        return reply

    def _h_tickets_update_many(self, query: Mapping[str, str], body: Any) -> _Reply:
        plan = _update_many_plan(query, body)
        if isinstance(plan, _Reply):
            return plan
        results = []
        for ticket_id, changes in plan:
            reply = self._update_ticket(
                ticket_id, changes, author_id=self.me["id"], tag_deltas=True
            )
            results.append(_job_result(ticket_id, reply))
        return _Reply(200, {"job_status": self._queue_job(results)})

    def _h_job_status(self, query: Mapping[str, str], body: Any, job_id: str) -> _Reply:
        job = self._jobs.get(job_id)
        if job is None:
            return _Reply(404, RECORD_NOT_FOUND_BODY)
        if job["status"] != "completed":  # the first poll completes the job
            finished = self._clock.tick()[:19].replace("T", " ")
            job.update(
                status="completed",
                progress=job["total"],
                results=job.pop("_results"),
                message=f"Completed at {finished} +0000",
            )
        return _Reply(200, {"job_status": copy.deepcopy(job)})

    # -- ticket update core ------------------------------------------------------------------

    def _update_ticket(
        self, ticket_id: int, changes: Mapping[str, Any], *, author_id: int, tag_deltas: bool
    ) -> _Reply:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return _Reply(404, RECORD_NOT_FOUND_BODY)
            if ticket["status"] == "closed":
                return _Reply(422, RECORD_INVALID_CLOSED_BODY)
            if _is_stale(ticket, changes):
                return _Reply(409, CONFLICT_BODY)
            events = self._apply_fields(ticket, changes, tag_deltas)
            comment = changes.get("comment")
            if isinstance(comment, dict) and (comment.get("body") or comment.get("html_body")):
                events.append(self._comment_event(ticket, comment, author_id))
            audit = self._audit(ticket, events, author_id)
            return _Reply(200, {"ticket": copy.deepcopy(ticket), "audit": audit})

    def _apply_fields(
        self, ticket: dict[str, Any], changes: Mapping[str, Any], tag_deltas: bool
    ) -> list[dict[str, Any]]:
        events = []
        for name, value in changes.items():
            if name == "tags":
                value = _tag_list(value)
            elif name in ("custom_fields", "fields"):
                name, value = "custom_fields", _merge_fields(ticket["custom_fields"], value)
            elif name not in TICKET_WRITABLE_FIELDS:
                continue
            events += self._set(ticket, name, value)
        if tag_deltas and _TAG_DELTA_FIELDS & changes.keys():
            tags = [t for t in ticket["tags"] if t not in _tag_list(changes.get("remove_tags", []))]
            tags += [t for t in _tag_list(changes.get("additional_tags", [])) if t not in tags]
            events += self._set(ticket, "tags", tags)
        return events

    def _set(self, ticket: dict[str, Any], name: str, value: Any) -> list[dict[str, Any]]:
        previous = ticket.get(name)
        if previous == value:
            return []
        ticket[name] = copy.deepcopy(value)
        if name == "custom_fields":
            ticket["fields"] = copy.deepcopy(value)
        if name == "subject":
            ticket["raw_subject"] = value
        return [
            {
                "id": next(self._event_ids),
                "type": "Change",
                "value": value,
                "field_name": name,
                "previous_value": previous,
            }
        ]

    def _comment_event(
        self, ticket: dict[str, Any], comment: Mapping[str, Any], author_id: int
    ) -> dict[str, Any]:
        audit_id = next(self._event_ids)
        stored = self._append_comment(
            ticket["id"], comment, comment.get("author_id") or author_id, None, audit_id=audit_id
        )
        ticket["is_public"] = ticket["is_public"] or stored["public"]
        return {
            k: stored[k]
            for k in (
                "id",
                "type",
                "author_id",
                "body",
                "html_body",
                "plain_body",
                "public",
                "attachments",
                "audit_id",
            )
        }

    def _append_comment(
        self,
        ticket_id: int,
        comment: Mapping[str, Any],
        author_id: int,
        created_at: str | None,
        *,
        audit_id: int,
    ) -> dict[str, Any]:
        body = comment.get("body") or _strip_html(comment.get("html_body", ""))
        html = comment.get("html_body") or f'<div class="zd-comment"><p>{body}</p></div>'
        stored: dict[str, Any] = {
            "id": next(self._event_ids),
            "type": "Comment",
            "author_id": author_id,
            "body": body,
            "html_body": html,
            "plain_body": body,
            "public": bool(comment.get("public", True)),
            "attachments": [],
            "audit_id": audit_id,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
            "created_at": created_at or self._clock.tick(),
        }
        self._comments[ticket_id].append(stored)
        return stored

    def _audit(
        self, ticket: dict[str, Any], events: list[dict[str, Any]], author_id: int
    ) -> dict[str, Any]:
        if events:
            ticket["updated_at"] = self._clock.tick(after=ticket["updated_at"])
        return {
            "id": next(self._event_ids),
            "ticket_id": ticket["id"],
            "created_at": ticket["updated_at"],
            "author_id": author_id,
            "metadata": {"system": {"client": "FakeZendesk"}, "custom": {}},
            "events": events,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        }

    def _sideloads(self, ticket: Mapping[str, Any], include: str) -> dict[str, Any]:
        wanted = {part.strip() for part in include.split(",") if part.strip()}
        loads: dict[str, Any] = {}
        if "users" in wanted:
            ids = dict.fromkeys(
                i
                for i in (ticket["requester_id"], ticket["submitter_id"], ticket["assignee_id"])
                if i in self.users
            )
            loads["users"] = [copy.deepcopy(self.users[i]) for i in ids]
        if "groups" in wanted:
            loads["groups"] = [
                copy.deepcopy(self.groups[g]) for g in [ticket["group_id"]] if g in self.groups
            ]
        return loads

    def _queue_job(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        job_id = f"V3-{next(self._job_ids):032x}"
        job = {
            "id": job_id,
            "url": self._api_url(f"job_statuses/{job_id}.json"),
            "total": len(results),
            "progress": None,
            "status": "queued",
            "message": None,
            "results": None,
        }
        self._jobs[job_id] = {**job, "_results": results}
        return copy.deepcopy(job)


# -- routing table and pure helpers ----------------------------------------------------------

_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/v2/users/me.json", "users_me"),
    ("GET", "/api/v2/users/show_many.json", "users_show_many"),
    ("GET", "/api/v2/users/<int:user_id>.json", "user"),
    ("GET", "/api/v2/groups.json", "groups"),
    ("PUT", "/api/v2/tickets/update_many.json", "tickets_update_many"),
    ("GET", "/api/v2/tickets/show_many.json", "tickets_show_many"),
    ("GET", "/api/v2/tickets.json", "tickets_list"),
    ("POST", "/api/v2/tickets.json", "tickets_create"),
    ("GET", "/api/v2/tickets/<int:ticket_id>.json", "ticket_show"),
    ("PUT", "/api/v2/tickets/<int:ticket_id>.json", "ticket_update"),
    ("GET", "/api/v2/tickets/<int:ticket_id>/comments.json", "ticket_comments"),
    ("GET", "/api/v2/job_statuses/<job_id>.json", "job_status"),
)


def _next_id(existing: Mapping[int, Any], start: int) -> int:
    return max([start - 1, *existing]) + 1


def _parse_json(raw: bytes) -> Any | None:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


_DEFAULT_FAULT_BODIES: dict[int, bytes | dict[str, Any]] = {
    429: RATE_LIMIT_PLAIN_TEXT_BODY,
    401: UNAUTHORIZED_BODY,
    404: RECORD_NOT_FOUND_BODY,
    409: CONFLICT_BODY,
    422: RECORD_INVALID_CLOSED_BODY,
}


def _fault_body(
    status: int, body: str | bytes | Mapping[str, Any] | list[Any] | None
) -> tuple[bytes, str]:
    if body is None:
        body = _DEFAULT_FAULT_BODIES.get(status, b"")
    if isinstance(body, (Mapping, list)):
        return json.dumps(body).encode(), "application/json; charset=utf-8"
    data = body.encode() if isinstance(body, str) else body
    is_json = _parse_json(data) is not None
    return data, "application/json; charset=utf-8" if is_json else "text/plain; charset=utf-8"


def _unsupported(method: str, path: str, exc: HTTPException) -> _Reply:
    return _Reply(
        501,
        {
            "error": "FakeZendeskUnsupportedEndpoint",
            "description": f"{method} {path} is not implemented by tests/fakes/zendesk.py"
            f" (routing said {exc.code})",
        },
    )


def _page(key: str, items: list[Any], query: Mapping[str, str]) -> dict[str, Any]:
    """One page holding everything; cursor ``meta``/``links`` when zenpy asked for them."""
    page: dict[str, Any] = {
        key: items,
        "next_page": None,
        "previous_page": None,
        "count": len(items),
    }
    if "page[size]" in query:
        page["meta"] = {"has_more": False, "after_cursor": None, "before_cursor": None}
        page["links"] = {"next": None, "prev": None}
    return page


def _id_list(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",") if part.strip().isdigit()]


def _tag_list(value: Any) -> list[str]:
    items = value.split() if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(str(item) for item in items))


def _merge_fields(current: list[dict[str, Any]], incoming: Any) -> list[dict[str, Any]]:
    merged = {f["id"]: dict(f) for f in current}
    for item in incoming or []:
        if isinstance(item, dict) and "id" in item:
            merged[item["id"]] = {"id": item["id"], "value": item.get("value")}
    return list(merged.values())


def _is_stale(ticket: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    if "safe_update" not in changes or not changes.get("updated_stamp"):
        return False
    try:
        return parse_time(str(changes["updated_stamp"])) != parse_time(ticket["updated_at"])
    except ValueError:
        return True


def _strip_html(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def _api_warning(action: str, keys: Iterable[str]) -> str:
    quoted = ", ".join(f'"{k}"' for k in keys)
    return (
        '{:allowed_parameters=>{:controller=>"tickets", :action=>"'
        + action
        + '", :unpermitted_keys=>['
        + quoted
        + "], :invalid_values=>[]}}"
    )


def _update_many_plan(
    query: Mapping[str, str], body: Any
) -> list[tuple[int, dict[str, Any]]] | _Reply:
    """(ticket id, changes) pairs for both update_many forms, or an error reply."""
    if not isinstance(body, dict):
        body = {}
    if "ids" in query and isinstance(body.get("ticket"), dict):
        ids = _id_list(query["ids"])
        plan = [(i, body["ticket"]) for i in ids]
    elif isinstance(body.get("tickets"), list):
        plan = [
            (int(t["id"]), {k: v for k, v in t.items() if k != "id"})
            for t in body["tickets"]
            if isinstance(t, dict) and "id" in t
        ]
    else:
        return _Reply(
            400,
            {
                "error": "FakeZendeskBadRequest",
                "description": 'need ?ids= with {"ticket": {...}} or {"tickets": [...]}',
            },
        )
    if len(plan) > _MAX_MANY:
        return _Reply(400, TOO_MANY_VALUES_BODY)
    return plan


def _job_result(ticket_id: int, reply: _Reply) -> dict[str, Any]:
    if reply.status == 200:
        return {"action": "update", "status": "Updated", "success": True, "id": ticket_id}
    return {
        "action": "update",
        "id": ticket_id,
        "success": False,
        "error": reply.body.get("error", "Error"),
        "details": reply.body.get("description", ""),
    }
