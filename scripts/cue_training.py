"""What the two trainers share (train_complaint.py, train_department.py): reading the training
part, finding candidate cues among its frequent words and word pairs, and writing a data file
that is the same bytes for the same training file.

Cues are found exactly as the service finds them (`integration.core.matching.complaint`), so a
weight is learnt for what the service will see.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from integration.core.matching.complaint import CueModel, words  # noqa: E402

LANGUAGES = ("en", "es", "pt")
TRAIN = ROOT / "tests" / "corpus" / "train.jsonl"
MIN_TEXTS = 4  # a word or pair in fewer training texts of its language is not a candidate
DIGITS = 2
PLACEHOLDER = re.compile(r"\[[^\]\s]{1,20}\]")
# Words that carry no grievance or request on their own: a pair made only of them is no cue.
FUNCTION_WORDS = {
    "en": "a an the and or but of to in on at for with from by as is are was were be been it its this "
    "that i me my you your we our they them he she his her so if just have has had do did will",
    "pt": "a o as os um uma de do da dos das em no na nos nas e que para pra por com se me meu minha "
    "seu sua eu ele ela foi ser ter tem mais mas ao aos isso esse essa este esta pela pelo pelas pelos num numa lhe",
    "es": "el la los las un una de del al en y que para por con se me mi mis su sus yo es lo le les "
    "a o pero mas muy este esta eso ese esa fue ser hay unos unas",
}


@dataclass(frozen=True)
class Example:
    language: str
    words: tuple[str, ...]
    label: Any  # the dispute flag, or the department


def read_rows(path: Path) -> list[dict[str, Any]]:
    if "heldout" in path.name:
        raise SystemExit(f"{path}: the held-out part is never used for training")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples(rows: Iterable[dict[str, Any]], label: Callable[[dict[str, Any]], Any]) -> list[Example]:
    return [Example(row["lang"], tuple(words(_unplaceholdered(row["text"]))), label(row)) for row in rows]


def _unplaceholdered(text: str) -> str:
    """The corpus replaced handles, links and numbers by `[user]`, `[url]`, `[número]`: the
    service never sees those words (it drops handles, links and numbers), so neither does training."""
    return PLACEHOLDER.sub(" ", text)


def frequent_ngrams(found: Sequence[Example], language: str, taken: set[str], keep: Callable[[str], bool] = lambda gram: True) -> list[str]:
    """Words and word pairs in at least MIN_TEXTS texts of the language, not made only of
    function words, not already a curated cue, and kept by `keep`."""
    function_words = set(FUNCTION_WORDS[language].split())
    counts: Counter[str] = Counter()
    for example in found:
        if example.language != language:
            continue
        text = example.words
        grams = set(text) | {f"{a} {b}" for a, b in pairwise(text)}
        counts.update(gram for gram in grams if not set(gram.split()) <= function_words and len(gram) > 2)
    frequent = (gram for gram, count in counts.items() if count >= MIN_TEXTS and gram not in taken)
    return sorted(gram for gram in frequent if keep(gram))


@dataclass
class Features:
    """The regression's columns: one per language (its bias), one per kind (how many of the
    kind's curated cues a text has), one per candidate cue of each language (present or not)."""

    kinds: tuple[str, ...]
    kinds_of: dict[str, Mapping[str, Iterable[str]]]  # language -> curated cue -> its kinds
    columns: list[tuple[str, str]]  # (language, cue) for the cue columns
    finders: dict[str, CueModel]

    @classmethod
    def build(
        cls,
        kinds: tuple[str, ...],
        curated: Callable[[str], Mapping[str, Iterable[str]]],
        more: Callable[[str, set[str]], list[str]],
    ) -> Features:
        """`curated(language)`: the hand-written cues and their kinds; `more(language, taken)`:
        the candidates the training texts add."""
        kinds_of = {language: curated(language) for language in LANGUAGES}
        columns: list[tuple[str, str]] = []
        finders = {}
        for language in LANGUAGES:
            taken = set(kinds_of[language])
            candidates = sorted(taken) + more(language, taken)
            columns += [(language, cue) for cue in candidates]
            finders[language] = CueModel(0.0, dict.fromkeys(candidates, 0.0))
        return cls(kinds, kinds_of, columns, finders)

    @property
    def offset(self) -> int:
        """Where the cue columns start."""
        return len(LANGUAGES) + len(self.kinds)

    def matrix(self, found: Sequence[Example]) -> np.ndarray:
        index = {column: at for at, column in enumerate(self.columns)}
        kind_index = {kind: len(LANGUAGES) + at for at, kind in enumerate(self.kinds)}
        rows = np.zeros((len(found), self.offset + len(self.columns)))
        for row, example in enumerate(found):
            rows[row, LANGUAGES.index(example.language)] = 1.0
            for cue in self.finders[example.language].found(list(example.words)):
                rows[row, self.offset + index[(example.language, cue)]] = 1.0
                for kind in self.kinds_of[example.language].get(cue, ()):
                    rows[row, kind_index[kind]] += 1.0
        return rows


def rounded(value: float) -> float:
    return round(float(value), DIGITS) + 0.0  # + 0.0: never write -0.0


def data_file(about: str, trained_on: Path, body: dict[str, Any]) -> str:
    document = {"about": about, "trained_on": shown(trained_on), **body}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def shown(path: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else path.name
