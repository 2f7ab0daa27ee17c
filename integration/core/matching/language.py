"""Which language a ticket is in: English, Portuguese or Spanish.

The requester's locale wins when the platform knows it; otherwise the customer's own
words decide. Detection is a small weighted word count, not a statistical model: the
texts are short complaints in one of three known languages, and the hard pair
(Portuguese vs Spanish) is told apart by the function words each one uses and the
other does not. Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

from integration.core.matching.text import fold

__all__ = ["LANGUAGES", "detect", "normalize_locale", "resolve"]

LANGUAGES = ("en", "pt", "es")

# Words as customers write them; folded (accents dropped) when the table is built, so
# "nao" typed on a phone without accents still counts as "não".
_WORDS: Mapping[str, str] = {
    "en": """
        the a an and or but if of to in on at for with from by about as so is are was were
        be been am i me my mine you your he she it its we our us they their them this that
        these those there here what why how when where who which not no never nothing yet
        still already again just only also too very do does did done don doesn didn isn
        wasn haven hasn won can cannot could would should will have has had get got want
        wanted need needed please thank thanks hello hi dear charged charge charges twice
        refund refunded order ordered arrived arrive received receive delivery delivered
        package money back card account payment paid pay bill billed billing subscription
        cancel cancelled canceled dispute fraud unauthorized sue lawyer bank help issue
        waiting days weeks month ago since wrong broken damaged missing support customer
        service company store purchase bought return returned sent answer nobody anyone
        someone ate
    """,
    "pt": """
        não você vocês obrigado obrigada uma um umas uns com do da dos das os as ao aos à às
        no na nos nas num numa em e é o a meu minha meus minhas seu sua seus suas estou
        está estão estava foi fui foram ser ter tem tenho tinha há já ainda também até mais
        mas muito muita só porque quando onde isso isto esse essa este esta nada nenhum
        nenhuma ninguém sem pelo pela pelos pelas eu ele ela eles elas nós aqui agora hoje
        ontem amanhã dia dias vez vezes duas dois três cobrança cobranças cobrado cobrada
        cobraram cobrou pedido pedidos compra comprei paguei pagamento pago valor dinheiro
        cartão crédito conta fatura boleto pix reembolso estorno devolução devolver
        cancelar cancelamento cancelei assinatura produto entrega entregue chegou
        chegaram recebi receber loja atendimento atendente cliente reclamação problema
        resolver ajuda preciso quero queria gostaria posso pode podem consigo fazer faz
        vou vai vão processar procon justiça advogado absurdo descaso bom boa olá oi tarde
        noite favor por para pra de que se me te lhe então depois antes desde sobre entre
        qual quem como mesmo tu nunca tô tá disso nisso dele dela resposta aguardando falar
        liguei mandaram enviaram péssimo errado
    """,
    "es": """
        el la los las un una unos unas con del al y o en es son está están estoy estaba fue
        fui fueron ser tener tengo tiene tenía hay ha han he ya todavía aún también hasta
        más pero muy mucho mucha porque cuando donde eso esto ese esa este esta nada ningún
        ninguna nadie sin por para de que se me te le lo les nos mi mis tu su sus yo ella
        ellos ustedes usted aquí ahora hoy ayer mañana día días vez veces dos tres cobro
        cobros cobraron cobró cobrado cobrada cargo cargos factura facturación pedido
        pedidos compra compré pagué pago valor dinero tarjeta crédito cuenta reembolso
        devolución devolver cancelar cancelación cancelé suscripción producto envío
        entrega entregado llegó llegado llega recibí recibido tienda atención cliente
        reclamo reclamación queja problema resolver ayuda necesito quiero quería gustaría
        puedo puede pueden hacer hace voy va van demandar demandarlos demanda abogado
        profeco gracias hola buenos buenas noches favor si así entonces después antes
        desde sobre entre cual quien como mismo nunca a no sigo siguen respuesta quisiera
        hablar llamé mandaron enviaron pésimo equivocado molesto harto
    """,
}

# A word only one language uses is strong evidence; one shared by two is a weak hint;
# one all three share ("a", "no", "me") says nothing.
_EXCLUSIVE_WEIGHT = 2.0
_SHARED_WEIGHT = 0.5

# Letters and marks only one of the pair writes; counted before accents are folded.
_CHAR_HINTS: Mapping[str, str] = {"pt": "çãõêôâà", "es": "ñ¿¡"}
_CHAR_WEIGHT = 1.0

# Endings/digraphs for words the table does not know ("demandarlos", "trabalho").
_SHAPE_HINTS: Mapping[str, re.Pattern[str]] = {
    "pt": re.compile(r"nh|lh|(?:cao|coes|agem)$"),
    "es": re.compile(r"^ll|(?:cion|ciones|dad|dades|arlos|arle|erlo)$"),
    "en": re.compile(r"th|(?:ing|tion|ed|ly)$"),
}
_SHAPE_WEIGHT = 0.5
_SHAPE_MIN_LENGTH = 4

# URLs and e-mail addresses carry "com", "br", "es"... that are not the customer's words.
# Tested on whitespace-separated chunks: a pattern like `\S+@\S+` over the whole text
# backtracks quadratically on a long run without whitespace (100k characters: over a minute).
_NOT_PROSE_MARKS = ("://", "@", "www.", ".com", ".net", ".org")
# Words are runs of word characters; a run with a digit or an underscore is an id
# ("ticketinfo_2294a6e9ece2", "7e2e-4a1e"), not the customer's words: its letters say nothing.
_WORD_RUN = re.compile(r"\w+")
_NOT_A_WORD = re.compile(r"[\d_]")
# Detection reads a sample: a long text is many times the evidence it needs.
SAMPLE_CHARACTERS = 20_000
# Overriding the default language takes real evidence: one word only that language uses,
# or a letter only it writes; a shared word, a word's shape or a lone letter is not enough.
_MIN_EVIDENCE = 1.0
_LOCALE_SEPARATORS = re.compile(r"[-_.@]")


def _weights(words: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Folded word -> {language: weight}, from which languages use each word."""
    users: dict[str, set[str]] = {}
    for lang, text in words.items():
        for word in text.split():
            users.setdefault(fold(word), set()).add(lang)
    table: dict[str, dict[str, float]] = {}
    for word, langs in users.items():
        if len(langs) == 1:
            table[word] = {lang: _EXCLUSIVE_WEIGHT for lang in langs}
        elif len(langs) == 2:
            table[word] = {lang: _SHARED_WEIGHT for lang in langs}
    return table


_WEIGHTS = _weights(_WORDS)


def normalize_locale(locale: str | None) -> str | None:
    """Map "pt-BR", "pt_br", "es-419", "en-gb" to "pt"/"es"/"en"; anything else to None."""
    if not locale:
        return None
    primary = _LOCALE_SEPARATORS.split(locale.strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else None


def _prose(text: str) -> list[str]:
    """The whitespace-separated chunks of `text` that are not URLs or e-mail addresses."""
    return [chunk for chunk in text.split() if not any(mark in chunk for mark in _NOT_PROSE_MARKS)]


def _words(chunks: Iterable[str]) -> Iterator[str]:
    """The letter-only words of the chunks: ids with digits or underscores left out. Linear time."""
    for chunk in chunks:
        for word in _WORD_RUN.findall(chunk):
            if not _NOT_A_WORD.search(word):
                yield word


def _score_tokens(tokens: Iterable[str], scores: dict[str, float]) -> None:
    for token in tokens:
        weights = _WEIGHTS.get(token)
        if weights is not None:
            for lang, weight in weights.items():
                # A lone letter ("e", "y") is as often a list marker or part of a code as a word.
                scores[lang] += weight if len(token) > 1 else min(weight, _SHARED_WEIGHT)
        elif len(token) >= _SHAPE_MIN_LENGTH:  # unknown words vote weakly by their shape
            for lang, shape in _SHAPE_HINTS.items():
                if shape.search(token):
                    scores[lang] += _SHAPE_WEIGHT


@lru_cache(maxsize=32)  # an event's language is wanted by the rules and by word forms
def detect(text: str) -> str | None:
    """Guess "en", "pt" or "es" from the customer's words; None without evidence or on a tie."""
    chunks = _prose((text or "")[:SAMPLE_CHARACTERS].casefold())
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for lang, chars in _CHAR_HINTS.items():
        scores[lang] += _CHAR_WEIGHT * sum(chunk.count(char) for chunk in chunks for char in chars)
    _score_tokens((fold(word) for word in _words(chunks)), scores)
    best = max(scores.values())
    winners = [lang for lang, score in scores.items() if score == best]
    # A tie (typically "pedido", shared by pt and es) is not evidence for either.
    return winners[0] if best >= _MIN_EVIDENCE and len(winners) == 1 else None


def resolve(locale: str | None, text: str, default: str = "en") -> str:
    """The requester's locale if it is one we serve, else the detected language, else default."""
    return normalize_locale(locale) or detect(text) or default
