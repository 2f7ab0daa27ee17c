"""Lists of words and phrases found in their other forms: the `stems`, `fuzzy` and `negated`
operators. Built once per condition at load; `first_match` reads a shared `TextIndex`.

A listed phrase matches where each of its words, in order and within one clause, matches a
word of the text (same word or same stem; with `fuzzy`, also within the typo budget), or where
the text runs its words together or splits them ("ReclameAqui", "charge back"). `negated`
asks, in addition, for a negation of the text's language among the 3 words before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from integration.core.matching.forms import (
    FORM_LANGUAGES,
    JOINED_SPAN,
    TextIndex,
    deletions,
    stem,
    typo_budget,
)
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
    """Finds the first of a list of words/phrases in a text, in any of their forms.

    The list is indexed at load by each phrase's first word (its stem in each language, and,
    for `fuzzy`, the strings a typo of it shares), so reading a text costs a few set
    intersections, and only the phrases whose first word is there are followed up."""

    __slots__ = ("_by_first", "_by_joined", "_by_split_start", "_phrases", "entries", "negated", "typos")

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
        # (language or None for the words themselves, near or not) -> first-word key -> phrases
        self._by_first: dict[tuple[str | None, bool], dict[str, list[int]]] = {}
        for phrase in self._phrases:
            self._index_first_word(phrase)
        self._by_joined = _keyed((p.joined, p.order) for p in self._phrases if len(p.words) > 1)
        # A word split in the text ("charge back") starts with a word that begins the listed one.
        self._by_split_start = _keyed((prefix, p.order) for p in self._phrases if len(p.words) < JOINED_SPAN for prefix in _starts(p.joined))

    def _index_first_word(self, phrase: _Phrase) -> None:
        first = phrase.words[0]
        for language in FORM_LANGUAGES:
            self._by_first.setdefault((language, False), {}).setdefault(stem(first, language), []).append(phrase.order)
        if not self.typos:
            return
        keys: list[tuple[str | None, str]] = [(None, first)] + [(lang, stem(first, lang)) for lang in FORM_LANGUAGES]
        for stemmed_in, key in keys:  # the word itself (None), then its stem in each language
            table = self._by_first.setdefault((stemmed_in, True), {})
            for variant in deletions(key, typo_budget(len(key))):
                table.setdefault(variant, []).append(phrase.order)

    def _candidates(self, index: TextIndex) -> set[int]:
        """The phrases whose first word (or whole, run together) may be in the text."""
        hits: set[int] = set()
        for language in index.languages:
            _add(hits, self._by_first.get((language, False), {}), index.stems(language))
            if self.typos:
                _add(hits, self._by_first.get((language, True), {}), index.near(language))
        if self.typos:
            _add(hits, self._by_first.get((None, True), {}), index.near(None))
        _add(hits, self._by_joined, index.by_word)
        for prefix in self._by_split_start.keys() & index.by_word.keys():
            hits.update(order for order in self._by_split_start[prefix] if order not in hits and self._split_at(self._phrases[order], index, index.by_word[prefix]))
        return hits

    def first_match(self, index: TextIndex) -> Found | None:
        """The match that starts first in the text (the longer one on a tie), or None."""
        if self in index.found:
            return index.found[self]  # type: ignore[return-value]
        best = self._first_match(index) if index.tokens else None
        index.found[self] = best
        return best

    def _first_match(self, index: TextIndex) -> Found | None:
        best: Found | None = None
        best_key: tuple[int, int, int] | None = None
        for order in self._candidates(index):
            phrase = self._phrases[order]
            found = next(self._matches(phrase, index), None)  # in text order: the first is its best
            if found is not None and (best_key is None or (found.start, -found.length, order) < best_key):
                best, best_key = found, (found.start, -found.length, order)
        return best

    def _matches(self, phrase: _Phrase, index: TextIndex) -> Iterator[Found]:
        """The phrase's matches in text order (lazily: the first is usually all that is wanted)."""
        spans = self._word_by_word(phrase, index) + self._run_together(phrase, index)
        spans.sort(key=lambda span: (span[0], -span[1]))
        for start, length, how in spans:
            if self.negated:
                negation = _negation_before(index.tokens, start, index.languages)
                if negation is None:
                    continue
                how, start, length = f"negated, {how}", negation, length + start - negation
            yield Found(index.span(start, start + length - 1), phrase.entry, how, start, length)

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
            starts = sorted({start for prefix in _starts(phrase.joined) for start in index.by_word.get(prefix, ())})
            spans += PhraseMatcher._split_at(phrase, index, starts)
        return spans

    @staticmethod
    def _split_at(phrase: _Phrase, index: TextIndex, starts: Iterable[int]) -> list[tuple[int, int, str]]:
        """Where, from these positions, the text splits the phrase into 2-3 words of one clause."""
        lengths = [length for length in range(2, JOINED_SPAN + 1) if length != len(phrase.words)]
        return [(start, length, "written apart") for start in starts for length in lengths if index.run(start, length) == phrase.joined]

    def __repr__(self) -> str:
        return f"PhraseMatcher({list(self.entries)!r}, typos={self.typos}, negated={self.negated})"


def _starts(joined: str) -> list[str]:
    """What the first of several words a listed word was split into can be: "c", "ch", ... "chargebac"."""
    return [joined[:end] for end in range(1, len(joined))]


def _keyed(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    for key, order in pairs:
        table.setdefault(key, []).append(order)
    return table


def _add(hits: set[int], table: dict[str, list[int]], text_keys: Mapping[str, object]) -> None:
    """The phrases of `table` under the keys the text has (the smaller side is iterated)."""
    for key in table.keys() & text_keys.keys():
        hits.update(table[key])


def _combined(hows: list[str], size: int) -> str:
    """How a phrase matched, from how each of its words did: its weakest link."""
    if size == 1:
        return hows[0]
    typos = sum(int(how.split()[-2]) for how in hows if how.endswith(("typo", "typos")))
    if typos:  # "1 typo", "stem, 2 typos": the edits of all the words together
        return f"{'stem, ' if any(how.startswith('stem') for how in hows) else ''}{typos} typo{'s' if typos > 1 else ''}"
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
