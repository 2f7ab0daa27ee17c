"""Accent- and case-insensitive text helpers for rule conditions.

Customers type "COBRANCA", "cobrança" and "Cobrança" for the same word, so everything
that compares words goes through `fold` first. Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from itertools import groupby

__all__ = ["WordMatcher", "fold", "fold_word"]


def _fold_char(char: str) -> str:
    # NFKD splits "ç" into "c" + cedilla and "ﬁ" into "fi"; casefolding in between and a
    # second NFKD follow Unicode's compatibility caseless matching ("İ", "ß", "ℌ").
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _FoldTable(dict[int, str]):
    """A `str.translate` table filled on first sight of each code point.

    Folding is per character (decomposition and case folding are both per code point,
    and the only reordering NFKD does is among the combining marks we drop), so a
    memoised table gives the exact result at C speed after warm-up.
    """

    def __missing__(self, code_point: int) -> str:
        folded = self[code_point] = _fold_char(chr(code_point))
        return folded


_FOLD_TABLE = _FoldTable()
TEXT_LIMIT = 50_000  # characters of a field a word list reads: every step of a plan is bounded
_WORD_CHAR = re.compile(r"\w")


@lru_cache(maxsize=32)
def _fold_cached(text: str) -> str:
    # Every rule with a `words` condition folds the same event text; caching the last
    # few texts makes the second and later rules pay one dict lookup instead.
    if text.isascii():
        return text.lower()  # casefold() == lower() on ASCII, and much faster
    return text.translate(_FOLD_TABLE)


def fold(text: str) -> str:
    """Casefold and strip diacritics: "Cobrança" -> "cobranca", "Facturación" -> "facturacion"."""
    return _fold_cached(text)


def fold_word(word: str) -> str:
    """`fold` for the many short words of a text: not cached, so they never push the texts
    themselves out of `fold`'s cache."""
    return word.lower() if word.isascii() else word.translate(_FOLD_TABLE)


def _phrase_key(folded: str) -> str:
    # How a folded word/phrase and a folded match are compared: single-spaced tokens.
    return " ".join(folded.split())


def _body(key: str) -> str:
    # Words are literal ("c++", "r$"); between a phrase's words any run of whitespace.
    return r"\s+".join(re.escape(token) for token in key.split(" "))


def _is_word_char(char: str) -> bool:
    # Where \w holds, a word boundary is needed; after or before a symbol it is not.
    return _WORD_CHAR.match(char) is not None


def _tail(keys: list[str], word_end: bool) -> str:
    """Consecutive keys with the same kind of last character, and the check after them."""
    alternatives = "|".join(_body(key) for key in keys)
    # A symbol at the end needs no boundary: "r$" must still match in "r$100".
    return f"(?:{alternatives})(?!\\w)" if word_end else alternatives


def _group(keys: list[str]) -> str:
    """Keys starting with a letter/digit: one lookbehind for all of them.

    Lookarounds on Unicode \\w rather than \\b, so every letter (not only ASCII) is a
    word character. A single lookbehind in front of the whole alternation is ~15x faster
    than one per word, since the engine rejects most positions before trying any word.
    """
    tails = groupby(keys, lambda key: _is_word_char(key[-1]))
    return r"(?<!\w)(?:" + "|".join(_tail(list(run), end) for end, run in tails) + ")"


def _compile(keys: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first: at one position the regex takes the first alternative that
    # matches, so "cobrança indevida" beats "cobrança". Keys starting with a symbol
    # ("#vip") can never match where a word does, so they can simply go last.
    ordered = sorted(keys, key=lambda key: (-len(key), key))
    words = [key for key in ordered if _is_word_char(key[0])]
    symbols = [key for key in ordered if not _is_word_char(key[0])]
    parts = [_group(words)] if words else []
    parts += (_tail([key], _is_word_char(key[-1])) for key in symbols)  # no start boundary
    return re.compile("|".join(parts), re.UNICODE) if parts else None


class WordMatcher:
    """Finds the first of a list of words/phrases in a text, on word boundaries.

    Built once per rule condition and then called for every event, so all the work
    (folding the words, escaping, ordering) happens here, into a single regex.
    """

    __slots__ = ("_originals", "_pattern", "words")

    def __init__(self, words: Iterable[str]) -> None:
        self.words: tuple[str, ...] = tuple(words)
        self._originals: dict[str, str] = {}
        for word in self.words:
            key = _phrase_key(fold(word))
            if key:  # blank entries would match everywhere; ignore them
                self._originals.setdefault(key, word)  # the first spelling wins
        self._pattern = _compile(self._originals)

    def first_match(self, text: str) -> str | None:
        """The word/phrase (as written in the rule) found first in `text`, or None."""
        if self._pattern is None or not text:
            return None
        match = self._pattern.search(fold(text[:TEXT_LIMIT]))
        if match is None:
            return None
        return self._originals[_phrase_key(match.group())]

    def __repr__(self) -> str:
        return f"WordMatcher({list(self.words)!r})"
