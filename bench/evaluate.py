"""Evaluations per second of a rule pack over the labelled corpus (what `rules evaluate` does).

    python bench/evaluate.py [--quick] [--seconds S] [--rules DIR] [--corpus FILE]

Every message of the corpus (default tests/corpus/messages.jsonl, the labelled pt/es/en corpus)
is built once as the new web ticket `rules evaluate` plans (`as_new_ticket`); then
(a) `plan(event, ruleset, now)` alone, cycling over the messages, for --seconds, with the
    mean per language and the slowest message;
(b) the whole evaluation (`evaluate`: plans, verdicts, scores) of the corpus, repeated.
The corpus has more distinct texts than the word matcher's fold cache holds (32), so this is
what a stream of real tickets costs. Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from integration.core.engine import plan
from integration.core.evaluation import as_new_ticket, evaluate, parse_corpus
from integration.runtime.rulefiles import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)  # the time `rules evaluate` plans at by default
MAX_EVALUATIONS = 2_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    parser.add_argument("--seconds", type=float, help="seconds of measured planning (default 5, --quick 1)")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules", help="rule files (default: the shipped pack)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus" / "messages.jsonl")
    args = parser.parse_args()
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    if not 0 < seconds <= 60:
        parser.error("--seconds must be in (0, 60]")

    ruleset = load_ruleset(args.rules)
    messages = parse_corpus(args.corpus.read_text(encoding="utf-8"), ruleset.departments)
    events = [as_new_ticket(message, NOW) for message in messages]
    languages = [message.lang or "?" for message in messages]
    print(f"evaluate benchmark: {len(messages)} messages from {args.corpus}, {len(ruleset.rules)} rules from {args.rules}; now = {NOW.isoformat()}")

    # The scorers' data files are read and compiled on first use, once per process: a service
    # pays that at its first event, not per event, so it is kept out of the figures.
    plan(events[0], ruleset, NOW)

    # (a) plan() alone, each message timed
    spent: dict[int, list[float]] = defaultdict(list)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds and count < MAX_EVALUATIONS:
        index = count % len(events)
        before = time.perf_counter()
        plan(events[index], ruleset, NOW)
        spent[index].append(time.perf_counter() - before)
        count += 1
    elapsed = time.perf_counter() - started
    print(f"\n(a) plan() per message: {count} evaluations in {elapsed:.1f} s = {count / elapsed:,.0f} evaluations/s")
    by_language: dict[str, list[float]] = defaultdict(list)
    for index, times in spent.items():
        by_language[languages[index]] += times
    for language, times in sorted(by_language.items()):
        print(f"    {language}: mean {statistics.mean(times) * 1e6:7.1f} µs, p99 {_p99(times) * 1e6:7.1f} µs ({len(times)} evaluations)")
    slowest = max(spent, key=lambda index: statistics.mean(spent[index]))
    print(f"    slowest message: {messages[slowest].id} ({len(messages[slowest].text)} characters), mean {statistics.mean(spent[slowest]) * 1e6:.1f} µs")

    # (b) the whole evaluation, as `rules evaluate` runs it
    rounds, started = 0, time.perf_counter()
    while rounds == 0 or (time.perf_counter() - started < seconds and rounds < 1000):
        evaluate(messages, ruleset, NOW)
        rounds += 1
    elapsed = time.perf_counter() - started
    print(f"\n(b) evaluate() of the corpus: {rounds} rounds in {elapsed:.1f} s = {rounds * len(messages) / elapsed:,.0f} messages/s "
          f"({elapsed / rounds * 1000:.0f} ms per corpus)")
    return 0


def _p99(times: list[float]) -> float:
    return sorted(times)[min(len(times) - 1, int(len(times) * 0.99))]


if __name__ == "__main__":
    raise SystemExit(main())
