"""`rules check`: validate rule files; `rules evaluate`: measure them on a labelled corpus."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from integration.cli.group import main, parse_now
from integration.core import evaluation
from integration.core.syntax.problems import RuleSetError
from integration.runtime.rulefiles import check_rules, load_ruleset


@main.group(help="Rule files.")
def rules() -> None:
    pass


@rules.command("check", help="Validate rule files; every problem as FILE:LINE:COL: PATH: message.")
@click.argument("path", required=False)
def rules_check(path: str | None) -> None:
    from integration.config import Config

    path = path or Config.from_env().rules_path
    ruleset, problems = check_rules(path)
    for problem in problems:
        click.echo(str(problem))
    if problems or ruleset is None:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found in {path}", err=True)
        sys.exit(1)
    click.echo(
        f"{path}: {len(ruleset.rules)} rules, {len(ruleset.departments)} departments, {len(ruleset.checklists)} checklists, "
        f"{len(ruleset.templates)} templates, {len(ruleset.calendars)} calendars in {len(ruleset.files)} files: OK"
    )


# Evaluations plan every message at the same moment, so two runs on the same corpus and rules
# print the same report (deadlines, calendars and greetings depend on the time).
EVALUATED_AT = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)  # a Tuesday, 12:00 in São Paulo


@rules.command("evaluate", help="Recall, ordinary messages flagged and department accuracy on a labelled corpus (JSONL), per language, with every miss.")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_path", help="Rule files (default: RULES_PATH or ./rules).")
@click.option("--now", "now_text", help=f"Plan as of this ISO time (default: {EVALUATED_AT.isoformat()}).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def rules_evaluate(corpus: str, rules_path: str | None, now_text: str | None, as_json: bool) -> None:
    from integration.config import Config

    path = rules_path or Config.from_env().rules_path
    try:
        ruleset = load_ruleset(path)
    except RuleSetError as error:
        raise click.ClickException("the rule files have problems:\n" + error.report()) from None
    try:
        messages = evaluation.parse_corpus(Path(corpus).read_text(encoding="utf-8"), ruleset.departments)
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{corpus}: not readable as UTF-8 text ({error})") from None
    except evaluation.CorpusError as error:
        raise click.ClickException("\n".join(f"{corpus}: {problem}" for problem in error.problems)) from None
    now = parse_now(now_text) if now_text else EVALUATED_AT
    report = evaluation.evaluate(messages, ruleset, now)
    if as_json:
        click.echo(json.dumps({"corpus": corpus, "rules": path, "now": now.isoformat(), **evaluation.as_dict(report)}, indent=2, ensure_ascii=False))
        return
    click.echo(f"{corpus}: {len(messages)} messages, each planned as a new web ticket at {now.isoformat()} by the rules in {path}")
    click.echo(evaluation.as_text(report))
