"""The operators that find words the way customers write them: `stems` (word forms), `fuzzy`
(forms and bounded typos) and `negated` (a form after a negation of the text's language).

Tables of (condition, customer text, requester locale, what `explain` shows or None), each
run through the engine on a one-rule pack, so the operand is parsed and compiled as an
admin's file would be, and the language is the event's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.core import explain
from integration.core.engine import plan
from integration.core.events import Requester
from integration.core.matching.forms import TextIndex
from integration.core.matching.phrases import PhraseMatcher
from integration.core.rules.loader import load_sources
from tests.conftest import RULES
from tests.test_cli import PT_BILLING
from tests.test_engine import BASE, NOW, event, one_condition
from tests.time_limit import run_within


def saw(condition: str, text: str, locale: str | None) -> str | None:
    """What the condition found in a description `text`, as explain shows it; None: no match."""
    result = plan(event(subject="", description=text, requester=Requester(locale=locale)), one_condition(condition), NOW)
    [trace] = result.traces
    [test] = trace.conditions
    assert test.held is trace.matched
    return test.actual if trace.matched else None


def table(rows: list[tuple[str, str, str | None, str | None]]):  # type: ignore[no-untyped-def]
    return pytest.mark.parametrize("condition, text, locale, expected", rows, ids=[f"{r[0]} | {r[1]} | {r[2]}" for r in rows])


CHARGE = "text: {stems: [cobrar]}"
STEMS = [
    # pt: verb forms, nouns, plural, no accents, upper case
    (CHARGE, "Vocês me cobraram duas vezes", "pt-BR", "cobraram ~ cobrar (stem)"),
    (CHARGE, "fui COBRADA sem autorização", "pt-BR", "COBRADA ~ cobrar (stem)"),
    ("text: {stems: [cobrança]}", "duas cobrancas no cartão", "pt-BR", "cobrancas ~ cobrança (stem)"),
    ("text: {stems: [reclamação]}", "ja fiz 3 reclamacoes", "pt-BR", "reclamacoes ~ reclamação (stem)"),
    ("text: {stems: [reclamacao]}", "abri uma reclamação", "pt-BR", "reclamação ~ reclamacao (same word)"),
    ("text: {stems: [cobrar duas vezes]}", "cobraram DUAS   vezes!", "pt-BR", "cobraram DUAS   vezes ~ cobrar duas vezes (stem)"),
    ("text: {stems: [bugar]}", "app bugado, fecha sozinho", "pt-BR", "bugado ~ bugar (stem)"),
    ("text: {stems: [fechar sozinho]}", "app bugado, fecha sozinho", "pt-BR", "fecha sozinho ~ fechar sozinho (stem)"),
    ("text: {stems: [vazar]}", "meus dados vazaram", "pt-BR", "vazaram ~ vazar (stem)"),
    (CHARGE, "a cobertura do seguro", "pt-BR", None),  # another word, another stem
    ("text: {stems: [abrir]}", "o app não abre", "pt-BR", None),  # Snowball leaves short words whole: list "abre" too
    # es
    (CHARGE, "me habéis cobrado dos veces", "es", "cobrado ~ cobrar (stem)"),
    ("text: {stems: [cobrar dos veces]}", "me habéis cobrado dos veces", "es", "cobrado dos veces ~ cobrar dos veces (stem)"),
    ("text: {stems: [hackear]}", "hackearon su sistema", "es", "hackearon ~ hackear (stem)"),
    ("text: {stems: [llegar roto]}", "Compré una prensa y llegó rota", "es", "llegó rota ~ llegar roto (stem)"),
    # en
    ("text: {stems: [refund]}", "they never refunded me", "en", "refunded ~ refund (stem)"),
    ("text: {stems: [dispute]}", "I've already disputed it with my bank", "en", "disputed ~ dispute (stem)"),
    ("text: {stems: [refund]}", "this ticket is nonrefundable", "en", None),
    # the locale says one language, the words another: both are tried
    (CHARGE, "me cobraram duas vezes no cartão", "en-US", "cobraram ~ cobrar (stem)"),
    # no locale, no telling words: all three languages
    (CHARGE, "cobrado", None, "cobrado ~ cobrar (stem)"),
    # a phrase never reaches across a clause
    ("text: {stems: [bugado fecha]}", "app bugado, fecha sozinho", "pt-BR", None),
    # the first match in the text is shown, the longer one on a tie
    ("text: {stems: [reembolso, cobrar, cobrar duas vezes]}", "cobraram duas vezes e nada de reembolso", "pt-BR", "cobraram duas vezes ~ cobrar duas vezes (stem)"),
]

JOINED = [
    # hyphens and punctuation inside phrases, words run together or split
    ("text: {stems: [reclame aqui]}", "vou abrir no Reclame-Aqui", "pt-BR", "Reclame-Aqui ~ reclame aqui (same words)"),
    ("text: {stems: [reclame aqui]}", "vou abrir no RECLAME AQUI", "pt-BR", "RECLAME AQUI ~ reclame aqui (same words)"),
    ("text: {stems: [reclame aqui]}", "vou abrir no ReclameAqui", "pt-BR", "ReclameAqui ~ reclame aqui (written together)"),
    ("text: {stems: [reclame aqui]}", "vou expor no #ReclameAqui", "pt-BR", "ReclameAqui ~ reclame aqui (written together)"),
    ("text: {stems: [reclame aqui]}", "minha queixa no reclameaqui.com.br", "pt-BR", "reclameaqui ~ reclame aqui (written together)"),
    ("text: {stems: [reclame-aqui]}", "vou abrir no reclame aqui", "pt-BR", "reclame aqui ~ reclame-aqui (same words)"),
    ("text: {stems: [chargeback]}", "I will file a charge back", "en", "charge back ~ chargeback (written apart)"),
    ("text: {stems: [chargeback]}", "I will file a charge-back", "en", "charge-back ~ chargeback (written apart)"),
    ("text: {stems: [chargeback]}", "I will file a chargeback", "en", "chargeback ~ chargeback (same word)"),
    ("text: {stems: [chargeback]}", "two chargebacks already", "en", "chargebacks ~ chargeback (stem)"),
    ("text: {stems: [charge back]}", "I will file a chargeback", "en", "chargeback ~ charge back (written together)"),
    ("text: {stems: [chargeback]}", "no charge. Back to the app", "en", None),
]

NOT_PROSE = [
    # links, addresses, handles and ids are never cues
    ("text: {stems: [refund]}", "see https://shop.example.com/refund-policy", "en", None),
    ("text: {stems: [refund]}", "see www.refund.com", "en", None),
    ("text: {stems: [refund]}", "see shop.example.com/refund", "en", None),
    ("text: {stems: [fraud]}", "cc @fraudwatch please", "en", None),
    ("text: {stems: [fraud]}", "cc @fraud please", "en", None),
    ("text: {stems: [refund]}", "write to refund@shop.example.com", "en", None),
    ("text: {stems: [refund]}", "ticket refund_2294a6e9ece2 was closed", "en", None),
    ("text: {stems: [reclame aqui]}", "https://www.reclameaqui.com.br/empresa/x", "pt-BR", None),
    ("text: {fuzzy: [deadbeef]}", "hash 2294a6e9ece2deadbeef", "en", None),
    ("text: {stems: [fraud]}", "@fraudwatch this is fraud", "en", "fraud ~ fraud (same word)"),
    ("text: {stems: [2x]}", "cobrado 2x", "pt-BR", "2x ~ 2x (same word)"),  # short ones are words
]

FUZZY = [
    ("text: {fuzzy: [estorno]}", "quero o extorno agora", "pt-BR", "extorno ~ estorno (1 typo)"),
    ("text: {fuzzy: [estorno]}", "extorno", None, "extorno ~ estorno (1 typo)"),
    ("text: {fuzzy: [reembolso]}", "cadê meu reembolço", "pt-BR", "reembolço ~ reembolso (1 typo)"),
    ("text: {fuzzy: [estorno]}", "ainda não extornaram", "pt-BR", "extornaram ~ estorno (stem, 1 typo)"),
    ("text: {fuzzy: [refund]}", "where is my refnud", "en", "refnud ~ refund (1 typo)"),  # a swap is one typo
    ("text: {fuzzy: [cancelamento]}", "pedi o canselamemto", "pt-BR", "canselamemto ~ cancelamento (2 typos)"),
    ("text: {fuzzy: [cobrar]}", "me cobraram", "pt-BR", "cobraram ~ cobrar (stem)"),
    ("text: {fuzzy: [reclame aqui]}", "vou no reclamme aqui", "pt-BR", "reclamme aqui ~ reclame aqui (1 typo)"),
    ("text: {fuzzy: [reembolso duplicado]}", "um reembolço duplikado", "pt-BR", "reembolço duplikado ~ reembolso duplicado (2 typos)"),
    ("text: {fuzzy: [reembolso duplicado]}", "reembolço duplicados", "pt-BR", "reembolço duplicados ~ reembolso duplicado (stem, 1 typo)"),
    # bounds: none under 6 letters, one up to 9, two from 10
    ("text: {fuzzy: [conta]}", "ela canta bem", "pt-BR", None),
    ("text: {fuzzy: [fraud]}", "a freud quote", "en", None),
    ("text: {fuzzy: [reembolso]}", "um rembolco", "pt-BR", None),
    ("text: {fuzzy: [cancelamento]}", "o canselamemtu", "pt-BR", None),
    ("text: {stems: [estorno]}", "quero o extorno agora", "pt-BR", None),  # stems: no typos
]

NOT_ARRIVED = "text: {negated: [chegar, funcionar, abrir, open, arrive, work, llegar]}"
NEGATED = [
    # pt
    (NOT_ARRIVED, "meu pedido não chegou", "pt-BR", "não chegou ~ chegar (negated, stem)"),
    (NOT_ARRIVED, "pedido nao chegou ainda", "pt-BR", "nao chegou ~ chegar (negated, stem)"),
    (NOT_ARRIVED, "ainda não me chegou nada", "pt-BR", "não me chegou ~ chegar (negated, stem)"),
    (NOT_ARRIVED, "n funciona", "pt-BR", "n funciona ~ funcionar (negated, stem)"),
    (NOT_ARRIVED, "o pacote nunca chegou", "pt-BR", "nunca chegou ~ chegar (negated, stem)"),
    (NOT_ARRIVED, "há 10 dias sem chegar", "pt-BR", "sem chegar ~ chegar (negated, same word)"),
    (NOT_ARRIVED, "chegou no prazo, não tenho queixa", "pt-BR", None),  # another clause
    (NOT_ARRIVED, "Não. Chegou ontem", "pt-BR", None),
    (NOT_ARRIVED, "chegou rapidinho", "pt-BR", None),
    (NOT_ARRIVED, "o app no celular funciona bem", "pt-BR", None),  # "no" is "in the" in Portuguese
    # es
    (NOT_ARRIVED, "la app no funciona", "es", "no funciona ~ funcionar (negated, stem)"),
    (NOT_ARRIVED, "el paquete nunca llegó", "es", "nunca llegó ~ llegar (negated, stem)"),
    (NOT_ARRIVED, "no me ha llegado el pedido", "es", "no me ha llegado ~ llegar (negated, stem)"),
    (NOT_ARRIVED, "llegó ayer, no hay problema", "es", None),
    # en
    (NOT_ARRIVED, "fix your app it won't even open", "en", "won't even open ~ open (negated, same word)"),
    (NOT_ARRIVED, "fix your app it won’t even open", "en", "won’t even open ~ open (negated, same word)"),
    (NOT_ARRIVED, "the parcel didn't arrive", "en", "didn't arrive ~ arrive (negated, same word)"),
    (NOT_ARRIVED, "it never arrived", "en", "never arrived ~ arrive (negated, stem)"),
    (NOT_ARRIVED, "it has not arrived yet", "en", "not arrived ~ arrive (negated, stem)"),
    (NOT_ARRIVED, "it no longer opens", "en", "no longer opens ~ open (negated, stem)"),
    (NOT_ARRIVED, "the app cannot open my files", "en", "cannot open ~ open (negated, same word)"),
    (NOT_ARRIVED, "it doesnt work", "en", "doesnt work ~ work (negated, same word)"),
    (NOT_ARRIVED, "I did not think it would ever arrive", "en", None),  # too far
    (NOT_ARRIVED, "it arrived, not bad", "en", None),
    (NOT_ARRIVED, "it works great", "en", None),
]

WORDS_AS_BEFORE = [
    # `words` keeps its meaning: the written word or phrase, whole, case and accents folded
    ("text: {words: [cobrar]}", "Vocês me cobraram", "pt-BR", None),
    ("text: {words: [chargeback]}", "I will file a charge back", "en", None),
    ("text: {words: [cobrança indevida]}", "COBRANCA indevida", "pt-BR", "…cobrança indevida…"),
    # `matches` reads the text as written: case counts unless (?i), accents always do
    ("text: {matches: 'cobran[çc]a'}", "cobrança", "pt-BR", "cobrança"),
    ("text: {matches: 'cobranca'}", "cobrança", "pt-BR", None),
    ("text: {matches: 'Refund'}", "refund", "en", None),
    ("text: {matches: '(?i)Refund'}", "refund", "en", "refund"),
    ("text: {matches: '(?i)cobranca'}", "COBRANÇA", "pt-BR", None),
]


@table(STEMS + JOINED + NOT_PROSE)
def test_stems_find_word_forms_in_the_texts_language(condition: str, text: str, locale: str | None, expected: str | None) -> None:
    assert saw(condition, text, locale) == expected


@table(FUZZY)
def test_fuzzy_allows_typos_in_long_words_only(condition: str, text: str, locale: str | None, expected: str | None) -> None:
    assert saw(condition, text, locale) == expected


@table(NEGATED)
def test_negated_finds_a_form_after_a_negation_of_the_language(condition: str, text: str, locale: str | None, expected: str | None) -> None:
    assert saw(condition, text, locale) == expected


@table(WORDS_AS_BEFORE)
def test_words_and_matches_behave_as_before(condition: str, text: str, locale: str | None, expected: str | None) -> None:
    assert saw(condition, text, locale) == expected


# The probes of issue 12 that the default pack missed, each caught by one operator.
PROBES = [
    ("text: {stems: [bugar, travar, fechar sozinho]}", "app bugado, fecha sozinho", "bugado ~ bugar (stem)"),
    ("text: {stems: [cobrar dos veces]}", "me habéis cobrado dos veces", "cobrado dos veces ~ cobrar dos veces (stem)"),
    ("text: {negated: [open, work, load]}", "fix your app it won't even open", "won't even open ~ open (negated, same word)"),
    ("text: {fuzzy: [estorno]}", "extorno", "extorno ~ estorno (1 typo)"),
    ("text: {stems: [reclame aqui]}", "Reclame-Aqui", "Reclame-Aqui ~ reclame aqui (same words)"),
    ("text: {stems: [chargeback]}", "charge back", "charge back ~ chargeback (written apart)"),
    ("text: {negated: [chegar]}", "não chegou", "não chegou ~ chegar (negated, stem)"),
]


@pytest.mark.parametrize("condition, text, shown", PROBES, ids=[p[1] for p in PROBES])
def test_explain_shows_which_form_matched_for_the_issues_probes(condition: str, text: str, shown: str) -> None:
    """No locale: the language is the words' (or all three); explain names the form found."""
    result = plan(event(subject="", description=text, requester=Requester()), one_condition(condition), NOW)
    operator = condition.split("{")[1].split(":")[0]
    assert f"ok   text {operator} " in explain.as_text(result)
    assert f"(saw {shown!r})" in explain.as_text(result)
    [rule] = explain.as_dict(result)["rules"]
    assert rule["conditions"][0]["saw"] == shown


PROBLEMS = [
    ("text: {stems: []}", "rules[0].if.all[0].text.stems: must be a list of words or phrases (got a list)"),
    ("text: {fuzzy: ['https://x.com/refund']}",
     'rules[0].if.all[0].text.fuzzy[0]: must have a word to look for (links, @handles, e-mail addresses and ids are never matched) (got "https://x.com/refund")'),
    ("text: {stems: [refund, '@fraud']}",
     'rules[0].if.all[0].text.stems[1]: must have a word to look for (links, @handles, e-mail addresses and ids are never matched) (got "@fraud")'),
    ("text: {negated: ['não, chegou']}",
     'rules[0].if.all[0].text.negated[0]: must not hold punctuation that ends a clause (such as . , ; : ! ?): a phrase is matched within one (got "não, chegou")'),
    ("text: {stems: [one two three four five six seven]}",
     'rules[0].if.all[0].text.stems[0]: must be a phrase of at most 6 words (got "one two three four five six seven")'),
    ("status: {stems: [open]}",
     'rules[0].if.all[0].status.stems: operator "stems" does not apply to status (a name); use one of: is, is_not, in, not_in, exists'),
]


@pytest.mark.parametrize("condition, message", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_operands_are_checked_at_load_word_for_word(condition: str, message: str) -> None:
    rules = f"rules:\n  - id: probe\n    on: [created]\n    if:\n      all:\n        - {condition}\n    then: {{add_tags: [probe]}}\n"
    _, problems = load_sources({"00-base.yaml": BASE, "10-rules.yaml": rules})
    assert [str(problem).split(": ", 1)[1] for problem in problems] == [message]


def test_a_matcher_is_compiled_once_and_reads_any_language_without_an_event() -> None:
    matcher = PhraseMatcher(["cobrar", "llegar roto"], typos=True)
    index = TextIndex("me cobraron y llegó rota", ("pt", "es", "en"))
    found = matcher.first_match(index)
    assert found is not None and str(found) == "cobraron ~ cobrar (stem)"
    assert repr(matcher) == "PhraseMatcher(['cobrar', 'llegar roto'], typos=True, negated=False)"


def test_a_long_text_of_distinct_words_is_read_within_the_plan_deadline() -> None:
    """50,000 characters of distinct long words through every new operator: no hang."""
    code = """
import random, string
from integration.core.matching.forms import TextIndex
from integration.core.matching.phrases import PhraseMatcher
rng = random.Random(7)
text = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(6, 14))) for _ in range(6000))
for typos, negated in ((False, False), (True, False), (False, True)):
    matcher = PhraseMatcher(["estorno", "reembolso duplicado", "cancelamento", "chargeback"] * 5, typos, negated)
    matcher.first_match(TextIndex(text, ("pt", "es", "en")))
print("done")
"""
    assert run_within(30, code) == "done"


FORMS_RULES = """\
version: 1
rules:
  - id: charged-twice
    on: [created]
    if:
      any:
        - text: {stems: [cobrar duas vezes, me cobraron dos veces]}
        - text: {fuzzy: [estornar o valor]}
      none:
        - text: {negated: [cobrar]}
    then: {add_tags: [charged-twice]}
"""


def test_rule_files_with_the_new_operators_pass_rules_check_and_explain_names_the_form(tmp_path: Path) -> None:
    """The default pack plus a file using the new operators, on a recorded pt payload
    ("fui cobrado duas vezes ... Quero o reembolso (estorno)")."""
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "90-forms.yaml").write_text(FORMS_RULES, encoding="utf-8")
    checked = CliRunner().invoke(main, ["rules", "check", str(tmp_path / "rules")])
    assert checked.exit_code == 0, checked.output
    result = CliRunner().invoke(main, ["explain", str(PT_BILLING), "--rules", str(tmp_path / "rules"), "--json", "--now", "2026-03-02T13:00:00Z"])
    assert result.exit_code == 0, result.output
    [rule] = [rule for rule in json.loads(result.stdout)["rules"] if rule["rule"] == "charged-twice"]
    assert rule["matched"] is True
    assert [(c["operator"], c["held"]) for c in rule["conditions"]] == [("stems", True), ("fuzzy", False), ("not negated", True)]
    assert rule["conditions"][0]["saw"] == "cobrado duas vezes ~ cobrar duas vezes (stem)"
