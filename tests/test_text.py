"""`integration.core.matching.text`: folding and whole-word matching of rule `words`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from integration.core.matching.text import WordMatcher, fold

MODULE = Path(__file__).resolve().parents[1] / "integration" / "core" / "matching" / "text.py"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cobrança", "cobranca"),
        ("REEMBOLSO", "reembolso"),
        ("Facturación", "facturacion"),
        ("NÃO RECEBI", "nao recebi"),
        ("Devolução", "devolucao"),
        ("Señor", "senor"),
        ("¿Dónde está?", "¿donde esta?"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ﬁnal", "final"),  # compatibility ligature
        ("Cobranc\u0327a", "cobranca"),  # already decomposed input
        ("R$\u00a0100", "r$ 100"),  # no-break space becomes a space
        ("plain ascii 123", "plain ascii 123"),
        ("", ""),
        ("Ελληνικά", "ελληνικα"),  # other scripts keep their letters
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


REFUND_WORDS = ["refund", "cobrança indevida", "chargeback"]


@pytest.mark.parametrize(
    ("words", "text", "expected"),
    [
        # whole words, any case
        (REFUND_WORDS, "Refund!", "refund"),
        (REFUND_WORDS, "I want a refund.", "refund"),
        (REFUND_WORDS, "REFUND NOW", "refund"),
        (REFUND_WORDS, "(refund)", "refund"),
        (REFUND_WORDS, "refund", "refund"),
        (REFUND_WORDS, "I was refunded already", None),
        (REFUND_WORDS, "this is nonrefundable", None),
        (REFUND_WORDS, "refund_request", None),  # "_" is a word character
        (REFUND_WORDS, "refund2", None),
        # phrases: accents, case and any whitespace between the words
        (REFUND_WORDS, "Houve uma cobrança indevida.", "cobrança indevida"),
        (REFUND_WORDS, "COBRANCA   INDEVIDA", "cobrança indevida"),
        (REFUND_WORDS, "cobrança\n\tindevida", "cobrança indevida"),
        (REFUND_WORDS, "cobrança indevidamente", None),
        (REFUND_WORDS, "cobrançaindevida", None),
        (REFUND_WORDS, "cobrança foi indevida", None),
        # the first in the text wins, reported as the admin wrote it
        (REFUND_WORDS, "chargeback or refund", "chargeback"),
        (REFUND_WORDS, "refund or chargeback", "refund"),
        (["Reembolso"], "quero meu REEMBOLSO", "Reembolso"),
        (["reembolso", "Reembolso"], "reembolso", "reembolso"),  # first spelling wins
        # accents in the words or in the text, or both
        (["facturación"], "Problema de FACTURACION", "facturación"),
        (["facturacion"], "Problema de facturación", "facturacion"),
        (["não recebi"], "Nao recebi o produto", "não recebi"),
        # word boundaries around non-ASCII letters
        (["cao"], "ação", None),
        (["acao"], "uma ação judicial", "acao"),
        (["ano"], "año", "ano"),  # folded: "año" is "ano"
        (["ano"], "engaño", None),
        (["ção"], "ação", None),
        # longer phrases win over shorter words at the same position
        (["cobrança", "cobrança indevida"], "cobrança indevida", "cobrança indevida"),
        (["cobrança indevida", "cobrança"], "cobrança indevidamente", "cobrança"),
        (["card", "card declined"], "my card declined twice", "card declined"),
        # special regex characters are literal
        (["c++"], "I know C++ well", "c++"),
        (["c++"], "abc++", None),
        (["r$"], "paguei R$100 a mais", "r$"),
        (["r$"], "mar$", None),
        (["a.b"], "axb", None),
        (["a.b"], "a.b", "a.b"),
        (["(urgent)"], "this is (URGENT)", "(urgent)"),
        (["#vip"], "cliente #VIP", "#vip"),
        (["50%"], "50% off", "50%"),
        # nothing to match
        ([], "refund", None),
        (["", "   "], "refund", None),
        (REFUND_WORDS, "", None),
        (REFUND_WORDS, "nothing relevant here", None),
    ],
)
def test_first_match(words: list[str], text: str, expected: str | None) -> None:
    assert WordMatcher(words).first_match(text) == expected


def test_matcher_is_reusable() -> None:
    matcher = WordMatcher(["refund", "estorno"])
    texts = ["refund please", "quero o estorno", "nada", "refunded"] * 3
    assert [matcher.first_match(text) for text in texts] == [
        "refund",
        "estorno",
        None,
        None,
    ] * 3


def test_words_kept_as_given() -> None:
    assert WordMatcher(iter(["Refund", "c++"])).words == ("Refund", "c++")


@pytest.mark.parametrize("forbidden", ["flask", "sqlalchemy", "requests", "zenpy", "jira"])
def test_imports_nothing_from_frameworks(forbidden: str) -> None:
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert forbidden not in imported
