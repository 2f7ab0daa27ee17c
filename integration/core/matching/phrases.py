"""Lists of words and phrases found in their other forms: the `stems`, `fuzzy` and `negated`
operators. Built once per condition at load; `first_match` reads a shared `TextIndex`.

A listed phrase matches where each of its words, in order and within one clause, matches a
word of the text (same word or same stem; with `fuzzy`, also within the typo budget), or where
the text runs its words together or splits them ("ReclameAqui", "charge back"). `negated`
asks, in addition, for a negation of the text's language among the 3 words before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from integration.core.matching.forms import JOINED_SPAN, TextIndex
from integration.core.matching.tokens import Token, tokenize

__all__ = ["MAX_PHRASE_WORDS", "NEGATIONS", "NEGATION_REACH", "Found", "PhraseMatcher", "words_of"]

MAX_PHRASE_WORDS = 6
NEGATION_REACH = 3  # "won't even open", "no me ha llegado": the negation is up to 3 words before
# Folded, so "nao" and "não" are one; per language, since "no" is "in the" in Portuguese.
NEGATIONS: dict[str, frozenset[str]] = {
    "pt": frozenset(("nao", "n", "nunca", "nem", "jamais", "sem", "nenhum", "nenhuma")),
    "es": frozenset(("no", "nunca", "ni", "jamas", "tampoco", "sin", "ningun", "ninguna")),
    "en": frozenset((
        "not", "no", "never", "nor", "cannot", "without", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt",
        "werent", "wont", "cant", "couldnt", "wouldnt", "shouldnt", "hasnt", "havent", "hadnt", "aint",
    )),
}
_ENGLISH_CONTRACTION = "n't"  # "won't", "didn't", "can't", "hasn't"...


def words_of(entry: str) -> tuple[str, ...]:
    """A listed entry's folded words, read as customer text is (ids and links left out)."""
    return tuple(token.folded for token in tokenize(entry))


@dataclass(frozen=True)
class Found:
    """Where a listed entry was found: the text's words as written, and how they matched."""

    written: str
    entry: str
    how: str
    start: int  # the first token
    length: int

    def __str__(self) -> str:
        return f"{self.written} ~ {self.entry} ({self.how})"


@dataclass(frozen=True)
class _Phrase:
    entry: str  # as the admin wrote it
    words: tuple[str, ...]
    joined: str  # the words run together: "reclame aqui" -> "reclameaqui"
    order: int  # place in the list: breaks ties


class PhraseMatcher:
    """Finds the first of a list of words/phrases in a text, in any of their forms."""

    __slots__ = ("_phrases", "entries", "negated", "typos")

    def __init__(self, entries: Iterable[str], typos: bool = False, negated: bool = False) -> None:
        self.entries: tuple[str, ...] = tuple(entries)
        self.typos = typos
        self.negated = negated
        phrases: dict[tuple[str, ...], _Phrase] = {}
        for entry in self.entries:
            words = words_of(entry)
            if words and words not in phrases:  # the first spelling wins
                phrases[words] = _Phrase(entry, words, "".join(words), len(phrases))
        self._phrases = tuple(phrases.values())

    def first_match(self, index: TextIndex) -> Found | None:
        """The match that starts first in the text (the longer one on a tie), or None."""
        best: Found | None = None
        best_key: tuple[int, int, int] | None = None
        for phrase in self._phrases:
            for found in self._matches(phrase, index):
                key = (found.start, -found.length, phrase.order)
                if best_key is None or key < best_key:
                    best, best_key = found, key
                break  # _matches yields in text order: the first one is this phrase's best
        return best

    def _matches(self, phrase: _Phrase, index: TextIndex) -> list[Found]:
        spans = self._word_by_word(phrase, index) + self._run_together(phrase, index)
        spans.sort(key=lambda span: (span[0], -span[1]))
        found = []
        for start, length, how in spans:
            if self.negated:
                negation = _negation_before(index.tokens, start, index.languages)
                if negation is None:
                    continue
                how, start, length = f"negated, {how}", negation, length + start - negation
            written = index.span(start, start + length - 1)
            found.append(Found(written, phrase.entry, how, start, length))
        return found

    def _word_by_word(self, phrase: _Phrase, index: TextIndex) -> list[tuple[int, int, str]]:
        where = [index.word_at(word, self.typos) for word in phrase.words]
        tokens, size = index.tokens, len(phrase.words)
        spans = []
        for start, how in where[0].items():
            if start + size > len(tokens) or tokens[start + size - 1].clause != tokens[start].clause:
                continue
            hows = [how] + [where[n].get(start + n) for n in range(1, size)]
            if all(hows):
                spans.append((start, size, _combined(hows, size)))  # type: ignore[arg-type]
        return spans

    @staticmethod
    def _run_together(phrase: _Phrase, index: TextIndex) -> list[tuple[int, int, str]]:
        size = len(phrase.words)
        spans = []
        if size > 1:  # "reclame aqui" written "ReclameAqui"
            spans += [(start, 1, "written together") for start in index.by_word.get(phrase.joined, ())]
        if size < JOINED_SPAN:  # "chargeback" written "charge back" or "charge-back"
            spans += [(start, length, "written apart") for start, length in index.joined.get(phrase.joined, ()) if length != size]
        return spans

    def __repr__(self) -> str:
        return f"PhraseMatcher({list(self.entries)!r}, typos={self.typos}, negated={self.negated})"


def _combined(hows: list[str], size: int) -> str:
    """How a phrase matched, from how each of its words did: its weakest link."""
    if size == 1:
        return hows[0]
    typos = [how for how in hows if "typo" in how]
    if typos:
        return ", ".join(typos) if len(typos) > 1 else typos[0]
    return "stem" if "stem" in hows else "same words"


def _negation_before(tokens: list[Token], start: int, languages: tuple[str, ...]) -> int | None:
    """The position of a negation up to NEGATION_REACH words before `start`, in its clause."""
    for position in range(start - 1, max(start - NEGATION_REACH, 0) - 1, -1):
        token = tokens[position]
        if token.clause != tokens[start].clause:
            return None
        if _negates(token.folded, languages):
            return position
    return None


def _negates(folded: str, languages: tuple[str, ...]) -> bool:
    if "en" in languages and folded.endswith(_ENGLISH_CONTRACTION):
        return True
    return any(folded in NEGATIONS[language] for language in languages)
