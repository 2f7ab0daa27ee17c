"""`integration.core.matching.language`: locale normalization, detection from text, and precedence."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from integration.core.matching.language import LANGUAGES, detect, normalize_locale, resolve
from tests.time_limit import run_within

MODULE = Path(__file__).resolve().parents[1] / "integration" / "core" / "matching" / "language.py"


def test_languages() -> None:
    assert LANGUAGES == ("en", "pt", "es")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt-BR", "pt"),
        ("pt_br", "pt"),
        ("pt_BR", "pt"),
        ("PT", "pt"),
        ("pt", "pt"),
        ("pt-PT", "pt"),
        ("es-419", "es"),
        ("ES", "es"),
        ("es-MX", "es"),
        ("es_ES", "es"),
        ("en-US", "en"),
        ("en-gb", "en"),
        ("en", "en"),
        (" en-US ", "en"),
        ("pt_BR.UTF-8", "pt"),
        ("fr", None),
        ("fr-CA", None),
        ("de-DE", None),
        ("zh-Hans", None),
        ("english", None),
        ("esp", None),
        ("e", None),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_locale(locale: str | None, expected: str | None) -> None:
    assert normalize_locale(locale) == expected


ENGLISH = [
    "I was charged twice and want a refund",
    "My order never arrived",
    "Refund please",
    "I never authorized this charge on my credit card.",
    "Hi, I cancelled my subscription last month but you still billed me again.",
    "The package was delivered damaged and nobody answers my emails.",
    "Where is my money? It has been three weeks since I returned the item.",
    "I'm going to dispute this with my bank if I don't get a refund today.",
    "You charged me $49.99 for a Premium plan I didn't order",
    "Thanks for nothing, the app keeps crashing and I want my money back",
    "Order #48213 still not here, please help",
    "Cancel my account now",
    "Why was I billed for Netflix Premium when my plan is Basic?",
    "I will contact a lawyer and sue your company",
]

PORTUGUESE = [
    "Fui cobrado duas vezes no meu cartão e quero o reembolso",
    "O pedido não chegou",
    "Vou processar vocês no Procon",
    "Obrigado",
    "Não recebi",
    "Nao recebi meu pedido ate hoje",  # typed without accents
    "Comprei um iPhone 15 Pro Max na Black Friday e até agora nada",
    "Cancelei a assinatura do Spotify Premium e continuam me cobrando",
    "Estou esperando o estorno há duas semanas, isso é um absurdo!",
    "Minha conta foi bloqueada sem motivo e ninguém responde",
    "Paguei o boleto e o sistema diz que está em aberto",
    "Quero cancelar o plano Premium for Family, não uso mais",
    "Olá, o produto veio com defeito e preciso trocar",
    "COBRANÇA INDEVIDA NO MEU CARTÃO",
    "Já fiz a reclamação no Reclame Aqui e vocês não fazem nada",
    "Pedido 48213 ainda não foi entregue, podem verificar?",
    "O app do Uber Eats cobrou a entrega duas vezes",
    "Tô cansado disso",  # "tô" folds to English "to"
]

SPANISH = [
    "Me cobraron dos veces y quiero un reembolso",
    "El pedido no ha llegado",
    "Voy a demandarlos",
    "Gracias",
    "No recibí",
    "No recibi mi pedido hasta hoy",  # typed without accents
    "Compré un iPhone 15 Pro Max en el Black Friday y todavía nada",
    "Cancelé la suscripción de Spotify Premium y me siguen cobrando",
    "¿Dónde está mi dinero? Llevo dos semanas esperando la devolución",
    "Mi cuenta fue bloqueada sin motivo y nadie responde",
    "Pagué la factura pero el sistema dice que está pendiente",
    "Quiero cancelar el plan Premium for Family, ya no lo uso",
    "Hola, el producto llegó dañado y necesito cambiarlo",
    "COBRO INDEBIDO EN MI TARJETA",
    "Ya puse una queja en Profeco y ustedes no hacen nada",
    "El pedido 48213 todavía no fue entregado, ¿pueden revisar?",
    "La app de Uber Eats me cobró el envío dos veces",
    "Estoy muy molesto con el servicio",
    "Sigo esperando respuesta",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, "en") for text in ENGLISH]
    + [(text, "pt") for text in PORTUGUESE]
    + [(text, "es") for text in SPANISH],
)
def test_detect_complaints(text: str, expected: str) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the hard pair, word for word
        ("obrigado", "pt"),
        ("obrigada!", "pt"),
        ("gracias", "es"),
        ("muchas gracias", "es"),
        ("muito obrigado", "pt"),
        ("não", "pt"),
        ("nao", "pt"),
        ("NÃO", "pt"),
        ("você", "pt"),
        ("estou", "pt"),
        ("estoy", "es"),
        ("foi", "pt"),
        ("fue", "es"),
        ("uma", "pt"),
        ("una", "es"),
        ("com", "pt"),
        ("con", "es"),
        ("minha", "pt"),
        ("mi", "es"),
        ("cobrança", "pt"),
        ("cobro", "es"),
        ("factura", "es"),
        ("fatura", "pt"),
        ("Não quero", "pt"),
        ("No quiero", "es"),
        ("cartão", "pt"),
        ("tarjeta", "es"),
        ("ação", "pt"),  # characters alone: ç and ã
        ("año", "es"),  # ñ alone
        ("¿y?", "es"),
        # English words
        ("the", "en"),
        ("please", "en"),
        ("charged", "en"),
    ],
)
def test_detect_tricky_words(text: str, expected: str) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345",
        "#48213 - 99,90",
        "?!",
        "https://www.example.com/orders/123",
        "maria@example.com",
        "no",  # en, pt and es alike
        "a",
        "pedido",  # pt and es alike
        "reembolso",
        "Netflix",
        "iPhone 15",
    ],
)
def test_detect_without_evidence(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    ("locale", "text", "default", "expected"),
    [
        # a known locale wins over the text
        ("pt-BR", "I was charged twice and want a refund", "en", "pt"),
        ("es-419", "O pedido não chegou", "en", "es"),
        ("en-US", "Me cobraron dos veces", "pt", "en"),
        ("PT_br", "", "en", "pt"),
        # an unknown or missing locale falls back to the text
        ("fr-FR", "O pedido não chegou", "en", "pt"),
        ("de", "El pedido no ha llegado", "pt", "es"),
        (None, "Me cobraron dos veces y quiero un reembolso", "en", "es"),
        ("", "My order never arrived", "pt", "en"),
        # and then to the default
        (None, "", "en", "en"),
        (None, "12345", "pt", "pt"),
        ("fr", "pedido", "es", "es"),
        ("it", "Netflix", "en", "en"),
    ],
)
def test_resolve(locale: str | None, text: str, default: str, expected: str) -> None:
    assert resolve(locale, text, default) == expected


def test_resolve_default_is_english() -> None:
    assert resolve(None, "") == "en"


@pytest.mark.parametrize("forbidden", ["flask", "sqlalchemy", "requests", "zenpy", "jira"])
def test_imports_nothing_from_frameworks(forbidden: str) -> None:
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert forbidden not in imported


# ---- ids are not words; weak hints do not override the default ------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ticketinfo_2294a6e9ece2",  # a Jira summary made of an id: its letters read as "a", "e"
        "invoice 7e2e-4a1e",
        "Build 4a1e_rc2 e 7e2e",
        "ref_a_e_o",
        "e",  # a lone letter: a list marker as often as a word
        "y",
        "(e)",
        "Update 2294a6e9ece2",
        "running",  # a word's shape alone
    ],
)
def test_ids_and_weak_hints_are_no_evidence(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("ticketinfo_2294a6e9ece2", "en", "en"),
        ("invoice 7e2e-4a1e", "en", "en"),
        ("ticketinfo_2294a6e9ece2", "es", "es"),
        # real words around the ids still decide
        ("Fui cobrado duas vezes, pedido ticketinfo_2294a6e9ece2", "en", "pt"),
        ("I was charged twice for invoice 7e2e-4a1e", "pt", "en"),
        ("Me cobraron dos veces: factura 7e2e-4a1e", "en", "es"),
    ],
)
def test_resolve_keeps_the_default_without_real_evidence(text: str, default: str, expected: str) -> None:
    assert resolve(None, text, default) == expected


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('"a" * 100_000', "None"),  # no whitespace: 22 s to over a minute before
        ('("ticketinfo_2294a6e9ece2-" * 7000)[:150_000]', "None"),  # 150 KB of ids
        ('"x@" * 50_000', "None"),
        ('"obrigado " + "é" * 100_000', "pt"),
    ],
)
def test_detection_is_linear_on_long_runs_without_whitespace(snippet: str, expected: str) -> None:
    code = f"from integration.core.matching.language import detect\nprint(detect({snippet}))"
    assert run_within(20, code) == expected
