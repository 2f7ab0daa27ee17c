"""Plans scored against labels: recall, ordinary messages flagged and department accuracy per
language, the confusion between departments, and every miss with its cue.

Pure arithmetic over (message, verdict) pairs, so it is tested on small hand-made tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from integration.core.evaluation.corpus import LabelledMessage
from integration.core.evaluation.verdicts import Verdict

NO_DEPARTMENT = "-"  # a flagged dispute the rules tagged but routed nowhere
ALL = "all"  # the figures over every language


@dataclass
class Tally:
    """One language's counts. Department accuracy is measured among the disputes the rules
    flagged: a missed dispute counts against recall, not twice."""

    messages: int = 0
    disputes: int = 0
    recalled: int = 0
    ordinary: int = 0
    ordinary_flagged: int = 0
    department_right: int = 0
    # label department -> where the rules sent the flagged dispute -> count
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def recall(self) -> float | None:
        return _rate(self.recalled, self.disputes)

    @property
    def ordinary_flagged_rate(self) -> float | None:
        return _rate(self.ordinary_flagged, self.ordinary)

    @property
    def department_accuracy(self) -> float | None:
        return _rate(self.department_right, self.recalled)

    def add(self, message: LabelledMessage, verdict: Verdict) -> None:
        self.messages += 1
        if not message.dispute:
            self.ordinary += 1
            self.ordinary_flagged += verdict.flagged
            return
        self.disputes += 1
        if not verdict.flagged:
            return
        self.recalled += 1
        self.department_right += verdict.department in message.accepted
        self.confusion[message.department or NO_DEPARTMENT][verdict.department or NO_DEPARTMENT] += 1


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Miss:
    kind: str  # one of MISS_KINDS
    message: LabelledMessage
    language: str
    verdict: Verdict


MISSED, FALSE_ALARM, WRONG_DEPARTMENT = "missed dispute", "false alarm", "wrong department"
MISS_KINDS = (MISSED, FALSE_ALARM, WRONG_DEPARTMENT)


def miss_kind(message: LabelledMessage, verdict: Verdict) -> str | None:
    if message.dispute and not verdict.flagged:
        return MISSED
    if not message.dispute and verdict.flagged:
        return FALSE_ALARM
    if message.dispute and verdict.department not in message.accepted:
        return WRONG_DEPARTMENT
    return None


@dataclass(frozen=True)
class Report:
    languages: dict[str, Tally]  # in the order they first appear in the corpus, then ALL
    misses: tuple[Miss, ...]


def score(scored: Iterable[tuple[LabelledMessage, Verdict]]) -> Report:
    """The message's `lang` label groups it; without one, the language the rules detected."""
    languages: dict[str, Tally] = {}
    total = Tally()
    misses: list[Miss] = []
    for message, verdict in scored:
        language = message.lang or verdict.language
        languages.setdefault(language, Tally()).add(message, verdict)
        total.add(message, verdict)
        kind = miss_kind(message, verdict)
        if kind is not None:
            misses.append(Miss(kind, message, language, verdict))
    return Report({**languages, ALL: total}, tuple(misses))
