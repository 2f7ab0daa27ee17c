"""The rule loader: every problem at once, each located and worded as
`FILE:LINE:COL: PATH: what was expected (got what)`. Messages are tested word for word."""

from __future__ import annotations

import pytest

from integration.core.rules.loader import load_sources
from integration.runtime.rulefiles import check_rules
from tests.conftest import RULES

# A valid base file the snippets below refer to (references resolve across files).
BASE = """\
version: 1
departments:
  finance:
    title: {en: Finance, pt: Financeiro}
    zendesk: {group_id: 360001111}
checklists:
  core:
    title: {en: Checklist}
    items:
      - {en: Listen}
templates:
  hello:
    en: "Hi {{ requester.name }}"
"""

CASES = [
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    then:\n      priority: critical\n',
        [
            'rules/test.yaml:5:17: rules[0].then.priority: must be one of low, normal, high, urgent (got "critical")',
        ],
        id='priority',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    thn:\n      route: finance\n',
        [
            'rules/test.yaml:2:5: rules[0]: missing key "then" (expected keys: id, on, then, description, if, stop)',
            'rules/test.yaml:4:5: rules[0].thn: unknown key "thn"; did you mean "then"? (expected one of: id, on, then, description, if, stop)',
        ],
        id='unknown-key',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    if:\n      all:\n        - statuss: open\n    then:\n      route: finance\n',
        [
            'rules/test.yaml:6:11: rules[0].if.all[0].statuss: unknown field "statuss"; did you mean "status"? (expected one of: platform, status, previous_status, priority, tags, channel, subject, description, comment, comment_public, comment_by, text, language, requester.email, requester.organization, department, deadline, rating, complaint, topic, topic_probability, custom.NAME)',
        ],
        id='field',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    if:\n      all:\n        - status: {equals: open}\n    then:\n      route: finance\n',
        [
            'rules/test.yaml:6:20: rules[0].if.all[0].status.equals: unknown operator "equals" (expected one of: is, is_not, in, not_in, contains, contains_any, contains_all, contains_prefix, words, stems, fuzzy, negated, matches, gt, gte, lt, lte, exists)',
        ],
        id='operator',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    then:\n      route: financ\n',
        [
            'rules/test.yaml:5:14: rules[0].then.route: unknown department "financ"; did you mean "finance"? (defined: finance)',
        ],
        id='dept',
    ),
    pytest.param(
        'templates:\n  bye:\n    en: "Bye {{ requester.nickname }}"\n    pt: "Tchau {{ feedback_url }}"\nrules:\n  - id: r1\n    on: [created]\n    then:\n      note: bye\n',
        [
            "rules/test.yaml:3:9: templates.bye.en: must use only the available variables (deadline, department, feedback_comment, language, rating, requester, rule, ticket) (got 'dict object' has no attribute 'nickname')",
            "rules/test.yaml:4:9: templates.bye.pt: must use only the available variables (deadline, department, feedback_comment, language, rating, requester, rule, ticket); feedback_url is only available to request_feedback (got 'feedback_url' is undefined)",
        ],
        id='template-var',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    if:\n      any:\n        - subject: {matches: "(unclosed"}\n    then:\n      route: finance\n',
        [
            'rules/test.yaml:6:30: rules[0].if.any[0].subject.matches: must be a valid regular expression: missing ), unterminated subpattern at position 0 (got "(unclosed")',
        ],
        id='regex',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created, ticket_created]\n    then:\n      route: finance\n',
        [
            'rules/test.yaml:3:19: rules[0].on[1]: must be one of created, updated, comment_added, status_changed, solved, reopened, priority_changed, tags_changed, assignee_changed, deadline_breached, feedback_received (got "ticket_created")',
        ],
        id='event',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    then: {route: finance}\n  - id: r1\n    on: [updated]\n    then: {route: finance}\n',
        [
            'rules/test.yaml:5:9: rules[1].id: rule id "r1" is used twice (first at rules/test.yaml:2)',
        ],
        id='dupe',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    if:\n      all:\n        - tags: {gt: 3}\n    then: {route: finance}\n',
        [
            'rules/test.yaml:6:22: rules[0].if.all[0].tags.gt: operator "gt" does not apply to tags (a list); use one of: contains, contains_any, contains_all, contains_prefix, exists',
        ],
        id='op-kind',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [deadline_breached]\n    if:\n      all:\n        - deadline: first-reply\n    then: {route: finance}\n',
        [
            'rules/test.yaml:6:21: rules[0].if.all[0].deadline: no rule starts a deadline named "first-reply" (started: none)',
        ],
        id='deadline-ref',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created\n',
        [
            "rules/test.yaml:4:1: invalid YAML: did not find expected ',' or ']'",
        ],
        id='syntax',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    on: [updated]\n    then: {route: finance}\n',
        [
            'rules/test.yaml:4:5: rules[0].on: duplicate key "on" (first at line 3)',
        ],
        id='dupkey',
    ),
    pytest.param(
        'version: 2\nrules: []\n',
        [
            'rules/test.yaml:1:10: version: must be 1 (this dispute-desk reads version 1 of the format) (got 2)',
        ],
        id='version',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    then:\n      deadline: {name: first, within: 4 hours}\n',
        [
            'rules/test.yaml:5:39: rules[0].then.deadline.within: must be a duration like 4h, 30m, 2d or 45s, optionally followed by "business" (got "4 hours")',
        ],
        id='duration',
    ),
    pytest.param(
        'rules:\n  - id: r1\n    on: [created]\n    if:\n      none:\n        - status: {in: [open, waiting]}\n    then: {route: finance}\n',
        [
            'rules/test.yaml:6:31: rules[0].if.none[0].status.in[1]: must be one of new, open, pending, on_hold, solved, closed (got "waiting")',
        ],
        id='status-value',
    ),
    pytest.param(
        'checklists:\n  other:\n    title: {pt: Lista}\n    items:\n      - {pt: Ouvir, fr: Ecouter}\nrules:\n  - id: R1\n    on: [created]\n    then: {checklist: other, stop: true}\n',
        [
            'rules/test.yaml:3:12: checklists.other.title: must have a text in the default language "en" (settings.default_language) (got only pt)',
            'rules/test.yaml:5:21: checklists.other.items[0].fr: unknown key "fr" (expected one of: en, pt, es)',
            'rules/test.yaml:7:9: rules[0].id: must be an id of lower-case letters, digits and dashes (got "R1")',
            'rules/test.yaml:9:30: rules[0].then.stop: unknown action "stop" (expected one of: checklist, deadline, cancel_deadline, involve, note, reply, request_feedback, route, escalate, add_tags, remove_tags, priority, transition)',
        ],
        id='checklist-lang',
    ),
    pytest.param(
        'calendars:\n  default:\n    timezone: America/Sao_Paolo\n    hours: {mon-fri: "09:00-18:00", sun: "25:00-26:00"}\n    holidays: XX\nrules: []\n',
        [
            'rules/test.yaml:3:15: calendars.default.timezone: unknown time zone; expected an IANA name like America/Sao_Paulo or Europe/Lisbon (got "America/Sao_Paolo")',
            'rules/test.yaml:4:12: calendars.default.hours: "sun": must use times from 00:00 to 23:59, or 24:00 as an end (got "25:00-26:00")',
            'rules/test.yaml:5:15: calendars.default.holidays: must be a country code known to the holidays package, like BR or US-CA; did you mean XK, SX, MX? (got "XX")',
        ],
        id='calendar',
    ),
]


@pytest.mark.parametrize("snippet, expected", CASES)
def test_problems_are_reported_word_for_word(snippet: str, expected: list[str]) -> None:
    ruleset, problems = load_sources({"rules/00-base.yaml": BASE, "rules/test.yaml": snippet})
    assert ruleset is None
    assert [str(problem) for problem in problems] == expected


def test_every_problem_of_every_file_is_reported_at_once() -> None:
    files = {name: text for name, text in (("rules/a.yaml", CASES[0].values[0]), ("rules/b.yaml", CASES[3].values[0].replace("r1", "r2")))}
    files["rules/00-base.yaml"] = BASE
    _, problems = load_sources(files)
    assert [(p.file, p.line) for p in problems] == [("rules/a.yaml", 5), ("rules/b.yaml", 6)]


def test_the_base_alone_is_valid() -> None:
    ruleset, problems = load_sources({"rules/00-base.yaml": BASE})
    assert problems == []
    assert ruleset is not None and set(ruleset.departments) == {"finance"}


def test_the_default_rule_pack_passes_check() -> None:
    ruleset, problems = check_rules(RULES)
    assert [str(p) for p in problems] == []
    assert ruleset is not None
    assert {"finance", "legal", "engineering", "product", "marketing", "logistics", "management"} <= set(ruleset.departments)


def test_on_is_read_as_a_word_not_as_yaml_true() -> None:
    # YAML 1.1 reads a bare `on` as the boolean true; rule files must not care.
    ruleset, problems = load_sources({"r.yaml": "rules:\n  - id: a\n    on: created\n    then: {add_tags: [x]}\n"})
    assert problems == [] and ruleset is not None
    assert [kind.value for kind in ruleset.rules[0].on] == ["created"]


@pytest.mark.parametrize(
    "path, expected",
    [("missing-dir", "missing-dir:1:1: no such file or directory")],
)
def test_paths_that_hold_no_rules(tmp_path, path: str, expected: str) -> None:
    _, problems = check_rules(path)
    assert [str(p) for p in problems] == [expected]
    (tmp_path / "notes.txt").write_text("hello")
    _, problems = check_rules(tmp_path)
    assert [str(p) for p in problems] == [f"{tmp_path}:1:1: no rule files (*.yaml) found here"]
