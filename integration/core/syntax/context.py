"""What conditions and actions use while they parse: a problem collector that also
records references (to departments, checklists, templates, ...) to resolve once every
file is loaded, since a rule may name a department defined in another file."""

from __future__ import annotations

from dataclasses import dataclass

from integration.core.syntax.nodes import Node
from integration.core.syntax.schema import Checker

REF_KINDS = ("department", "checklist", "template", "calendar", "custom_field", "deadline")


@dataclass(frozen=True)
class Ref:
    kind: str
    id: str
    node: Node
    usage: str = ""  # templates: "text", or "feedback" where `feedback_url` is available


class ParseContext(Checker):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[Ref] = []
        self.deadlines_started: set[str] = set()

    def require(self, kind: str, ident: str, node: Node, usage: str = "") -> None:
        assert kind in REF_KINDS, kind
        self.refs.append(Ref(kind, ident, node, usage))
