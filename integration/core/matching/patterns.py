"""Admins' regular expressions (the `matches` operator), safe on any text a customer sends.

Python's `re` backtracks: `^(\\w+\\s?)*$` on a 60-character comment never returns, and
holds the GIL while it tries. So a pattern is checked three ways:
- at load, a repetition of something that itself repeats with nothing fixed between the
  rounds (`(\\w+\\s?)*`, `(a*)*`) is refused: such a pattern can split a text in
  exponentially many ways;
- each search runs on the `regex` engine with a time limit, releasing the GIL meanwhile,
  for the slow patterns no shape check catches;
- it sees at most the first `TEXT_LIMIT` characters of a field.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]  # the parse tree's opcodes
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex

from integration.core.matching.text import TEXT_LIMIT
from integration.core.plan import PlanAbandoned

__all__ = ["SEARCH_SECONDS", "TEXT_LIMIT", "Pattern", "PatternRefused", "PatternTooSlow", "compile_pattern"]

SEARCH_SECONDS = 1.0  # per search; a pattern that needs more is no rule to run on every event


class PatternRefused(ValueError):
    """The pattern cannot be used; the message says why, for the admin."""


class PatternTooSlow(PlanAbandoned):
    """A search ran out of time: the event cannot be planned with this rule set."""


class Pattern:
    """A compiled `matches` pattern: `search` is bounded in time and in the text it reads."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str, compiled: Any) -> None:
        self.source = source
        self._compiled = compiled

    def search(self, text: str) -> bool:
        try:
            found = self._compiled.search(text[:TEXT_LIMIT], timeout=SEARCH_SECONDS, concurrent=True)
        except TimeoutError:
            raise PatternTooSlow(
                f"the pattern {self.source!r} took longer than {SEARCH_SECONDS:g} s on a text of "
                f"{min(len(text), TEXT_LIMIT)} characters"
            ) from None
        return found is not None

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"


def compile_pattern(source: str) -> Pattern:
    """Raises PatternRefused with a message for the admin."""
    try:
        tree = sre_parse.parse(source)
    except re.error as error:
        raise PatternRefused(f"must be a valid regular expression: {error.msg} at position {error.pos}") from None
    nested = _ambiguous_repeat(list(tree))
    if nested:
        raise PatternRefused(
            f"must not repeat a part that itself repeats with nothing fixed between the rounds ({nested}): "
            "it can take exponential time on some texts; repeat a part that ends in a fixed separator "
            r"instead (e.g. `(\w+\s)*` rather than `(\w+\s?)*`)"
        )
    try:
        return Pattern(source, regex.compile(source, regex.VERSION0))
    except (regex.error, OverflowError) as error:
        raise PatternRefused(f"must be a regular expression this service can run: {error}") from None


_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)


def _ambiguous_repeat(items: list[tuple[Any, Any]]) -> str | None:
    """A description of the first repetition over a body with no fixed part, or None."""
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if high > 1 and _all_variable(list(body)):
                return _describe(op, low, high)
            found = _ambiguous_repeat(list(body))
        else:
            found = _ambiguous_repeat(_children(op, av))
        if found:
            return found
    return None


def _children(op: Any, av: Any) -> list[tuple[Any, Any]]:
    if op == sre.SUBPATTERN or op == sre.ATOMIC_GROUP or op == sre.POSSESSIVE_REPEAT:
        return list(av[-1])
    if op == sre.BRANCH:
        return [item for branch in av[1] for item in branch]
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return list(av[1])
    if op == sre.GROUPREF_EXISTS:
        return [item for branch in av[1:] if branch is not None for item in branch]
    return []


def _all_variable(items: list[tuple[Any, Any]]) -> bool:
    """Whether a body is only variable-length repetitions (and zero-width checks): such a body
    can share a text with the next round of its repeat in many ways."""
    variable = False
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _REPEATS and av[0] != av[1] or op == sre.SUBPATTERN and _all_variable(list(av[-1])) or op == sre.BRANCH and all(_all_variable(list(branch)) for branch in av[1]):
            variable = True
        else:
            return False
    return variable


def _describe(op: Any, low: int, high: int) -> str:
    if high == sre.MAXREPEAT:
        return "a repeated group inside `*`" if low == 0 else "a repeated group inside `+`"
    return f"a repeated group inside `{{{low},{high}}}`"
