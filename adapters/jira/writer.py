"""Jira write-back through the jira library: at most two writes per event.

One edit (`PUT /rest/api/{2|3}/issue/{id}`) carries fields (priority, assignee), label and
component operations and the comment in `update`; a transition, when the plan asks for a
status, is the second. The request bodies are built by pure functions (checked against the
Jira Cloud OpenAPI spec in tests); the client is passed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from jira import JIRA, JIRAError
from jira.resources import Issue

from adapters.base import PermanentFailure, TemporaryFailure
from adapters.jira import adf_to_text
from adapters.jira.catalog import NO_CATALOG, Catalog
from adapters.jira.comments import comment_body
from adapters.jira.normalize import normalize
from adapters.jira.refresh import by_agent, refresh
from adapters.jira.site import Site
from adapters.jira.values import jira_priority_name, normalize_transition_target, user_id
from integration.core.events import TicketEvent
from integration.core.plan import NoteEffect, Plan
from integration.core.references import references_in
from integration.core.ruleset import Department, RuleSet

log = logging.getLogger("dispute_desk.jira")

INTERNAL = {"key": "sd.public.comment", "value": {"internal": True}}
SUBTASK_TYPE = "Sub-task"  # the company-managed projects' name; team-managed ones say "Subtask"
SUMMARY_LIMIT = 255  # Jira's limit on a summary


def make_client(url: str, email: str | None, api_token: str | None, pat: str | None, timeout: float = 20.0) -> JIRA:
    """Cloud (e-mail + API token, REST v3, ADF comments) or Data Center (PAT, REST v2).

    No retries inside the library (`max_retries=0`): its retry loop sleeps, and the inbox
    owns backoff, honouring Retry-After, without blocking a worker."""
    options: dict[str, Any] = {"rest_api_version": "2" if pat else "3"}
    auth: dict[str, Any] = {"token_auth": pat} if pat else {"basic_auth": (email, api_token)}
    return JIRA(server=url, options=options, timeout=timeout, max_retries=0, get_server_info=False, **auth)


@dataclass(frozen=True)
class EditRequest:
    """What one plan asks of the issue, in Jira's terms."""

    fields: dict[str, Any]
    update: dict[str, Any]
    transition_to: str | None

    @property
    def empty(self) -> bool:
        return not self.fields and not self.update


def edit_request(plan: Plan, departments: Mapping[str, Department], issue: Mapping[str, Any], cloud: bool, priorities: Mapping[str, str], extra_notes: Sequence[NoteEffect] = (), catalog: Catalog = NO_CATALOG) -> EditRequest:
    """The edit for one plan, relative to the issue as just read (pure)."""
    effects = plan.effects
    fields: dict[str, Any] = {}
    update: dict[str, Any] = {}
    if effects.priority:
        # By id where the site's catalog knows one: a localized site has no "Highest".
        priority_id = catalog.priority_ids.get(effects.priority)
        fields["priority"] = {"id": priority_id} if priority_id else {"name": jira_priority_name(effects.priority, priorities)}
    labels = [{"add": tag} for tag in effects.add_tags] + [{"remove": tag} for tag in effects.remove_tags]
    if effects.department:
        target = departments[effects.department].jira
        wanted = target.get("labels", [])
        labels += [{"add": label} for label in wanted if label not in plan.event.tags and label not in effects.add_tags]
        # Like its component, a department's labels replace another department's (a filter on
        # `dept-logistics` must not keep showing an issue escalated to management).
        others = {label for d in departments.values() for label in d.jira.get("labels", [])} - set(wanted)
        labels += [{"remove": label} for label in plan.event.tags if label in others and label not in effects.add_tags]
        if target.get("component"):
            update["components"] = [{"set": _components(plan.event.components, target["component"], departments)}]
        if target.get("assignee"):
            fields["assignee"] = {"accountId": target["assignee"]} if cloud else {"name": target["assignee"]}
    if labels:
        update["labels"] = labels
    due = _due_date(plan, issue)
    if due:
        fields["duedate"] = due
    notes = [*effects.notes, *extra_notes]
    if notes:
        service_desk = issue.get("fields", {}).get("project", {}).get("projectTypeKey") == "service_desk"
        update["comment"] = [{"add": _comment(note, cloud, service_desk)} for note in notes]
    return EditRequest(fields, update, effects.status)


def _due_date(plan: Plan, issue: Mapping[str, Any]) -> str | None:
    """Agents see the earliest deadline the plan starts as the issue's due date, where the
    issue has that field (it is absent when the project's screens leave it out)."""
    if not plan.effects.deadlines or "duedate" not in issue.get("fields", {}):
        return None
    return min(deadline.due_at for deadline in plan.effects.deadlines).date().isoformat()


def _components(current: Sequence[str], wanted: str, departments: Mapping[str, Department]) -> list[dict[str, str]]:
    """The department's component replaces other departments' ones; unrelated ones stay."""
    owned = {d.jira.get("component") for d in departments.values()}
    kept = [name for name in current if name not in owned]
    return [{"name": name} for name in [*kept, wanted]]


def _comment(note: NoteEffect, cloud: bool, service_desk: bool) -> dict[str, Any]:
    comment: dict[str, Any] = {"body": comment_body(note, cloud)}
    if service_desk and not note.public:
        comment["properties"] = [INTERNAL]  # an internal note, hidden from the customer portal
    return comment


@dataclass
class JiraAdapter:
    client: JIRA
    rules: Callable[[], RuleSet]
    cloud: bool = True
    own_account: str | None = None
    platform: str = "jira"
    # The issue as read for the event being planned, kept for its write: per thread, since
    # worker threads share the adapter, and one must never write from another's read.
    _read: threading.local = field(default_factory=threading.local)
    _site: Site | None = None

    @property
    def site(self) -> Site:
        if self._site is None:
            self._site = Site(self.client, self._call, self.cloud)
        return self._site

    @property
    def _issues(self) -> dict[str, Issue]:
        if not hasattr(self._read, "issues"):
            self._read.issues = {}
        return self._read.issues  # type: ignore[no-any-return]

    def start(self) -> list[str]:
        me = self._call(self.client.myself)
        self.own_account = str(me.get("accountId") or me.get("name") or me.get("key"))
        return []

    def normalize(self, payload: Mapping[str, Any], headers: Mapping[str, str]) -> TicketEvent:
        settings = self.rules().settings
        return normalize(payload, headers, status_names=settings.jira_statuses or None, priorities=settings.jira_priorities or None, catalog=self.site.catalog(settings))

    def own_actor_reason(self, event: TicketEvent) -> str | None:
        if self.own_account and self.own_account in (event.actor_id, event.comment.author_id if event.comment else None):
            return f"caused by the integration's own account {self.own_account}"
        return None

    def refresh(self, event: TicketEvent) -> TicketEvent:
        issue = self._call(lambda: self.client.issue(event.ticket_id))
        self._issues[event.ticket_id] = issue
        settings = self.rules().settings
        fresh = refresh(event, issue.raw, settings.jira_statuses or None, settings.jira_priorities or None, self.site.catalog(settings))
        comment = fresh.comment
        if comment is None or comment.by == "agent" or comment.author_id is None:
            return fresh
        return by_agent(fresh, self.site.agents_among([comment.author_id], settings.jira_agent_groups))

    def references_on_ticket(self, event: TicketEvent) -> set[str]:
        issue = self._issues.get(event.ticket_id)
        raw = issue.raw if issue is not None else self._call(lambda: self.client.issue(event.ticket_id)).raw
        comments = raw.get("fields", {}).get("comment", {}).get("comments", [])
        # Only our own comments count: a customer quoting a reference must not make an event
        # believe its note is already on the issue.
        ours = [c for c in comments if not self.own_account or user_id(c.get("author") or {}) == self.own_account]
        return references_in([adf_to_text(c.get("body")) if isinstance(c.get("body"), dict) else str(c.get("body", "")) for c in ours])

    def apply(self, plan: Plan, extra_notes: list[NoteEffect]) -> dict[str, Any]:
        issue = self._issues.pop(plan.event.ticket_id)
        ruleset = self.rules()
        request = edit_request(plan, ruleset.departments, issue.raw, self.cloud, ruleset.settings.jira_priorities, extra_notes, self.site.catalog(ruleset.settings))
        writes: list[dict[str, Any]] = []
        # The workflow is asked first: a status it cannot reach refuses the plan before
        # anything is written, so a refused event has changed nothing.
        transition = self._transition_to(plan.event.ticket_id, request.transition_to, ruleset) if request.transition_to else None
        for subtasks in plan.effects.subtasks:
            created = self._create_subtasks(issue, subtasks.items)
            if created:
                writes.append({"subtasks": created})
        if not request.empty:
            self._call(lambda: issue.update(fields=request.fields, update=request.update))
            writes.append({"edit": {"fields": request.fields, "update": request.update}})
        if transition is not None:
            self._call(lambda: self.client.transition_issue(plan.event.ticket_id, transition["id"]))
            writes.append({"transition": str(transition.get("name"))})
        return {"writes": len(writes), "requests": writes}

    def _create_subtasks(self, issue: Issue, items: Sequence[str]) -> list[str]:
        """One bulk create, before the edit that records the checklist's marker label. Items
        that already exist as sub-tasks (a retry after a failed edit) are not created again."""
        existing = {sub.get("fields", {}).get("summary") for sub in issue.raw.get("fields", {}).get("subtasks", [])}
        wanted = [item[:SUMMARY_LIMIT] for item in items if item[:SUMMARY_LIMIT] not in existing]
        if not wanted:
            return []
        project = issue.raw["fields"]["project"]["key"]
        fields = [{"project": {"key": project}, "parent": {"key": issue.raw["key"]}, "summary": item, "issuetype": {"name": SUBTASK_TYPE}} for item in wanted]
        results = self._call(lambda: self.client.create_issues(fields, prefetch=False))
        failed = [result.get("error") for result in results if result.get("status") != "Success"]
        if failed:  # the library returns failures instead of raising them
            raise PermanentFailure(f"Jira refused the checklist sub-tasks: {failed[0]}")
        return wanted

    def _transition_to(self, issue_id: str, status: str, ruleset: RuleSet) -> dict[str, Any]:
        """The workflow transition that leads to `status` from where the issue is now."""
        available = self._call(lambda: self.client.transitions(issue_id))
        names = ruleset.settings.jira_statuses or None
        match = next((t for t in available if normalize_transition_target(t.get("to", {}), names) == status), None)
        if match is None:
            offered = ", ".join(f'{t.get("name")} (to {t.get("to", {}).get("name")})' for t in available) or "none"
            raise PermanentFailure(f"no workflow transition leads to {status} from the issue's status (offered: {offered})")
        return dict(match)

    def _call(self, request: Callable[[], Any]) -> Any:
        try:
            return request()
        except JIRAError as error:
            raise _failure(error) from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TemporaryFailure(f"Jira unreachable: {type(error).__name__}") from None


def _failure(error: JIRAError) -> Exception:
    status = error.status_code or 0
    response = getattr(error, "response", None)
    retry_after = _seconds(response.headers.get("Retry-After")) if response is not None else None
    detail = f"Jira answered {status}: {error.text or error}"[:500]
    if status == 429 or status >= 500 or status == 0:
        return TemporaryFailure(detail, retry_after)
    return PermanentFailure(detail)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
