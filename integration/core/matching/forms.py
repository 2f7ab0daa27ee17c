"""Word forms: Snowball stems for Portuguese, Spanish and English, and a text's words indexed
by form, built once per text and shared by every `stems`, `fuzzy` and `negated` condition.

A word and its stem are always compared folded (case and accents dropped), so "cobrança",
"COBRANCA" and "cobrancas" meet. Portuguese typed without accents loses the endings the
stemmer knows ("reclamacao" is not "reclamação" to it), so those endings get their accents
back before stemming: "reclamacao", "reclamacoes" and "reclamações" all stem to "reclam".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from rapidfuzz.distance import OSA

from integration.core.matching.text import fold_word
from integration.core.matching.tokens import Token, tokenize

__all__ = ["FORM_LANGUAGES", "TextIndex", "deletions", "stem", "text_index", "typo_budget"]

FORM_LANGUAGES = ("pt", "es", "en")
_ALGORITHMS = {"pt": "portuguese", "es": "spanish", "en": "english"}
# Endings Portuguese writers drop the accents of, restored before stemming (longest first).
_PT_ENDINGS = re.compile(r"(?<=\w\w)(coes|cao|oes|aes|ao)$")
_PT_ACCENTED = {"coes": "ções", "cao": "ção", "oes": "ões", "aes": "ães", "ao": "ão"}
# A typo is allowed only in a long word: in "cobra" or "conta" one letter is another word.
TYPO_FREE_BELOW = 6
TWO_TYPOS_FROM = 10
JOINED_SPAN = 3  # words a phrase may be written as or split into ("reclameaqui", "charge back")

_local = threading.local()  # a Snowball stemmer object is not meant to be shared by threads


def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmers: dict[str, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        stemmers[language] = Stemmer.Stemmer(_ALGORITHMS[language])
    return stemmers[language]


@lru_cache(maxsize=65_536)
def stem(folded: str, language: str) -> str:
    """The folded stem of a folded word in "pt", "es" or "en"."""
    word = _PT_ENDINGS.sub(lambda m: _PT_ACCENTED[m.group()], folded) if language == "pt" else folded
    return fold_word(_stemmer(language).stemWord(word))


def typo_budget(length: int) -> int:
    """Edits allowed in a word of `length` letters: none below 6, one from 6, two from 10."""
    return 0 if length < TYPO_FREE_BELOW else 1 if length < TWO_TYPOS_FROM else 2


@lru_cache(maxsize=65_536)
def deletions(word: str, depth: int) -> frozenset[str]:
    """`word` and every string left after deleting up to `depth` of its letters. Two words
    within `depth` edits (OSA) of each other share one: a change or a swap is a deletion on
    each side, an added letter a deletion on one."""
    found, layer = {word}, {word}
    for _ in range(depth):
        layer = {variant[:i] + variant[i + 1 :] for variant in layer for i in range(len(variant))}
        found |= layer
    return frozenset(found)


def _reach(length: int) -> int:
    """Deletions to index for a text word of `length` letters: as many as a listed word it can
    be a typo of allows (one of 6+ letters is one letter longer at most, of 10+ two)."""
    return 2 if length >= TWO_TYPOS_FROM - 2 else 1 if length >= TYPO_FREE_BELOW - 1 else 0


def _positions(keys: Iterable[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        index.setdefault(key, []).append(position)
    return index


@lru_cache(maxsize=32)
def text_index(text: str, languages: tuple[str, ...]) -> TextIndex:
    """The index of a text, shared by every condition and by the next events whose field reads
    the same (a ticket's subject and description). What it fills in later is a pure function of
    the text, so threads sharing one at worst compute a part twice."""
    return TextIndex(text, languages)


class TextIndex:
    """One text's words, by folded form, by stem in each language; what lists found in it."""

    def __init__(self, text: str, languages: tuple[str, ...]) -> None:
        self.text = text
        self.languages = languages
        self.tokens: list[Token] = tokenize(text)
        self.by_word = _positions(token.folded for token in self.tokens)
        self._stems: dict[str, dict[str, list[int]]] = {}
        self._found: dict[tuple[str, bool], dict[int, str]] = {}
        self._near: dict[str | None, dict[str, list[str]]] = {}
        self.found: dict[object, object] = {}  # a list's matcher -> its first match, or None

    def stems(self, language: str) -> dict[str, list[int]]:
        if language not in self._stems:
            self._stems[language] = _positions(stem(token.folded, language) for token in self.tokens)
        return self._stems[language]

    def run(self, start: int, length: int) -> str | None:
        """`length` words from `start` run together ("charge back" -> "chargeback"), if the text
        has them in one clause."""
        end = start + length
        tokens = self.tokens
        if end > len(tokens) or tokens[end - 1].clause != tokens[start].clause:
            return None
        return "".join(token.folded for token in tokens[start:end])

    def near(self, language: str | None) -> dict[str, list[str]]:
        """The text's words (language None) or stems, by every string left after deleting up to
        2 of their letters: a listed word within a typo or two shares one of these with them."""
        if language not in self._near:
            table: dict[str, list[str]] = {}
            for key in self.by_word if language is None else self.stems(language):
                for variant in deletions(key, _reach(len(key))):
                    table.setdefault(variant, []).append(key)
            self._near[language] = table
        return self._near[language]

    def word_at(self, folded: str, typos: bool) -> dict[int, str]:
        """Where a (folded) listed word is found, and how: "same word", "stem", "1 typo"...
        Kept per text: many conditions list the same words."""
        key = (folded, typos)
        if key not in self._found:
            self._found[key] = self._find_word(folded, typos)
        return self._found[key]

    def _find_word(self, folded: str, typos: bool) -> dict[int, str]:
        found: dict[int, str] = {}
        if typos:  # weakest first: a stronger way of matching overwrites it
            for language in self.languages:
                self._add_typos(found, stem(folded, language), language, "stem, ")
            self._add_typos(found, folded, None, "")
        for language in self.languages:
            found.update(dict.fromkeys(self.stems(language).get(stem(folded, language), ()), "stem"))
        found.update(dict.fromkeys(self.by_word.get(folded, ()), "same word"))
        return found

    def _add_typos(self, found: dict[int, str], listed: str, language: str | None, prefix: str) -> None:
        budget = typo_budget(len(listed))
        if not budget:
            return
        near = self.near(language)
        keys = {key for variant in deletions(listed, budget) for key in near.get(variant, ())}
        index = self.by_word if language is None else self.stems(language)
        near_keys = [(distance, key) for key in keys if 0 < (distance := OSA.distance(listed, key, score_cutoff=budget)) <= budget]
        for distance, key in sorted(near_keys, reverse=True):  # the closest last: it wins
            found.update(dict.fromkeys(index[key], f"{prefix}{distance} typo{'s' if distance > 1 else ''}"))

    def span(self, first: int, last: int) -> str:
        """The text as written from token `first` to token `last`, inclusive."""
        return self.text[self.tokens[first].start : self.tokens[last].end]
