"""Fit the complaint scorer's cue weights from the training part of the corpus.

    pip install -e '.[train]'
    python scripts/train_complaint.py            # writes integration/core/matching/complaint_cues.json
    python scripts/train_complaint.py --cv       # cross-validated figures on the training part only

Reads `tests/corpus/train.jsonl` only (label: `dispute`); the held-out part is for the
evaluation and is never read here. Candidate cues are the hand-curated ones of
`complaint_vocabulary.py` plus the frequent words and word pairs of the training texts (a topic word such as
"invoice" or "entrega" alone is never a candidate: it says whose ticket it is, not that
there is a dispute).
One elastic-net logistic regression over all three languages learns a weight per kind of
cue (shared: a threat is a threat in every language, and a cue the texts never use still
counts as its kind), a correction per cue, and a bias per language; L1 drops the cues the
data does not support. Cues are found exactly as the service finds them
(`integration.core.matching.complaint`), and the file is written sorted and rounded, so the
same training file always gives the same bytes.
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

from complaint_vocabulary import KINDS, cues, topics
from cue_training import LANGUAGES, ROOT, TRAIN, Example, Features, data_file, examples, frequent_ngrams, read_rows, rounded

from integration.core.matching.complaint import CueModel

OUT = ROOT / "integration" / "core" / "matching" / "complaint_cues.json"
C = 2.0  # inverse regularisation strength (chosen by cross-validation on the training part:
# scripts/cross_validate_pack.py)
L1_RATIO = 0.5
CLASS_WEIGHT = "balanced"  # the same weight to the ordinary messages as to the disputes, however many of each
ABOUT = (
    "Complaint cues and weights per language, written by scripts/train_complaint.py; "
    "score = logistic(bias + sum of the weights of the cues found). Do not edit by hand: retrain."
)


def read_examples(path: Path) -> list[Example]:
    return examples(read_rows(path), lambda row: bool(row["dispute"]))


def curated(language: str) -> dict[str, tuple[str]]:
    """Cue -> its kind, refusing a cue listed under two kinds (its weight would be ambiguous)."""
    kinds: dict[str, tuple[str]] = {}
    for kind in KINDS:
        for cue in cues(kind, language):
            if kinds.setdefault(cue, (kind,)) != (kind,):
                raise SystemExit(f"{language} cue {cue!r} is listed as {kinds[cue][0]} and {kind}")
    return kinds


def features_of(found: Sequence[Example]) -> Features:
    return Features.build(KINDS, curated, lambda language, taken: candidates_of(found, language, taken))


def candidates_of(examples: Sequence[Example], language: str, taken: set[str]) -> list[str]:
    """Frequent words and pairs, never a topic word alone (it says whose ticket it is, not that
    there is a dispute)."""
    topic = CueModel(0.0, dict.fromkeys(topics(language), 0.0))
    return frequent_ngrams(examples, language, taken, keep=lambda gram: " " in gram or not topic.found([gram]))


def fit(examples: Sequence[Example]) -> dict[str, dict[str, object]]:
    """The data file's `languages`: per language a bias and each cue's weight (its kind's
    weight plus its own), rounded; cues whose weight rounds to zero are left out."""
    features = features_of(examples)
    labels = np.array([example.label for example in examples])
    regression = LogisticRegression(C=C, l1_ratio=L1_RATIO, solver="saga", max_iter=20000, tol=1e-7, random_state=0, class_weight=CLASS_WEIGHT)
    regression.fit(features.matrix(examples), labels)
    weights = regression.coef_[0]
    offset = features.offset
    kind_weight = dict(zip(KINDS, weights[len(LANGUAGES) : offset], strict=True))
    languages: dict[str, dict[str, object]] = {}
    for at, language in enumerate(LANGUAGES):
        bias = float(regression.intercept_[0] + weights[at])
        cue_weights = {}
        for (cue_language, cue), own in zip(features.columns, weights[offset:], strict=True):
            [kind] = features.kinds_of[language].get(cue, (None,))
            weight = rounded(own + (kind_weight[kind] if kind else 0.0))
            if cue_language == language and weight != 0.0:
                cue_weights[cue] = weight
        languages[language] = {"bias": rounded(bias), "cues": dict(sorted(cue_weights.items()))}
    return languages


def cross_validate(examples: Sequence[Example], folds: int = 5, threshold: float = 0.6) -> dict[str, dict[str, float]]:
    """Each fold is scored by a model fitted (candidates included) on the other folds only."""
    strata = [f"{example.language}:{example.label}" for example in examples]
    predicted: list[bool] = [False] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_rows, test_rows in splitter.split(np.zeros(len(examples)), strata):
        models = {lang: CueModel(float(part["bias"]), part["cues"]) for lang, part in fit([examples[i] for i in train_rows]).items()}  # type: ignore[arg-type]
        for i in test_rows:
            text = " ".join(examples[i].words)
            predicted[i] = models[examples[i].language].score(text).value >= threshold
    return {language: _figures([(e.label, p) for e, p in zip(examples, predicted, strict=True) if e.language == language]) for language in LANGUAGES}


def _figures(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    disputes = [p for truth, p in pairs if truth]
    ordinary = [p for truth, p in pairs if not truth]
    return {
        "texts": len(pairs),
        "accuracy": round(sum(truth == p for truth, p in pairs) / len(pairs), 3),
        "recall": round(sum(disputes) / len(disputes), 3),
        "ordinary_flagged": round(sum(ordinary) / len(ordinary), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=TRAIN, help="labelled JSONL (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="data file to write (default: %(default)s)")
    parser.add_argument("--cv", action="store_true", help="print 5-fold cross-validated figures instead of writing")
    args = parser.parse_args(argv)
    examples = read_examples(args.train)
    if args.cv:
        print(json.dumps(cross_validate(examples), indent=1))
        return 0
    languages = fit(examples)
    args.out.write_text(data_file(ABOUT, args.train, {"languages": languages}), encoding="utf-8")
    counts = ", ".join(f"{lang} {len(part['cues'])}" for lang, part in languages.items())  # type: ignore[arg-type]
    print(f"wrote {args.out} (cues: {counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
