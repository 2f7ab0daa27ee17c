"""`rules evaluate`: how well a rule set recognises disputes and routes them, measured on a
labelled corpus of customer messages (see `corpus` for the format).

Each message is planned as the new ticket it would be (`corpus.as_new_ticket`), at a fixed
`now`; its plan gives a verdict (`verdicts`: flagged, department, cues); the verdicts are
scored against the labels (`scoring`) and reported (`report`). Pure: the caller reads the file
and the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from integration.core import engine
from integration.core.evaluation.corpus import (
    CorpusError,
    LabelledMessage,
    as_new_ticket,
    parse_corpus,
)
from integration.core.evaluation.report import as_dict, as_text
from integration.core.evaluation.scoring import Report, score
from integration.core.evaluation.verdicts import FLAGGED_MEANS, Verdict, is_flagged, verdict_of
from integration.core.ruleset import RuleSet

__all__ = [
    "FLAGGED_MEANS",
    "CorpusError",
    "LabelledMessage",
    "Report",
    "Verdict",
    "as_dict",
    "as_new_ticket",
    "as_text",
    "evaluate",
    "is_flagged",
    "judge",
    "parse_corpus",
    "score",
]


def judge(message: LabelledMessage, ruleset: RuleSet, now: datetime) -> Verdict:
    """The rules' verdict on one message arriving as a new ticket."""
    return verdict_of(engine.plan(as_new_ticket(message, now), ruleset, now), ruleset)


def evaluate(messages: Iterable[LabelledMessage], ruleset: RuleSet, now: datetime) -> Report:
    return score((message, judge(message, ruleset, now)) for message in messages)
