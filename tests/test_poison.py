"""A poison event cannot hang the service: catastrophic `matches` patterns are refused at
load, every search has a time limit and reads a bounded text, and planning one event has a
deadline after which the event is dead-lettered with the reason (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import json
import random
import textwrap
from datetime import UTC, datetime

import pytest

from adapters import zendesk
from adapters.dryrun import DryRunAdapter
from integration.core.matching.patterns import PatternRefused, compile_pattern
from integration.core.matching.text import TEXT_LIMIT, WordMatcher
from integration.core.rules.loader import load_sources
from integration.runtime.inbox import EventStatus
from integration.runtime.worker import Worker
from tests.test_worker import deliver, pt_billing
from tests.time_limit import run_within

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

REFUSED = (
    "must not repeat a part that itself repeats with nothing fixed between the rounds ({where}): it can take "
    "exponential time on some texts; repeat a part that ends in a fixed separator instead "
    "(e.g. `(\\w+\\s)*` rather than `(\\w+\\s?)*`)"
)


def rule_with_pattern(pattern: str) -> str:
    return textwrap.dedent(
        f"""\
        rules:
          - id: poison
            on: [created]
            if:
              all:
                - description: {{matches: '{pattern}'}}
            then: {{add_tags: [matched]}}
        """
    )


@pytest.mark.parametrize(
    ("pattern", "where"),
    [
        (r"^(\w+\s?)*$", "a repeated group inside `*`"),  # the reviewer's: 60 characters never return
        (r"(a*)*", "a repeated group inside `*`"),
        (r"(\w+)+$", "a repeated group inside `+`"),
        (r"(?:\s*\w+)*x", "a repeated group inside `*`"),
        (r"((ab)*c*)+", "a repeated group inside `+`"),
        (r"(\d+|\w+)*x", "a repeated group inside `*`"),
        (r"^(?:(?:\w+)?)*$", "a repeated group inside `*`"),
        (r"x(\w+ ?){2,50}y", "a repeated group inside `{2,50}`"),
    ],
)
def test_catastrophic_patterns_are_refused_at_load_with_their_place(pattern: str, where: str) -> None:
    ruleset, problems = load_sources({"rules/poison.yaml": rule_with_pattern(pattern)})
    assert ruleset is None
    assert [str(p) for p in problems] == [
        f'rules/poison.yaml:6:34: rules[0].if.all[0].description.matches: {REFUSED.format(where=where)} (got "{pattern}")'
    ]


@pytest.mark.parametrize(
    "pattern",
    [r"(\w+\s)*", r"^\[URGENT\]", r"(\d{3}-)+", r"@bigcorp\.com$", r"(?:[a-z]+\.)+com", r"a{2,5}", r"(?i)reembolso|refund", r"(a|aa)+$"],
)
def test_ordinary_patterns_load(pattern: str) -> None:
    assert compile_pattern(pattern).source == pattern


def test_an_invalid_pattern_is_still_reported_as_invalid() -> None:
    with pytest.raises(PatternRefused, match=r"^must be a valid regular expression: missing \), unterminated subpattern at position 0$"):
        compile_pattern("(unclosed")


PLAN_IN_A_SUBPROCESS = """
from datetime import UTC, datetime
from integration.core.engine import plan
from integration.core.events import EventKind, TicketEvent
from integration.core.plan import PlanAbandoned
from integration.core.rules.loader import load_sources
ruleset, problems = load_sources({{"r.yaml": {rules!r}}})
assert ruleset is not None, [str(p) for p in problems]
event = TicketEvent(platform="zendesk", ticket_id="1", kinds=frozenset({{EventKind.CREATED}}), delivery_id="d", description={text})
try:
    print(plan(event, ruleset, datetime(2026, 3, 2, tzinfo=UTC)).effects.add_tags)
except PlanAbandoned as stopped:
    print(type(stopped).__name__, stopped)
"""


def test_a_slow_pattern_the_shape_check_lets_through_is_stopped_by_its_time_limit() -> None:
    # Backtracks exponentially on "aaa…b" (no nested repeat to refuse); `re` never returns.
    code = PLAN_IN_A_SUBPROCESS.format(rules=rule_with_pattern(r"(a|aa)+$"), text='"a" * 80 + "b"')
    assert run_within(60, code) == "PatternTooSlow the pattern '(a|aa)+$' took longer than 1 s on a text of 81 characters"


@pytest.mark.parametrize(("text", "tags"), [(f'"x" * {TEXT_LIMIT} + " the end"', "[]"), ('"x" * 100 + " the end"', "['matched']")])
def test_a_pattern_reads_at_most_the_text_limit(text: str, tags: str) -> None:
    # Past the limit a text is not read: a pattern's cost does not grow with the webhook body.
    assert run_within(60, PLAN_IN_A_SUBPROCESS.format(rules=rule_with_pattern("end$"), text=text)) == tags


@pytest.mark.parametrize(("text", "found"), [("reembolso " + "x" * TEXT_LIMIT, "reembolso"), ("x" * TEXT_LIMIT + " reembolso", None)])
def test_word_lists_read_at_most_the_text_limit(text: str, found: str | None) -> None:
    assert WordMatcher(["reembolso"]).first_match(text) == found


# ---- the worker's processing deadline -------------------------------------------------------


def test_an_event_planned_past_the_deadline_is_dead_lettered_with_the_reason(make_app):
    services = make_app().extensions["dispute_desk"]
    ticks = itertools.count()
    # A monotonic clock that moves 20 s each time it is read: the deadline passes mid-plan.
    worker = Worker(
        services.inbox, {"zendesk": DryRunAdapter("zendesk", zendesk.normalize)}, services.rules,
        rng=random.Random(1), elapsed=lambda: 20.0 * next(ticks), plan_seconds=30.0,
    )
    event_id = deliver(services, pt_billing("poison-1"))
    worker.step(NOW)
    dead = services.inbox.get(event_id)
    assert dead.status == EventStatus.DEAD
    second_rule = services.rules().rules[1].id  # read at 20 s (the first rule) and at 40 s (the second)
    assert dead.last_error == (
        f"planning took longer than 30 s (stopped after 40.0 s, before rule {second_rule}); the rules are too slow for this event"
    )
    assert dead.attempts == 1  # not retried: the same event and rules would stop again


def test_a_plan_inside_the_deadline_is_done(make_app):
    services = make_app().extensions["dispute_desk"]
    worker = Worker(
        services.inbox, {"zendesk": DryRunAdapter("zendesk", zendesk.normalize)}, services.rules,
        rng=random.Random(1), elapsed=lambda: 0.0, plan_seconds=30.0,
    )
    event_id = deliver(services, pt_billing("poison-2"))
    worker.step(NOW)
    assert services.inbox.get(event_id).status == EventStatus.DONE


def test_the_deadline_is_read_from_the_environment() -> None:
    from integration.config import Config, ConfigError

    assert Config.from_env({"PLAN_DEADLINE_SECONDS": "5"}).plan_seconds == 5.0
    assert Config.from_env({}).plan_seconds == 30.0
    with pytest.raises(ConfigError, match="PLAN_DEADLINE_SECONDS must be a positive number of seconds"):
        Config.from_env({"PLAN_DEADLINE_SECONDS": "0"})


def test_explain_says_why_planning_was_stopped_instead_of_a_traceback(tmp_path) -> None:
    from click.testing import CliRunner

    from integration.cli import main

    (tmp_path / "rules.yaml").write_text(rule_with_pattern(r"(a|aa)+$"), encoding="utf-8")
    payload = pt_billing("poison-explain")
    payload["detail"]["description"] = "a" * 80 + "b"
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(payload), encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(event_file), "--platform", "zendesk", "--rules", str(tmp_path / "rules.yaml")])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"planning {event_file} was stopped: the pattern '(a|aa)+$' took longer than 1 s" in result.output
