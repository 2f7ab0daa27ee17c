"""The default playbook (rules/), through the engine: tables of events and what the plan says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integration.core.engine import plan
from integration.core.events import Comment, EventKind, Requester, TicketEvent
from integration.core.plan import Plan
from integration.core.rules.loader import load_sources
from integration.core.ruleset import RuleSet
from integration.core.templates import plain

RULES = Path(__file__).resolve().parent.parent / "rules"
NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # a Monday, 13:00 in São Paulo


def shipped() -> RuleSet:
    loaded, problems = load_sources({path.name: path.read_text(encoding="utf-8") for path in sorted(RULES.glob("*.yaml"))})
    assert problems == [], [str(problem) for problem in problems]
    assert loaded is not None
    return loaded


PACK = shipped()


def event(kinds: set[EventKind], locale: str = "en-US", **fields) -> TicketEvent:  # type: ignore[no-untyped-def]
    defaults = {
        "platform": "zendesk",
        "ticket_id": "42",
        "kinds": frozenset(kinds),
        "delivery_id": "d-1",
        "status": "open",
        "priority": "normal",
        "subject": "Help",
        "description": "",
        "tags": ("dispute", "dispute-finance"),
        "requester": Requester(name="Ana", email="ana@example.com", locale=locale),
    }
    defaults.update(fields)
    return TicketEvent(**defaults)


def run(ticket: TicketEvent) -> Plan:
    return plan(ticket, PACK, NOW)


def note(result: Plan, rule_part: str) -> str:
    [body] = [plain(n.body) for n in result.effects.notes if rule_part in n.key]
    return body


def breach(name: str, calendar: str | None, locale: str, late: timedelta) -> TicketEvent:
    return event({EventKind.DEADLINE_BREACHED}, locale, deadline=name, deadline_due_at=NOW - late, deadline_calendar=calendar)


# ------------------------------------------------------------------- deadline names and times


@pytest.mark.parametrize(
    ("name", "calendar", "locale", "rule", "expected"),
    [
        ("follow-up", "default", "en-US", "follow-up-overdue", ['("follow-up" deadline, overdue by 3 hours)']),
        ("follow-up", "default", "pt-BR", "follow-up-overdue", ['(prazo "acompanhamento", vencido há 3 horas)']),
        ("follow-up", "default", "es-ES", "follow-up-overdue", ['(plazo "seguimiento", vencido hace 3 horas)']),
        ("first-response", "default", "en-US", "first-response-missed",
         ['the "first response" deadline was missed by 3 hours (it was due 2026-03-02 10:00 (America/Sao_Paulo))']),
        ("first-response", "default", "pt-BR", "first-response-missed",
         ['o prazo "primeira resposta" foi ultrapassado em 3 horas (vencia em 2026-03-02 10:00 (America/Sao_Paulo))']),
        ("first-response", None, "en-US", "first-response-missed", ["(it was due 2026-03-02 13:00 (UTC))"]),
        ("next-update", "default", "es-ES", "next-update-overdue",
         ['(plazo "próxima actualización al cliente", vencido hace 3 horas; vencía el 2026-03-02 10:00 (America/Sao_Paulo))']),
    ],
)
def test_breach_notes_name_the_deadline_in_the_tickets_language_and_the_calendars_time(
    name: str, calendar: str | None, locale: str, rule: str, expected: list[str]
) -> None:
    body = note(run(breach(name, calendar, locale, timedelta(hours=3))), rule)
    for text in expected:
        assert text in body
    assert "UTC)" not in body or calendar is None


# ------------------------------------------------------------------- feedback once per resolution

SOLVED = {EventKind.SOLVED, EventKind.STATUS_CHANGED, EventKind.UPDATED}


@pytest.mark.parametrize(
    ("tags", "requests"),
    [
        (("dispute", "dispute-finance"), 1),  # the solve
        (("dispute", "dispute-finance", "feedback-requested"), 0),  # the same solve, delivered again
        (("dispute", "dispute-finance", "root-cause-billing"), 1),
        (("billing",), 0),  # not a dispute
    ],
)
def test_feedback_is_asked_once_per_resolution(tags: tuple[str, ...], requests: int) -> None:
    result = run(event(SOLVED, status="solved", tags=tags))
    assert len(result.effects.feedback) == requests
    assert ("feedback-requested" in result.effects.add_tags) == (requests == 1)


@pytest.mark.parametrize("kinds", [{EventKind.REOPENED, EventKind.STATUS_CHANGED}])
def test_a_reopen_lets_the_next_resolution_be_asked_about(kinds: set[EventKind]) -> None:
    result = run(event(kinds, tags=("dispute", "feedback-requested")))
    assert "feedback-requested" in result.effects.remove_tags


def test_only_one_rule_asks_for_feedback_and_the_checklist_does_not_ask_agents_to() -> None:
    askers = [rule.id for rule in PACK.rules if any(type(a).__name__ == "RequestFeedback" for a in rule.actions)]
    assert askers == ["dispute-solved"]
    _, items = PACK.checklists["dispute-core"].localized("en", "en")
    assert not any("ask for feedback" in item for item in items)


# ------------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("text", "department", "expected"),
    [
        ("Fui cobrado duas vezes, quero estorno", "finance", "nossa equipe responsável (Financeiro)"),
        ("Vazamento de dados! Vou chamar a imprensa", "management", "nossa equipe responsável (Diretoria)"),
    ],
)
def test_portuguese_acknowledgement_names_the_team_without_a_wrong_article(text: str, department: str, expected: str) -> None:
    ticket = event({EventKind.CREATED}, "pt-BR", tags=(), channel="chat", subject="Problema", description=text)
    result = run(ticket)
    assert result.effects.department == department
    body = note(result, "acknowledgement")
    assert expected in body
    assert "equipe de Financeiro" not in body and "equipe de Diretoria" not in body


# ------------------------------------------------------------------- next update and root cause


def agent_reply(public: bool, status: str = "open") -> TicketEvent:
    return event({EventKind.COMMENT_ADDED, EventKind.UPDATED}, status=status, comment=Comment("c1", "We are on it", public, "agent"))


@pytest.mark.parametrize(
    ("ticket", "started"),
    [
        (agent_reply(public=True), True),
        (agent_reply(public=False), False),
        (agent_reply(public=True, status="solved"), False),
    ],
)
def test_a_public_agent_reply_starts_the_agents_next_update_deadline(ticket: TicketEvent, started: bool) -> None:
    deadlines = {d.name: d for d in run(ticket).effects.deadlines}
    assert ("next-update" in deadlines) == started
    if started:
        assert deadlines["next-update"].met_by == ("agent_reply", "solved")
        assert deadlines["next-update"].due_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # one business day


@pytest.mark.parametrize(
    ("tags", "asked"),
    [
        (("dispute",), True),
        (("dispute", "root-cause-carrier"), False),
        (("dispute", "root-cause"), True),  # the family is root-cause-<something>
        (("billing",), False),
    ],
)
def test_a_dispute_solved_without_a_root_cause_gets_a_note_asking_for_it(tags: tuple[str, ...], asked: bool) -> None:
    result = run(event(SOLVED, status="solved", tags=tags))
    notes = [n for n in result.effects.notes if "root-cause-note" in n.key]
    assert bool(notes) == asked
    assert all(not n.public for n in notes)


def test_the_always_calendar_counts_every_hour_of_every_day() -> None:
    from integration.core.calendars import parse_duration

    friday_evening = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # 19:00 in São Paulo
    assert PACK.calendars["always"].add(friday_evening, parse_duration("1h business")) == friday_evening + timedelta(hours=1)
    assert PACK.calendars["default"].add(friday_evening, parse_duration("1h business")) > friday_evening + timedelta(days=2)


# ------------------------------------------------------------------- involve


@pytest.mark.parametrize(
    ("locale", "tags", "channel", "text", "owner", "involved", "note_start"),
    [
        ("pt-BR", ("vip",), "email", "Cobrança absurda, vou processar vocês", "management", "legal",
         "ENVOLVIDO: Jurídico e Compliance, precisamos da sua participação nesta disputa"),
        ("es-ES", (), "email", "Filtración de datos: hablaré con la prensa y mi abogado", "management", "legal",
         "INVOLUCRADO: Legal y Cumplimiento, necesitamos tu participación"),
        ("en-US", (), "twitter", "You charged me twice!! posting this on twitter", "marketing", "finance",
         "INVOLVED: Finance, your input is needed on this dispute"),
        ("pt-BR", (), "email", "Fui cobrado duas vezes, vou postar no Reclame Aqui", "marketing", "finance",
         "ENVOLVIDO: Financeiro"),
    ],
)
def test_involve_brings_a_department_in_without_moving_the_ticket(
    locale: str, tags: tuple[str, ...], channel: str, text: str, owner: str, involved: str, note_start: str
) -> None:
    result = run(event({EventKind.CREATED}, locale, tags=tags, channel=channel, subject="", description=text))
    assert result.effects.department == owner
    assert f"dept-{involved}" in result.effects.add_tags
    assert f"dd-checklist-dispute-{involved}" in result.effects.add_tags
    body = note(result, "involve:")
    assert body.startswith(note_start)
    involve_notes = [n for n in result.effects.notes if n.key.startswith("involve:")]
    assert [n.public for n in involve_notes] == [False]


@pytest.mark.parametrize(
    ("tags", "channel", "text"),
    [
        (("vip", "dept-legal"), "email", "I will sue you"),  # already involved
        ((), "email", "You charged me twice"),  # a double charge, not in public: Finance owns it
        (("vip",), "email", "You charged me twice"),  # a VIP without a legal threat
    ],
)
def test_involve_does_not_repeat_or_overreach(tags: tuple[str, ...], channel: str, text: str) -> None:
    result = run(event({EventKind.CREATED}, tags=tags, channel=channel, subject="", description=text))
    assert not [n for n in result.effects.notes if n.key.startswith("involve:")]


@pytest.mark.parametrize(
    ("then", "problem"),
    [
        ("{involve: [nowhere]}", 'unknown department "nowhere"'),
        ("{involve: 3}", "must be a department id or a list of them"),
    ],
)
def test_involve_is_checked_when_the_rules_load(then: str, problem: str) -> None:
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(RULES.glob("*.yaml"))}
    sources["99-probe.yaml"] = f"version: 1\nrules:\n  - id: probe\n    on: [created]\n    then: {then}\n"
    _, problems = load_sources(sources)
    assert any(problem in str(p) for p in problems), [str(p) for p in problems]


# ------------------------------------------------------------------- chargebacks


@pytest.mark.parametrize(
    ("locale", "tags", "text", "title"),
    [
        ("en-US", (), "I've already disputed it with my bank", "Chargeback: evidence for the card network"),
        ("pt-BR", (), "Abri um chargeback no cartão", "Chargeback: evidências para a bandeira do cartão"),
        ("es-ES", (), "Ya pedí el contracargo a mi banco", "Contracargo: evidencia para la red de la tarjeta"),
        ("en-US", ("chargeback",), "Order 991", "Chargeback: evidence for the card network"),  # tagged by an agent
    ],
)
def test_a_chargeback_is_its_own_case_with_the_networks_deadline_in_calendar_days(
    locale: str, tags: tuple[str, ...], text: str, title: str
) -> None:
    result = run(event({EventKind.CREATED}, locale, tags=tags, subject="", description=text))
    assert {"chargeback", "dd-chargeback", "dd-checklist-chargeback-evidence"} <= {*result.effects.add_tags, *tags}
    assert note(result, "checklist:chargeback-evidence").startswith(title)
    [deadline] = [d for d in result.effects.deadlines if d.name == "chargeback-response"]
    friday = NOW  # whatever the day: 7 real days, weekends included
    assert (deadline.due_at, deadline.calendar, deadline.met_by) == (friday + timedelta(days=7), None, ("solved",))


def test_a_chargeback_is_opened_once() -> None:
    result = run(event({EventKind.COMMENT_ADDED}, tags=("chargeback", "dd-chargeback", "dispute"), subject="", description="chargeback",
                       comment=Comment("c2", "any news on my chargeback?", True, "customer")))
    assert not [d for d in result.effects.deadlines if d.name == "chargeback-response"]


def test_every_checklist_speaks_pt_es_and_en() -> None:
    for checklist in PACK.checklists.values():
        for language in ("en", "pt", "es"):
            title, items = checklist.localized(language, "xx")
            assert title and all(items), (checklist.id, language)


# ------------------------------------------------------------------- playbook steps in the checklists


@pytest.mark.parametrize(
    ("checklist", "language", "step"),
    [
        ("dispute-core", "en", "Never blame the customer"),
        ("dispute-core", "pt", "Nunca culpar o cliente"),
        ("dispute-core", "es", "No culpar nunca al cliente"),
        ("dispute-core", "en", "When the mistake is ours, say so plainly"),
        ("dispute-core", "pt", "Quando o erro for nosso"),
        ("dispute-core", "es", "Cuando el error sea nuestro"),
        ("dispute-core", "en", "Promise only what you can deliver"),
        ("dispute-core", "pt", "Prometer só o que pode cumprir"),
        ("dispute-core", "es", "Prometer solo lo que puedas cumplir"),
        ("dispute-core", "en", "needs management's approval"),
        ("dispute-core", "pt", "precisa da aprovação da diretoria"),
        ("dispute-core", "es", "necesita la aprobación de la dirección"),
        ("dispute-management", "en", "official closing statement"),
        ("dispute-management", "pt", "nota oficial de encerramento"),
        ("dispute-management", "es", "comunicado oficial de cierre"),
        ("dispute-marketing", "en", "official closing statement"),
        ("dispute-management", "en", "For a VIP, coordinate delivery"),
        ("dispute-management", "pt", "Para um cliente VIP, coordenar entrega"),
        ("dispute-management", "es", "Para un cliente VIP, coordinar la entrega"),
    ],
)
def test_the_missing_playbook_steps_are_checklist_items(checklist: str, language: str, step: str) -> None:
    _, items = PACK.checklists[checklist].localized(language, "en")
    assert any(step in item for item in items), items


# ------------------------------------------------------------------- no internal reference in public


def test_public_comments_carry_their_reference_as_a_tag_never_in_the_text() -> None:
    from dataclasses import replace

    from integration.core.references import reference, sent_tag, with_references, without_applied

    chat = event({EventKind.CREATED}, "es-ES", tags=(), channel="chat", subject="Cobro", description="Me cobraron dos veces, es una estafa")
    written = with_references(run(chat), "d-1")
    public = [n for n in written.effects.notes if n.public]
    internal = [n for n in written.effects.notes if not n.public]
    assert public and internal
    assert all("dispute-desk ref" not in n.body and "dd:" not in n.body for n in public)
    assert all("— dispute-desk ref dd:" in n.body for n in internal)
    tags = [sent_tag(reference("zendesk", "d-1", n.key)) for n in public]
    assert set(tags) <= set(written.effects.add_tags)

    # A replay after the write landed: the ticket now carries the tag, so the reply is not sent again.
    replayed = replace(written, event=replace(written.event, tags=(*written.event.tags, *tags)))
    kept, dropped = without_applied(replayed, "d-1", set(), set())
    assert [n.key for n in public] == [key for key in dropped if key in {n.key for n in public}]
    assert not [n for n in kept.effects.notes if n.public]
    # Another delivery's reply is not mistaken for this one.
    other, _ = without_applied(replace(with_references(run(chat), "d-2"), event=replayed.event), "d-2", set(), set())
    assert [n for n in other.effects.notes if n.public]


def test_a_dispute_reopened_again_goes_to_legal_on_the_round_the_clock_calendar() -> None:
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    reopened = event({EventKind.REOPENED, EventKind.STATUS_CHANGED}, tags=("dispute", "reopened-once"))
    [deadline] = plan(reopened, PACK, saturday).effects.deadlines
    assert (deadline.name, deadline.calendar, deadline.due_at) == ("first-response", "always", saturday + timedelta(hours=4))


FRIDAY_EVENING = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)  # 20:00 in São Paulo, after hours
ROUND_THE_CLOCK = [
    # (what the customer wrote, tags, the owner, hours to the first response, its calendar)
    ("Vou colocar no Reclame Aqui, ninguém resolve meu problema com a cobrança", (), "marketing", 1, "always"),
    ("Meu advogado vai entrar com um processo contra vocês", (), "legal", 2, "always"),
    ("Fui cobrado duas vezes e quero o estorno", ("vip",), "management", 1, "always"),
    ("Fui cobrado duas vezes e quero o estorno", (), "finance", None, "default"),
]


@pytest.mark.parametrize(("text", "tags", "owner", "hours", "calendar"), ROUND_THE_CLOCK, ids=["public", "legal-threat", "vip", "finance"])
def test_crises_public_complaints_and_legal_threats_run_round_the_clock(text: str, tags: tuple[str, ...], owner: str, hours: int | None, calendar: str) -> None:
    created = event({EventKind.CREATED}, "pt-BR", description=text, tags=tags)
    result = plan(created, PACK, FRIDAY_EVENING)
    [deadline] = [d for d in result.effects.deadlines if d.name == "first-response"]
    assert (result.effects.department, deadline.calendar) == (owner, calendar)
    if hours is not None:  # 24/7: due the same night, not on Monday
        assert deadline.due_at == FRIDAY_EVENING + timedelta(hours=hours)
    else:  # business hours: nothing counts until Monday 09:00 in São Paulo
        assert deadline.due_at > datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


# ---- routing by topic, and routing again once when the first topic was unsure ----------------------

VAGUE = "This is unacceptable. I want to file a formal complaint about my account."
CLEAR_FINANCE = "I was charged twice and I want a refund."
CLEAR_APP = "The app crashes every time I open it, error 500, it won't load."


def customer_says(text: str, tags: tuple[str, ...], kinds: frozenset[EventKind] = frozenset({EventKind.COMMENT_ADDED})) -> Plan:
    comment = Comment(id="c-2", body=text, public=True, by="customer") if EventKind.COMMENT_ADDED in kinds else None
    return run(event(set(kinds), subject="About my account", description=VAGUE if comment else text, comment=comment, tags=tags))


def test_a_dispute_routed_on_an_unclear_topic_is_marked_unsure() -> None:
    first = customer_says(VAGUE, (), frozenset({EventKind.CREATED}))
    assert first.effects.department is not None  # the best guess still gets an owner and a deadline
    assert "topic-unsure" in first.effects.add_tags


def test_a_clear_message_routes_an_unsure_dispute_again_once() -> None:
    guessed = customer_says(VAGUE, (), frozenset({EventKind.CREATED})).effects.department
    tags = ("dispute", f"dispute-{guessed}", "topic-unsure")
    second = customer_says(CLEAR_FINANCE, tags)
    assert second.effects.department == "finance"
    assert "topic-unsure" in second.effects.remove_tags
    # once routed on a clear topic, a clear message about something else moves nothing
    third = customer_says(CLEAR_APP, ("dispute", f"dispute-{guessed}", "dispute-finance"))
    assert third.effects.department is None


@pytest.mark.parametrize(
    "text, tags",
    [
        # a clear first route is never marked, so a later clear message does not move it
        (CLEAR_APP, ("dispute", "dispute-finance")),
        # an unsure ticket is not moved by another message that is just as vague
        ("Still nothing. Unacceptable.", ("dispute", "dispute-engineering", "topic-unsure")),
    ],
)
def test_routed_tickets_stay_where_they_are(text: str, tags: tuple[str, ...]) -> None:
    result = customer_says(text, tags)
    assert result.effects.department is None
    assert "topic-unsure" not in result.effects.add_tags


def test_an_escalation_takes_an_unsure_ticket_and_clears_the_mark() -> None:
    result = customer_says("My lawyer will sue you over these charges.", ("dispute", "dispute-engineering", "topic-unsure"))
    assert result.effects.department == "legal"
    assert "topic-unsure" in result.effects.remove_tags
