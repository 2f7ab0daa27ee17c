"""Rule conditions: a fixed table of fields, a table of operators, and `all/any/none`
groups. Parsed once at load (regexes and word lists compiled then), evaluated per event
with a result for every test, so a plan can say which conditions failed and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from integration.core.conditions.operators import INVALID, OPERATORS, Operator
from integration.core.events import LANGUAGES, PLATFORMS, PRIORITIES, STATUSES, TicketEvent
from integration.core.matching import complaint, language, topic
from integration.core.matching import text as textmatch
from integration.core.matching.forms import FORM_LANGUAGES, text_index
from integration.core.matching.phrases import PhraseMatcher
from integration.core.plan import ConditionResult
from integration.core.ruleset import RuleSet
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node
from integration.core.syntax.schema import one_of


class Facts:
    """The values conditions read, computed once per event (language detection is not free)."""

    def __init__(self, event: TicketEvent, ruleset: RuleSet) -> None:
        self.event = event
        self.ruleset = ruleset
        self._matches: dict[tuple[int, str], str | None] = {}

    def first_match(self, matcher: textmatch.WordMatcher, field: str, text: str) -> str | None:
        """Rules share word lists (YAML aliases): search each list in each field once per event."""
        key = (id(matcher), field)
        if key not in self._matches:
            self._matches[key] = matcher.first_match(text)
        return self._matches[key]

    def found(self, matcher: PhraseMatcher, field: str, text: str) -> str | None:
        """`stems`, `fuzzy`, `negated`: what a list found in a field, and how, once per event."""
        key = (id(matcher), field)
        if key not in self._matches:
            found = matcher.first_match(text_index(text, self.word_form_languages))
            self._matches[key] = None if found is None else str(found)
        return self._matches[key]

    @cached_property
    def word_form_languages(self) -> tuple[str, ...]:
        """The languages of the requester's locale and of their words (a customer may write in
        another language than their account's); all three when neither is known."""
        said = (language.normalize_locale(self.event.requester.locale), language.detect(self.event.text))
        known = tuple(dict.fromkeys(lang for lang in said if lang))
        return known or FORM_LANGUAGES

    @cached_property
    def language(self) -> str:
        return self.ruleset.language_for(self.event)

    @cached_property
    def department(self) -> str | None:
        return self.ruleset.department_of(self.event)

    @cached_property
    def text(self) -> str:
        return self.event.text

    @cached_property
    def complaint(self) -> complaint.Score:
        return complaint.score(self.text, self.language)

    @cached_property
    def topic(self) -> topic.Topic:
        return topic.most_confident(self.text, self.language)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text, enum, list, bool, number, any
    read: Callable[[Facts], Any]
    choices: tuple[str, ...] = ()
    ref: str = ""  # a field whose values name things defined elsewhere (departments, deadlines)


def _comment_attr(name: str) -> Callable[[Facts], Any]:
    return lambda facts: getattr(facts.event.comment, name) if facts.event.comment else None


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("platform", "enum", lambda f: f.event.platform, PLATFORMS),
        FieldSpec("status", "enum", lambda f: f.event.status, STATUSES),
        FieldSpec("previous_status", "enum", lambda f: f.event.previous_status, STATUSES),
        FieldSpec("priority", "enum", lambda f: f.event.priority, PRIORITIES),
        FieldSpec("tags", "list", lambda f: f.event.tags),
        FieldSpec("channel", "text", lambda f: f.event.channel),
        FieldSpec("subject", "text", lambda f: f.event.subject),
        FieldSpec("description", "text", lambda f: f.event.description),
        FieldSpec("comment", "text", _comment_attr("body")),
        FieldSpec("comment_public", "bool", _comment_attr("public")),
        FieldSpec("comment_by", "enum", _comment_attr("by"), ("customer", "agent")),
        FieldSpec("text", "text", lambda f: f.text),
        FieldSpec("language", "enum", lambda f: f.language, LANGUAGES),
        FieldSpec("requester.email", "text", lambda f: f.event.requester.email),
        FieldSpec("requester.organization", "text", lambda f: f.event.requester.organization),
        FieldSpec("department", "enum", lambda f: f.department, ref="department"),
        FieldSpec("deadline", "enum", lambda f: f.event.deadline, ref="deadline"),
        FieldSpec("rating", "number", lambda f: f.event.rating),
        FieldSpec("complaint", "number", lambda f: f.complaint.value),
        FieldSpec("topic", "enum", lambda f: f.topic.department, topic.DEPARTMENTS),
        FieldSpec("topic_probability", "number", lambda f: f.topic.probability),
    )
}
CUSTOM_PREFIX = "custom."


def field_spec(name: str) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
        custom = name[len(CUSTOM_PREFIX) :]
        return FieldSpec(name, "any", lambda f: f.ruleset.custom_value(f.event, custom), ref="custom_field")
    return FIELDS.get(name)


# ---- the condition tree --------------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    path: str
    field: FieldSpec
    operator: Operator
    operand: Any  # compiled (a matcher, a regex, a tuple, ...)
    written: Any  # as the admin wrote it, for explanations

    def evaluate(self, facts: Facts, negate: bool, results: list[ConditionResult]) -> bool:
        actual = self.field.read(facts)
        if self.operator.find is not None:
            found = self.operator.find(self.operand, facts, self.field.name, str(actual)) if actual else None
            held = found is not None
            actual = found if held else actual  # say what matched, and how
        else:
            held = self.operator.test(actual, self.operand)
        operator = f"not {self.operator.name}" if negate else self.operator.name
        results.append(ConditionResult(self.path, self.field.name, operator, self.written, _shown(actual), held != negate))
        return held


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Group:
    path: str
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    none: tuple[Condition, ...] = ()

    def evaluate(self, facts: Facts, negate: bool, results: list[ConditionResult]) -> bool:
        # Every test is evaluated (no short-circuit) so the explanation is complete.
        all_held = all([c.evaluate(facts, negate, results) for c in self.all])  # noqa: C419 - evaluate every test
        any_held = not self.any or any([c.evaluate(facts, negate, results) for c in self.any])  # noqa: C419
        none_held = not any([c.evaluate(facts, not negate, results) for c in self.none])  # noqa: C419
        return all_held and any_held and none_held


Condition = Test | Group
GROUP_KEYS = ("all", "any", "none")


def parse_group(node: Node, ctx: ParseContext) -> Group | None:
    """`if:` and nested groups: a mapping of all/any/none to lists of conditions."""
    if not ctx.mapping(node, optional=GROUP_KEYS, what="a mapping with all, any or none"):
        return None
    if not node.value:
        ctx.expected(node, "a mapping with all, any or none")
        return None
    parts: dict[str, tuple[Condition, ...]] = {}
    for key in GROUP_KEYS:
        items = node.get(key)
        if items is None:
            continue
        if not items.is_list or not items.value:
            ctx.expected(items, "a list of conditions")
            continue
        parsed = [parse_condition(item, ctx) for item in items.value]
        parts[key] = tuple(p for p in parsed if p is not None)
    return Group(node.path, **parts)


def parse_condition(node: Node, ctx: ParseContext) -> Condition | None:
    if not node.is_mapping or not node.value:
        ctx.expected(node, "a condition like `status: open` or a group of all, any or none")
        return None
    if all(key in GROUP_KEYS for key in node.value):
        return parse_group(node, ctx)
    tests = [_parse_field(node, name, operand, ctx) for name, operand in node.items()]
    flat = [test for group in tests for test in group]
    if len(flat) == 1:
        return flat[0]
    return Group(node.path, all=tuple(flat)) if flat else None


def _parse_field(parent: Node, name: str, node: Node, ctx: ParseContext) -> list[Condition]:
    if name in GROUP_KEYS:
        group = parse_group(_wrap(parent, name, node), ctx)
        return [group] if group else []
    spec = field_spec(name)
    if spec is None:
        ctx.problems.append(parent.key_problem(name, _unknown_field(name)))
        return []
    if spec.ref == "custom_field":
        ctx.require("custom_field", name[len(CUSTOM_PREFIX) :], parent.key_nodes.get(name, node))
    if not node.is_mapping:  # short forms: `status: open`, `tags: vip`
        short = "contains" if spec.kind == "list" else "is"
        return _test(spec, short, node, ctx)
    if not node.value:
        ctx.expected(node, f"an operator: {one_of(OPERATORS)}")
        return []
    return [test for op, operand in node.items() for test in _test(spec, op, operand, ctx, node)]


def _wrap(parent: Node, key: str, node: Node) -> Node:
    where = parent.key_nodes.get(key, node)
    return Node({key: node}, parent.file, where.line, where.column, parent.path, {key: where})


def _unknown_field(name: str) -> str:
    import difflib

    names = [*FIELDS, "custom.NAME"]
    guess = difflib.get_close_matches(name, names, n=1)
    hint = f'; did you mean "{guess[0]}"?' if guess else ""
    return f'unknown field "{name}"{hint} (expected one of: {one_of(names)})'


def _test(spec: FieldSpec, op_name: str, operand: Node, ctx: ParseContext, holder: Node | None = None) -> list[Condition]:
    operator = OPERATORS.get(op_name)
    if operator is None:
        message = f'unknown operator "{op_name}" (expected one of: {one_of(OPERATORS)})'
        ctx.problems.append(holder.key_problem(op_name, message) if holder else operand.problem(message))
        return []
    if spec.kind not in operator.kinds:
        ctx.report(operand, f'operator "{op_name}" does not apply to {spec.name} ({_kind_words(spec.kind)}); use one of: {one_of(_ops_for(spec.kind))}')
        return []
    compiled = operator.compile(operand, spec, ctx)
    if compiled is INVALID:
        return []
    return [Test(operand.path, spec, operator, compiled, operand.plain())]


def _kind_words(kind: str) -> str:
    return {"list": "a list", "text": "a text", "enum": "a name", "bool": "true/false", "number": "a number", "any": "a custom field"}[kind]


def _ops_for(kind: str) -> list[str]:
    return [name for name, op in OPERATORS.items() if kind in op.kinds]
