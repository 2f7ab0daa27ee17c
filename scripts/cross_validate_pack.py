"""The default pack's figures as the next customer would see them, estimated on the training part.

    python scripts/cross_validate_pack.py [--rules DIR] [--folds 5]

`rules evaluate tests/corpus/train.jsonl` scores the pack on the very messages its complaint
and topic weights were fitted to, so its figures flatter. This script splits the training part
into folds; for each fold it fits both scorers on the other folds only (as
`train_complaint.py` and `train_department.py` do), plans the fold's messages with the rules
and those scorers, and prints the `rules evaluate` report of all folds together. Use it to
choose thresholds and word lists; the held-out part is never read here.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_complaint
import train_department
from cue_training import ROOT, TRAIN, examples, read_rows

from integration.core import evaluation
from integration.core.matching import complaint, topic
from integration.runtime.rulefiles import load_ruleset

NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def use_scorers(rows: list[dict]) -> None:
    """Make the service's scorers the ones fitted on `rows` (this process only)."""
    fitted_complaint = complaint.load({"languages": train_complaint.fit(examples(rows, lambda row: bool(row["dispute"])))})
    disputes = [row for row in rows if row["dispute"] and row["department"]]
    fitted_topic = topic.load({"languages": train_department.fit(examples(disputes, lambda row: row["department"]))})
    complaint._models = lambda: fitted_complaint  # type: ignore[assignment]
    topic._models = lambda: fitted_topic  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=TRAIN, help="labelled JSONL (default: %(default)s)")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules", help="rule folder (default: rules/)")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # convergence notes of the solver on small folds
    rows = read_rows(args.train)
    ruleset = load_ruleset(args.rules)
    messages = evaluation.parse_corpus(args.train.read_text(encoding="utf-8"), ruleset.departments)
    strata = [f"{row['lang']}:{row['dispute']}" for row in rows]
    judged = []
    for fold, (fit_rows, test_rows) in enumerate(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(np.zeros(len(rows)), strata), 1):
        use_scorers([rows[i] for i in fit_rows])
        judged += [(messages[i], evaluation.judge(messages[i], ruleset, NOW)) for i in test_rows]
        print(f"fold {fold}/{args.folds} done", file=sys.stderr)
    print(evaluation.as_text(evaluation.score(judged)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
