"""Split the evaluation corpus into a training part and a held-out part, reproducibly.

    python scripts/split_corpus.py           # writes tests/corpus/train.jsonl and heldout.jsonl
    python scripts/split_corpus.py --check   # exit 1 if the files differ from what it would write

`tests/corpus/messages.jsonl` stays the whole corpus, and each line records its `part`
(`train` or `heldout`) once it has one: a message never changes part, so adding messages
never moves a message the rules were tuned on into the held-out part. Lines without a part
(new ones) get one here: within each stratum (language, dispute, department) of the new lines,
ordered by a keyed hash of the message id, the first 40 % (rounded) are held out, so every
language and department is in both parts in about the same proportions.

The held-out part is what the evaluation test scores: never tune rules, cue lists or weights on
it (nor on messages.jsonl, which contains it). Tune on train.jsonl only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
HELD_OUT_SHARE = 0.4
SEED = "dispute-desk heldout 2025"  # changing it gives another split: never do it after tuning


def stratum(row: dict[str, Any]) -> tuple[str, bool, str]:
    return row["lang"], bool(row["dispute"]), row["department"] or ""


def _rank(row: dict[str, Any]) -> str:
    return hashlib.sha256(f"{SEED}:{row['id']}".encode()).hexdigest()


PARTS = ("train", "heldout")


def assign_parts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, each with its `part`: kept where it has one, given by stratum where not."""
    strata: dict[tuple[str, bool, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("part") not in (None, *PARTS):
            raise SystemExit(f"{row['id']}: part must be one of {', '.join(PARTS)}, not {row['part']!r}")
        if row.get("part") is None:
            strata[stratum(row)].append(row)
    held_out: set[str] = set()
    for members in strata.values():
        count = round(len(members) * HELD_OUT_SHARE)
        held_out.update(row["id"] for row in sorted(members, key=_rank)[:count])
    return [{**row, "part": row.get("part") or ("heldout" if row["id"] in held_out else "train")} for row in rows]


def split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held out), each in the corpus's own order, without the `part` field."""
    parted = assign_parts(rows)
    return tuple([{k: v for k, v in row.items() if k != "part"} for row in parted if row["part"] == part] for part in PARTS)  # type: ignore[return-value]


def as_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder with messages.jsonl (default: tests/corpus)")
    parser.add_argument("--check", action="store_true", help="only check that train.jsonl and heldout.jsonl are up to date")
    args = parser.parse_args(argv)
    lines = (args.corpus / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    parted = assign_parts(rows)
    parts = {"messages.jsonl": as_jsonl(parted)}
    parts |= dict(zip(("train.jsonl", "heldout.jsonl"), map(as_jsonl, split(parted)), strict=True))
    if args.check:
        unparted = [row["id"] for row in rows if "part" not in row]
        if unparted:
            print(f"{args.corpus / 'messages.jsonl'}: {len(unparted)} lines have no part yet ({', '.join(unparted[:5])}...): run scripts/split_corpus.py", file=sys.stderr)
        stale = [name for name, text in parts.items() if name != "messages.jsonl" and (not (args.corpus / name).is_file() or (args.corpus / name).read_text(encoding="utf-8") != text)]
        for name in stale:
            print(f"{args.corpus / name} is not the split of messages.jsonl: run scripts/split_corpus.py", file=sys.stderr)
        return 1 if stale or unparted else 0
    for name, text in parts.items():
        (args.corpus / name).write_text(text, encoding="utf-8")
        print(f"{args.corpus / name}: {text.count(chr(10))} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
