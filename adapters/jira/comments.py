"""Comment bodies for Jira: Atlassian Document Format on Cloud (REST v3), wiki markup on
Data Center (REST v2). Checklist lines (`☐ item`) become a bullet list, so the steps read
as a list on the issue."""

from __future__ import annotations

from typing import Any

from integration.core.plan import NoteEffect

BOX = "☐ "


def comment_body(note: NoteEffect, cloud: bool) -> Any:
    return adf(note.body) if cloud else wiki(note.body)


def adf(text: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in _blocks(text):
        items = [line[len(BOX):] for line in block if line.startswith(BOX)]
        if items and len(items) == len(block):
            content.append({"type": "bulletList", "content": [_list_item(item) for item in items]})
        else:
            content.append(_paragraph(block))
    return {"type": "doc", "version": 1, "content": content}


def wiki(text: str) -> str:
    lines = [f"* {line[len(BOX):]}" if line.startswith(BOX) else line for line in text.splitlines()]
    return "\n".join(lines)


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _paragraph(lines: list[str]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        if index:
            content.append({"type": "hardBreak"})
        content.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": content}


def _list_item(text: str) -> dict[str, Any]:
    return {"type": "listItem", "content": [_paragraph([text])]}
