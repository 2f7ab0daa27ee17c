"""The engine: a pure function (event, rule set, now) -> plan that explains itself.

Tables of cases: one rule, one event, and what the plan must say."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from integration.core.engine import plan
from integration.core.events import Comment, EventKind, Requester, TicketEvent
from integration.core.rules.loader import load_sources
from integration.core.ruleset import RuleSet

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

BASE = """\
version: 1
settings:
  custom_fields:
    claim_amount: {zendesk: 360000000001, jira: customfield_10100}
departments:
  finance: {title: {en: Finance, pt: Financeiro, es: Finanzas}, zendesk: {group_id: 111}, jira: {component: Finance}}
  legal: {title: {en: Legal, pt: Jurídico, es: Legal}, zendesk: {group_id: 222}, jira: {component: Legal}}
  management: {title: {en: Management, pt: Diretoria, es: Dirección}, zendesk: {group_id: 333}}
checklists:
  core:
    title: {en: Dispute checklist, pt: Checklist de disputa, es: Lista de disputa}
    items:
      - {en: Listen, pt: Ouvir, es: Escuchar}
      - {en: Gather evidence, pt: Reunir evidências, es: Reunir pruebas}
templates:
  routed:
    en: "Routed to {{ department.title }} by {{ rule.id }}"
    pt: "Encaminhado para {{ department.title }} pela regra {{ rule.id }}"
  late:
    en: "{{ deadline.name }} missed by {{ deadline.overdue }}"
"""


def ruleset(rules_yaml: str) -> RuleSet:
    loaded, problems = load_sources({"00-base.yaml": BASE, "10-rules.yaml": textwrap.dedent(rules_yaml)})
    assert problems == [], [str(p) for p in problems]
    assert loaded is not None
    return loaded


def event(**fields) -> TicketEvent:
    defaults = {
        "platform": "zendesk",
        "ticket_id": "42",
        "kinds": frozenset({EventKind.CREATED}),
        "delivery_id": "d-1",
        "status": "open",
        "priority": "normal",
        "subject": "Help",
        "description": "",
        "requester": Requester(email="ana@example.com", locale="en-US"),
    }
    defaults.update(fields)
    return TicketEvent(**defaults)


def one_condition(condition: str) -> RuleSet:
    return ruleset(
        f"""
        rules:
          - id: probe
            on: [created, comment_added, deadline_breached, feedback_received]
            if:
              all:
                - {condition}
            then: {{add_tags: [probe]}}
        """
    )


# (condition as written, event fields, matches?)
CONDITIONS = [
    ("status: open", {}, True),
    ("status: {is_not: open}", {}, False),
    ("status: {in: [new, open]}", {}, True),
    ("status: {not_in: [solved, closed]}", {"status": "solved"}, False),
    ("priority: {is: normal}", {}, True),
    ("tags: vip", {"tags": ("vip", "x")}, True),
    ("tags: vip", {"tags": ("vipp",)}, False),
    ("tags: {contains_any: [vip, enterprise]}", {"tags": ("enterprise",)}, True),
    ("tags: {contains_all: [vip, enterprise]}", {"tags": ("enterprise",)}, False),
    ("tags: {exists: false}", {"tags": ()}, True),
    ("text: {words: [refund, cobrança indevida]}", {"description": "Houve uma COBRANCA  indevida."}, True),
    ("text: {words: [refund]}", {"description": "The refunded amount"}, False),
    ("text: {words: [reembolso]}", {"comment": Comment("c1", "Quero meu Reembolso!", True, "customer")}, True),
    ("subject: {matches: '^\\[URGENT\\]'}", {"subject": "[URGENT] card charged"}, True),
    ("subject: {matches: '^\\[URGENT\\]'}", {"subject": "urgent"}, False),
    ("comment_public: true", {"comment": Comment("c1", "hi", True, "agent")}, True),
    ("comment_by: customer", {"comment": Comment("c1", "hi", True, "agent")}, False),
    ("comment: {exists: true}", {}, False),
    ("channel: {in: [social, chat]}", {"channel": "social"}, True),
    ("language: pt", {"requester": Requester(locale="pt-BR")}, True),
    ("language: es", {"requester": Requester(), "description": "Me cobraron dos veces y quiero un reembolso"}, True),
    ("requester.email: {matches: '@bigcorp\\.com$'}", {"requester": Requester(email="cfo@bigcorp.com")}, True),
    ("requester.email: ANA@example.com", {}, True),
    ("requester.organization: {exists: true}", {}, False),
    ("department: finance", {"group_id": "111"}, True),
    ("department: {is_not: finance}", {"group_id": "222"}, True),
    ("custom.claim_amount: {gte: 10000}", {"custom_fields": {"360000000001": "15000.50"}}, True),
    ("custom.claim_amount: {gte: 10000}", {"custom_fields": {"360000000001": "n/a"}}, False),
    ("custom.claim_amount: {lt: 10}", {"custom_fields": {}}, False),
    ("rating: {lte: 2}", {"rating": 1}, True),
    ("rating: {gt: 2}", {"rating": 1}, False),
    ("previous_status: solved", {"previous_status": "solved"}, True),
    ("platform: jira", {}, False),
]


@pytest.mark.parametrize("condition, fields, matches", CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_operators_and_fields(condition: str, fields: dict, matches: bool) -> None:
    result = plan(event(**fields), one_condition(condition), NOW)
    [trace] = result.traces
    assert trace.matched is matches
    assert all(c.held for c in trace.conditions) is matches
    assert ("probe" in result.effects.add_tags) is matches


def test_a_plan_explains_every_condition_with_the_value_it_saw() -> None:
    rules = ruleset(
        """
        rules:
          - id: billing
            on: [created]
            if:
              all:
                - text: {words: [refund, reembolso]}
                - status: {not_in: [solved, closed]}
              none:
                - tags: dispute-finance
            then: {route: finance}
        """
    )
    result = plan(event(description="I want a refund", tags=("dispute-finance",)), rules, NOW)
    [trace] = result.traces
    assert not trace.matched
    assert [(c.path, c.field, c.operator, c.actual, c.held) for c in trace.conditions] == [
        ("rules[0].if.all[0].text.words", "text", "words", "…refund…", True),
        ("rules[0].if.all[1].status.not_in", "status", "not_in", "open", True),
        ("rules[0].if.none[0].tags", "tags", "not contains", ["dispute-finance"], False),
    ]


def test_rules_that_do_not_listen_are_not_evaluated_and_stop_ends_evaluation() -> None:
    rules = ruleset(
        """
        rules:
          - {id: solved-only, on: [solved], then: {add_tags: [a]}}
          - {id: first, on: [created], then: {add_tags: [b]}, stop: true}
          - {id: after, on: [created], then: {add_tags: [c]}}
        """
    )
    result = plan(event(), rules, NOW)
    assert [(t.rule_id, t.listened, t.matched, t.skipped_because) for t in result.traces] == [
        ("solved-only", False, False, ""),
        ("first", True, True, ""),
        ("after", True, False, "rule first stopped evaluation"),
    ]
    assert result.effects.add_tags == ["b"]


@pytest.mark.parametrize(
    "current, actions, expected",
    [
        ("normal", ["priority: {at_least: high}"], "high"),
        ("urgent", ["priority: {at_least: high}"], None),  # never lowers; nothing to write
        ("urgent", ["priority: low"], "low"),
        ("normal", ["priority: low", "priority: {at_least: high}"], "high"),
        (None, ["priority: {at_least: low}"], "low"),
        ("high", ["priority: high"], None),
    ],
)
def test_priority_merges_floors_and_explicit_values(current, actions, expected) -> None:
    rules_yaml = "rules:\n" + "".join(
        f"  - {{id: r{i}, on: [created], then: {{{action}}}}}\n" for i, action in enumerate(actions)
    )
    assert plan(event(priority=current), ruleset(rules_yaml), NOW).effects.priority == expected


def test_first_route_wins_and_an_escalation_overrides_it() -> None:
    rules = ruleset(
        """
        rules:
          - {id: to-finance, on: [created], then: {route: finance}}
          - {id: to-legal, on: [created], then: {route: legal}}
        """
    )
    result = plan(event(), rules, NOW)
    assert result.effects.department == "finance"
    assert result.warnings == ("rule to-legal routes to legal, but rule to-finance already routed to finance",)

    escalating = ruleset(
        """
        rules:
          - {id: to-finance, on: [created], then: {route: finance}}
          - {id: breach, on: [created], then: {escalate: {to: management, priority: urgent}}}
        """
    )
    result = plan(event(), escalating, NOW)
    assert (result.effects.department, result.effects.priority, result.warnings) == ("management", "urgent", ())


def test_routing_to_the_department_the_ticket_is_in_writes_nothing() -> None:
    result = plan(event(group_id="111"), ruleset("rules:\n  - {id: r, on: [created], then: {route: finance}}\n"), NOW)
    assert result.effects.department is None
    assert result.traces[0].actions == ("already in finance",)


def test_a_checklist_is_added_once_per_ticket_in_the_tickets_language() -> None:
    rules = ruleset("rules:\n  - {id: r, on: [created, comment_added], then: {checklist: core}}\n")
    first = plan(event(requester=Requester(locale="pt-BR")), rules, NOW)
    [note] = first.effects.notes
    assert (note.key, note.public) == ("checklist:core", False)
    assert note.body == "Checklist de disputa\n\n☐ Ouvir\n☐ Reunir evidências"
    assert first.effects.add_tags == ["dd-checklist-core"]

    again = plan(event(tags=tuple(first.effects.add_tags), kinds=frozenset({EventKind.COMMENT_ADDED})), rules, NOW)
    assert again.effects.notes == [] and again.effects.add_tags == []
    assert again.traces[0].actions == ("checklist core already on the ticket",)


def test_texts_are_rendered_last_so_a_note_can_name_a_department_routed_later() -> None:
    rules = ruleset(
        """
        rules:
          - {id: say, on: [created], then: {note: routed}}
          - {id: route-it, on: [created], then: {route: finance}}
        """
    )
    [note] = plan(event(requester=Requester(locale="pt-BR")), rules, NOW).effects.notes
    assert note.body == "Encaminhado para Financeiro pela regra say"


def test_a_text_falls_back_to_the_default_language() -> None:
    rules = ruleset("rules:\n  - {id: r, on: [deadline_breached], then: {note: late}}\n")
    breach = event(
        kinds=frozenset({EventKind.DEADLINE_BREACHED}),
        requester=Requester(locale="es-MX"),
        deadline="first-response",
        deadline_due_at=datetime(2026, 3, 2, 10, 55, tzinfo=UTC),
    )
    rules_with_escalation = ruleset("rules:\n  - {id: r, on: [deadline_breached], then: {escalate: {to: management, note: late}}}\n")
    # a plain note says by how much too (it printed an empty "overdue by" before)
    assert plan(breach, rules, NOW).effects.notes[0].body == "first-response missed by 2 hours 5 minutes"
    assert plan(breach, rules_with_escalation, NOW).effects.notes[0].body == "first-response missed by 2 hours 5 minutes"


def test_tags_and_status_that_would_change_nothing_are_dropped() -> None:
    rules = ruleset("rules:\n  - {id: r, on: [created], then: {add_tags: [a, b], remove_tags: [c, d], transition: open}}\n")
    effects = plan(event(tags=("a", "c")), rules, NOW).effects
    assert (effects.add_tags, effects.remove_tags, effects.status) == (["b"], ["c"], None)
    assert not plan(event(tags=("a", "b")), ruleset("rules:\n  - {id: r, on: [created], then: {add_tags: [a, b]}}\n"), NOW).effects.writes_ticket()


def test_deadlines_are_computed_from_now_in_business_time() -> None:
    rules = ruleset(
        """
        calendars:
          sp: {timezone: America/Sao_Paulo, hours: {mon-fri: "09:00-18:00"}}
        rules:
          - {id: r, on: [created], then: {deadline: {name: first-response, within: 4h business, calendar: sp}}}
        """
    )
    friday_evening = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 17:00 in São Paulo
    [deadline] = plan(event(), rules, friday_evening).effects.deadlines
    # one open hour left on Friday, three more from Monday 09:00: due Monday 12:00 local
    assert deadline.due_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    assert (deadline.met_by, deadline.pause_while) == (("agent_reply",), ("pending", "on_hold"))


def test_the_same_event_planned_twice_gives_the_same_plan() -> None:
    rules = ruleset("rules:\n  - {id: r, on: [created], then: {checklist: core, route: finance, priority: {at_least: high}}}\n")
    subject = event(description="refund")
    assert plan(subject, rules, NOW) == plan(replace(subject), rules, NOW)


def test_now_must_be_aware() -> None:
    with pytest.raises(TypeError):
        plan(event(), RuleSet(), datetime(2026, 1, 1))


def test_the_engine_imports_no_io_library() -> None:
    code = (
        "import sys, integration.core.engine, integration.core.rules.loader\n"
        "banned = {'flask', 'werkzeug', 'sqlalchemy', 'requests', 'zenpy', 'jira', 'urllib3', 'psycopg', 'http'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("platform, notes, subtasks", [("zendesk", 1, 0), ("jira", 0, 1)])
def test_checklists_as_subtasks_are_notes_where_the_platform_has_no_subtasks(platform, notes, subtasks) -> None:
    rules = ruleset("rules:\n  - {id: r, on: [created], then: {checklist: {id: core, as: subtasks}}}\n")
    effects = plan(event(platform=platform), rules, NOW).effects
    assert (len(effects.notes), len(effects.subtasks)) == (notes, subtasks)
