"""Comment bodies for Jira: Atlassian Document Format on Cloud (REST v3), wiki markup on
Data Center (REST v2). Checklist lines (`☐ item`) become a bullet list, so the steps read
as a list on the issue. Customer-written text is quoted, never rendered: ADF text nodes are
literal; in wiki markup it is escaped (links, images, mentions, macros and effects)."""

from __future__ import annotations

import re
from typing import Any

from integration.core.plan import NoteEffect
from integration.core.templates import plain, render_customer

BOX = "☐ "
# The characters Jira's wiki renderer lets a backslash escape (its BackslashEscapeRendererComponent):
# [text|url] links, [~user] mentions, !image!, {macros}, *bold*, -strike-, (!) icons, | tables...
_WIKI_SPECIAL = re.compile(r"[-#*_+?^~|%{}\[\]()!@\\]")


def comment_body(note: NoteEffect, cloud: bool) -> Any:
    return adf(plain(note.body)) if cloud else render_customer(wiki(note.body), wiki_text, wiki_quote)


def wiki_text(text: str) -> str:
    """Customer text as wiki markup that shows it as written. A backslash of theirs becomes an
    entity: next to one of ours it would make `\\`, a line break, and unescape the next character."""
    return _WIKI_SPECIAL.sub(lambda match: "&#92;" if match[0] == "\\" else "\\" + match[0], text)


def wiki_quote(text: str) -> str:
    return "{quote}\n" + wiki_text(text) + "\n{quote}"


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
