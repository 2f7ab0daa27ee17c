"""Small validators over located YAML nodes. Each reports every problem it finds and
returns None for a value it could not accept, so the loader carries on and reports all."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from integration.core.syntax.nodes import Node, child_path
from integration.core.syntax.problems import Problem

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


def describe(value: Any) -> str:
    """How a found value is shown in a message: `got "critical"`, `got a list`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def found(node: Node) -> str:
    if node.is_mapping:
        return "a mapping"
    if node.is_list:
        return "a list"
    return describe(node.value)


def one_of(choices: Iterable[str]) -> str:
    return ", ".join(choices)


class Checker:
    """Collects problems while validating; shared by the loader, conditions and actions."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def report(self, node: Node, message: str) -> None:
        self.problems.append(node.problem(message))

    def expected(self, node: Node, what: str) -> None:
        self.report(node, f"must be {what} (got {found(node)})")

    def mapping(
        self,
        node: Node,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        what: str = "a mapping",
        open_keys: bool = False,
    ) -> bool:
        """A mapping with exactly these keys; unknown keys are errors unless open_keys."""
        if not node.is_mapping:
            self.expected(node, what)
            return False
        allowed = [*required, *optional]
        ok = True
        for key in node.value:
            if key not in allowed and not open_keys:
                self.problems.append(node.key_problem(key, unknown_key(key, allowed)))
                ok = False
        for key in required:
            if key not in node.value:
                self.report(node, f'missing key "{key}" (expected keys: {one_of(allowed)})')
                ok = False
        return ok

    def string(self, node: Node, what: str = "a text", pattern: re.Pattern[str] | None = None) -> str | None:
        value = node.value
        if not isinstance(value, str) or (pattern is not None and not pattern.match(value)) or not value:
            self.expected(node, what)
            return None
        return value

    def identifier(self, node: Node) -> str | None:
        return self.string(node, "an id of lower-case letters, digits and dashes", ID_PATTERN)

    def choice(self, node: Node, choices: Sequence[str]) -> str | None:
        if node.is_scalar and node.value in choices:
            return str(node.value)
        self.expected(node, f"one of {one_of(choices)}")
        return None

    def boolean(self, node: Node) -> bool | None:
        if isinstance(node.value, bool):
            return node.value
        self.expected(node, "true or false")
        return None

    def number(self, node: Node) -> float | int | None:
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        self.expected(node, "a number")
        return None

    def string_list(self, node: Node, what: str = "a list of texts", allow_single: bool = False) -> list[str] | None:
        """A list of non-empty strings; `allow_single` also takes one bare string."""
        if allow_single and isinstance(node.value, str) and node.value:
            return [node.value]
        if not node.is_list or not node.value:
            self.expected(node, what)
            return None
        values: list[str] = []
        for item in node.value:
            if isinstance(item.value, str) and item.value:
                values.append(item.value)
            elif isinstance(item.value, (int, float)) and not isinstance(item.value, bool):
                values.append(str(item.value))  # tags like 2024 are texts too
            else:
                self.expected(item, "a text")
        return values if len(values) == len(node.value) else None

    def choice_list(self, node: Node, choices: Sequence[str], allow_single: bool = True) -> list[str] | None:
        values = self.string_list(node, f"a list of {one_of(choices)}", allow_single=allow_single)
        if values is None:
            return None
        items = node.value if node.is_list else [node]
        bad = [item for item in items if item.value not in choices]
        for item in bad:
            self.expected(item, f"one of {one_of(choices)}")
        return None if bad else values


def unknown_key(key: str, allowed: Sequence[str]) -> str:
    guess = difflib.get_close_matches(key, allowed, n=1)
    hint = f'; did you mean "{guess[0]}"?' if guess else ""
    return f'unknown key "{key}"{hint} (expected one of: {one_of(allowed)})'


def items_of(node: Node) -> list[tuple[str, Node]]:
    return list(node.items()) if node.is_mapping else []


__all__ = ["ID_PATTERN", "Checker", "child_path", "describe", "found", "items_of", "unknown_key"]
