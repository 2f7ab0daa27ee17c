"""The request bodies a plan becomes on Zendesk (pure; checked against Zendesk's OpenAPI spec
in tests): one `PUT /api/v2/tickets/{id}` (two when internal notes and a public reply go
together), an `update_many` entry, a follow-up ticket, and a bulk job's results read back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adapters.base import AdapterFailure, Conflict, PermanentFailure, TemporaryFailure
from integration.core.plan import NoteEffect, Plan
from integration.core.templates import render_customer

STATUS_TO_ZENDESK = {"on_hold": "hold"}
NOTE_SEPARATOR = "\n\n———\n\n"
# Zendesk renders Markdown in a comment's `body`: customer text gets a backslash before the
# characters that make links, images, autolinks and HTML, code, emphasis, headings and tables;
# `{{` and `{%` are split by a zero-width space, so no placeholder or Liquid tag is expanded.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>!#|~]")
_LIQUID = re.compile(r"\{(?=[{%])")


def update_bodies(plan: Plan, group_id: Callable[[str], int | None], extra_notes: Sequence[NoteEffect] = ()) -> list[dict[str, Any]]:
    """The request bodies for one plan: one PUT, or two when it carries both internal notes
    and a public reply (a Zendesk update holds a single comment).

    With two, the first carries only the internal notes and the second everything else: the
    tags that mark a checklist or an acknowledgement as done land with the reply, never
    before it, so a second write that fails leaves nothing marked done that was not."""
    effects = plan.effects
    changes = _field_changes(plan, group_id)
    if effects.add_tags or effects.remove_tags:
        # The single-ticket update has no additional_tags/remove_tags (only update_many
        # does): send the whole list, read just before, and let safe_update catch a race.
        changes["tags"] = _tags_after(plan)
    notes = [*effects.notes, *extra_notes]
    internal = [note for note in notes if not note.public]
    public = [note for note in notes if note.public]
    guard = _guard(plan)
    if internal and public:
        # The second write's guard is the stamp the first write returns (the writer adds it).
        return [{**guard, "comment": _comment(internal)}, {**changes, "comment": _comment(public)}]
    if notes:
        changes["comment"] = _comment(notes)
    return [{**guard, **changes}] if changes else []


def bulk_entry(plan: Plan, group_id: Callable[[str], int | None]) -> dict[str, Any]:
    """One ticket's entry in an `update_many` batch. Unlike the single update, the bulk one
    takes tag deltas (`additional_tags`/`remove_tags`), so no tag list read earlier is sent."""
    effects = plan.effects
    entry: dict[str, Any] = {"id": int(plan.event.ticket_id), **_guard(plan), **_field_changes(plan, group_id)}
    if effects.add_tags:
        entry["additional_tags"] = list(effects.add_tags)
    if effects.remove_tags:
        entry["remove_tags"] = list(effects.remove_tags)
    if effects.notes:
        entry["comment"] = _comment(effects.notes)
    return entry


def _comment(notes: Sequence[NoteEffect]) -> dict[str, Any]:
    """One comment holding the notes (all internal, or all public: the caller sorts them)."""
    body = NOTE_SEPARATOR.join(render_customer(note.body, markdown_text, markdown_quote) for note in notes)
    return {"body": body, "public": notes[0].public}


def markdown_text(text: str) -> str:
    """Customer text as Markdown that shows it as written."""
    return _LIQUID.sub("{\u200b", _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match[0], text))


def markdown_quote(text: str) -> str:
    """A quoted block (`> ` before each line; an e-mail quote where Markdown is off)."""
    return "\n".join(f"> {line}".rstrip() for line in markdown_text(text).split("\n"))


def _tags_after(plan: Plan) -> list[str]:
    """The ticket's tags once the plan is applied, in their order, the new ones last."""
    kept = [tag for tag in plan.event.tags if tag not in plan.effects.remove_tags]
    return kept + [tag for tag in plan.effects.add_tags if tag not in kept]


def _guard(plan: Plan) -> dict[str, Any]:
    """safe_update: Zendesk refuses the write (409) if the ticket changed since it was read."""
    guard: dict[str, Any] = {"safe_update": True}
    if plan.event.version:
        guard["updated_stamp"] = plan.event.version
    return guard


def _field_changes(plan: Plan, group_id: Callable[[str], int | None]) -> dict[str, Any]:
    effects = plan.effects
    changes: dict[str, Any] = {}
    group = group_id(effects.department) if effects.department else None
    if group is not None:
        changes["group_id"] = group
    if effects.priority:
        changes["priority"] = effects.priority
    if effects.status:
        changes["status"] = STATUS_TO_ZENDESK.get(effects.status, effects.status)
    return changes


def follow_up_body(plan: Plan, group_id: Callable[[str], int | None], external_id: str) -> dict[str, Any]:
    """A new ticket that follows up a closed one (Zendesk's only way to reopen a conversation
    on it): the same requester and subject, the plan's changes, its notes as the internal first
    comment, and `external_id` naming the event, so that a retry finds it instead of opening
    another."""
    event = plan.event
    ticket: dict[str, Any] = {
        "via_followup_source_id": int(event.ticket_id),
        "subject": event.subject,
        "comment": {**_comment(plan.effects.notes), "public": False},
        "tags": _tags_after(plan),
        "external_id": external_id,
        # What the closed ticket had, unless the plan changes it: a follow-up starts from there.
        **({"group_id": int(event.group_id)} if event.group_id else {}),
        **({"priority": event.priority} if event.priority else {}),
        **_field_changes(plan, group_id),
    }
    if event.requester.id:
        ticket["requester_id"] = int(event.requester.id)
    if ticket.get("status") in (None, "new"):
        ticket["status"] = "open"
    return ticket


def fits_one_entry(plan: Plan) -> bool:
    """A bulk entry holds one comment: notes all internal, or all public."""
    return len({note.public for note in plan.effects.notes}) <= 1


def job_results(job: Mapping[str, Any]) -> dict[str, dict[str, Any] | AdapterFailure]:
    """A finished job status, per ticket id: success, or the failure in the inbox's terms."""
    answers: dict[str, dict[str, Any] | AdapterFailure] = {}
    for result in job.get("results") or []:
        ticket_id = str(result.get("id"))
        if result.get("success") or result.get("status") == "Updated":
            answers[ticket_id] = {"writes": 1, "bulk_job": job.get("id")}
            continue
        error, details = str(result.get("error", "")), str(result.get("details", ""))
        detail = f"Zendesk bulk update: {error}: {details}".rstrip(": ")
        if error == "UpdateConflict":
            answers[ticket_id] = Conflict(detail)
        elif error in ("RecordInvalid", "RecordNotFound", "PermissionDenied", "InvalidValue"):
            answers[ticket_id] = PermanentFailure(detail)
        else:
            answers[ticket_id] = TemporaryFailure(detail)
    return answers
