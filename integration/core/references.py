"""References: every comment we write carries a short one, derived from the delivery and the
action, so a replayed event (after a crash between the write and marking it done) finds its
own comments on the ticket and does not post them again. Pure: the action log that records
what each event applied is the runtime's (`integration.runtime.idempotency`).
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


def with_references(plan: Plan, delivery_id: str) -> Plan:
    """Each note ends with its reference, a small footer agents can quote to support."""
    notes = [
        replace(note, body=f"{note.body}\n\n— dispute-desk ref {reference(plan.event.platform, delivery_id, note.key)}")
        for note in plan.effects.notes
    ]
    return replace(plan, effects=replace(plan.effects, notes=notes))


def without_applied(plan: Plan, delivery_id: str, on_ticket: set[str], logged: set[str]) -> tuple[Plan, list[str]]:
    """The plan minus notes already on the ticket or already in the action log."""
    kept: list[NoteEffect] = []
    dropped: list[str] = []
    for note in plan.effects.notes:
        if note.key in logged or reference(plan.event.platform, delivery_id, note.key) in on_ticket:
            dropped.append(note.key)
        else:
            kept.append(note)
    return replace(plan, effects=replace(plan.effects, notes=kept)), dropped
