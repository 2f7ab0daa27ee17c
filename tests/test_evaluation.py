"""`dispute-desk rules evaluate`: the corpus format, the split, the arithmetic of the scores on
small hand-made tables, the cues a miss is reported with (through the command, on a small rule
pack), and the issue's targets on the held-out corpus with the shipped rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.core.evaluation import LabelledMessage, Report, as_new_ticket, as_text, score
from integration.core.evaluation.verdicts import RuleCue, Verdict, is_flagged
from integration.core.events import EventKind, Requester, TicketEvent
from integration.core.plan import Effects, Plan
from tests.conftest import ROOT, RULES

CORPUS = ROOT / "tests" / "corpus"
NOW = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)

# The targets, measured on the held-out part with the shipped rules.
RECALL_AT_LEAST = 0.90  # in each language
ORDINARY_FLAGGED_AT_MOST = 0.05  # over the whole part
DEPARTMENT_ACCURACY_AT_LEAST = 0.85  # over the whole part


def evaluate(corpus: Path, *args: str):
    return CliRunner().invoke(main, ["rules", "evaluate", str(corpus), *args])


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n" for row in rows), encoding="utf-8")
    return path


# ---- the targets on the held-out corpus --------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="the shipped pack is below the targets on tests/corpus/heldout.jsonl (744 messages, after the fourth batch: "
    "recall pt 0.883, es 0.723, en 0.758; ordinary flagged 10.5 % (pt 7.5, es 14.9, en 8.9); department accuracy "
    "72.4 % (pt 78.5, es 67.9, en 69.0)); remove this mark when the pack meets them",
)
def test_the_shipped_rules_meet_the_targets_on_the_held_out_corpus():
    result = evaluate(CORPUS / "heldout.jsonl", "--rules", str(RULES), "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["languages"]
    assert set(figures) == {"pt", "es", "en", "all"}
    below = [f"recall {lang} {figures[lang]['recall']}" for lang in ("pt", "es", "en") if figures[lang]["recall"] < RECALL_AT_LEAST]
    if figures["all"]["ordinary_flagged_rate"] > ORDINARY_FLAGGED_AT_MOST:
        below.append(f"ordinary flagged {figures['all']['ordinary_flagged_rate']}")
    if figures["all"]["department_accuracy"] < DEPARTMENT_ACCURACY_AT_LEAST:
        below.append(f"department accuracy {figures['all']['department_accuracy']}")
    assert below == []


# ---- the corpus and its split ---------------------------------------------------------------


def test_the_split_files_are_what_the_script_makes_of_the_whole_corpus():
    result = subprocess.run([sys.executable, "scripts/split_corpus.py", "--check"], cwd=ROOT, check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_each_batch_holds_out_40_percent_of_every_language_dispute_and_department():
    def batch(row: dict) -> int:
        number = int(row["id"].split("-")[1])
        return 1 if number < 200 else 2 if number < 400 else 3 if number < 600 else 4  # batches: ids 1-145, 201-337, 401-589, 601 and up

    def strata(name: str) -> Counter[tuple[int, str, bool, str]]:
        rows = [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines()]
        return Counter((batch(row), row["lang"], row["dispute"], row["department"] or "") for row in rows)

    whole, held_out, train = strata("messages.jsonl"), strata("heldout.jsonl"), strata("train.jsonl")
    assert whole == held_out + train
    assert {key: held_out[key] for key in whole} == {key: round(count * 0.4) for key, count in whole.items()}


def test_a_line_keeps_its_part_when_new_lines_are_added(tmp_path: Path):
    def line(number: int, part: str | None = None) -> dict:
        row = {"id": f"en-{number:03}", "lang": "en", "text": f"message {number}", "dispute": False, "department": None, "also": [], "source": "written", "written": True}
        return row | ({"part": part} if part else {})

    # every old line in the part a fresh split would not give it
    old = [line(n, "train") for n in range(1, 6)] + [line(n, "heldout") for n in range(6, 11)]
    write(tmp_path / "messages.jsonl", old + [line(n) for n in range(11, 21)])
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "split_corpus.py"), "--corpus", str(tmp_path)], check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(text) for text in (tmp_path / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[:10] == old
    assert Counter(row["part"] for row in rows[10:]) == {"heldout": 4, "train": 6}
    held_out = [json.loads(text)["id"] for text in (tmp_path / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    assert held_out == [row["id"] for row in rows if row["part"] == "heldout"]
    assert "part" not in json.loads((tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])


def test_the_stale_split_is_named(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    rows = [{"id": f"en-{n}", "lang": "en", "text": "hello", "dispute": False, "department": None} for n in range(5)]
    write(folder / "messages.jsonl", rows)
    script = [sys.executable, str(ROOT / "scripts" / "split_corpus.py"), "--corpus", str(folder)]
    assert subprocess.run(script, check=False, capture_output=True, text=True, timeout=60).returncode == 0
    assert len((folder / "heldout.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    write(folder / "messages.jsonl", [*rows, {**rows[0], "id": "en-5"}])
    stale = subprocess.run([*script, "--check"], check=False, capture_output=True, text=True, timeout=60)
    assert stale.returncode == 1
    assert "messages.jsonl: 6 lines have no part yet (en-0, en-1, en-2, en-3, en-4...): run scripts/split_corpus.py" in stale.stderr
    assert "train.jsonl is not the split of messages.jsonl: run scripts/split_corpus.py" in stale.stderr


# ---- the format an admin exports tickets into ------------------------------------------------

GOOD = {"text": "Me cobraron dos veces", "dispute": True, "department": "finance"}
BAD_LINES = [
    ("{not json", "line 2: not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ('["a list"]', "line 2: expected a JSON object, got list"),
    ({"dispute": False}, "line 2: `text` must be the customer's message (a non-empty string)"),
    ({"text": "Can you resend the invoice?"}, "line 2: `dispute` must be true or false: every line needs its label (got None)"),
    ({"text": "x", "dispute": "yes", "department": "finance"}, "line 2: `dispute` must be true or false: every line needs its label (got 'yes')"),
    ({"text": "x", "dispute": True}, "line 2: `department` of a dispute must be a department of the rules (finance, logistics) (got None)"),
    ({"text": "x", "dispute": True, "department": "billing"},
     "line 2: `department` of a dispute must be a department of the rules (finance, logistics) (got 'billing')"),
    ({"text": "x", "dispute": True, "department": "finance", "also": ["press"]},
     "line 2: each of `also` must be a department of the rules (finance, logistics) (got 'press')"),
    ({"text": "x", "dispute": True, "department": "finance", "also": "logistics"}, "line 2: `also` must be a list of departments (got 'logistics')"),
    ({"text": "x", "dispute": False, "department": "finance"},
     "line 2: an ordinary message (dispute: false) has no `department` or `also` (got 'finance', [])"),
    ({"text": "x", "dispute": False, "lang": "fr"}, "line 2: `lang` must be one of en, pt, es or left out (got 'fr')"),
]


@pytest.fixture
def small_pack(tmp_path: Path) -> Path:
    """Two departments; a tag-only rule, a route with a `none:`, an escalation, and a rule
    that matches without flagging."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yaml").write_text(
        """version: 1
settings:
  default_language: en
departments:
  finance: {title: {en: Finance}}
  logistics: {title: {en: Logistics}}
rules:
  - id: complaint
    on: [created]
    if: {all: [{text: {words: [complaint, reclamação]}}]}
    then: {add_tags: [dispute]}
  - id: billing
    on: [created]
    if:
      all: [{text: {words: [invoice, fatura]}}, {status: {not_in: [solved, closed]}}]
      none: [{text: {words: [thanks]}}]
    then: {route: finance}
  - id: late
    on: [created]
    if: {all: [{text: {words: [late, atrasou]}}]}
    then: {escalate: {to: logistics}}
  - id: praise
    on: [created]
    if: {all: [{text: {words: [thanks]}}]}
    then: {add_tags: [praise]}
""",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("line, problem", BAD_LINES, ids=[problem.split(": ", 1)[1][:40] for _, problem in BAD_LINES])
def test_a_line_that_cannot_be_scored_is_named_with_its_number(tmp_path, small_pack, line, problem):
    corpus = write(tmp_path / "export.jsonl", [GOOD, line, GOOD])
    result = evaluate(corpus, "--rules", str(small_pack))
    assert result.exit_code == 1
    assert result.output == f"Error: {corpus}: {problem}\n"


def test_every_bad_line_is_reported_at_once_and_blank_lines_are_skipped(tmp_path, small_pack):
    corpus = write(tmp_path / "export.jsonl", [GOOD, {"text": "a"}, "", GOOD, {"text": "b"}])
    result = evaluate(corpus, "--rules", str(small_pack))
    assert result.exit_code == 1
    assert [re.search(r": (line \d+): ", line)[1] for line in result.output.splitlines()] == ["line 2", "line 5"]


@pytest.mark.parametrize("content, problem", [("", "no messages: expected one JSON object a line"), ("\n\n", "no messages: expected one JSON object a line")])
def test_an_empty_corpus_is_an_error(tmp_path, small_pack, content, problem):
    corpus = tmp_path / "empty.jsonl"
    corpus.write_text(content, encoding="utf-8")
    result = evaluate(corpus, "--rules", str(small_pack))
    assert (result.exit_code, result.output) == (1, f"Error: {corpus}: {problem}\n")


def test_broken_rules_are_refused_with_their_report(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bad.yaml").write_text("version: 1\nrules:\n  - id: r\n    on: [created]\n    then: {route: nowhere}\n", encoding="utf-8")
    result = evaluate(write(tmp_path / "c.jsonl", [GOOD]), "--rules", str(folder))
    assert result.exit_code == 1
    assert result.output.startswith("Error: the rule files have problems:\n")
    assert 'unknown department "nowhere"' in result.output


def test_a_message_arrives_as_a_new_web_ticket_whose_language_is_detected():
    event = as_new_ticket(LabelledMessage("es-7", "¿Aceptan pago con PayPal?", False), NOW)
    assert event == TicketEvent(
        platform="zendesk", ticket_id="es-7", kinds=frozenset({EventKind.CREATED}), delivery_id="evaluate:es-7", occurred_at=NOW,
        source_type="evaluation", status="new", channel="web", description="¿Aceptan pago con PayPal?", requester=Requester(id="customer"),
    )
    assert (event.requester.locale, event.subject, event.text) == (None, "", "¿Aceptan pago con PayPal?")


# ---- what counts as flagged -------------------------------------------------------------------

FLAGGED = [
    # (tags the plan adds, department it routes to, flagged)
    ((), None, False),
    (("praise",), None, False),
    (("dispute",), None, True),
    (("dispute-finance",), None, False),
    ((), "finance", True),
    (("dispute", "dispute-finance"), "finance", True),
]


@pytest.mark.parametrize("tags, department, flagged", FLAGGED)
def test_flagged_means_the_dispute_tag_or_a_department(tags, department, flagged):
    event = as_new_ticket(LabelledMessage("1", "x", False), NOW)
    plan = Plan(event, NOW, (), Effects(department=department, add_tags=list(tags)))
    assert is_flagged(plan) is flagged


# ---- the arithmetic, on hand-made tables ------------------------------------------------------


def msg(dispute: bool, department: str | None = None, also: tuple[str, ...] = (), lang: str | None = "en", id: str = "m") -> LabelledMessage:
    return LabelledMessage(id, "text", dispute, department, also, lang)


def verdict(flagged: bool, department: str | None = None, language: str = "en") -> Verdict:
    return Verdict(flagged, department, language, (), None)


SCORES = [
    # (case, rows, language, (messages, disputes, flagged disputes, recall, ordinary, ordinary flagged, rate, right, accuracy))
    ("all right", [(msg(True, "finance"), verdict(True, "finance")), (msg(False), verdict(False))], "en",
     (2, 1, 1, 1.0, 1, 0, 0.0, 1, 1.0)),
    ("a missed dispute counts against recall, not department accuracy",
     [(msg(True, "finance"), verdict(False)), (msg(True, "finance"), verdict(True, "finance"))], "en",
     (2, 2, 1, 0.5, 0, 0, None, 1, 1.0)),
    ("an alternative department is right", [(msg(True, "legal", ("finance",)), verdict(True, "finance"))], "en",
     (1, 1, 1, 1.0, 0, 0, None, 1, 1.0)),
    ("tagged but routed nowhere is a wrong department", [(msg(True, "legal"), verdict(True, None))], "en",
     (1, 1, 1, 1.0, 0, 0, None, 0, 0.0)),
    ("ordinary flagged, with or without a department",
     [(msg(False), verdict(True, None)), (msg(False), verdict(True, "finance")), (msg(False), verdict(False)), (msg(False), verdict(False))], "en",
     (4, 0, 0, None, 4, 2, 0.5, 0, None)),
    ("no label language: the detected one", [(msg(True, "finance", lang=None), verdict(True, "finance", language="pt"))], "pt",
     (1, 1, 1, 1.0, 0, 0, None, 1, 1.0)),
    ("the label language wins over the detected one", [(msg(False, lang="es"), verdict(True, language="pt"))], "es",
     (1, 0, 0, None, 1, 1, 1.0, 0, None)),
    ("all sums the languages",
     [(msg(True, "finance", lang="pt"), verdict(True, "finance")), (msg(True, "logistics", lang="es"), verdict(True, "finance")),
      (msg(True, "finance", lang="en"), verdict(False)), (msg(False, lang="en"), verdict(True, "finance"))], "all",
     (4, 3, 2, 2 / 3, 1, 1, 1.0, 1, 0.5)),
]


@pytest.mark.parametrize("case, rows, language, expected", SCORES, ids=[case[0] for case in SCORES])
def test_scores(case, rows, language, expected):
    tally = score(rows).languages[language]
    got = (tally.messages, tally.disputes, tally.recalled, tally.recall, tally.ordinary, tally.ordinary_flagged,
           tally.ordinary_flagged_rate, tally.department_right, tally.department_accuracy)
    assert got == pytest.approx(expected)


def test_languages_in_corpus_order_then_all_and_the_confusion_counts_flagged_disputes_only():
    report: Report = score([
        (msg(True, "finance", lang="pt"), verdict(True, "finance")),
        (msg(True, "finance", lang="pt"), verdict(True, "logistics")),
        (msg(True, "finance", lang="pt"), verdict(True, None)),
        (msg(True, "finance", lang="pt"), verdict(False)),
        (msg(True, "logistics", ("finance",), lang="en"), verdict(True, "finance")),
        (msg(False, lang="en"), verdict(True, "finance")),
    ])
    assert list(report.languages) == ["pt", "en", "all"]
    assert {label: dict(sent) for label, sent in report.languages["pt"].confusion.items()} == {"finance": {"finance": 1, "logistics": 1, "-": 1}}
    assert {label: dict(sent) for label, sent in report.languages["all"].confusion.items()} == {
        "finance": {"finance": 1, "logistics": 1, "-": 1}, "logistics": {"finance": 1}}
    assert [(miss.kind, miss.language) for miss in report.misses] == [
        ("wrong department", "pt"), ("wrong department", "pt"), ("missed dispute", "pt"), ("false alarm", "en")]


def test_the_text_report_prints_rates_with_their_counts_and_a_dash_without_any():
    report = score([(msg(True, "finance", id="en-1"), verdict(True, "finance")), (msg(True, "finance", id="en-2"), verdict(False))])
    lines = as_text(report).splitlines()
    assert lines[2:5] == [
        "language  messages   recall            ordinary flagged  department accuracy",
        "en               2    50.0%   1/2      -                 100.0%   1/1",
        "all              2    50.0%   1/2      -                 100.0%   1/1",
    ]


# ---- misses and their cues, through the command ---------------------------------------------------

SMALL_CORPUS = [
    {"id": "ok-1", "lang": "en", "text": "The invoice is wrong", "dispute": True, "department": "finance"},
    {"id": "ok-2", "lang": "en", "text": "Where can I see my orders?", "dispute": False},
    {"id": "alarm", "lang": "en", "text": "Can you resend the invoice?", "dispute": False},
    {"id": "missed", "lang": "en", "text": "You charged me twice", "dispute": True, "department": "finance"},
    {"id": "wrong", "lang": "pt", "text": "A fatura atrasou de novo", "dispute": True, "department": "finance"},
    {"id": "nowhere", "lang": "pt", "text": "Tenho uma reclamação", "dispute": True, "department": "logistics"},
    {"id": "only-praise", "lang": "en", "text": "I want my money back, thanks", "dispute": True, "department": "finance"},
]


def test_every_miss_is_reported_with_the_cue_that_caused_it(tmp_path, small_pack):
    result = evaluate(write(tmp_path / "c.jsonl", SMALL_CORPUS), "--rules", str(small_pack))
    assert result.exit_code == 0, result.output
    misses = result.stdout.split("\nmisses ", 1)[1].splitlines()
    assert misses == [
        "(5: 2 missed disputes, 1 false alarms, 2 wrong departments):",
        "  [en] false alarm alarm: 'Can you resend the invoice?'",
        "        rule billing: text words …invoice…",
        "  [en] missed dispute missed (expected finance): 'You charged me twice'",
        "        no rule matched",
        "  [pt] wrong department wrong (expected finance, sent to logistics): 'A fatura atrasou de novo'",
        "        routed by rule late: text words …atrasou…",
        "  [pt] wrong department nowhere (expected logistics, sent to no department): 'Tenho uma reclamação'",
        "        rule complaint: text words …reclamação…",
        "  [en] missed dispute only-praise (expected finance): 'I want my money back, thanks'",
        "        matched, but none tagged it a dispute or routed it:",
        "          praise: text words …thanks…",
    ]


def test_the_json_report_has_the_figures_the_confusion_and_the_misses(tmp_path, small_pack):
    corpus = write(tmp_path / "c.jsonl", SMALL_CORPUS)
    result = evaluate(corpus, "--rules", str(small_pack), "--json", "--now", "2026-01-05T09:00:00Z")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["corpus"], report["rules"], report["now"]) == (str(corpus), str(small_pack), "2026-01-05T09:00:00+00:00")
    assert report["flagged_means"] == "the plan adds the `dispute` tag or routes the ticket to a department"
    assert report["languages"]["en"] == {
        "messages": 5, "disputes": 3, "disputes_flagged": 1, "recall": 0.3333, "ordinary": 2, "ordinary_flagged": 1,
        "ordinary_flagged_rate": 0.5, "department_right": 1, "department_accuracy": 1.0, "confusion": {"finance": {"finance": 1}},
    }
    assert report["languages"]["pt"]["confusion"] == {"finance": {"logistics": 1}, "logistics": {"-": 1}}
    wrong = next(miss for miss in report["misses"] if miss["id"] == "wrong")
    assert wrong == {
        "kind": "wrong department", "id": "wrong", "language": "pt", "text": "A fatura atrasou de novo", "expected": "finance", "also": [],
        "department": "logistics", "flagged": True, "routed_by": {"rule": "late", "cues": ["text words …atrasou…"]},
        "matched": [{"rule": "billing", "cues": ["text words …fatura…"]}, {"rule": "late", "cues": ["text words …atrasou…"]}],
        "cues": ["routed by rule late: text words …atrasou…"],
    }


def test_the_same_corpus_and_rules_give_the_same_report(tmp_path, small_pack):
    corpus = write(tmp_path / "c.jsonl", SMALL_CORPUS)
    first, second = (evaluate(corpus, "--rules", str(small_pack)).stdout for _ in range(2))
    assert first == second
    assert first.splitlines()[0] == f"{corpus}: 7 messages, each planned as a new web ticket at 2025-03-04T15:00:00+00:00 by the rules in {small_pack}"


def test_a_rule_without_conditions_is_its_own_cue():
    cue = RuleCue("billing", ("text words …fatura…",))
    assert cue.describe() == "billing: text words …fatura…"
    assert RuleCue("always", ()).describe() == "always: matched (no condition)"


@pytest.mark.parametrize(
    "expected, shown",
    [
        (["a", "b", "c", "d"], "['a', 'b', 'c', 'd']"),  # a short list is shown whole
        ([f"phrase {n}" for n in range(30)], "[30 phrases]"),  # a long one by its size: the cue is what was seen
        (0.6, "0.6"),
    ],
)
def test_a_cue_names_what_was_seen_not_the_whole_list_it_was_among(expected, shown):
    from integration.core.evaluation.verdicts import _cue
    from integration.core.plan import ConditionResult

    result = ConditionResult("rules[0].if.all[0]", "text", "stems", expected, "cobraram ~ cobrar (stem)", True)
    assert _cue(result) == f"text stems {shown} (saw 'cobraram ~ cobrar (stem)')"


def test_the_pack_is_cross_validated_on_the_training_part_with_scorers_fitted_per_fold(tmp_path):
    pytest.importorskip("sklearn", reason="scikit-learn (the `train` extra) is needed to fit the scorers per fold")
    rows = [row for row in map(json.loads, (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()) if row["lang"] == "en"][:60]
    train = write(tmp_path / "train.jsonl", rows)
    script = [sys.executable, str(ROOT / "scripts" / "cross_validate_pack.py"), "--folds", "2"]
    run = subprocess.run([*script, "--train", str(train)], check=False, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "fold 2/2 done" in run.stderr
    [all_row] = [line for line in run.stdout.splitlines() if line.startswith("all ")]
    assert all_row.split()[1] == "60"  # every message planned once, by the fold that did not fit on it
    refused = subprocess.run([*script, "--train", str(CORPUS / "heldout.jsonl")], check=False, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert refused.returncode != 0
    assert "the held-out part is never used for training" in refused.stderr
