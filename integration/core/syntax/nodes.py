"""YAML documents as trees that remember where each value was written.

PyYAML's composer keeps a mark (line, column) on every node; we keep those marks, and the
path from the document's root, so every schema error can say exactly where it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from integration.core.syntax.problems import Problem

try:  # the C loader is much faster on large packs, when libyaml is present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]



@dataclass
class Node:
    """A YAML value with its place: `value` is a dict of Nodes, a list of Nodes, or a scalar."""

    value: Any
    file: str
    line: int
    column: int
    path: str
    key_nodes: dict[str, Node] = field(default_factory=dict)  # where each mapping key is

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not self.is_mapping and not self.is_list

    def items(self) -> Iterator[tuple[str, Node]]:
        assert self.is_mapping
        return iter(self.value.items())

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if self.is_mapping else None

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.column, self.path, message)

    def key_problem(self, key: str, message: str) -> Problem:
        """A problem about a mapping key itself (e.g. an unknown key), placed at the key."""
        where = self.key_nodes.get(key, self)
        return Problem(self.file, where.line, where.column, child_path(self.path, key), message)

    def plain(self) -> Any:
        """The value without positions (for defaults and sample rendering)."""
        if self.is_mapping:
            return {key: node.plain() for key, node in self.value.items()}
        if self.is_list:
            return [node.plain() for node in self.value]
        return self.value


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


# Bounds that keep a rule file from exhausting the loader. A YAML alias names a value once
# and repeats it wherever it is used: nine nested aliases of nine make a 621-byte file
# stand for 10^9 values (an "alias bomb"), and an anchor used inside itself never ends.
MAX_FILE_CHARACTERS = 1024 * 1024  # the default pack is ~50 KB
MAX_VALUES = 100_000  # values in one file, aliases counted as the values they repeat
MAX_DEPTH = 64  # values inside values


class _TooCostly(Exception):
    """Loading stops at the first bound reached; the problem says where."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def parse(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    """Compose one YAML document; syntax errors and exhausted bounds become located problems."""
    if len(text) > MAX_FILE_CHARACTERS:
        return None, [Problem(file, 1, 1, "", f"must be at most {MAX_FILE_CHARACTERS} characters (got {len(text)}); split it into several files")]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = error.problem or error.context or "invalid YAML"
        return None, [Problem(file, line, column, "", f"invalid YAML: {reason}")]
    except yaml.YAMLError as error:
        return None, [Problem(file, 1, 1, "", f"invalid YAML: {error}")]
    if root is None:
        return None, []
    converter = _Converter(file)
    try:
        return converter.convert(root, ""), converter.problems
    except _TooCostly as stopped:
        return None, [stopped.problem]


class _Converter:
    """PyYAML's node graph to Nodes, counting every value it makes (an alias is converted
    again where it is used, so the count is what the file really stands for)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.values = 0
        self.open: set[int] = set()  # the nodes being converted: an alias to one of them is a cycle
        # A constructor per parse: its cache would otherwise keep every value of every load alive.
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, path: str, depth: int = 0) -> Node:
        self._count(node, path, depth)
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return self._scalar(node, path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, depth)
            items = [self.convert(item, child_path(path, i), depth + 1) for i, item in enumerate(node.value)]
            return Node(items, self.file, node.start_mark.line + 1, node.start_mark.column + 1, path)
        finally:
            self.open.discard(id(node))

    def _count(self, node: yaml.Node, path: str, depth: int) -> None:
        self.values += 1
        if id(node) in self.open:
            self._stop(node, path, "an alias (*name) is used inside the value its anchor (&name) names, so it never ends")
        if self.values > MAX_VALUES:
            self._stop(node, path, f"must hold at most {MAX_VALUES} values, counting each alias (*name) as the values it repeats (an alias bomb?)")
        if depth > MAX_DEPTH:
            self._stop(node, path, f"must nest values at most {MAX_DEPTH} deep")

    def _stop(self, node: yaml.Node, path: str, message: str) -> None:
        raise _TooCostly(Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, path, message))

    def _scalar(self, node: yaml.Node, path: str) -> Node:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        try:
            value = self.scalars.construct_object(node)
        except yaml.constructor.ConstructorError as error:
            self.problems.append(Problem(self.file, line, column, path, f"invalid value: {error.problem}"))
            value = None
        return Node(value, self.file, line, column, path)

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> Node:
        values: dict[str, Node] = {}
        keys: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key_line, key_column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.file, key_line, key_column, path, "keys must be plain words"))
                continue
            # The raw text, not the YAML 1.1 value: `on:` must stay "on", not become True.
            key = str(key_node.value)
            child = child_path(path, key)
            if key in values:
                self.problems.append(
                    Problem(self.file, key_line, key_column, child, f'duplicate key "{key}" (first at line {keys[key].line})')
                )
                continue
            keys[key] = Node(key, self.file, key_line, key_column, child)
            values[key] = self.convert(value_node, child, depth + 1)
        return Node(values, self.file, node.start_mark.line + 1, node.start_mark.column + 1, path, keys)
