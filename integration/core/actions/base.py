"""The contract every action implements, and the registry the loader reads.

An action parses (and validates) its own configuration, and contributes to the plan being
drafted. Adding an action is adding a module that calls `register`; the loader never changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from integration.core.draft import Draft
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node

ACTIONS: dict[str, type[Action]] = {}

A = TypeVar("A", bound="type[Action]")


class Action(ABC):
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def parse(cls, node: Node, ctx: ParseContext) -> Action | None:
        """Validate the configuration under `then.<name>`; report problems into ctx."""

    @abstractmethod
    def contribute(self, draft: Draft) -> str:
        """Add this action's effects to the draft; say in words what it did (or why not)."""


def register(cls: A) -> A:
    ACTIONS[cls.name] = cls
    return cls
