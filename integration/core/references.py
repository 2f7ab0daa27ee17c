"""References: every comment we write has a short one, derived from the delivery and the
action, so a replayed event (after a crash between the write and marking it done) finds its
own comments on the ticket and does not post them again. An internal note ends with it; a
public comment never shows it (customers must not see our internals): its reference travels
as a ticket tag (`dd-sent-<hex>`, a label on Jira) written in the same request as the comment.
Pure: the action log that records what each event applied is the runtime's
(`integration.runtime.idempotency`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from integration.core.plan import NoteEffect, Plan

REFERENCE = re.compile(r"\bdd:([0-9a-f]{12})\b")


def reference(platform: str, delivery_id: str, key: str) -> str:
    digest = hashlib.sha256(f"{platform}\x00{delivery_id}\x00{key}".encode()).hexdigest()
    return f"dd:{digest[:12]}"


def references_in(texts: list[str]) -> set[str]:
    return {f"dd:{match}" for text in texts for match in REFERENCE.findall(text or "")}


SENT_TAG = "dd-sent-"  # + a reference's hex: a public comment's reference, as a tag


def sent_tag(ref: str) -> str:
    return SENT_TAG + ref.removeprefix("dd:")


def with_references(plan: Plan, delivery_id: str) -> Plan:
    """Each internal note ends with its reference, a small footer agents can quote to support;
    each public comment gets its reference as a tag instead."""
    notes: list[NoteEffect] = []
    tags = list(plan.effects.add_tags)
    for note in plan.effects.notes:
        ref = reference(plan.event.platform, delivery_id, note.key)
        if note.public:
            notes.append(note)
            if sent_tag(ref) not in tags and sent_tag(ref) not in plan.event.tags:  # a replay adds nothing
                tags.append(sent_tag(ref))
        else:
            notes.append(replace(note, body=f"{note.body}\n\n— dispute-desk ref {ref}"))
    return replace(plan, effects=replace(plan.effects, notes=notes, add_tags=tags))


def sent_references(tags: tuple[str, ...] | list[str]) -> set[str]:
    """The references of the public comments already on a ticket, from its tags."""
    hexes = (tag[len(SENT_TAG):] for tag in tags if tag.startswith(SENT_TAG))
    return {f"dd:{value}" for value in hexes if re.fullmatch("[0-9a-f]{12}", value)}


def without_applied(plan: Plan, delivery_id: str, on_ticket: set[str], logged: set[str]) -> tuple[Plan, list[str]]:
    """The plan minus notes already on the ticket (a reference in our comments, or a public
    comment's tag) or already in the action log."""
    on_ticket = on_ticket | sent_references(plan.event.tags)
    kept: list[NoteEffect] = []
    dropped: list[str] = []
    for note in plan.effects.notes:
        if note.key in logged or reference(plan.event.platform, delivery_id, note.key) in on_ticket:
            dropped.append(note.key)
        else:
            kept.append(note)
    return replace(plan, effects=replace(plan.effects, notes=kept)), dropped
