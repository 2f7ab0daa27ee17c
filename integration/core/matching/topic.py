"""Whose problem a customer's message is about: the department its words point to, how sure
that is, and the cues that made it.

A small multinomial logistic model per language: each department's score is its bias plus the
weights its cues have for that department; the probabilities are their softmax. Cues (found as
the complaint scorer finds them: folded words, `*` prefixes, `~` gaps) and weights live in
`topic_cues.json` beside this module, written by `scripts/train_department.py` from the
training part of the corpus, so a support lead can read (and argue with) every weight.
Topic says *whose* it is, never *whether* it is a dispute: that is the complaint score's job.
Pure: standard library only, no I/O after the data file is read once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from integration.core.matching.complaint import CueModel, words

__all__ = ["DEPARTMENTS", "Topic", "TopicModel", "choose", "load", "most_confident", "topic"]

DATA_FILE = "topic_cues.json"
DEPARTMENTS = ("finance", "legal", "engineering", "product", "marketing", "logistics", "management")


@dataclass(frozen=True)
class Topic:
    department: str
    probability: float  # 0..1, of `department`
    language: str  # whose cues found it
    cues: tuple[tuple[str, float], ...]  # the cues found, by their weight for `department`, strongest first
    probabilities: tuple[tuple[str, float], ...]  # every department, most likely first

    def top(self, count: int = 5) -> tuple[tuple[str, float], ...]:
        return self.cues[:count]


class TopicModel:
    """One language's departments: a bias each, and per cue its weight for each department."""

    def __init__(self, bias: Mapping[str, float], cues: Mapping[str, Mapping[str, float]], language: str = "") -> None:
        self.language = language
        self.bias = dict(bias)
        self.weights = {cue: dict(per_department) for cue, per_department in cues.items()}
        self._finder = CueModel(0.0, dict.fromkeys(cues, 0.0))  # finds cues; its own weights are unused

    def topic(self, text: str) -> Topic:
        found = sorted(self._finder.found(words(text)))  # a set: its order varies between processes
        totals = dict(self.bias)
        for cue in found:  # in a fixed order, so float sums (and near ties) are the same every run
            for department, weight in self.weights[cue].items():
                totals[department] += weight
        probabilities = _softmax(totals)
        best = max(probabilities, key=lambda department: (probabilities[department], -DEPARTMENTS.index(department)))
        cues = sorted(((cue, self.weights[cue].get(best, 0.0)) for cue in found), key=lambda item: (-item[1], item[0]))
        ranked = sorted(probabilities.items(), key=lambda item: (-item[1], DEPARTMENTS.index(item[0])))
        return Topic(best, round(probabilities[best], 4), self.language, tuple(c for c in cues if c[1] > 0), tuple((d, round(p, 4)) for d, p in ranked))


def _softmax(totals: Mapping[str, float]) -> dict[str, float]:
    top = max(totals.values())
    exps = {department: math.exp(total - top) for department, total in totals.items()}
    whole = sum(exps.values())
    return {department: value / whole for department, value in exps.items()}


def load(data: Mapping[str, object]) -> dict[str, TopicModel]:
    languages = data.get("languages")
    if not isinstance(languages, Mapping) or not languages:
        raise ValueError("topic cues: expected a mapping `languages` of language -> {bias, cues}")
    models = {}
    for lang, part in languages.items():
        bias = {department: float(part["bias"].get(department, 0.0)) for department in DEPARTMENTS}
        unknown = set(part["bias"]) - set(DEPARTMENTS)
        if unknown:
            raise ValueError(f"topic cues ({lang}): unknown departments {sorted(unknown)} (expected: {', '.join(DEPARTMENTS)})")
        cues = {cue: {d: float(w) for d, w in weights.items() if d in DEPARTMENTS} for cue, weights in part["cues"].items()}
        models[lang] = TopicModel(bias, cues, lang)
    return models


@cache
def _models() -> dict[str, TopicModel]:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return load(json.loads(text))


def topic(text: str, language: str) -> Topic:
    """The department `text` (in `language`: en, pt or es) is most likely about, and why."""
    models = _models()
    if language not in models:
        raise ValueError(f"no topic cues for language {language!r} (have: {', '.join(sorted(models))})")
    return models[language].topic(text or "")


SURER_BY = 0.3  # how much surer another language's cues must be to outvote the ticket's language


def most_confident(text: str, preferred: str) -> Topic:
    """The topic in the ticket's language, unless another language's cues are much surer of
    theirs: a ticket mixes languages (a Spanish summary, an English comment), and words of one
    language weigh nothing in another's model. Only by a wide margin, since Portuguese and
    Spanish share many words."""
    return choose(_models(), text, preferred)


def choose(models: Mapping[str, TopicModel], text: str, preferred: str) -> Topic:
    """`most_confident` over the given models."""
    if preferred not in models:
        return max((models[lang].topic(text or "") for lang in sorted(models)), key=lambda candidate: candidate.probability)
    own = models[preferred].topic(text or "")
    if own.probability + SURER_BY > 1.0:  # no other language can be surer by enough: skip them
        return own
    others = [models[lang].topic(text or "") for lang in sorted(models) if lang != preferred]
    best = max(others, key=lambda candidate: candidate.probability, default=own)
    return best if best.probability >= own.probability + SURER_BY else own
