"""The topic scorer (whose problem a message is about): the arithmetic on a small hand-made
model, the shipped data file (its training: tests/test_training.py), and `topic` in rules and
explain.

Language quality is not asserted here on sentences written for it: that is measured on the
labelled corpus (tests/test_evaluation.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from integration.core import explain
from integration.core.engine import plan
from integration.core.events import Requester
from integration.core.matching import topic
from integration.core.matching.topic import DEPARTMENTS, TopicModel, load
from integration.core.rules.loader import load_sources
from tests.test_engine import NOW, event, one_condition, ruleset

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "integration" / "core" / "matching" / "topic_cues.json"

SMALL = TopicModel(
    dict.fromkeys(DEPARTMENTS, 0.0) | {"management": 0.5},
    {
        "cobr*": {"finance": 2.0},
        "fatura": {"finance": 1.0, "engineering": -0.5},
        "nao ~ cheg*": {"logistics": 2.5},
        "app": {"engineering": 1.5, "product": 0.5},
        "reclame aqui": {"marketing": 3.0},
    },
)


def softmax(totals: dict[str, float]) -> dict[str, float]:
    whole = sum(math.exp(value) for value in totals.values())
    return {department: math.exp(value) / whole for department, value in totals.items()}


@pytest.mark.parametrize(
    "text, department, totals",
    [
        # no cue: the biases decide
        ("bom dia", "management", {"management": 0.5}),
        # one cue, in any of its forms
        ("Me cobraram duas vezes", "finance", {"management": 0.5, "finance": 2.0}),
        # cues add up per department; a weight against one department counts too
        ("cobrança na fatura do app", "finance", {"management": 0.5, "finance": 3.0, "engineering": 1.0, "product": 0.5}),
        ("o pedido não me chegou", "logistics", {"management": 0.5, "logistics": 2.5}),
        ("Vou postar no Reclame-Aqui", "marketing", {"management": 0.5, "marketing": 3.0}),
        # handles and links are never cues
        ("@app_loja https://app.example/cobranca", "management", {"management": 0.5}),
    ],
)
def test_the_department_is_the_softmax_winner_of_bias_plus_cue_weights(text: str, department: str, totals: dict[str, float]) -> None:
    found = SMALL.topic(text)
    expected = softmax(dict.fromkeys(DEPARTMENTS, 0.0) | totals)
    assert found.department == department
    assert found.probability == round(expected[department], 4)
    assert dict(found.probabilities) == pytest.approx({d: round(p, 4) for d, p in expected.items()})
    assert [d for d, _ in found.probabilities] == sorted(expected, key=lambda d: (-expected[d], DEPARTMENTS.index(d)))


def test_cues_are_shown_by_their_weight_for_the_chosen_department_strongest_first() -> None:
    found = SMALL.topic("cobrança na fatura do app")
    # `app` weighs nothing for finance: it is not why the message went there
    assert found.cues == (("cobr*", 2.0), ("fatura", 1.0))
    assert found.top(1) == (("cobr*", 2.0),)


EN = TopicModel(dict.fromkeys(DEPARTMENTS, 0.0), {"should": {"marketing": 0.5}, "charged": {"finance": 2.0}}, "en")
ES = TopicModel(dict.fromkeys(DEPARTMENTS, 0.0), {"cobr*": {"finance": 4.0}, "app": {"engineering": 1.0}}, "es")
PT = TopicModel(dict.fromkeys(DEPARTMENTS, 0.0), {"cobr*": {"finance": 3.0}, "app": {"engineering": 2.0}}, "pt")


@pytest.mark.parametrize(
    "text, preferred, language, department",
    [
        # an English comment on a Spanish ticket: the Spanish cues are far surer
        ("Me cobraron dos veces. We should act on it", "en", "es", "finance"),
        # the ticket's language keeps it unless another is surer by SURER_BY or more
        ("charged, and the app", "en", "en", "finance"),
        ("cobrança no app", "pt", "pt", "finance"),  # Spanish is surer (0.88 against 0.62), not by enough
        # a language without a model: the surest of all
        ("me cobraron", "de", "es", "finance"),
    ],
)
def test_another_language_outvotes_the_tickets_only_when_much_surer(text: str, preferred: str, language: str, department: str) -> None:
    found = topic.choose({"en": EN, "es": ES, "pt": PT}, text, preferred)
    assert (found.language, found.department) == (language, department)


def test_the_shipped_models_read_a_ticket_that_mixes_languages() -> None:
    text = "Cobro duplicado: me cobraron dos veces y quiero el reembolso\n\nThis is a test comment. We should act on it right away."
    assert topic.most_confident(text, "en").language == "es"
    assert topic.most_confident(text, "en").department == topic.topic(text, "es").department


def test_a_tie_goes_to_the_department_listed_first() -> None:
    tied = TopicModel(dict.fromkeys(DEPARTMENTS, 0.0), {})
    assert tied.topic("anything").department == DEPARTMENTS[0]


def test_the_data_file_names_only_known_departments() -> None:
    with pytest.raises(ValueError, match="unknown departments \\['billing'\\]"):
        load({"languages": {"en": {"bias": {"billing": 1.0}, "cues": {}}}})
    with pytest.raises(ValueError, match="expected a mapping `languages`"):
        load({"languages": []})


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no topic cues for language 'de'"):
        topic.topic("Rechnung doppelt", "de")


def test_the_shipped_file_has_every_language_and_department() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["trained_on"] == "tests/corpus/train.jsonl"
    assert set(data["languages"]) == {"en", "es", "pt"}
    for part in data["languages"].values():
        assert set(part["bias"]) == set(DEPARTMENTS)
        assert {department for weights in part["cues"].values() for department in weights} == set(DEPARTMENTS)


def test_the_data_file_ships_with_the_package() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert DATA.name in package_data["integration.core.matching"]


# ---- `topic` in rules, and in explain -----------------------------------------------------------


@pytest.mark.parametrize("locale", ["pt-BR", None])  # the requester's locale, or the language detected
def test_topic_is_a_department_rules_compare(locale: str | None) -> None:
    text = "Me cobraram duas vezes na fatura do cartão"
    result = plan(event(subject="", description=text, requester=Requester(locale=locale)), one_condition("topic: finance"), NOW)
    [trace] = result.traces
    [seen] = trace.conditions
    assert (seen.field, seen.actual) == ("topic", topic.most_confident(text, result.language).department)
    assert trace.matched is (seen.actual == "finance")


def test_topic_probability_is_a_number_rules_compare() -> None:
    text = "Me cobraram duas vezes na fatura do cartão"
    result = plan(event(subject="", description=text, requester=Requester(locale="pt-BR")), one_condition("topic_probability: {gte: 0.0}"), NOW)
    [trace] = result.traces
    [seen] = trace.conditions
    assert trace.matched and seen.actual == topic.most_confident(text, "pt").probability


def test_topic_names_only_the_model_departments() -> None:
    rules = "rules:\n  - {id: r, on: [created], if: {all: [{topic: billing}]}, then: {add_tags: [a]}}\n"
    _, problems = load_sources({"10-rules.yaml": rules})
    messages = [str(problem) for problem in problems]
    assert any("billing" in m and "finance" in m and "management" in m for m in messages), messages


def test_explain_shows_the_topic_how_sure_and_the_cues() -> None:
    rules = ruleset("rules:\n  - {id: probe, on: [created], if: {all: [{topic: logistics}]}, then: {add_tags: [probe]}}\n")
    text = "My order never arrived and the tracking says delivered"
    result = plan(event(subject="", description=text), rules, NOW)
    found = topic.most_confident(text, "en")
    cues = ", ".join(f"{cue} {weight:+.2f}" for cue, weight in found.top(5)) or "no cue found"
    others = ", ".join(f"{d} {p:.2f}" for d, p in found.probabilities[1:3])
    assert f"Topic: {found.department} {found.probability:.2f} ({found.language}: {cues}; next: {others})" in explain.as_text(result).splitlines()
    shown = explain.as_dict(result)["topic"]
    assert (shown["department"], shown["language"]) == (found.department, found.language)
    assert shown["cues"] == [[c, w] for c, w in found.top(5)]
    assert shown["probabilities"] == dict(found.probabilities)


def test_the_topic_is_the_same_in_every_process_whatever_its_hash_seed() -> None:
    # Found cues are a set, whose order follows the process's string hash seed; summing their
    # weights in that order made near ties fall differently from one run to the next.
    corpus = (ROOT / "tests" / "corpus" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line) for line in corpus[:400]]
    script = (
        "import json, sys\n"
        "from integration.core.matching import topic\n"
        "rows = json.load(sys.stdin)\n"
        "print(json.dumps([list(topic.most_confident(r['text'], r['lang']).probabilities) for r in rows]))\n"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "2", "3")
    }
    assert len(outputs) == 1
