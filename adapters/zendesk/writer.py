"""Zendesk write-back through zenpy: a plan becomes ONE `PUT /api/v2/tickets/{id}`.

The body is built by a pure function (`adapters.zendesk.bodies`, checked against Zendesk's
OpenAPI spec in tests); sending it is a thin layer over the zenpy client that was passed in.

Zenpy would sleep on a 429 for as long as Retry-After says, forever, unless it has a
rate-limit budget. We give it a budget of one second, so it raises instead, and a response
hook keeps the Retry-After it saw: the inbox owns backoff, and no worker blocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from zenpy import Zenpy
from zenpy.lib.endpoint import EndpointFactory
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from adapters.base import AdapterFailure, Conflict, PermanentFailure, TemporaryFailure
from adapters.zendesk.bodies import (
    bulk_entry,
    fits_one_entry,
    follow_up_body,
    job_results,
    update_bodies,
)
from adapters.zendesk.normalize import normalize, refresh
from integration.core.events import TicketEvent
from integration.core.plan import NoteEffect, Plan
from integration.core.references import references_in
from integration.core.ruleset import Department, RuleSet

log = logging.getLogger("dispute_desk.zendesk")

BULK_LIMIT = 100  # update_many: "an array of up to 100 ticket objects"


def make_client(subdomain: str, email: str | None, token: str | None, oauth_token: str | None, timeout: float = 20.0) -> Zenpy:
    """A zenpy client that never blocks a worker: no cache, a timeout, a 1-second 429 budget,
    and no transport retries: zenpy's own adapter re-sends a PUT that timed out, which
    would post a comment twice. The inbox retries whole events, after re-reading the ticket."""
    credentials: dict[str, Any] = {"oauth_token": oauth_token} if oauth_token else {"email": email, "token": token}
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=0))
    session.mount("http://", HTTPAdapter(max_retries=0))
    return Zenpy(subdomain=subdomain, timeout=timeout, ratelimit_budget=1, disable_cache=True, session=session, **credentials)


class RetryAfterHook(threading.local):
    """Remembers the last Retry-After the API sent, which zenpy does not surface. Worker
    threads share one client, so each thread keeps its own: one thread's 429 must not lend
    its wait to another thread's failure."""

    retry_after: float | None = None
    rate_limited: bool = False

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.rate_limited = response.status_code == 429
        self.retry_after = _seconds(response.headers.get("Retry-After")) if response.status_code in (429, 503) else None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class GroupDirectory:
    """Zendesk groups by id and by name, read once at start-up, so departments may name
    their group (`{group: Finance}`) and events can say which department a ticket is in."""

    names: Mapping[str, str] = field(default_factory=dict)  # id -> name

    def id_for(self, department: Department) -> int | None:
        if department.zendesk.get("group_id") is not None:
            return int(department.zendesk["group_id"])
        wanted = str(department.zendesk.get("group", "")).casefold()
        return next((int(gid) for gid, name in self.names.items() if name.casefold() == wanted), None)

    def missing(self, departments: Mapping[str, Department]) -> list[str]:
        return [
            f'department {ident}: no Zendesk group named "{d.zendesk["group"]}"'
            for ident, d in departments.items()
            if "group" in d.zendesk and "group_id" not in d.zendesk and self.id_for(d) is None
        ]


# ---- the I/O part ----------------------------------------------------------------------------


@dataclass
class ZendeskAdapter:
    client: Zenpy
    rules: Callable[[], RuleSet]
    own_user_id: str | None = None
    directory: GroupDirectory = field(default_factory=GroupDirectory)
    groups_read: bool = False
    platform: str = "zendesk"
    hook: RetryAfterHook = field(default_factory=RetryAfterHook)
    # A bulk update is a background job: poll its status up to `job_polls` times, `wait`ing
    # between polls (time.sleep; tests pass their own).
    job_polls: int = 30
    job_poll_seconds: float = 1.0
    wait: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.client.tickets.session.hooks["response"].append(self.hook)

    def start(self) -> list[str]:
        """Learn who we are (users/me) and the account's groups; returns problems to log.
        Only users/me must answer: groups that cannot be listed now are listed again before
        the first write that routes a ticket (which waits for them, retried by the inbox)."""
        self.own_user_id = str(self._get_json(EndpointFactory("users").me())["user"]["id"])
        try:
            self._read_groups()
        except AdapterFailure as failure:
            return [f"could not list the Zendesk groups ({failure}); they are listed again before a ticket is routed"]
        return self.directory.missing(self.rules().departments)

    def _read_groups(self) -> None:
        groups = self._call(lambda: list(self.client.groups()))
        self.directory = GroupDirectory({str(group.id): str(group.name) for group in groups})
        self.groups_read = True

    def normalize(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent:
        return normalize(payload, headers)

    def own_actor_reason(self, event: TicketEvent) -> str | None:
        if self.own_user_id is None:
            return None
        if event.actor_id == self.own_user_id:
            return f"caused by the integration's own user {self.own_user_id}"
        if event.comment and event.comment.author_id == self.own_user_id:
            return f"comment written by the integration's own user {self.own_user_id}"
        return None

    def unwritable_reason(self, event: TicketEvent) -> str | None:
        if event.status == "closed":
            # Zendesk answers 422 to any update of a closed ticket; a follow-up ticket is its way.
            return "the ticket is closed, and Zendesk does not change closed tickets: the plan was not written"
        return None

    def open_follow_up(self, plan: Plan, external_id: str) -> dict[str, Any]:
        """Open (once) the follow-up of a closed ticket that carries this plan."""
        found = self._get_json(EndpointFactory("tickets")(), {"external_id": external_id}).get("tickets", [])
        if found:
            return {"writes": 0, "follow_up": found[0]["id"], "already": True}
        departments = self.rules().departments
        body = follow_up_body(plan, self._group_ids(departments), external_id)
        audit = self._send("POST", EndpointFactory("tickets")(), {"ticket": body})
        return {"writes": 1, "follow_up": audit.ticket.id, "bodies": [body], "warnings": self._routing_warnings(plan, departments)}

    def refresh(self, event: TicketEvent) -> TicketEvent:
        endpoint = EndpointFactory("tickets")(id=int(event.ticket_id), include=["users", "organizations"])
        data = self._get_json(endpoint)
        return self._fresh(event, data["ticket"], data)

    def refresh_many(self, events: Sequence[TicketEvent]) -> dict[str, TicketEvent]:
        """Read many tickets with `show_many` (up to 100 a call); a ticket the API did not
        return (deleted, say) is left out, for the caller to read on its own."""
        fresh: dict[str, TicketEvent] = {}
        for start in range(0, len(events), BULK_LIMIT):
            chunk = events[start : start + BULK_LIMIT]
            endpoint = EndpointFactory("tickets")(ids=[int(event.ticket_id) for event in chunk], include=["users", "organizations"])
            data = self._get_json(endpoint)
            tickets = {str(ticket.get("id")): ticket for ticket in data.get("tickets", [])}
            fresh.update({event.ticket_id: self._fresh(event, tickets[event.ticket_id], data) for event in chunk if event.ticket_id in tickets})
        return fresh

    def _fresh(self, event: TicketEvent, ticket: Mapping[str, Any], data: Mapping[str, Any]) -> TicketEvent:
        fresh = refresh(event, ticket, data.get("users", ()), data.get("organizations", ()))
        return fresh.with_state(group_name=self.directory.names.get(fresh.group_id or "", fresh.group_name))

    def references_on_ticket(self, event: TicketEvent) -> set[str]:
        endpoint = EndpointFactory("tickets").comments(id=int(event.ticket_id))
        data = self._get_json(endpoint, {"sort_order": "desc"})
        return references_in([str(comment.get("body", "")) for comment in data.get("comments", []) if self._ours(comment)])

    def _ours(self, comment: Mapping[str, Any]) -> bool:
        """Only our own comments count: a customer quoting a reference must not make an event
        believe its note is already on the ticket."""
        return self.own_user_id is None or str(comment.get("author_id")) == str(self.own_user_id)

    def apply(self, plan: Plan, extra_notes: list[NoteEffect]) -> dict[str, Any]:
        departments = self.rules().departments
        bodies = update_bodies(plan, self._group_ids(departments), extra_notes)
        stamp: str | None = None
        for index, body in enumerate(bodies):
            if index and stamp:
                body = {"safe_update": True, "updated_stamp": stamp, **body}  # guarded by the first write's stamp
            ticket_id = int(plan.event.ticket_id)
            try:
                result = self._send("PUT", EndpointFactory("tickets")(id=ticket_id), {"ticket": {"id": ticket_id, **body}})
            except Conflict as conflict:
                raise Conflict(str(conflict), partial=index > 0) from None
            stamp = _updated_at(result)
        return {"writes": len(bodies), "bodies": bodies, "warnings": self._routing_warnings(plan, departments)}

    def batchable(self, plan: Plan) -> bool:
        return fits_one_entry(plan)

    def apply_many(self, plans: list[Plan]) -> dict[str, dict[str, Any] | AdapterFailure]:
        """Write many plans with `update_many`, at most 100 tickets a call, and wait for each
        job to finish: its results say, ticket by ticket, what landed."""
        departments = self.rules().departments
        answers: dict[str, dict[str, Any] | AdapterFailure] = {}
        for start in range(0, len(plans), BULK_LIMIT):
            chunk = plans[start : start + BULK_LIMIT]
            entries = [bulk_entry(plan, self._group_ids(departments)) for plan in chunk]
            job = self._send("PUT", EndpointFactory("tickets")(update_many=True), {"tickets": entries})
            answers.update(self._finished_job(str(job.id)))
            for plan, entry in zip(chunk, entries, strict=True):
                written = answers.get(plan.event.ticket_id)
                if isinstance(written, dict):
                    written.update(bodies=[entry], warnings=self._routing_warnings(plan, departments))
        return answers

    def _finished_job(self, job_id: str) -> dict[str, dict[str, Any] | AdapterFailure]:
        for poll in range(self.job_polls):
            if poll:
                self.wait(self.job_poll_seconds)
            job = self._get_json(EndpointFactory("job_statuses")(id=job_id))["job_status"]
            if job.get("status") in ("completed", "failed", "killed"):
                return job_results(job)
        waited = (self.job_polls - 1) * self.job_poll_seconds
        raise TemporaryFailure(f"Zendesk bulk update job {job_id} still running after {waited:g} s")

    def _group_ids(self, departments: Mapping[str, Department]) -> Callable[[str], int | None]:
        """A department's Zendesk group id, by department id."""
        if not self.groups_read:
            self._read_groups()
        return lambda department: self.directory.id_for(departments[department])

    def _routing_warnings(self, plan: Plan, departments: Mapping[str, Department]) -> list[str]:
        department = plan.effects.department
        if department and self.directory.id_for(departments[department]) is None:
            group = departments[department].zendesk.get("group", "(none configured)")
            return [f'not routed to {department}: no Zendesk group "{group}" was found at start-up']
        return []

    def _send(self, method: str, endpoint: Any, payload: dict[str, Any]) -> Any:
        """A write with a plain dict body. zenpy keeps the zenpy object it last sent in a
        "dirty object" attribute shared by every thread using the client, and clears it after
        each response: two worker threads writing at once made one iterate the None the other
        left (TypeError). A dict body is never kept there."""
        api = self.client.tickets
        send = api._put if method == "PUT" else api._post
        return self._call(lambda: send(api._build_url(endpoint), payload=payload))

    def _get_json(self, endpoint: Any, params: dict[str, str] | None = None) -> dict[str, Any]:
        api = self.client.tickets
        response = self._call(lambda: api._get(api._build_url(endpoint), raw_response=True, params=params))
        return response.json()  # type: ignore[no-any-return]

    def _call(self, request: Any) -> Any:
        """Run one zenpy request, turning its failures into the inbox's vocabulary."""
        try:
            return request()
        except RatelimitBudgetExceeded:
            raise TemporaryFailure("Zendesk rate limit (429)", self.hook.retry_after) from None
        except APIException as error:
            raise _failure(getattr(error, "response", None), str(error)) from None
        except requests.HTTPError as error:
            raise _failure(error.response, str(error)) from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TemporaryFailure(f"Zendesk unreachable: {type(error).__name__}") from None
        except ZenpyException as error:
            raise TemporaryFailure(f"zenpy: {error}") from None
        except ValueError:
            # zenpy reads Retry-After with int(): "1.5" or an HTTP date raise inside it.
            if not self.hook.rate_limited:
                raise
            raise TemporaryFailure("Zendesk rate limit (429)", self.hook.retry_after) from None


def _updated_at(result: Any) -> str | None:
    """The ticket's new updated_at from an update's answer (a TicketAudit), if it says."""
    ticket = getattr(result, "ticket", None)
    value = getattr(ticket, "updated_at", None)
    return value if isinstance(value, str) else None


def _failure(response: requests.Response | None, message: str) -> Exception:
    status = response.status_code if response is not None else 0
    retry_after = _seconds(response.headers.get("Retry-After")) if response is not None else None
    detail = f"Zendesk answered {status}: {_api_message(response) or message}"
    if status == 409:
        return Conflict(detail)
    if status == 429 or status >= 500 or status == 0:
        return TemporaryFailure(detail, retry_after)
    return PermanentFailure(detail)


def _api_message(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(body.get(key)) for key in ("error", "description") if body.get(key)]
    details = body.get("details")
    if isinstance(details, dict):
        parts += [f"{name}: {item.get('description', item)}" for name, items in details.items() for item in items if isinstance(item, dict)]
    return "; ".join(parts)[:500]
