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


def parse(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    """Compose one YAML document; syntax errors become located problems."""
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
    problems: list[Problem] = []
    # A constructor per parse: its cache would otherwise keep every value of every load alive.
    scalars = yaml.constructor.SafeConstructor()
    return _convert(root, file, "", problems, scalars), problems


def _convert(node: yaml.Node, file: str, path: str, problems: list[Problem], scalars: yaml.constructor.SafeConstructor) -> Node:
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, file, path, problems, scalars)
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(item, file, child_path(path, i), problems, scalars) for i, item in enumerate(node.value)]
        return Node(items, file, line, column, path)
    try:
        value = scalars.construct_object(node)
    except yaml.constructor.ConstructorError as error:
        problems.append(Problem(file, line, column, path, f"invalid value: {error.problem}"))
        value = None
    return Node(value, file, line, column, path)


def _convert_mapping(node: yaml.MappingNode, file: str, path: str, problems: list[Problem], scalars: yaml.constructor.SafeConstructor) -> Node:
    values: dict[str, Node] = {}
    keys: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_line, key_column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(file, key_line, key_column, path, "keys must be plain words"))
            continue
        # The raw text, not the YAML 1.1 value: `on:` must stay "on", not become True.
        key = str(key_node.value)
        child = child_path(path, key)
        if key in values:
            problems.append(
                Problem(file, key_line, key_column, child, f'duplicate key "{key}" (first at line {keys[key].line})')
            )
            continue
        keys[key] = Node(key, file, key_line, key_column, child)
        values[key] = _convert(value_node, file, child, problems, scalars)
    return Node(values, file, node.start_mark.line + 1, node.start_mark.column + 1, path, keys)
