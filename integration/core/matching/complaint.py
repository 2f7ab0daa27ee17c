"""How much a customer's message reads like a complaint: a number from 0 to 1 and the cues
that made it.

A small logistic model per language: the score is the logistic of a bias plus the weights
of the cues found in the text. Cues and weights live in `complaint_cues.json` beside this
module, written by `scripts/train_complaint.py` from the training part of the corpus, so a
support lead can read (and argue with) every weight. Pure: standard library only, no I/O
after the data file is read once.

A cue is one or more words, folded (no case, no accents); a word ending in `*` is a prefix,
so `cobr*` finds "cobraram" and "me habéis cobrado"; `~` between two words allows up to
two others there, so `nao ~ cheg*` finds "não me chegou". Apostrophes vanish inside words ("won't"
is `wont`) and any other punctuation separates words ("Reclame-Aqui" is `reclame aqui`).
@handles, URLs, e-mail addresses and ids (words with digits or underscores, such as hex
strings) are never words: they name the shop or the ticket, not the grievance.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from integration.core.matching.text import TEXT_LIMIT, fold

__all__ = ["CueModel", "Score", "languages", "load", "model", "score", "words"]

DATA_FILE = "complaint_cues.json"
PREFIX = "*"  # `cobr*`: any word starting with "cobr"
GAP = "~"  # `nao ~ cheg*`: up to MAX_GAP other words in between ("não me chegou ainda")
MAX_GAP = 2

# One pass over the folded text: URLs, e-mail addresses and @handles are matched (and
# dropped) whole, so their parts never become words; everything else yields its words.
# Possessive quantifiers: a plain word fails the e-mail branch at once, without backtracking.
_TOKENS = re.compile(r"https?://\S*+|www\.\S*+|[^\s@]*+@\S*+|(\w++)")
_APOSTROPHES = str.maketrans("", "", "'’´`")  # "won't" is one word, `wont`


def words(text: str) -> list[str]:
    """The folded words of a text, as cues see them: no URLs, e-mails, handles or ids (a word
    with a digit or underscore: amounts, dates, order numbers, hex strings)."""
    tokens = _TOKENS.findall(fold(text[:TEXT_LIMIT]).translate(_APOSTROPHES))
    return [token for token in tokens if token.isalpha()]


@dataclass(frozen=True)
class Score:
    value: float  # 0..1
    cues: tuple[tuple[str, float], ...]  # the cues found, strongest first

    def top(self, count: int = 5) -> tuple[tuple[str, float], ...]:
        return self.cues[:count]


_GAP_UNIT = -1
_NO_UNITS: frozenset[int] = frozenset()


class CueModel:
    """One language's cues, compiled once: exact words in a dict, prefixes by length, and
    phrases indexed by their first word, so a text is read in one pass over its words."""

    def __init__(self, bias: float, cues: Mapping[str, float]) -> None:
        self.bias = bias
        self.weights = dict(cues)
        self._units: dict[str, int] = {}  # a word or prefix ("cobr*") -> its number
        # first unit -> (every unit the phrase needs, the units after the first, cue)
        self._phrases: dict[int, list[tuple[frozenset[int], tuple[int, ...], str]]] = {}
        for cue in cues:
            units = self._parse(cue)
            needed = frozenset(units) - {_GAP_UNIT}
            self._phrases.setdefault(units[0], []).append((needed, units[1:], cue))
        self._prefix_lengths = sorted({len(unit) - len(PREFIX) for unit in self._units if unit.endswith(PREFIX)})
        self._units_of = lru_cache(maxsize=8192)(self._units_of_word)

    def _parse(self, cue: str) -> tuple[int, ...]:
        parts = cue.split(" ")
        if GAP in (parts[0], parts[-1]) or f"{GAP} {GAP}" in cue:
            raise ValueError(f"complaint cue {cue!r}: {GAP} stands between two words")
        return tuple(_GAP_UNIT if part == GAP else self._unit(cue, part) for part in parts)

    def _unit(self, cue: str, part: str) -> int:
        stem = part.removesuffix(PREFIX)
        if not stem or words(stem) != [stem]:
            raise ValueError(f"complaint cue {cue!r}: {part!r} must be folded letters, optionally ending in {PREFIX}")
        return self._units.setdefault(part, len(self._units))

    def _units_of_word(self, word: str) -> frozenset[int]:
        found = {self._units[word]} if word in self._units else set()
        for length in self._prefix_lengths:
            if length > len(word):
                break
            unit = self._units.get(word[:length] + PREFIX)
            if unit is not None:
                found.add(unit)
        return frozenset(found) if found else _NO_UNITS

    def found(self, text_words: list[str]) -> set[str]:
        """The cues present in the words (each counted once, overlapping allowed)."""
        units = [self._units_of(word) for word in text_words]
        seen = frozenset().union(*units)
        present: set[str] = set()
        for start, here in enumerate(units):
            for first in here:
                for needed, rest, cue in self._phrases.get(first, ()):
                    # Most phrases need a word the text lacks: a set test skips them cheaply.
                    if needed <= seen and cue not in present and _follows(rest, units, start + 1):
                        present.add(cue)
        return present

    def score(self, text: str) -> Score:
        cues = sorted(((cue, self.weights[cue]) for cue in self.found(words(text))), key=lambda item: (-abs(item[1]), item[0]))
        total = self.bias + sum(weight for _, weight in cues)
        return Score(round(_logistic(total), 4), tuple(cues))


def _follows(rest: tuple[int, ...], units: list[frozenset[int]], at: int) -> bool:
    """Whether the rest of a phrase is found from word `at` on (a gap skips 0 to MAX_GAP words)."""
    if not rest:
        return True
    head = rest[0]
    if head == _GAP_UNIT:
        return any(_follows(rest[1:], units, at + skip) for skip in range(MAX_GAP + 1))
    return at < len(units) and head in units[at] and _follows(rest[1:], units, at + 1)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def load(data: Mapping[str, object]) -> dict[str, CueModel]:
    languages = data.get("languages")
    if not isinstance(languages, Mapping) or not languages:
        raise ValueError("complaint cues: expected a mapping `languages` of language -> {bias, cues}")
    return {lang: CueModel(float(part["bias"]), _floats(part["cues"])) for lang, part in languages.items()}


def _floats(cues: Mapping[str, object]) -> dict[str, float]:
    return {cue: float(weight) for cue, weight in cues.items()}  # type: ignore[arg-type]


@cache
def _models() -> dict[str, CueModel]:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return load(json.loads(text))


def model(language: str) -> CueModel:
    models = _models()
    if language not in models:
        raise ValueError(f"no complaint cues for language {language!r} (have: {', '.join(sorted(models))})")
    return models[language]


def languages() -> Iterable[str]:
    return sorted(_models())


def score(text: str, language: str) -> Score:
    """How much `text` (in `language`: en, pt or es) reads like a complaint, and why."""
    return model(language).score(text or "")
