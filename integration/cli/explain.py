"""`explain`: the plan for one payload, touching no ticket."""

from __future__ import annotations

import json
from pathlib import Path

import click

from integration.cli.group import main, parse_now, read_json
from integration.core import engine, explain
from integration.core.plan import PlanAbandoned
from integration.core.syntax.problems import RuleSetError
from integration.runtime import platforms
from integration.runtime.rulefiles import load_ruleset


@main.command("explain", help="Which rules match an event, which conditions failed, and the plan. Touches no ticket.")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--platform", type=click.Choice(["zendesk", "jira"]), help="Default: guessed from the payload.")
@click.option("--rules", "rules_path", help="Rule files (default: RULES_PATH or ./rules).")
@click.option("--now", "now_text", help="Plan as of this ISO time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON.")
def explain_command(event_file: str, platform: str | None, rules_path: str | None, now_text: str | None, as_json: bool) -> None:
    from integration.config import Config

    try:
        ruleset = load_ruleset(rules_path or Config.from_env().rules_path)
    except RuleSetError as error:
        raise click.ClickException("the rule files have problems:\n" + error.report()) from None
    payload = read_json(Path(event_file))
    platform = platform or platforms.guess_platform(payload)
    if platform not in platforms.SUPPORTED:
        raise click.ClickException(f"{event_file} looks like a {platform} payload; this version explains {', '.join(platforms.SUPPORTED)} payloads")
    try:
        event = platforms.normalizer(platform)(payload, {})
    except ValueError as error:
        raise click.ClickException(f"{event_file} is not a {platform} ticket event: {error}") from None
    now = parse_now(now_text)
    try:
        plan = engine.plan(event, ruleset, now)
    except PlanAbandoned as error:  # the worker would dead-letter this event with the same reason
        raise click.ClickException(f"planning {event_file} was stopped: {error}") from None
    click.echo(json.dumps(explain.as_dict(plan), indent=2, ensure_ascii=False, default=str) if as_json else explain.as_text(plan))
