"""The operators conditions apply to a field's value: each one a name, the kinds of field it
applies to, how its operand is checked and compiled at load, and how it tests a value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from integration.core.matching import patterns, phrases
from integration.core.matching import text as textmatch
from integration.core.matching.forms import FORM_LANGUAGES, TextIndex
from integration.core.matching.tokens import tokenize
from integration.core.syntax.context import ParseContext
from integration.core.syntax.nodes import Node
from integration.core.syntax.schema import describe, one_of

if TYPE_CHECKING:  # the package imports this module; the field table is its own
    from integration.core.conditions import Facts, FieldSpec

INVALID = object()  # an operand that failed validation (the problem is already reported)


Compiler = Callable[[Node, "FieldSpec", ParseContext], Any]
Tester = Callable[[Any, Any], bool]
# Text operators say what they found (for the explanation), or None: (operand, facts, field, text).
Finder = Callable[[Any, "Facts", str, str], "str | None"]


@dataclass(frozen=True)
class Operator:
    name: str
    kinds: frozenset[str]
    compile: Compiler
    test: Tester
    find: Finder | None = None  # used instead of `test` when the engine has the event's facts


def _scalar(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    if spec.kind == "bool":
        flag = ctx.boolean(node)
        return INVALID if flag is None else flag
    if spec.kind == "number":
        number = ctx.number(node)
        return INVALID if number is None else number
    if not node.is_scalar or node.value is None:
        ctx.expected(node, "a single value")
        return INVALID
    value = node.value if isinstance(node.value, str) else str(node.value)
    return _checked_choice(node, value, spec, ctx)


def _checked_choice(node: Node, value: str, spec: FieldSpec, ctx: ParseContext) -> Any:
    if spec.choices and value not in spec.choices:
        ctx.expected(node, f"one of {one_of(spec.choices)}")
        return INVALID
    if spec.ref:
        ctx.require(spec.ref, value, node)
    return value


def _scalar_list(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    if not node.is_list or not node.value:
        ctx.expected(node, "a list of values")
        return INVALID
    values = [_scalar(item, spec, ctx) for item in node.value]
    return INVALID if any(value is INVALID for value in values) else tuple(values)


def _text_list(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    values = ctx.string_list(node, "a list of texts", allow_single=True)
    return INVALID if values is None else tuple(values)


def _one_text(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    value = node.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        ctx.expected(node, "a text")
        return INVALID
    return value


def _words(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    values = ctx.string_list(node, "a list of words or phrases", allow_single=True)
    return INVALID if values is None else _matcher(tuple(values))


@lru_cache(maxsize=1024)
def _matcher(words: tuple[str, ...]) -> textmatch.WordMatcher:
    """One compiled matcher per distinct list, however many rules repeat it."""
    return textmatch.WordMatcher(words)


def _find_words(matcher: textmatch.WordMatcher, facts: Facts, field: str, text: str) -> str | None:
    match = facts.first_match(matcher, field, text)
    return None if match is None else f"…{match}…"  # say which word matched


def _forms(typos: bool = False, negated: bool = False) -> Compiler:
    """`stems`, `fuzzy`, `negated`: a list of words or phrases, each with a word to look for."""

    def compile_forms(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
        values = ctx.string_list(node, "a list of words or phrases", allow_single=True)
        if values is None:
            return INVALID
        items = node.value if node.is_list else [node]
        problems = [(item, _phrase_problem(value)) for item, value in zip(items, values, strict=True)]
        for item, problem in problems:
            if problem:
                ctx.report(item, f"{problem} (got {describe(item.value)})")
        if any(problem for _, problem in problems):
            return INVALID
        return _phrase_matcher(tuple(values), typos, negated)

    return compile_forms


def _phrase_problem(entry: str) -> str:
    tokens = tokenize(entry)
    if not tokens:
        return "must have a word to look for (links, @handles, e-mail addresses and ids are never matched)"
    if len(tokens) > phrases.MAX_PHRASE_WORDS:
        return f"must be a phrase of at most {phrases.MAX_PHRASE_WORDS} words"
    if tokens[0].clause != tokens[-1].clause:
        return "must not hold punctuation that ends a clause (such as . , ; : ! ?): a phrase is matched within one"
    return ""


@lru_cache(maxsize=1024)
def _phrase_matcher(entries: tuple[str, ...], typos: bool, negated: bool) -> phrases.PhraseMatcher:
    return phrases.PhraseMatcher(entries, typos=typos, negated=negated)


def _find_forms(matcher: phrases.PhraseMatcher, facts: Facts, field: str, text: str) -> str | None:
    return facts.found(matcher, field, text)


def _test_forms(actual: Any, matcher: phrases.PhraseMatcher) -> bool:
    """Without an event's facts (no language known): every language's forms."""
    return bool(actual) and matcher.first_match(TextIndex(str(actual), FORM_LANGUAGES)) is not None


def _regex(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    if not isinstance(node.value, str) or not node.value:
        ctx.expected(node, "a regular expression")
        return INVALID
    try:
        return patterns.compile_pattern(node.value)
    except patterns.PatternRefused as refused:
        ctx.report(node, f"{refused} (got {describe(node.value)})")
        return INVALID


def _flag(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    value = ctx.boolean(node)
    return INVALID if value is None else value


def _bound(node: Node, spec: FieldSpec, ctx: ParseContext) -> Any:
    value = ctx.number(node)
    return INVALID if value is None else value


def _same(actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return actual == expected or str(actual) == str(expected)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(check: Callable[[float, float], bool]) -> Tester:
    def test(actual: Any, bound: Any) -> bool:
        number = _number(actual)
        return number is not None and check(number, float(bound))

    return test


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != () and value != []


def _as_list(actual: Any) -> tuple[str, ...]:
    return tuple(actual) if actual else ()


SCALARS = frozenset({"text", "enum", "bool", "number", "any"})
TEXTS = frozenset({"text", "any"})
NUMBERS = frozenset({"number", "any"})
LISTS = frozenset({"list"})
EVERY = SCALARS | LISTS

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("is", SCALARS, _scalar, _same),
        Operator("is_not", SCALARS, _scalar, lambda a, e: not _same(a, e)),
        Operator("in", SCALARS - {"bool"}, _scalar_list, lambda a, e: any(_same(a, x) for x in e)),
        Operator("not_in", SCALARS - {"bool"}, _scalar_list, lambda a, e: not any(_same(a, x) for x in e)),
        Operator("contains", LISTS, _one_text, lambda a, e: e in _as_list(a)),
        Operator("contains_any", LISTS, _text_list, lambda a, e: any(x in _as_list(a) for x in e)),
        Operator("contains_all", LISTS, _text_list, lambda a, e: all(x in _as_list(a) for x in e)),
        # a family of tags (`root-cause-billing`, `root-cause-carrier`...) named by its prefix
        Operator("contains_prefix", LISTS, _one_text, lambda a, e: any(x.startswith(e) for x in _as_list(a))),
        Operator("words", TEXTS, _words, lambda a, e: bool(a) and e.first_match(str(a)) is not None, _find_words),
        Operator("stems", TEXTS, _forms(), _test_forms, _find_forms),
        Operator("fuzzy", TEXTS, _forms(typos=True), _test_forms, _find_forms),
        Operator("negated", TEXTS, _forms(negated=True), _test_forms, _find_forms),
        Operator("matches", TEXTS, _regex, lambda a, e: a is not None and e.search(str(a))),
        Operator("gt", NUMBERS, _bound, _compare(lambda a, b: a > b)),
        Operator("gte", NUMBERS, _bound, _compare(lambda a, b: a >= b)),
        Operator("lt", NUMBERS, _bound, _compare(lambda a, b: a < b)),
        Operator("lte", NUMBERS, _bound, _compare(lambda a, b: a <= b)),
        Operator("exists", EVERY, _flag, lambda a, e: _present(a) == e),
    )
}
