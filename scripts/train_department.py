"""Fit the topic scorer (which department a dispute belongs to) from the training part.

    pip install -e '.[train]'
    python scripts/train_department.py         # writes integration/core/matching/topic_cues.json
    python scripts/train_department.py --cv    # cross-validated accuracy on the training part only

Reads the disputes of `tests/corpus/train.jsonl` only (label: `department`; a prediction in
`also` counts as right in the figures); the held-out part is never read here. Candidate cues
are the hand-curated ones of `department_vocabulary.py`, the complaint kinds that name an owner
(threats, public exposure, charges, things gone wrong: `complaint_vocabulary.py`), and the
frequent words and word pairs of the training disputes (here a topic word is exactly the
signal). One elastic-net multinomial logistic regression over all three languages learns, per
department, a weight per curated list (shared across languages, so a listed cue the texts never
use still points to its department), a correction per cue, and a bias per language. The file is
written sorted and rounded: the same training file always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

import complaint_vocabulary
import department_vocabulary
from cue_training import LANGUAGES, ROOT, TRAIN, Example, Features, data_file, examples, frequent_ngrams, read_rows, rounded

from integration.core.matching.topic import DEPARTMENTS, TopicModel

OUT = ROOT / "integration" / "core" / "matching" / "topic_cues.json"
OWNER_KINDS = ("exposure", "charge")  # complaint kinds that name an owner: public (Marketing), charges (Finance)
C = 3.0  # inverse regularisation strength (chosen by cross-validation on the training part)
L1_RATIO = 0.3
ABOUT = (
    "Topic cues per language: each department's score is its bias plus the cue weights for it; "
    "probabilities are their softmax. Written by scripts/train_department.py. Do not edit by hand: retrain."
)


def read_examples(path: Path) -> tuple[list[Example], list[tuple[str, ...]]]:
    """The disputes, labelled with their department, and each one's accepted departments."""
    rows = [row for row in read_rows(path) if row["dispute"] and row["department"]]
    return examples(rows, lambda row: row["department"]), [(row["department"], *row["also"]) for row in rows]


def kinds() -> tuple[str, ...]:
    return (*(f"dept:{d}" for d in DEPARTMENTS), *(f"kind:{k}" for k in OWNER_KINDS))


def curated(language: str) -> dict[str, set[str]]:
    """Cue -> the kinds (department lists, complaint kinds) that list it."""
    lists: dict[str, set[str]] = {}
    for department in DEPARTMENTS:
        for cue in department_vocabulary.cues(department, language):
            lists.setdefault(cue, set()).add(f"dept:{department}")
    for kind in OWNER_KINDS:
        for cue in complaint_vocabulary.cues(kind, language):
            lists.setdefault(cue, set()).add(f"kind:{kind}")
    return lists


def features_of(found: Sequence[Example]) -> Features:
    return Features.build(kinds(), curated, lambda language, taken: frequent_ngrams(found, language, taken))


def fit(found: Sequence[Example]) -> dict[str, dict[str, object]]:
    """The data file's `languages`: per language a bias per department and, per cue, its
    weight for each department (its lists' weights plus its own), rounded; zeros left out."""
    features = features_of(found)
    # No free intercept: a department's bias is its language column's weight, which is
    # regularised like any cue, so a department whose training texts had few cues does not
    # win every short message by its bias alone ("Até hoje nada do extorno" is Finance's).
    regression = LogisticRegression(C=C, l1_ratio=L1_RATIO, solver="saga", max_iter=5000, tol=1e-4, random_state=0, fit_intercept=False)
    regression.fit(features.matrix(found), np.array([example.label for example in found]))
    order = [list(regression.classes_).index(d) if d in regression.classes_ else None for d in DEPARTMENTS]
    offset = features.offset
    languages: dict[str, dict[str, object]] = {}
    for at, language in enumerate(LANGUAGES):
        bias = {d: rounded(regression.coef_[k, at]) if k is not None else -9.0 for d, k in zip(DEPARTMENTS, order, strict=True)}
        cues: dict[str, dict[str, float]] = {}
        for column, (cue_language, cue) in enumerate(features.columns):
            if cue_language != language:
                continue
            listed = features.kinds_of[language].get(cue, set())
            weights = {}
            for department, k in zip(DEPARTMENTS, order, strict=True):
                if k is None:
                    continue
                total = regression.coef_[k, offset + column] + sum(regression.coef_[k, len(LANGUAGES) + kinds().index(kind)] for kind in listed)
                if rounded(total) != 0.0:
                    weights[department] = rounded(total)
            if weights:
                cues[cue] = dict(sorted(weights.items()))
        languages[language] = {"bias": dict(sorted(bias.items())), "cues": dict(sorted(cues.items()))}
    return languages


def cross_validate(found: Sequence[Example], accepted: Sequence[tuple[str, ...]], folds: int = 5) -> dict[str, dict[str, float]]:
    """Each fold is scored by a model fitted (candidates included) on the other folds only."""
    strata = [f"{example.language}:{example.label}" for example in found]
    right = [False] * len(found)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_rows, test_rows in splitter.split(np.zeros(len(found)), strata):
        models = {lang: TopicModel(part["bias"], part["cues"]) for lang, part in fit([found[i] for i in train_rows]).items()}  # type: ignore[arg-type]
        for i in test_rows:
            right[i] = models[found[i].language].topic(" ".join(found[i].words)).department in accepted[i]
    return {
        language: {"disputes": sum(e.language == language for e in found), "accuracy": round(float(np.mean([r for e, r in zip(found, right, strict=True) if e.language == language])), 3)}
        for language in (*LANGUAGES,)
    } | {"all": {"disputes": len(found), "accuracy": round(float(np.mean(right)), 3)}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=TRAIN, help="labelled JSONL (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="data file to write (default: %(default)s)")
    parser.add_argument("--cv", action="store_true", help="print 5-fold cross-validated accuracy instead of writing")
    args = parser.parse_args(argv)
    found, accepted = read_examples(args.train)
    if args.cv:
        print(json.dumps(cross_validate(found, accepted), indent=1))
        return 0
    languages = fit(found)
    args.out.write_text(data_file(ABOUT, args.train, {"departments": list(DEPARTMENTS), "languages": languages}), encoding="utf-8")
    counts = ", ".join(f"{lang} {len(part['cues'])}" for lang, part in languages.items())  # type: ignore[arg-type]
    print(f"wrote {args.out} (cues: {counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
